"""Storing the timeline: append under the chain head's lock, read back, verify.

`append_event` must run inside the use case's own transaction, so a state
change and its event are committed together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor
from incident.kernel.db import is_postgresql
from incident.kernel.plugins import hooks
from incident.timeline.models import TimelineEvent, TimelineHead
from incident.timeline.rules import GENESIS, Link, Verification, next_link, verify_chain


async def append_event(db: AsyncSession, *, chain: str, at: datetime, actor: Actor, kind: str,
                       payload: Mapping[str, Any]) -> TimelineEvent:
    head = await _locked_head(db, chain)
    link = next_link(head_seq=head.seq, head_hash=head.hash, chain=chain, at=at,
                     actor=actor.label, kind=kind, payload=payload)
    event = TimelineEvent(chain=chain, seq=link.seq, at=at, actor=link.actor, kind=kind,
                          payload=link.payload, prev_hash=link.prev_hash, hash=link.hash)
    head.seq, head.hash = link.seq, link.hash
    db.add(event)
    db.add(head)
    await db.flush()
    for hook in hooks("timeline.appended"):
        await hook(db, event)
    return event


async def _locked_head(db: AsyncSession, chain: str) -> TimelineHead:
    query = select(TimelineHead).where(TimelineHead.chain == chain)
    if is_postgresql(db):
        query = query.with_for_update()
    head = (await db.exec(query)).one_or_none()
    if head is None:
        # A new chain: the unique primary key makes a concurrent creator fail, not fork.
        head = TimelineHead(chain=chain, seq=0, hash=GENESIS)
        db.add(head)
        await db.flush()
    return head


async def events(db: AsyncSession, chain: str, *, after_seq: int = 0,
                 limit: int | None = None) -> list[TimelineEvent]:
    query = (select(TimelineEvent).where(TimelineEvent.chain == chain,
                                         TimelineEvent.seq > after_seq)
             .order_by(TimelineEvent.seq))  # type: ignore[arg-type]
    if limit is not None:
        query = query.limit(limit)
    return list((await db.exec(query)).all())


async def stream_events(db: AsyncSession, chain: str, batch: int = 1000, after_seq: int = 0
                        ) -> AsyncIterator[TimelineEvent]:
    after = after_seq
    while True:
        page = await events(db, chain, after_seq=after, limit=batch)
        for event in page:
            yield event
        if len(page) < batch:
            return
        after = page[-1].seq


async def verify(db: AsyncSession, chain: str, after: tuple[int, str] = (0, GENESIS)
                 ) -> Verification:
    """The chain recomputed from its start, or from the event after `after` (a seq and hash
    already known to hold, e.g. signed by a checkpoint, whose own event is checked too)."""
    head = (await db.exec(select(TimelineHead).where(
        TimelineHead.chain == chain))).one_or_none()
    links = [Link(chain=e.chain, seq=e.seq, at=e.at, actor=e.actor, kind=e.kind,
                  payload=e.payload, prev_hash=e.prev_hash, hash=e.hash)
             async for e in stream_events(db, chain, after_seq=after[0])]
    return verify_chain(chain, links, head_seq=head.seq if head else 0,
                        head_hash=head.hash if head else None, after=after)


async def chains(db: AsyncSession) -> list[str]:
    stored = select(TimelineEvent.chain).distinct()
    recorded = select(TimelineHead.chain)
    names = set((await db.exec(stored)).all()) | set((await db.exec(recorded)).all())
    return sorted(names)


def payload_of(event: TimelineEvent) -> dict[str, Any]:
    value = json.loads(event.payload)
    return value if isinstance(value, dict) else {"value": value}
