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
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident import auth, journal
from incident.auth import SYSTEM, Actor, Permission
from incident.clock import Clock
from incident.db import session_factory, transaction
from incident.errors import Conflict
from incident.inventory import categories_mask, category_names
from incident.models import Incident
from notifications.drafts import current_version, get_notification
from notifications.mailer import Outcome, Status, build_message
from notifications.models import (
    CapturedMessage,
    Delivery,
    DeliveryAttempt,
    IncidentObligation,
    Notification,
    OrganisationProfile,
)
from notifications.obligations import iso
from notifications.render import Renderer
from notifications.services import get_profile, reconcile

OPEN_STATES = ("pending", "sending", "retry", "in_doubt")
INTERNAL_KINDS = ("reminder", "escalation")
DUE_STATES = ("pending", "retry", "in_doubt")


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


@dataclass(frozen=True)
class Policy:
    """How hard the outbox tries: lease length, backoff, and when it gives up."""

    batch: int = 100
    lease: timedelta = timedelta(minutes=5)
    first_retry: timedelta = timedelta(minutes=1)
    longest_retry: timedelta = timedelta(hours=1)
    give_up_without_deadline: timedelta = timedelta(hours=72)


def next_attempt(attempts: int, now: datetime, hint_seconds: float | None, policy: Policy) -> datetime:
    """Exponential backoff from the first retry, capped, never sooner than the server asked."""
    wait: timedelta = min(policy.first_retry * int(2 ** max(attempts - 1, 0)), policy.longest_retry)
    if hint_seconds is not None:
        wait = max(wait, timedelta(seconds=hint_seconds))
    return now + wait


# --- what a message says ---------------------------------------------------------------------


def internal_context(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A reminder's stored fields (JSON) as template values: instants and spans restored."""
    values = {k: v for k, v in fields.items() if not k.endswith("_seconds")}
    for name in ("due_at", "since"):
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    for name in ("time_left", "elapsed"):
        if f"{name}_seconds" in fields:
            values[name] = timedelta(seconds=float(fields[f"{name}_seconds"]))
    return values


def _lines(value: str) -> list[str]:
    return [line.strip("-• ").strip() for line in value.splitlines() if line.strip()]


@dataclass
class Letter:
    """What every message of one notification shares; `context_for` adds the person's part."""

    notification: Notification
    fields: dict[str, Any]
    shared: dict[str, Any]
    zone: ZoneInfo
    deadline: datetime | None
    """The obligation's due time: retries stop there."""

    def give_up_at(self, now: datetime, policy: Policy) -> datetime:
        started = self.notification.sent_at or now
        if self.deadline is not None:
            return max(self.deadline, started + policy.first_retry)
        return started + policy.give_up_without_deadline

    def context_for(self, delivery: Delivery) -> dict[str, Any]:
        if self.notification.kind in INTERNAL_KINDS:
            return {**internal_context(self.fields), "recipient_name": delivery.name}
        if self.notification.kind == "subject_notice":
            return {**self.shared, "recipient_name": delivery.name,
                    "categories": category_names(delivery.categories)}
        return {**self.shared, "authority": delivery.name or self.shared["authority"]}


async def letter_for(db: AsyncSession, notification: Notification) -> Letter:
    incident = await db.get(Incident, notification.incident_id)
    assert incident is not None
    profile = await get_profile(db) or OrganisationProfile(
        name="", country="", timezone="UTC", updated_at=incident.created_at, updated_by="")
    fields = dict((await current_version(db, notification)).fields)
    obligation = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        IncidentObligation.ref == notification.ref))).first()
    return Letter(notification, fields, shared_context(notification, incident, profile, fields,
                                                        obligation, await _first_report(db, notification)),
                  ZoneInfo(profile.timezone), obligation.due_at if obligation else None)


async def _first_report(db: AsyncSession, notification: Notification) -> datetime | None:
    if notification.sequence == 1:
        return None
    first = (await db.exec(select(Notification).where(
        Notification.incident_id == notification.incident_id, Notification.ref == notification.ref,
        Notification.sequence == 1))).first()
    return first.sent_at if first else None


def shared_context(notification: Notification, incident: Incident, profile: OrganisationProfile,
                   fields: Mapping[str, Any], obligation: IncidentObligation | None,
                   first_reported_at: datetime | None) -> dict[str, Any]:
    """The template context of a notification, from its fields and the incident (pure)."""
    base: dict[str, Any] = {
        "incident_reference": incident.reference, "organisation": profile.name,
        "dpo_name": profile.dpo.get("name", ""), "dpo_email": profile.dpo.get("email", ""),
        "dpo_phone": profile.dpo.get("phone", ""), "kind": incident.kind,
        "description": fields.get("description", ""), "occurred_from": incident.occurred_from,
        "occurred_to": incident.occurred_to, "aware_at": incident.aware_at,
        "consequences": fields.get("consequences", ""),
    }
    if notification.kind == "subject_notice":
        return {**base, "measures": _lines(fields.get("measures", ""))}
    summary = obligation.computed if obligation else {}
    return {
        **base,
        "authority": obligation.recipient_name if obligation else "",
        "authority_reference": fields.get("authority_reference", ""),
        "supplement": notification.sequence - 1 or None,
        "first_reported_at": first_reported_at, "reported_at": notification.sent_at,
        "breach_types": list(incident.breach_types), "detected_at": incident.detected_at,
        "contained_at": incident.contained_at, "categories": list(incident.data_categories),
        "subjects_estimate": incident.estimated_subjects,
        "records_estimate": incident.estimated_records,
        "jurisdictions": [],
        "measures_taken": _lines(fields.get("measures_taken", "")),
        "measures_proposed": _lines(fields.get("measures_proposed", "")),
        "delay_reason": fields.get("delay_reason", ""),
        "due_at": obligation.due_at if obligation else None,
        "basis": summary.get("basis"),
    }


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
                Delivery.state == "sending", col(Delivery.lease_until) < now).with_for_update(
                skip_locked=True))).all()
            for delivery in expired:
                db.add(DeliveryAttempt(delivery_id=delivery.id or 0, at=now, outcome="in_doubt",
                                       reply=f"lease held by {delivery.leased_by} expired",
                                       worker=self.worker))
                delivery.state, delivery.lease_until, delivery.next_attempt_at = "in_doubt", None, now
                db.add(delivery)
        return len(expired)

    async def claim(self) -> list[Delivery]:
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            due = (await db.exec(
                select(Delivery).join(Notification, col(Notification.id) == col(Delivery.notification_id))
                .where(col(Delivery.state).in_(DUE_STATES), col(Delivery.next_attempt_at) <= now,
                       Notification.status == "sending")
                .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
                .limit(self.policy.batch)
                .with_for_update(of=Delivery, skip_locked=True))).all()
            for delivery in due:
                delivery.state, delivery.attempts = "sending", delivery.attempts + 1
                delivery.lease_until, delivery.leased_by = now + self.policy.lease, self.worker
                db.add(delivery)
        return list(due)

    async def _deliver(self, delivery: Delivery, letter: Letter) -> None:
        try:
            rendered = self.renderer.render(letter.notification.kind, delivery.locale,
                                            letter.context_for(delivery), zone=letter.zone)
            message = build_message(sender=self.sender, to=delivery.address or "",
                                    to_name=delivery.name or None, subject=rendered.subject,
                                    text=rendered.text, html=rendered.html,
                                    message_id=delivery.message_id, date=self.clock.now())
        except ValueError as error:  # a recipient or text the message cannot carry
            outcome = Outcome(Status.FAILED, None, f"message not built: {error}", "message")
        else:
            outcome = await self.transport.send(self.sender, delivery.address or "", message)
        await self.record(delivery, outcome, letter)

    async def record(self, delivery: Delivery, outcome: Outcome, letter: Letter) -> None:
        """Commit one outcome at once, only while this dispatcher still holds the lease."""
        now = self.clock.now()
        values: dict[str, Any] = {"state": outcome.status.value, "lease_until": None,
                                  "last_reply": outcome.reply}
        if outcome.status is Status.SENT:
            values.update(sent_at=now, ended_at=now)
        elif outcome.status is Status.FAILED:
            values.update(ended_at=now)
        else:
            at = next_attempt(delivery.attempts, now, outcome.retry_after, self.policy)
            if outcome.status is Status.IN_DOUBT:
                at = now
            give_up = letter.give_up_at(now, self.policy)
            if at > give_up:
                values.update(state="failed", ended_at=now,
                              last_reply=f"gave up at {iso(give_up)}: {outcome.reply}")
            values["next_attempt_at"] = at
        async with self.sessions() as db, transaction(db):
            conn = await db.connection()
            changed = await conn.execute(update(Delivery).where(
                col(Delivery.id) == delivery.id, col(Delivery.state) == "sending",
                col(Delivery.leased_by) == self.worker).values(**values))
            if changed.rowcount == 1:
                db.add(DeliveryAttempt(delivery_id=delivery.id or 0, at=now,
                                       outcome=values["state"], reply=values["last_reply"],
                                       worker=self.worker))

    async def finish_if_done(self, notification_id: int) -> bool:
        """When no delivery is open any more: the notification is done, its obligation met."""
        now = self.clock.now()
        async with self.sessions() as db, transaction(db):
            notification = (await db.exec(select(Notification).where(
                Notification.id == notification_id).with_for_update())).one()
            if notification.status not in ("sending", "paused"):
                return False
            counts = await state_counts(db, notification_id)
            if any(counts.get(state, 0) for state in OPEN_STATES):
                return False
            incident = await db.get(Incident, notification.incident_id)
            assert incident is not None
            last_sent = (await db.exec(select(func.max(Delivery.sent_at)).where(
                Delivery.notification_id == notification_id))).one()
            notification.status, notification.finished_at = "done", now
            db.add(notification)
            await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                                       kind="notification_finished",
                                       payload={"notification": notification_id, **counts})
            await _meet(db, incident, notification, last_sent or now, counts, now)
        return True


async def _meet(db: AsyncSession, incident: Incident, notification: Notification, at: datetime,
                counts: Mapping[str, int], now: datetime) -> None:
    """The obligation is met by the notification: late, with the facts, after its due time."""
    row = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        IncidentObligation.ref == notification.ref).with_for_update())).first()
    if row is None or row.status != "pending" or not counts.get("sent"):
        return
    late = row.due_at is not None and at > row.due_at
    row.status, row.met_at = ("late" if late else "met"), at
    row.how = (f"notification {notification.id}: {counts.get('sent', 0)} sent, "
               f"{counts.get('failed', 0)} failed (see its delivery log)")
    row.late_reason = ("the last delivery ended after the due time; the reasons for the delay "
                       "remain to be recorded") if late else None
    row.status_by, row.status_at = SYSTEM.label, now
    db.add(row)
    await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                               kind="obligation_late" if late else "obligation_met",
                               payload={"ref": row.ref, "met_at": iso(at), "how": row.how,
                                        "late_reason": row.late_reason})
    await reconcile(db, incident, now=now, cause=f"notification {notification.id} finished")


# --- reading and steering -----------------------------------------------------------------------


async def state_counts(db: AsyncSession, notification_id: int) -> dict[str, int]:
    rows = (await db.exec(select(Delivery.state, func.count()).where(
        Delivery.notification_id == notification_id).group_by(col(Delivery.state)))).all()
    return {state: int(count) for state, count in rows}


async def progress(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                   notification_id: int) -> tuple[Notification, dict[str, int]]:
    _, notification = await get_notification(db, actor=actor, key=key,
                                             notification_id=notification_id)
    return notification, await state_counts(db, notification_id)


async def set_paused(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                     notification_id: int, paused: bool) -> Notification:
    """Pause (deliveries stay queued, none is claimed) or resume a notification being sent."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True)
        expected = "sending" if paused else "paused"
        if notification.status != expected:
            raise Conflict(f"notification {notification.id} is {notification.status}, not {expected}")
        notification.status = "paused" if paused else "sending"
        db.add(notification)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="notification_paused" if paused else "notification_resumed",
                                   payload={"notification": notification.id})
    return notification


async def delivery_log(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       notification_id: int, after_id: int = 0, limit: int = 100
                       ) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """Per recipient: state, Message-ID, every attempt with the server's reply (personal data)."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    await get_notification(db, actor=actor, key=key, notification_id=notification_id)
    deliveries = (await db.exec(select(Delivery).where(
        Delivery.notification_id == notification_id, col(Delivery.id) > after_id).order_by(
        col(Delivery.id)).limit(limit))).all()
    ids = [d.id for d in deliveries]
    attempts = (await db.exec(select(DeliveryAttempt).where(
        col(DeliveryAttempt.delivery_id).in_(ids)).order_by(col(DeliveryAttempt.id)))).all()
    by_delivery: dict[int, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return [(d, by_delivery.get(d.id or 0, [])) for d in deliveries]


async def preview(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID, notification_id: int,
                  locale: str, renderer: Renderer, now: datetime) -> tuple[str, str, str, str]:
    """The current version as a recipient would read it: (locale used, subject, text, html).

    A notice to people shows an unnamed recipient with every category the incident exposed;
    a report not yet sent is dated now.
    """
    incident, notification = await get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id)
    letter = await letter_for(db, notification)
    if letter.shared.get("reported_at", now) is None:
        letter.shared["reported_at"] = now
    sample = Delivery(notification_id=notification_id, recipient_key="preview", locale=locale,
                      categories=categories_mask(incident.data_categories),
                      message_id="<preview@localhost>",
                      next_attempt_at=incident.created_at)
    rendered = renderer.render(notification.kind, locale, letter.context_for(sample), zone=letter.zone)
    return rendered.locale, rendered.subject, rendered.text, rendered.html

