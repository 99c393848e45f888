"""Outcomes of deliveries, committed in batches: many attempts, one transaction.

One transaction per outcome would make the database, not the wire, the limit of the
outbox (SQLite writes one transaction at a time and each commit waits for the disk).
So the dispatcher hands each outcome to a `Recorder`, which commits what it holds every
`every` seconds or at `most` outcomes, whichever comes first: the delivery rows, the
delivery log and the exact bytes of each message sent, in one transaction. A delivery is
forgotten by its dispatcher only once its outcome is committed (`on_recorded`); until
then a stop or a crash leaves it to the rules of the outbox (in doubt, resent with the
same Message-ID). An outcome is written only while its dispatcher still holds the
delivery's lease: one reclaimed by another process in the meantime is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import Clock
from incident.kernel.db import write_in_one_go
from notifications.delivery.models import SentMessage
from notifications.delivery.outcomes import Outcome, Status
from notifications.delivery.rules import Policy, after_attempt
from notifications.drafting import tallies
from notifications.drafting.letters import Letter
from notifications.drafting.models import Delivery, DeliveryAttempt
from notifications.drafting.rules import DeliveryState

__all__ = ["RELAY_UNREACHABLE", "Finished", "Recorder"]

log = logging.getLogger("breachdesk.outbox")

RELAY_UNREACHABLE = "relay unreachable: "
"""How the delivery log begins the reply of an attempt that never reached the relay."""

BETWEEN_WRITES = 0.002
"""Seconds between two transactions of one flush: a request waiting to write gets its turn."""
DELIVERIES = cast(Table, Delivery.__table__)  # type: ignore[attr-defined]
ATTEMPTS = cast(Table, DeliveryAttempt.__table__)  # type: ignore[attr-defined]
SENT_MESSAGES = cast(Table, SentMessage.__table__)  # type: ignore[attr-defined]

_UPDATE = update(DELIVERIES).where(
    DELIVERIES.c.id == bindparam("b_id"),
    DELIVERIES.c.state == DeliveryState.SENDING.value,
    DELIVERIES.c.leased_by == bindparam("b_worker"),
).values(
    state=bindparam("b_state"), lease_until=None, last_reply=bindparam("b_reply"),
    # Typed, so the times are stored as every other time is (not by the driver's own rules).
    sent_at=func.coalesce(bindparam("b_sent_at", type_=DELIVERIES.c.sent_at.type),
                          DELIVERIES.c.sent_at),
    ended_at=func.coalesce(bindparam("b_ended_at", type_=DELIVERIES.c.ended_at.type),
                           DELIVERIES.c.ended_at),
    next_attempt_at=func.coalesce(bindparam("b_next", type_=DELIVERIES.c.next_attempt_at.type),
                                  DELIVERIES.c.next_attempt_at))


@dataclass(frozen=True, slots=True)
class Finished:
    """One attempt whose outcome is known and not yet committed."""

    delivery_id: int
    attempts: int
    outcome: Outcome
    letter: Letter
    message: bytes = b""
    """The bytes handed to the relay (kept, compressed, when the delivery was sent)."""


_HELD = select(DELIVERIES.c.id, DELIVERIES.c.notification_id).where(
    DELIVERIES.c.id.in_(bindparam("ids", expanding=True)),
    DELIVERIES.c.state == DeliveryState.SENDING.value,
    DELIVERIES.c.leased_by == bindparam("worker"))
"""Which of these deliveries a worker still holds (built once, like `_UPDATE`)."""
_HELD_LOCKED = _HELD.with_for_update()


def _write_outcomes(conn: Connection, *, worker: str, rows: list[Written], now: datetime,
                    messages: list[tuple[int, str, bytes]]) -> set[int]:
    """Write the outcomes of the deliveries `worker` still holds, with the delivery log and
    each kept message; returns the ids of those it held."""
    held_query = _HELD_LOCKED if conn.dialect.name == "postgresql" else _HELD
    held: dict[int, int] = {ident: notification for ident, notification in conn.execute(
        held_query, {"ids": [row.delivery_id for row in rows], "worker": worker}).all()}
    mine = [row for row in rows if row.delivery_id in held]
    if not mine:
        return set()
    conn.execute(_UPDATE, [row.parameters(worker) for row in mine])
    moves = tallies.Moves()
    for row in mine:
        tallies.moved(moves, held[row.delivery_id], DeliveryState.SENDING.value, row.state)
    tallies.shift_now(conn, moves)
    conn.execute(insert(ATTEMPTS), [
        {"delivery_id": row.delivery_id, "at": now, "outcome": row.state,
         "reply": row.reply, "worker": worker} for row in mine])
    kept = [{"delivery_id": ident, "at": now, "sha256": digest, "raw": raw}
            for ident, digest, raw in messages if ident in held]
    if kept:  # only a delivery sent keeps its message, once: one sent again after a soft
        # bounce keeps the message first sent
        keep = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(keep(SENT_MESSAGES).on_conflict_do_nothing(
            index_elements=["delivery_id"]), kept)
    return set(held)


class Recorder:
    """Commits outcomes for one dispatcher (`worker`) in batches; see the module docstring."""

    def __init__(self, engine: AsyncEngine, clock: Clock, *, worker: str, policy: Policy,
                 on_recorded: Callable[[Sequence[Finished], Sequence[Written]], None],
                 every: float = 0.05, most: int = 100, backlog: int = 1000) -> None:
        self.engine = engine
        self.clock = clock
        self.worker = worker
        self.policy = policy
        self.on_recorded = on_recorded
        self.every, self.most, self.backlog = every, most, backlog
        self._written = asyncio.Event()
        self._pending: list[Finished] = []
        self._first_at = 0.0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    def __len__(self) -> int:
        return len(self._pending)

    async def room(self) -> None:
        """Wait while `backlog` outcomes or more wait to be committed: the senders slow down
        to the pace of the database instead of holding ever more messages in memory."""
        while len(self._pending) >= self.backlog and self._failure is None:
            self._written.clear()
            self._wake.set()
            await self._written.wait()

    def add(self, finished: Finished) -> None:
        """Hold one outcome; it is committed within `every` seconds (sooner when many wait)."""
        if not self._pending:
            self._first_at = time.monotonic()
        self._pending.append(finished)
        if len(self._pending) >= self.most:
            self._wake.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._pending:
            wait = self._first_at + self.every - time.monotonic()
            if wait > 0 and len(self._pending) < self.most:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            try:
                await self.flush()
            except Exception as error:  # surfaced to the dispatcher by `drain`
                log.exception("recording %s delivery outcomes failed", len(self._pending))
                self._failure = error
                self._written.set()
                return

    async def drain(self) -> None:
        """Commit everything held now (the end of a run, or a stop)."""
        await self.flush()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    async def flush(self) -> int:
        """Commit the outcomes held so far, at most `most` to a transaction (the write lock
        is shared with the web service's requests); returns how many."""
        done = 0
        async with self._lock:
            while self._pending:
                batch, self._pending = self._pending[:self.most], self._pending[self.most:]
                try:
                    written = await self._write(batch)
                except BaseException:
                    self._pending[:0] = batch  # still held: the next flush tries again
                    raise
                self.on_recorded(batch, written)
                self._written.set()
                done += len(batch)
                if self._pending:
                    await asyncio.sleep(BETWEEN_WRITES)  # others' turn for the write lock
        return done

    async def _write(self, batch: list[Finished]) -> list[Written]:
        now = self.clock.now()
        rows = [self._row(finished, now) for finished in batch]
        sent = [(row, finished.message) for row, finished in zip(rows, batch, strict=True)
                if row.state == DeliveryState.SENT.value and finished.message]
        # zlib lets other threads run while it compresses: the event loop keeps sending.
        kept = await asyncio.to_thread(_compress_all, [message for _, message in sent])
        held = await write_in_one_go(self.engine, functools.partial(
            _write_outcomes, worker=self.worker, rows=rows, now=now,
            messages=[(row.delivery_id, digest, raw)
                      for (row, _), (digest, raw) in zip(sent, kept, strict=True)]))
        for row in rows:
            row.recorded = row.delivery_id in held
        return rows

    def _row(self, finished: Finished, now: datetime) -> Written:
        outcome = finished.outcome
        reply = outcome.reply
        if outcome.status is Status.RETRY and outcome.stage == "connect":
            reply = RELAY_UNREACHABLE + reply
        step = after_attempt(
            DeliveryState(outcome.status.value), reply=reply, attempts=finished.attempts,
            now=now, hint_seconds=outcome.retry_after, policy=self.policy,
            give_up_at=finished.letter.give_up_at(
                now, first_retry=self.policy.first_retry,
                without_deadline=self.policy.give_up_without_deadline))
        return Written(finished.delivery_id, step.state.value, step.reply,
                   now if step.state is DeliveryState.SENT else None,
                   now if step.ended else None, step.next_attempt_at)


@dataclass(slots=True)
class Written:
    """What one outcome writes on its delivery."""

    delivery_id: int
    state: str
    reply: str | None
    sent_at: datetime | None
    ended_at: datetime | None
    next_attempt_at: datetime | None
    recorded: bool = False
    """Written (the lease was still this dispatcher's); else left to whoever holds it."""

    def parameters(self, worker: str) -> dict[str, Any]:
        return {"b_id": self.delivery_id, "b_worker": worker, "b_state": self.state,
                "b_reply": self.reply, "b_sent_at": self.sent_at, "b_ended_at": self.ended_at,
                "b_next": self.next_attempt_at}


KEPT_COMPRESSION = 1
"""zlib's fastest level: a kept message is a few kilobytes of text, which level 1 already
shrinks to about half, at half the CPU of level 6 (which saves 5 % more); at thousands of
messages a second that CPU is taken from the sending."""


def _compress_all(messages: Iterable[bytes]) -> list[tuple[str, bytes]]:
    return [(hashlib.sha256(message).hexdigest(), zlib.compress(message, KEPT_COMPRESSION))
            for message in messages]
