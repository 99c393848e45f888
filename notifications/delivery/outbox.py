"""The outbox: deliveries handed out by the database, sent, and every outcome kept at once.

A dispatcher claims due deliveries with a lease (one UPDATE under FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite's single writer makes the same statement exclusive),
sends each through the transport, and commits its outcome before anything else:
sent; retry at a backed-off time (honouring the server's hint); failed with the
server's verbatim reply; or in doubt when the connection died after the message
was handed over. A delivery whose lease expired (its dispatcher crashed) is in
doubt too, and is resent with the same Message-ID: duplicates are bounded by the
deliveries in flight at a crash, never more. A dispatcher known to be dead (see
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
import hashlib
import logging
import math
import os
import socket
import time
import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any, Protocol

from sqlalchemy import delete, literal, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import SYSTEM
from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import Settings
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.delivery import presence
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.message import Attachment, build_message
from notifications.delivery.models import CapturedMessage, SentMessage
from notifications.delivery.outcomes import Outcome, Status
from notifications.delivery.rules import Policy, after_attempt
from notifications.drafting import rules as drafting
from notifications.drafting.documents import pdf_of
from notifications.drafting.letters import Letter, letter_for
from notifications.drafting.models import Delivery, DeliveryAttempt, Notification
from notifications.drafting.render import Renderer, with_english_copy
from notifications.drafting.rules import DeliveryState, NotificationStatus
from notifications.drafting.sending import state_counts
from notifications.obligations import rules as obligations
from notifications.obligations.engine import iso
from notifications.obligations.models import IncidentObligation
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.service import reconcile

__all__ = ["RELAY_UNREACHABLE", "CaptureTransport", "Dispatcher", "Policy", "Transport", "close",
           "fallback_for", "run_until_stopped", "transport_for", "worker_name"]

log = logging.getLogger("breachdesk.outbox")

RELAY_UNREACHABLE = "relay unreachable: "
"""How the delivery log begins the reply of an attempt that never reached the relay."""


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

    At most `concurrency` messages are with the transport at once (the pool's size: the
    others wait here, not yet handed over, so a stop can put them back untouched).
    """

    def __init__(self, engine: AsyncEngine, transport: Transport, renderer: Renderer, *,
                 clock: Clock, sender: str, worker: str, policy: Policy | None = None,
                 concurrency: int = 4, fallback: Transport | None = None,
                 probe_every: float = 5.0) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.transport = transport
        self.fallback = fallback
        self.renderer = renderer
        self.clock = clock
        self.sender = sender
        self.worker = worker
        self.policy = policy or Policy()
        self.probe_every = probe_every
        self.stopping = False
        self._slots = asyncio.Semaphore(max(concurrency, 1))
        self._claimed: dict[int, tuple[str, int, datetime]] = {}
        """Deliveries this dispatcher holds, with what they were before it claimed them."""
        self._handed: set[int] = set()
        """Of those, the ones handed to a relay whose outcome is not recorded yet."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._records: set[asyncio.Task[None]] = set()
        self._probed = -math.inf
        self._relay_down = False
        self._reached = False
        self._unreached = False

    async def run_once(self) -> int:
        """Reclaim expired leases, claim one batch, send it; returns how many were claimed."""
        if self.stopping:
            return 0
        await self.reclaim()
        await self.relay_check()
        claimed = await self.claim()
        if not claimed:
            return 0
        if self.stopping:  # stopped while claiming: hand the batch back untouched
            await self.release()
            return 0
        letters: dict[int, Letter] = {}
        async with self.sessions() as db:
            for notification_id in {d.notification_id for d in claimed}:
                notification = await db.get(Notification, notification_id)
                assert notification is not None
                letters[notification_id] = await letter_for(db, notification)
        was_down, self._reached, self._unreached = self._relay_down, False, False
        tasks = [asyncio.ensure_future(self._deliver(d, letters[d.notification_id]))
                 for d in claimed]
        self._tasks.update(tasks)
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks.difference_update(tasks)
        if was_down and self._reached and not self._unreached:
            await self.bring_forward()  # the relay answers again: nobody waits out a backoff
        for notification_id in letters:
            await self.finish_if_done(notification_id)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return len(claimed)

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

    async def claim(self) -> list[Delivery]:
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            due = (await db.exec(
                select(Delivery).join(Notification, col(Notification.id) == col(Delivery.notification_id))
                .where(col(Delivery.state).in_([s.value for s in drafting.DUE]),
                       col(Delivery.next_attempt_at) <= now,
                       Notification.status == NotificationStatus.SENDING.value)
                .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
                .limit(self.policy.batch)
                .with_for_update(of=Delivery, skip_locked=True))).all()
            for delivery in due:
                self._claimed[delivery.id or 0] = (delivery.state, delivery.attempts,
                                                   delivery.next_attempt_at)
                delivery.state, delivery.attempts = DeliveryState.SENDING.value, delivery.attempts + 1
                delivery.lease_until, delivery.leased_by = now + self.policy.lease, self.worker
                db.add(delivery)
        return list(due)

    async def stop(self, grace: float = 3.0) -> int:
        """Claim nothing more; give messages on the wire `grace` seconds to be answered and
        recorded; then release whatever this dispatcher still holds (see `release`)."""
        self.stopping = True
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
        if self._records:  # outcomes being written when the rest was cancelled
            await asyncio.wait(set(self._records), timeout=grace)
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

    async def _deliver(self, delivery: Delivery, letter: Letter) -> None:
        try:
            rendered = self.renderer.render(letter.notification.kind, delivery.locale,
                                            letter.context_for(delivery), zone=letter.zone,
                                            fallback=letter.language)
            files: list[Attachment] = []
            if letter.notification.kind == drafting.NotificationKind.CHECKPOINT:
                # The signed checkpoint itself, as its log line: the witness keeps the copy.
                files.append(Attachment(f"checkpoint-{letter.fields['number']}.jsonl",
                                        "application/json",
                                        str(letter.fields["line"]).encode() + b"\n"))
            if letter.notification.kind == drafting.NotificationKind.AUTHORITY_REPORT:
                rendered = with_english_copy(rendered, self.renderer.render(
                    letter.notification.kind, "en", letter.context_for(delivery, "en"),
                    zone=letter.zone))
                # The same report as a PDF, for the authority's case file.
                files.append(Attachment(
                    f"report-{letter.notification.id}-{letter.notification.sequence}.pdf",
                    "application/pdf", await asyncio.to_thread(pdf_of, rendered.html)))
            message = build_message(sender=self.sender, to=delivery.address or "",
                                    to_name=delivery.name or None, subject=rendered.subject,
                                    text=rendered.text, html=rendered.html,
                                    message_id=delivery.message_id, date=self.clock.now(),
                                    author=letter.author, reply_to=letter.reply_to,
                                    attachments=files)
        except ValueError as error:  # a recipient or text the message cannot carry
            outcome = Outcome(Status.FAILED, None, f"message not built: {error}", "message")
            message = b""
        else:
            async with self._slots:
                if self.stopping:
                    return  # never handed over: `stop` puts it back as it was
                self._handed.add(delivery.id or 0)
                outcome = await self._send(letter, delivery.address or "", message)
        # Once an outcome is known it is written, even if the batch is being cancelled.
        recording = asyncio.ensure_future(self._record_and_forget(delivery, outcome, letter,
                                                                  message))
        self._records.add(recording)
        recording.add_done_callback(self._records.discard)
        await asyncio.shield(recording)

    async def _send(self, letter: Letter, recipient: str, message: bytes) -> Outcome:
        """Through the relay, or the fallback relay for an escalation that needs another path."""
        escalation = letter.notification.kind == drafting.NotificationKind.ESCALATION
        if (self.fallback is not None and escalation
                and letter.fields.get("issue") == "delivery_failing"):
            return await self.fallback.send(self.sender, recipient, message)
        outcome = await self.transport.send(self.sender, recipient, message)
        if outcome.stage != "connect":
            self._reached = True
        elif self.fallback is not None and escalation and outcome.status is Status.RETRY:
            return await self.fallback.send(self.sender, recipient, message)
        return outcome

    async def _record_and_forget(self, delivery: Delivery, outcome: Outcome, letter: Letter,
                                 message: bytes) -> None:
        await self.record(delivery, outcome, letter, message)
        self._claimed.pop(delivery.id or 0, None)
        self._handed.discard(delivery.id or 0)

    async def record(self, delivery: Delivery, outcome: Outcome, letter: Letter,
                     message: bytes = b"") -> None:
        """Commit one outcome at once, only while this dispatcher still holds the lease; a
        message sent is kept, byte for byte, with the outcome."""
        now = self.clock.now()
        reply = outcome.reply
        if outcome.status is Status.RETRY and outcome.stage == "connect":
            reply, self._relay_down, self._unreached = RELAY_UNREACHABLE + reply, True, True
        step = after_attempt(
            DeliveryState(outcome.status.value), reply=reply, attempts=delivery.attempts,
            now=now, hint_seconds=outcome.retry_after, policy=self.policy,
            give_up_at=letter.give_up_at(now, first_retry=self.policy.first_retry,
                                         without_deadline=self.policy.give_up_without_deadline))
        values: dict[str, Any] = {"state": step.state.value, "lease_until": None,
                                  "last_reply": step.reply}
        if step.state is DeliveryState.SENT:
            values.update(sent_at=now)
        if step.ended:
            values.update(ended_at=now)
        if step.next_attempt_at is not None:
            values.update(next_attempt_at=step.next_attempt_at)
        async with self.sessions() as db, transaction(db):
            conn = await db.connection()
            changed = await conn.execute(update(Delivery).where(
                col(Delivery.id) == delivery.id,
                col(Delivery.state) == DeliveryState.SENDING.value,
                col(Delivery.leased_by) == self.worker).values(**values))
            if changed.rowcount == 1:
                db.add(DeliveryAttempt(delivery_id=delivery.id or 0, at=now,
                                       outcome=values["state"], reply=values["last_reply"],
                                       worker=self.worker))
                if step.state is DeliveryState.SENT and message:
                    await conn.execute(delete(SentMessage).where(
                        col(SentMessage.delivery_id) == delivery.id))
                    db.add(SentMessage(delivery_id=delivery.id or 0, at=now,
                                       sha256=hashlib.sha256(message).hexdigest(),
                                       raw=zlib.compress(message, 6)))

    async def finish_if_done(self, notification_id: int) -> bool:
        """When no delivery is open any more: the notification is done, its obligation met."""
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            notification = (await db.exec(select(Notification).where(
                Notification.id == notification_id).with_for_update())).one()
            if notification.status not in drafting.IN_FLIGHT:
                return False
            counts = await state_counts(db, notification_id)
            if not drafting.all_ended(counts):
                return False
            last_sent = (await db.exec(select(func.max(Delivery.sent_at)).where(
                Delivery.notification_id == notification_id))).one()
            notification.status, notification.finished_at = NotificationStatus.DONE.value, now
            db.add(notification)
            if notification.incident_id is None:  # a checkpoint to its witness: the delivery
                return True                       # log is its record, and it meets no duty
            incident = await db.get(Incident, notification.incident_id)
            assert incident is not None
            await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                                       kind="notification_finished",
                                       payload={"notification": notification_id, **counts})
            await _meet(db, incident, notification, last_sent or now, counts, now)
        return True


async def _meet(db: AsyncSession, incident: Incident, notification: Notification, at: datetime,
                counts: Mapping[str, int], now: datetime) -> None:
    """Each obligation the notification covers is met by the letters that meet it (those
    to the people its law protects): late, with the facts, after its due time."""
    rows = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        col(IncidentObligation.ref).in_(notification.refs)).with_for_update())).all()
    met = False
    for row in sorted(rows, key=lambda r: notification.refs.index(r.ref)):
        mine = await _counts_meeting(db, notification, row.ref) if notification.covers else counts
        if row.status != ObligationStatus.PENDING or not mine.get(DeliveryState.SENT):
            continue
        status = obligations.status_when_met(row.due_at, at)
        late = status is ObligationStatus.LATE
        row.status, row.met_at = status.value, at
        row.how = (f"notification {notification.id}: {mine.get(DeliveryState.SENT, 0)} sent, "
                   f"{mine.get(DeliveryState.FAILED, 0)} failed (see its delivery log)")
        if notification.covers:
            row.how += f"; one letter per person with {', '.join(notification.refs)}"
        row.late_reason = ("the last delivery ended after the due time; the reasons for the "
                           "delay remain to be recorded") if late else None
        row.status_by, row.status_at = SYSTEM.label, now
        db.add(row)
        met = True
        await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                                   kind="obligation_late" if late else "obligation_met",
                                   payload={"ref": row.ref, "met_at": iso(at), "how": row.how,
                                            "late_reason": row.late_reason})
    if met:
        await reconcile(db, incident, now=now, cause=f"notification {notification.id} finished")


async def _counts_meeting(db: AsyncSession, notification: Notification, ref: str
                          ) -> dict[str, int]:
    """How many of the letters meeting `ref` for their recipient ended in each state."""
    rows = (await db.exec(select(Delivery.state, func.count()).where(
        Delivery.notification_id == notification.id,
        (literal(",") + col(Delivery.meets) + literal(",")).contains(
            f",{ref},", autoescape=True)).group_by(
        col(Delivery.state)))).all()
    return {state: int(count) for state, count in rows}


# --- reading and steering -----------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def transport_for(settings: Settings, engine: AsyncEngine, clock: Clock) -> Transport:
    """The real SMTP server when BREACH_SMTP_URL is set, else the embedded capture."""
    if settings.smtp_url:
        return pool_from_url(settings.smtp_url, size=settings.smtp_connections,
                             rate=settings.smtp_rate or None)
    return CaptureTransport(engine, clock)


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
                            renew: timedelta = timedelta(seconds=5), grace: float = 3.0) -> int:
    """`breach outbox run`: send due deliveries until `stop` is set (or one batch with
    `once`), keeping this worker's presence; on stop, release what it holds and end its
    presence. Returns how many deliveries were handled."""
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
            if not claimed:
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
