"""The outbox: deliveries handed out by the database, sent, and every outcome kept.

A dispatcher claims due deliveries a batch at a time with a lease (FOR UPDATE SKIP
LOCKED on PostgreSQL, so several processes share the work; SQLite's single writer makes
the claim exclusive) and keeps claiming while deliveries are due. Each message is built
as the queue to the senders has room (the texts rendered once per language version, the
person's part filled in), one sender per SMTP connection hands them to the relay, and
each outcome is committed by the `Recorder` in batches: sent; retry at a backed-off time
(honouring the server's hint); failed with the server's verbatim reply; or in doubt when
the connection died after the message was handed over. A delivery is forgotten only once
its outcome is committed. A delivery whose lease expired (its dispatcher crashed) is in
doubt too, and is resent with the same Message-ID: duplicates are bounded by the
deliveries on the wire at a crash, never more. A dispatcher known to be dead (see
`presence.py`) needs no such wait: its deliveries in flight are in doubt at once.
When every delivery of a notification has ended, the notification is done and its
obligation met (or late).

Stopping (`Dispatcher.stop`): nothing more is claimed; messages on the wire get a few
seconds to be answered and recorded; then the rest is released: a delivery never handed
to the relay goes back to the queue as it was, one handed over without a recorded reply
is in doubt, resent at once by the next dispatcher with the same Message-ID.

The relay: a delivery that could not even reach the relay waits, marked "relay
unreachable", on the usual backoff; the first connection that works again (a send, or
a probe made every few seconds while such deliveries wait) makes every one of them due
at once. An escalation about failing deliveries goes through the fallback relay when
one is configured (BREACH_SMTP_FALLBACK_URL), and any other escalation does when the
relay cannot be reached: the people who must act hear of it by another path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.auth import SYSTEM
from incident.kernel.clock import Clock
from incident.kernel.db import others_write, session_factory, transaction, write_in_one_go
from incident.kernel.settings import Settings
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.delivery import presence
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.message import Attachment, build_message
from notifications.delivery.models import CapturedMessage
from notifications.delivery.outcomes import Outcome, Status
from notifications.delivery.reaching import settle
from notifications.delivery.recorder import DELIVERIES, RELAY_UNREACHABLE, Finished, Recorder, Written
from notifications.delivery.return_paths import return_path as _return_path
from notifications.delivery.rules import Policy
from notifications.delivery.wakeup import WakeWatch
from notifications.drafting import queuing, tallies
from notifications.drafting import rules as drafting
from notifications.drafting.documents import pdf_of
from notifications.drafting.letters import Letter, letter_for
from notifications.drafting.models import Delivery, DeliveryAttempt, DeliveryQueue, Notification
from notifications.drafting.render import Renderer, with_english_copy
from notifications.drafting.rules import DeliveryState, NotificationStatus
from notifications.drafting.sending import state_counts

__all__ = ["RELAY_UNREACHABLE", "CaptureTransport", "Dispatcher", "Policy", "Transport", "close",
           "fallback_for", "run_until_stopped", "transport_for", "worker_name"]

log = logging.getLogger("breachdesk.outbox")

NOTIFICATIONS = cast(Table, Notification.__table__)  # type: ignore[attr-defined]
CLAIMED_COLUMNS = [DELIVERIES.c[name] for name in (
    "id", "notification_id", "address", "name", "locale", "categories", "meets", "message_id",
    "attempts")]

# A claim's statements, built once (building them cost more than SQLite's work in them, with
# the write lock held): the due deliveries of one state, oldest first, read off the (state,
# next_attempt_at) index in order; the same but those a run resends next time; the lease.
_DUE = (select_columns(*CLAIMED_COLUMNS, DELIVERIES.c.state, DELIVERIES.c.next_attempt_at)
        .join(NOTIFICATIONS, NOTIFICATIONS.c.id == DELIVERIES.c.notification_id)
        .where(DELIVERIES.c.state == bindparam("state"),
               DELIVERIES.c.next_attempt_at <= bindparam(
                   "now", type_=DELIVERIES.c.next_attempt_at.type),
               NOTIFICATIONS.c.status == NotificationStatus.SENDING.value)
        .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
        .limit(bindparam("size", type_=Integer))
        .with_for_update(of=DELIVERIES, skip_locked=True))
_DUE_BUT = _DUE.where(DELIVERIES.c.id.not_in(bindparam("exclude", expanding=True)))
_LEASE = update(DELIVERIES).where(DELIVERIES.c.id.in_(bindparam("ids", expanding=True))).values(
    state=DeliveryState.SENDING.value, attempts=DELIVERIES.c.attempts + 1,
    lease_until=bindparam("until", type_=DELIVERIES.c.lease_until.type),
    leased_by=bindparam("worker", type_=DELIVERIES.c.leased_by.type))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery as its dispatcher claimed it: what its message needs, nothing more."""

    id: int
    notification_id: int
    address: str | None
    name: str
    locale: str
    categories: int
    meets: str
    message_id: str
    attempts: int
    """Counting the attempt this claim is for."""

AGAIN_MOST = 10_000
"""A run stops claiming once this many of its messages ended in doubt (resent next run)."""
YIELD_EVERY = 16
"""Messages built between two yields to the event loop: requests are served meanwhile."""
SHARED_PART = 4
"""While the service's requests wait for SQLite's write lock, a claim takes this part of a
batch (the lock is held for a quarter as long; the rate falls by about a tenth)."""


class Transport(Protocol):
    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome: ...


class CaptureTransport:
    """The embedded mail capture used when no BREACH_SMTP_URL is set: messages are kept
    in the database and shown in the Mailbox, so a newcomer sees the whole flow."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.sessions = session_factory(engine)
        self.clock = clock

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        parsed = message_from_bytes(message, policy=policy.default)
        async with self.sessions() as db, transaction(db):
            db.add(CapturedMessage(message_id=str(parsed["Message-ID"] or ""), sender=sender,
                                   recipient=recipient, subject=str(parsed["Subject"] or "")[:1000],
                                   raw=message, received_at=self.clock.now()))
        return Outcome(Status.SENT, 250, "kept by the embedded mail capture", "message")


# --- the dispatcher ----------------------------------------------------------------------------


class Dispatcher:
    """Works through due deliveries; several may run against one database (one per process).

    A run is a pipeline with bounded work in each stage: deliveries are claimed a batch
    at a time (only when the queue has room), each message is built (rendered once per
    language version, the person's part filled in) into a queue of at most `window`
    messages, `concurrency` senders (one per SMTP connection) take them off it, and each
    outcome goes to the `Recorder`, which commits them in batches. A run goes on while
    deliveries are due: there is no ceiling per tick. Messages not yet handed to a sender
    are not on the wire, so a stop can put them back untouched.
    """

    def __init__(self, engine: AsyncEngine, transport: Transport, renderer: Renderer, *,
                 clock: Clock, sender: str, worker: str, policy: Policy | None = None,
                 concurrency: int = 8, fallback: Transport | None = None,
                 probe_every: float = 5.0, record_every: float = 0.05,
                 reclaim_every: float = 5.0,
                 return_path: Callable[[int], str] | None = None) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.transport = transport
        self.fallback = fallback
        self.renderer = renderer
        self.clock = clock
        self.sender = sender
        self.return_path = return_path
        """Each delivery's envelope sender, where its bounce comes back (see `return_paths`);
        None: the sender's own address for all."""
        self.worker = worker
        self.policy = policy or Policy()
        self.concurrency = max(concurrency, 1)
        self.window = 4 * self.concurrency
        self.probe_every = probe_every
        self.reclaim_every = reclaim_every
        self.stopping = False
        self.recorder = Recorder(engine, clock, worker=worker, policy=self.policy,
                                 on_recorded=self._forget, every=record_every)
        self._asked = self.policy.batch
        """How many the last claim asked for: fewer came, so no more are due."""
        self._claimed: dict[int, tuple[str, int, datetime]] = {}
        """Deliveries this dispatcher holds, with what they were before it claimed them."""
        self._handed: set[int] = set()
        """Of those, the ones handed to a relay whose outcome is not committed yet."""
        self._senders: set[asyncio.Task[None]] = set()
        self._running = False
        self._fault: BaseException | None = None
        self._halt = asyncio.Event()
        self._probed = -math.inf
        self._relay_down = False
        self._reached = False
        self._unreached = False

    async def run_once(self) -> int:
        """Reclaim expired leases, then send every delivery due, claiming batch after batch
        while they come full; returns how many were claimed. A delivery that ends in doubt
        during the run is resent by the next one (not at once, in a loop)."""
        if self.stopping or self._running:
            return 0
        self._running = True
        try:
            return await self._run()
        finally:
            self._running = False

    async def _run(self) -> int:
        await self.reclaim()
        await self.relay_check()
        reclaimed_at = time.monotonic()
        was_down, self._reached, self._unreached = self._relay_down, False, False
        queue: asyncio.Queue[tuple[Claimed, Letter, bytes] | None] = asyncio.Queue(self.window)
        letters: dict[int, Letter] = {}
        again: set[int] = set()
        senders = [asyncio.ensure_future(self._send_from(queue, again))
                   for _ in range(self.concurrency)]
        self._senders.update(senders)
        claimed_in_run = 0
        ahead, parts_left = 0, True  # deliveries this run queued and has not claimed yet

        async def feed() -> int:
            nonlocal ahead, parts_left
            added = await self.feed()
            ahead, parts_left = ahead + added, added > 0
            return added

        try:
            while not self.stopping:
                if time.monotonic() - reclaimed_at > self.reclaim_every:
                    await self.reclaim()
                    reclaimed_at = time.monotonic()
                if self._fault is not None or len(again) > AGAIN_MOST:
                    break  # a relay losing every reply: the next run resends them
                if self._unreached:
                    break  # the relay cannot be reached: the rest waits, untried
                claimed = await self.claim(exclude=again)
                ahead = max(ahead - len(claimed), 0)
                if not claimed:
                    if parts_left and await feed():
                        continue
                    break
                if parts_left and ahead < 2 * self.policy.batch:
                    await feed()  # the next part, while the senders work on this one
                claimed_in_run += len(claimed)
                for notification_id in {d.notification_id for d in claimed} - set(letters):
                    async with self.sessions() as db:
                        notification = await db.get(Notification, notification_id)
                        assert notification is not None
                        letters[notification_id] = await letter_for(db, notification)
                for built, delivery in enumerate(claimed, start=1):
                    if self.stopping:
                        break  # the rest is still claimed, never handed over: released
                    letter = letters[delivery.notification_id]
                    try:
                        message = await self._message(delivery, letter)
                    except ValueError as error:  # a recipient or text no message can carry
                        self.recorder.add(Finished(
                            delivery.id, delivery.attempts,
                            Outcome(Status.FAILED, None, f"message not built: {error}", "message"),
                            letter))
                        continue
                    if not await self._offer(queue, (delivery, letter, message)):
                        break  # stopped while the senders were busy: released
                    if built % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # let requests and the senders in
                if len(claimed) < self._asked and not ahead and not (
                        parts_left and await feed()):
                    break
        except Exception as error:  # the database failed us: give back what is held
            self._fault = self._fault or error
        finally:
            for _ in senders:
                if self.stopping or not await self._offer(queue, None):
                    _put_end(queue)
            done, _ = await asyncio.wait(senders)
            self._senders.difference_update(senders)
            await self.recorder.drain()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                self._fault = self._fault or task.exception()
        if self._fault is not None:
            fault, self._fault = self._fault, None
            await self.release()  # what was handed over is in doubt, the rest as it was
            raise fault
        if self.stopping:
            return claimed_in_run
        if was_down and self._reached and not self._unreached:
            await self.bring_forward()  # the relay answers again: nobody waits out a backoff
        for notification_id in letters:
            await self.finish_if_done(notification_id)
        return claimed_in_run

    async def _send_from(self, queue: asyncio.Queue[tuple[Claimed, Letter, bytes] | None],
                         again: set[int]) -> None:
        """One sender: hands the queue's messages to the relay one at a time until the end
        mark (or a stop: what is left in the queue stays claimed and is released)."""
        while True:
            item = await queue.get()
            if item is None or self.stopping:
                return
            delivery, letter, message = item
            ident = delivery.id
            self._handed.add(ident)
            try:
                envelope = self.sender if self.return_path is None else self.return_path(ident)
                outcome = await self._send(letter, envelope, delivery.address or "", message)
            except Exception as error:  # the transport broke: this one stays in doubt
                log.exception("sending delivery %s failed", ident)
                self._fault = self._fault or error
                continue
            if outcome.status is Status.RETRY and outcome.stage == "connect":
                self._relay_down, self._unreached = True, True
            elif outcome.status is Status.IN_DOUBT:
                again.add(ident)
            await self.recorder.room()
            self.recorder.add(Finished(ident, delivery.attempts, outcome, letter, message))

    async def _offer(self, queue: asyncio.Queue[tuple[Claimed, Letter, bytes] | None],
                     item: tuple[Claimed, Letter, bytes] | None) -> bool:
        """Queue a message for the senders, waiting for room unless a stop comes first."""
        if not queue.full():
            queue.put_nowait(item)
            return True
        put = asyncio.ensure_future(queue.put(item))
        halt = asyncio.ensure_future(self._halt.wait())
        await asyncio.wait({put, halt}, return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()
        if put.done():
            return True
        put.cancel()
        return False

    def _forget(self, batch: Sequence[Finished], rows: Sequence[Written]) -> None:
        """Outcomes committed (or the lease lost meanwhile): these are no longer held."""
        for finished in batch:
            self._claimed.pop(finished.delivery_id, None)
            self._handed.discard(finished.delivery_id)

    async def _message(self, delivery: Claimed, letter: Letter) -> bytes:
        """The bytes of `delivery`'s message (a ValueError when none can be built)."""
        kind = letter.notification.kind
        files: list[Attachment] = []
        if kind == drafting.NotificationKind.TEST_COPY:
            # A notice's letter as rendered when its sender asked for a test (see
            # notifications/drafting/trial.py): sent as it was, to the sender alone.
            copy = letter.fields["copies"][delivery.locale]
            subject, text, html = copy["subject"], copy["text"], copy["html"]
            author, reply_to = letter.fields.get("author"), letter.fields.get("reply_to")
        else:
            rendered = letter.rendered_for(self.renderer, delivery)
            if kind == drafting.NotificationKind.CHECKPOINT:
                # The signed checkpoint itself, as its log line: the witness keeps the copy.
                files.append(Attachment(f"checkpoint-{letter.fields['number']}.jsonl",
                                        "application/json",
                                        str(letter.fields["line"]).encode() + b"\n"))
            if kind == drafting.NotificationKind.AUTHORITY_REPORT:
                rendered = with_english_copy(
                    rendered, letter.rendered_for(self.renderer, delivery, "en"))
                # The same report as a PDF, for the authority's case file.
                files.append(Attachment(
                    f"report-{letter.notification.id}-{letter.notification.sequence}.pdf",
                    "application/pdf", await asyncio.to_thread(pdf_of, rendered.html)))
            subject, text, html = rendered.subject, rendered.text, rendered.html
            author, reply_to = letter.author, letter.reply_to
        return build_message(sender=self.sender, to=delivery.address or "",
                             to_name=delivery.name or None, subject=subject, text=text,
                             html=html, message_id=delivery.message_id, date=self.clock.now(),
                             author=author, reply_to=reply_to, attachments=files)

    async def reclaim(self) -> int:
        """Deliveries whose dispatcher died mid-send are in doubt: at once when that
        dispatcher is known to be dead, else when its lease runs out."""
        now = self.clock.now()
        async with self.sessions() as db:
            holders = set((await db.exec(select(Delivery.leased_by).where(
                Delivery.state == DeliveryState.SENDING.value,
                col(Delivery.lease_until) >= now,
                col(Delivery.leased_by) != self.worker).distinct())).all())
        dead = await presence.dead(self.engine, now, {h for h in holders if h})
        expired_or_dead = col(Delivery.lease_until) < now
        if dead:
            expired_or_dead = expired_or_dead | col(Delivery.leased_by).in_(list(dead))
        async with self.sessions() as db, transaction(db):
            expired = (await db.exec(select(Delivery).where(
                Delivery.state == DeliveryState.SENDING.value,
                expired_or_dead).with_for_update(skip_locked=True))).all()
            for delivery in expired:
                known = dead.get(delivery.leased_by or "")
                why = (f"{delivery.leased_by} stopped: {known}" if known
                       else f"lease held by {delivery.leased_by} expired")
                db.add(DeliveryAttempt(delivery_id=delivery.id or 0, at=now,
                                       outcome=DeliveryState.IN_DOUBT.value, reply=why,
                                       worker=self.worker))
                delivery.state, delivery.lease_until = DeliveryState.IN_DOUBT.value, None
                delivery.next_attempt_at = now
                db.add(delivery)
        if dead and expired:
            log.warning("%s deliveries in flight at %s, which stopped, are in doubt and resent "
                        "now with their Message-IDs", len(expired), ", ".join(sorted(dead)))
        return len(expired)

    def claim_size(self) -> int:
        """A batch, or on SQLite a quarter of one while the service's requests have been
        waiting for the write lock: each claim holds it for less time."""
        if others_write(self.engine):
            return max(self.policy.batch // SHARED_PART, 1)
        return self.policy.batch

    async def claim(self, exclude: set[int] | None = None) -> list[Claimed]:
        """Lease up to a batch of due deliveries (oldest due first), skipping those another
        dispatcher holds locked and those in `exclude`.

        One query per due state, each read in the order of the (state, next_attempt_at)
        index, so a claim costs the same with a million deliveries waiting as with ten.
        The rows are read as plain values (no ORM objects): on SQLite the write lock is
        held meanwhile.
        """
        now = self.clock.now()
        self._asked = size = self.claim_size()
        due = await write_in_one_go(self.engine, functools.partial(
            self._lease, size=size, now=now, exclude=sorted(exclude or ())))
        return [Claimed(row.id, row.notification_id, row.address, row.name, row.locale,
                        row.categories, row.meets, row.message_id, row.attempts + 1)
                for row in due]

    def _lease(self, conn: Connection, *, size: int, now: datetime,
               exclude: list[int]) -> list[Any]:
        """The claim's transaction: read the due rows, lease them, move the tallies. What it
        leases is noted in `_claimed` here, so a claim whose caller was cancelled meanwhile
        is still given back by `release`."""
        found: list[Any] = []  # rows of CLAIMED_COLUMNS, state, next_attempt_at
        query, given = (_DUE_BUT, {"exclude": exclude}) if exclude else (_DUE, {})
        for state in sorted(s.value for s in drafting.DUE):
            found.extend(conn.execute(query, {"state": state, "now": now, "size": size,
                                              **given}).all())
        due = sorted(found, key=lambda row: (row.next_attempt_at, row.id))[:size]
        if not due:
            return []
        conn.execute(_LEASE, {"ids": [row.id for row in due], "until": now + self.policy.lease,
                              "worker": self.worker})
        moves = tallies.Moves()
        for row in due:
            tallies.moved(moves, row.notification_id, row.state, DeliveryState.SENDING.value)
        tallies.shift_now(conn, moves)
        self._claimed.update({row.id: (row.state, row.attempts, row.next_attempt_at)
                              for row in due})
        return due

    async def feed(self) -> int:
        """Queue the next part of a large notice whose people are not all queued yet
        (`queuing.py`), when what was queued has all been claimed; returns how many
        deliveries it added. Looked for with a read first: a write transaction on SQLite
        takes the only write lock."""
        async with self.sessions() as db:
            waiting = (await db.exec(select(DeliveryQueue.notification_id).limit(1))).first()
        if waiting is None or self.stopping:
            return 0
        async with self.sessions() as db, transaction(db):
            return await queuing.queue_next_part(await db.connection())

    async def stop(self, grace: float = 3.0) -> int:
        """Claim nothing more; give messages on the wire `grace` seconds to be answered and
        recorded; then release whatever this dispatcher still holds (see `release`)."""
        self.stopping = True
        self._halt.set()
        senders = set(self._senders)
        if senders:
            _, pending = await asyncio.wait(senders, timeout=grace)
            for task in pending:
                task.cancel()  # its message stays handed over, unrecorded: in doubt
            if pending:
                await asyncio.wait(pending, timeout=1)
        try:
            await asyncio.wait_for(asyncio.shield(self.recorder.drain()), max(grace, 1.0))
        except Exception:  # what was not committed is released below as in doubt
            log.exception("recording the last outcomes before the stop failed")
        return await self.release()

    async def release(self) -> int:
        """Give back every delivery this dispatcher holds: one never handed to a relay as it
        was before the claim (no attempt was made), one handed over but not recorded in
        doubt, due at once. Returns how many were given back."""
        held, handed = dict(self._claimed), set(self._handed)
        if not held:
            return 0
        now, given = self.clock.now(), 0
        ids = sorted(held)
        for start in range(0, len(ids), 500):
            async with self.sessions() as db, transaction(db):
                rows = (await db.exec(select(Delivery).where(
                    col(Delivery.id).in_(ids[start:start + 500]),
                    Delivery.state == DeliveryState.SENDING.value,
                    Delivery.leased_by == self.worker).with_for_update())).all()
                for delivery in rows:
                    ident = delivery.id or 0
                    if ident in handed:
                        db.add(DeliveryAttempt(
                            delivery_id=ident, at=now, outcome=DeliveryState.IN_DOUBT.value,
                            reply="stopped before the relay's reply was recorded",
                            worker=self.worker))
                        delivery.state, delivery.next_attempt_at = DeliveryState.IN_DOUBT.value, now
                    else:
                        delivery.state, delivery.attempts, delivery.next_attempt_at = held[ident]
                        delivery.leased_by = None
                    delivery.lease_until = None
                    db.add(delivery)
                    given += 1
        for ident in ids:
            self._claimed.pop(ident, None)
            self._handed.discard(ident)
        if given:
            log.info("%s released %s deliveries it held (%s in doubt, resent with their "
                     "Message-IDs)", self.worker, given, len(handed & set(ids)))
        return given

    # -- the relay

    async def relay_check(self) -> int:
        """Every `probe_every` seconds while deliveries wait for an unreachable relay: try
        to connect; when that works, they are all due now. Returns how many came forward."""
        probe = getattr(self.transport, "probe", None)
        if probe is None or time.monotonic() - self._probed < self.probe_every:
            return 0
        self._probed = time.monotonic()
        async with self.sessions() as db:
            waiting = (await db.exec(select(Delivery.id).where(
                Delivery.state == DeliveryState.RETRY.value,
                col(Delivery.next_attempt_at) > self.clock.now(),
                col(Delivery.last_reply).startswith(RELAY_UNREACHABLE)).limit(1))).first()
        if waiting is None:
            self._relay_down = False
            return 0
        self._relay_down = True
        if await probe() is not None:
            return 0
        return await self.bring_forward()

    async def bring_forward(self) -> int:
        """The relay answers: every delivery waiting for it is due now."""
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            conn = await db.connection()
            moved = await conn.execute(update(Delivery).where(
                col(Delivery.state) == DeliveryState.RETRY.value,
                col(Delivery.next_attempt_at) > now,
                col(Delivery.last_reply).startswith(RELAY_UNREACHABLE)).values(
                next_attempt_at=now))
        self._relay_down = False
        count = max(int(moved.rowcount or 0), 0)
        if count:
            log.warning("the mail relay answers again: %s deliveries that waited for it are "
                        "due now", count)
        return count

    async def _send(self, letter: Letter, sender: str, recipient: str, message: bytes
                    ) -> Outcome:
        """Through the relay, or the fallback relay for an escalation that needs another path;
        `sender` is the envelope sender."""
        escalation = letter.notification.kind == drafting.NotificationKind.ESCALATION
        if (self.fallback is not None and escalation
                and letter.fields.get("issue") == "delivery_failing"):
            return await self.fallback.send(sender, recipient, message)
        outcome = await self.transport.send(sender, recipient, message)
        if outcome.stage != "connect":
            self._reached = True
        elif self.fallback is not None and escalation and outcome.status is Status.RETRY:
            return await self.fallback.send(sender, recipient, message)
        return outcome

    async def finish_if_done(self, notification_id: int) -> bool:
        """When no delivery is open any more: the notification is done, and each duty it
        meets is settled by whom it reached (`reaching.settle`)."""
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            notification = (await db.exec(select(Notification).where(
                Notification.id == notification_id).with_for_update())).one()
            if notification.status not in drafting.IN_FLIGHT:
                return False
            counts = await state_counts(db, notification_id)
            if not drafting.all_ended(counts):
                return False
            notification.status, notification.finished_at = NotificationStatus.DONE.value, now
            db.add(notification)
            if notification.incident_id is None:  # a checkpoint to its witness: the delivery
                return True                       # log is its record, and it meets no duty
            incident = await db.get(Incident, notification.incident_id)
            assert incident is not None
            await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                                       kind="notification_finished",
                                       payload={"notification": notification_id, **counts})
            await settle(db, incident, notification, now, cause="its last delivery ended")
        return True


def _put_end(queue: asyncio.Queue[tuple[Claimed, Letter, bytes] | None]) -> None:
    """The end mark for one sender on a stop: the queue may be full of messages left to
    release, so make room by dropping one (it stays claimed, and the stop releases it)."""
    while True:
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


# --- reading and steering -----------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def transport_for(settings: Settings, engine: AsyncEngine, clock: Clock) -> Transport:
    """The real SMTP server when BREACH_SMTP_URL is set, else the embedded capture."""
    if settings.smtp_url:
        return pool_from_url(settings.smtp_url, size=settings.smtp_connections,
                             rate=settings.smtp_rate or None)
    return CaptureTransport(engine, clock)


def return_paths(settings: Settings) -> Callable[[int], str] | None:
    """Each delivery's envelope sender under BREACH_BOUNCE_ADDRESS (see
    notifications/delivery/return_paths.py), or None when bounces are not tracked."""
    if not settings.bounce_address:
        return None
    address, secret = settings.bounce_address, settings.secret_key
    return functools.partial(_return_path, bounce_address=address, secret=secret)


def fallback_for(settings: Settings) -> Transport | None:
    """The second relay (BREACH_SMTP_FALLBACK_URL) escalations take, or None."""
    if not settings.smtp_fallback_url:
        return None
    return pool_from_url(settings.smtp_fallback_url, size=1)


CLOSE_WITHIN = 3.0


async def close(transport: Transport | None) -> None:
    """Close the SMTP connections, if the transport holds any, within CLOSE_WITHIN seconds
    (then they are dropped: nothing is in flight by then)."""
    closing = getattr(transport, "close", None)
    if closing is None:
        return
    try:
        await asyncio.wait_for(closing(), CLOSE_WITHIN)
    except TimeoutError:
        log.warning("the SMTP connections did not close within %s s; dropped", CLOSE_WITHIN)


async def run_until_stopped(dispatcher: Dispatcher, stop: asyncio.Event, *, once: bool = False,
                            idle: float = 2.0, presence_ttl: timedelta = timedelta(seconds=15),
                            renew: timedelta = timedelta(seconds=5), grace: float = 3.0,
                            woken_by: WakeWatch | None = None) -> int:
    """`breach outbox run`: send due deliveries until `stop` is set (or one batch with
    `once`), keeping this worker's presence; on stop, release what it holds and end its
    presence. Idle, it looks again after `idle` seconds, or at once when `woken_by` says
    deliveries were queued. Returns how many deliveries were handled."""
    engine, clock, worker = dispatcher.engine, dispatcher.clock, dispatcher.worker
    await presence.announce(engine, clock, worker, presence_ttl)
    handled = 0

    async def keep() -> None:
        while True:
            await asyncio.sleep(renew.total_seconds())
            try:
                await presence.announce(engine, clock, worker, presence_ttl)
            except Exception:  # a busy database: the next renewal may succeed
                log.exception("renewing the presence of %s failed", worker)

    async def work() -> None:
        nonlocal handled
        while not stop.is_set():
            claimed = await dispatcher.run_once()
            handled += claimed
            if once:
                return
            if not claimed and woken_by is not None:
                await woken_by.until_woken(stop, idle)
            elif not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle)

    keeper = asyncio.ensure_future(keep())
    working = asyncio.ensure_future(work())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({working, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not working.done():
            await dispatcher.stop(grace)
            _, pending = await asyncio.wait({working}, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
            await dispatcher.release()
        elif working.exception() is not None:
            await dispatcher.stop(0)
        if working.done() and not working.cancelled() and working.exception() is not None:
            raise working.exception()  # type: ignore[misc]
    finally:
        stopped.cancel()
        keeper.cancel()
        await presence.withdraw(engine, clock, worker)
    return handled
