"""The outbox: deliveries handed out by the database, sent, and every outcome kept at once.

A dispatcher claims due deliveries with a lease (one UPDATE under FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite's single writer makes the same statement exclusive),
sends each through the transport, and commits its outcome before anything else:
sent; retry at a backed-off time (honouring the server's hint); failed with the
server's verbatim reply; or in doubt when the connection died after the message
was handed over. A delivery whose lease expired (its dispatcher crashed) is in
doubt too, and is resent with the same Message-ID: duplicates are bounded by the
deliveries in flight at a crash, never more. When every delivery of a notification
has ended, the notification is done and its obligation met (or late).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import zlib
from collections.abc import Mapping
from datetime import datetime
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

__all__ = ["CaptureTransport", "Dispatcher", "Policy", "Transport", "close", "transport_for",
           "worker_name"]


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
    """Works through due deliveries; several may run against one database (one per process)."""

    def __init__(self, engine: AsyncEngine, transport: Transport, renderer: Renderer, *,
                 clock: Clock, sender: str, worker: str, policy: Policy | None = None) -> None:
        self.sessions = session_factory(engine)
        self.transport = transport
        self.renderer = renderer
        self.clock = clock
        self.sender = sender
        self.worker = worker
        self.policy = policy or Policy()

    async def run_once(self) -> int:
        """Reclaim expired leases, claim one batch, send it; returns how many were claimed."""
        await self.reclaim()
        claimed = await self.claim()
        if not claimed:
            return 0
        letters: dict[int, Letter] = {}
        async with self.sessions() as db:
            for notification_id in {d.notification_id for d in claimed}:
                notification = await db.get(Notification, notification_id)
                assert notification is not None
                letters[notification_id] = await letter_for(db, notification)
        await asyncio.gather(*(self._deliver(d, letters[d.notification_id]) for d in claimed))
        for notification_id in letters:
            await self.finish_if_done(notification_id)
        return len(claimed)

    async def reclaim(self) -> int:
        """A lease that ran out means its dispatcher died mid-send: the delivery is in doubt."""
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            expired = (await db.exec(select(Delivery).where(
                Delivery.state == DeliveryState.SENDING.value,
                col(Delivery.lease_until) < now).with_for_update(skip_locked=True))).all()
            for delivery in expired:
                db.add(DeliveryAttempt(delivery_id=delivery.id or 0, at=now,
                                       outcome=DeliveryState.IN_DOUBT.value,
                                       reply=f"lease held by {delivery.leased_by} expired",
                                       worker=self.worker))
                delivery.state, delivery.lease_until = DeliveryState.IN_DOUBT.value, None
                delivery.next_attempt_at = now
                db.add(delivery)
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
                delivery.state, delivery.attempts = DeliveryState.SENDING.value, delivery.attempts + 1
                delivery.lease_until, delivery.leased_by = now + self.policy.lease, self.worker
                db.add(delivery)
        return list(due)

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
            outcome = await self.transport.send(self.sender, delivery.address or "", message)
        await self.record(delivery, outcome, letter, message)

    async def record(self, delivery: Delivery, outcome: Outcome, letter: Letter,
                     message: bytes = b"") -> None:
        """Commit one outcome at once, only while this dispatcher still holds the lease; a
        message sent is kept, byte for byte, with the outcome."""
        now = self.clock.now()
        step = after_attempt(
            DeliveryState(outcome.status.value), reply=outcome.reply, attempts=delivery.attempts,
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


async def close(transport: Transport) -> None:
    """Close the SMTP connections, if the transport holds any."""
    closing = getattr(transport, "close", None)
    if closing is not None:
        await closing()
