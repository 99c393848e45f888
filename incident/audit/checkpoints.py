"""Making signed checkpoints, keeping their log outside the database, and verifying every
chain against the latest checkpoint that log holds.

A checkpoint never launders a change: a chain whose events no longer hash to their links,
or no longer hold what the previous checkpoint signed, keeps its previously signed head
and is listed as `suspect`, so the next verification still sees the damage.

The log is one JSON object per line, appended under a lock and flushed to disk before the
database keeps its copy: a crash between the two leaves a checkpoint in the log only, which
verification accepts.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.audit.models import AuditCheckpoint
from incident.audit.rules import (
    ChainReport,
    ChainState,
    Head,
    LoggedCheckpoint,
    LogProblem,
    body_hash,
    body_text,
    check_log,
    checkpoint_body,
    heads_of,
    judge,
)
from incident.audit.signing import KeyRing, PublicKey
from incident.kernel.db import transaction
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from incident.timeline.models import TimelineEvent, TimelineHead
from incident.timeline.rules import GENESIS, Link, verify_chain

TRIGGERS = frozenset({"notification_sent", "notification_submitted", "obligation_met",
                      "obligation_late", "obligation_waived", "obligation_reopened",
                      "obligations_recomputed"})
"""Events after which a checkpoint is made at once (at the scheduler's next tick): a notice
sent, a duty met or changed. Anything else waits for the periodic one."""


class CheckpointLogLost(RuntimeError):
    """The log outside the database lost checkpoints the database holds: none is made
    until it is restored, since a new one would start a second history."""


class CheckpointLog:
    """The append-only log of checkpoints, one JSON object per line, outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the log's lock: one writer at a time across processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / f"{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self) -> tuple[list[LoggedCheckpoint], list[LogProblem]]:
        """The parsed lines, and a problem for a line that is not a checkpoint at all."""
        if not self.path.exists():
            return [], []
        entries: list[LoggedCheckpoint] = []
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                entry = _parsed(line, number)
                if entry is None:
                    return entries, [LogProblem(None, number, "it is not a checkpoint")]
                entries.append(entry)
        return entries, []

    def last(self, count: int = 1) -> list[LoggedCheckpoint]:
        """The last `count` checkpoints, read from the end of the file: the log grows by a
        line an hour or more, and the scheduler looks at its end every minute. A line that is
        not a checkpoint is left out here (verification reports it)."""
        if count < 1 or not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            position = handle.seek(0, 2)
            tail = b""
            while position > 0 and tail.count(b"\n") <= count:
                step = min(1 << 16, position)
                position -= step
                handle.seek(position)
                tail = handle.read(step) + tail
        lines = [line for line in tail.decode("utf-8", errors="replace").split("\n")
                 if line.strip()]
        if position > 0:
            lines = lines[1:]  # the first may be cut
        parsed = [_parsed(line, 0) for line in lines[-count:]]
        return [entry for entry in parsed if entry is not None]

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _parsed(line: str, number: int) -> LoggedCheckpoint | None:
    try:
        data = json.loads(line)
        return LoggedCheckpoint(body=dict(data["body"]), hash=str(data["hash"]),
                                signature=str(data["signature"]), key=str(data["key"]),
                                line=number)
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Made:
    """A checkpoint just made: its number, hash, the chains it signed, those kept back."""

    number: int
    hash: str
    chains: int
    suspect: tuple[str, ...]


async def current_heads(db: AsyncSession) -> tuple[dict[str, Head], int]:
    """Every chain's recorded head, and the last event's id."""
    heads = {row.chain: Head(row.seq, row.hash)
             for row in (await db.exec(select(TimelineHead))).all()}
    last = (await db.exec(select(func.max(TimelineEvent.id)))).one()
    return heads, int(last or 0)


async def _hash_at(db: AsyncSession, chain: str, seq: int) -> str | None:
    return (await db.exec(select(TimelineEvent.hash).where(
        TimelineEvent.chain == chain, TimelineEvent.seq == seq))).first()


async def _checked_heads(db: AsyncSession, heads: Mapping[str, Head],
                         signed: Mapping[str, Head], *, since: int
                         ) -> tuple[dict[str, Head], list[str]]:
    """The heads to sign, and the chains that fail their check (they keep their last signed
    head). Only what was added since the last checkpoint is recomputed, in memory, from the
    event it signed, which must still be there unchanged: the events stored after it (`since`
    is its last event's id) in one query, the signed events in another. Events appended
    since the heads were read do not matter: what is signed is the head read."""
    chosen = {chain: head for chain, head in heads.items() if signed.get(chain) == head}
    changed = sorted(chain for chain in set(heads) | set(signed)
                     if heads.get(chain) != signed.get(chain))
    if not changed:
        return chosen, []
    pairs = [(chain, signed[chain].seq) for chain in changed if chain in signed]
    still: dict[tuple[str, int], str] = {}
    for start in range(0, len(pairs), 500):
        rows = (await db.exec(select(TimelineEvent.chain, TimelineEvent.seq, TimelineEvent.hash)
                              .where(tuple_(col(TimelineEvent.chain), col(TimelineEvent.seq))
                                     .in_(pairs[start:start + 500])))).all()
        still.update({(chain, seq): digest for chain, seq, digest in rows})
    added: dict[str, list[Link]] = {}
    for event in (await db.exec(select(TimelineEvent).where(
            col(TimelineEvent.id) > since, col(TimelineEvent.chain).in_(changed)).order_by(
            col(TimelineEvent.chain), col(TimelineEvent.seq)))).all():
        added.setdefault(event.chain, []).append(Link(
            chain=event.chain, seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
            payload=event.payload, prev_hash=event.prev_hash, hash=event.hash))
    suspect: list[str] = []
    for chain in changed:
        head, before = heads.get(chain), signed.get(chain)
        after = (before.seq, before.hash) if before else (0, GENESIS)
        kept = before is None or still.get((chain, before.seq)) == before.hash
        holds = False
        if head is not None and kept and head.seq >= after[0]:
            links = [link for link in added.get(chain, []) if after[0] < link.seq <= head.seq]
            holds = verify_chain(chain, links, head_seq=head.seq, head_hash=head.hash,
                                 after=after).ok
            if not holds and before is None:  # begun before `since` yet never signed: all of it
                full = await journal.verify(db, chain)
                holds = full.ok and await _hash_at(db, chain, head.seq) == head.hash
        if holds and head is not None:
            chosen[chain] = head
        else:
            suspect.append(chain)
            if before is not None:
                chosen[chain] = before
    return chosen, suspect


async def make_checkpoint(db: AsyncSession, *, keys: KeyRing, log: CheckpointLog,
                          now: datetime, force: bool = False) -> Made | None:
    """Sign every chain's head into the next checkpoint, unless nothing changed since the
    last one (`force` makes one anyway). A chain that fails its check keeps its last signed
    head and is named in `suspect`."""
    with log.locked():
        previous = next(iter(log.last()), None)
        signed = heads_of(previous.body) if previous else {}
        # Read and check without holding the write lock: writers never wait for the checks.
        held = int((await db.exec(select(func.max(AuditCheckpoint.number)))).one() or 0)
        if held > (previous.number if previous else 0):
            await db.rollback()
            raise CheckpointLogLost(
                f"the checkpoint log {log.path} ends before checkpoint {held}, which the "
                "database holds: restore the log (or a witness's copy) before signing more")
        heads, last_event = await current_heads(db)
        if not force and previous is not None and heads == signed:
            await db.rollback()
            return None
        chosen, suspect = await _checked_heads(
            db, heads, signed, since=int(previous.body.get("last_event_id", 0)) if previous else 0)
        await db.rollback()
        number = (previous.number if previous else 0) + 1
        current = keys.current(now)
        body = checkpoint_body(number=number, at=now, heads=chosen,
                               previous=previous.hash if previous else GENESIS,
                               key=current.id, last_event_id=last_event)
        if suspect:
            body["suspect"] = suspect
        digest = body_hash(body)
        signature, key = keys.sign(body_text(body), now)
        async with transaction(db):
            db.add(AuditCheckpoint(number=number, at=now, body=body_text(body), hash=digest,
                                   signature=signature, key=key, last_event_id=last_event))
            await db.flush()
            # The log first: a crash before the commit leaves it in the log only, which holds.
            log.append({"body": body, "hash": digest, "signature": signature, "key": key})
    return Made(number, digest, len(chosen), tuple(suspect))


async def checkpoint_due(db: AsyncSession, *, log: CheckpointLog, now: datetime,
                         every_seconds: float) -> bool:
    """Is a checkpoint due: a trigger event since the last one, or any change and the last
    one older than `every_seconds` (or none yet)?"""
    latest = log.last()
    if not latest:
        return bool((await db.exec(select(func.count()).select_from(TimelineEvent))).one())
    last = latest[0]
    since = int(last.body.get("last_event_id", 0))
    triggered = (await db.exec(select(TimelineEvent.id).where(
        col(TimelineEvent.id) > since, col(TimelineEvent.kind).in_(TRIGGERS)).limit(1))).first()
    if triggered is not None:
        return True
    changed = (await db.exec(select(TimelineEvent.id).where(
        col(TimelineEvent.id) > since).limit(1))).first()
    made = datetime.fromisoformat(str(last.body["at"]).replace("Z", "+00:00"))
    return changed is not None and (now - made).total_seconds() >= every_seconds


@dataclass(frozen=True)
class AuditReport:
    """Every chain judged against the latest checkpoint the log outside the database holds."""

    checkpoint: int | None
    checkpoint_at: str | None
    chains: list[ChainReport]
    log_problems: list[LogProblem] = field(default_factory=list)
    copy_problems: list[str] = field(default_factory=list)
    """Where the database's copy of the checkpoints differs from the log."""

    @property
    def ok(self) -> bool:
        return (not self.log_problems and not self.copy_problems
                and all(report.ok for report in self.chains))


def trusted(entries: Sequence[LoggedCheckpoint], keys: Sequence[PublicKey]) -> dict[str, bool]:
    """By checkpoint hash: does its signature verify with the key it names, valid then?"""
    by_id = {key.id: key for key in keys}
    verdict: dict[str, bool] = {}
    for entry in entries:
        key = by_id.get(entry.key)
        at = str(entry.body.get("at", ""))
        verdict[entry.hash] = bool(key and key.since <= at and (key.until is None
                                                                or at <= key.until)
                                   and key.verifies(body_text(entry.body), entry.signature))
    return verdict


async def verify_all(db: AsyncSession, *, keys: Sequence[PublicKey], log: CheckpointLog,
                     only: Sequence[str] | None = None) -> AuditReport:
    """Every chain (or `only` these) against the latest checkpoint of the log that holds."""
    entries, problems = log.read()
    problems += check_log(entries, trusted(entries, keys))
    bad_from = min((p.line for p in problems), default=None)
    valid = [e for e in entries if bad_from is None or e.line < bad_from]
    latest = valid[-1] if valid else None
    stored = {row.number: row for row in (await db.exec(select(AuditCheckpoint))).all()}
    copies = [f"checkpoint {n} in the database differs from the log"
              for n, row in sorted(stored.items())
              if any(e.number == n and e.hash != row.hash for e in entries)]
    copies += [f"checkpoint {n} is in the database but not in the log"
               for n in sorted(set(stored) - {e.number for e in entries})]
    if stored and not entries:
        copies.append(f"the checkpoint log {log.path} is missing or empty, while the database "
                      f"holds {len(stored)} checkpoints")
    signed = heads_of(latest.body) if latest else {}
    incidents = {str(i) for i in (await db.exec(select(Incident.id))).all()}
    present = set(await journal.chains(db))
    names = sorted(present | incidents | set(signed))
    if only is not None:
        names = [n for n in names if n in only]
    reports = []
    for chain in names:
        checked = await journal.verify(db, chain)
        exists = chain in present or chain in incidents
        first = (await journal.events(db, chain, limit=1)) if exists else []
        head = signed.get(chain)
        state = ChainState(
            verification=checked,
            hash_at_signed_seq=await _hash_at(db, chain, head.seq) if head else None,
            first_kind=first[0].kind if first else None,
            is_incident=chain in incidents) if exists else None
        reports.append(judge(chain, state, head, latest.number if latest else None))
    return AuditReport(latest.number if latest else None,
                       str(latest.body["at"]) if latest else None, reports, problems, copies)
