"""A bounce applied to the delivery it is about: found by its return path, checked, kept.

`record_bounce` is what every receiver (the SMTP listener, the IMAP poller) calls with the
message as it came. The delivery is the one the return path names under our key: the
envelope recipients first (the listener's RCPT TO), else the addresses the bounce was
delivered to (Delivered-To, X-Original-To, …). When the bounce quotes one of our Message-IDs,
it must be that delivery's (a relay's own Message-ID is accepted: some rewrite them). A token
that names no delivery of ours, or one quoting another delivery's Message-ID, is dropped
(nothing stored) with a warning that names no address. For a delivery of ours, in one transaction:

- the report is kept (its first MiB: see `models.RAW_LIMIT`) as evidence;
- hard: the delivery is `bounced` (final, ended now), its last reply says why, the
  delivery log has the attempt's outcome, and the incident's timeline `delivery_bounced`;
- soft: the delivery is tried again on the outbox's backoff (`retry`), or `failed` when
  the next try would come after the notification's give-up time — the outbox's own rules
  (`notifications.delivery.rules.after_attempt`). A notification already done is sending
  again, so that the outbox picks the retry up (the event says so). Timeline:
  `delivery_bounced` too;
- a delivery of a finished notification ended by the bounce (hard, or soft past the
  give-up time) is a person not reached: each duty the notification met is reopened, or
  stays pending, with the people missing on the timeline (`delivery.reaching.settle`);
- a bounce about a delivery that has already failed or bounced is kept and changes
  nothing; so does a soft bounce about a delivery that is being tried again anyway;
- a bounce that could not be read (kind None) is kept with `parsed` False, a warning
  logged, and the delivery left as it was.

Timeline payloads carry ids, the kind and the status only: never an address.
`record_bounce` never raises: whatever the input, the receiver gets a `Recorded`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import SYSTEM
from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.bounces.models import RAW_LIMIT, BounceReport
from notifications.bounces.reading import read_bounce
from notifications.delivery.reaching import UNREACHED, settle
from notifications.delivery.return_paths import delivery_of
from notifications.delivery.rules import Policy, after_attempt
from notifications.drafting.letters import Letter
from notifications.drafting.models import Delivery, DeliveryAttempt, Notification
from notifications.drafting.queuing import MESSAGE_ID_START
from notifications.drafting.rules import DeliveryState, NotificationStatus
from notifications.obligations.models import IncidentObligation

__all__ = ["Outcome", "Recorded", "Source", "record_bounce"]

log = logging.getLogger("breachdesk.bounces")

Source = Literal["smtp", "imap"]
Outcome = Literal["bounced", "retry", "failed", "unchanged", "unparsed", "unknown", "forged",
                  "error"]
KEPT: frozenset[str] = frozenset({"bounced", "retry", "failed", "unchanged", "unparsed"})
"""The outcomes for which the report was stored."""
POLICY = Policy()
"""The outbox's backoff and give-up rules, as a soft bounce's retry follows them."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What became of one bounce."""

    outcome: Outcome
    delivery_id: int | None = None
    """The delivery the return path named (also when it was dropped as forged)."""
    report_id: int | None = None
    kind: str | None = None
    status: str | None = None

    @property
    def kept(self) -> bool:
        return self.outcome in KEPT


async def record_bounce(engine: AsyncEngine, raw: bytes, *, recipients: Iterable[str] = (),
                        source: Source, bounce_address: str, secret: str,
                        clock: Clock) -> Recorded:
    """Apply one bounce (see the module docstring); never raises."""
    try:
        return await _record(engine, raw, recipients=tuple(recipients), source=source,
                             bounce_address=bounce_address, secret=secret, clock=clock)
    except Exception:
        log.exception("a bounce received over %s could not be recorded", source)
        return Recorded("error")


def _named(addresses: Iterable[str], *, bounce_address: str, secret: str) -> int | None:
    for address in addresses:
        found = delivery_of(address, bounce_address=bounce_address, secret=secret)
        if found is not None:
            return found
    return None


def _bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


async def _record(engine: AsyncEngine, raw: bytes, *, recipients: tuple[str, ...],
                  source: Source, bounce_address: str, secret: str, clock: Clock) -> Recorded:
    if not bounce_address:
        log.warning("a bounce arrived over %s, but BREACH_BOUNCE_ADDRESS is not set: dropped",
                    source)
        return Recorded("unknown")
    reading = read_bounce(raw)
    delivery_id = _named(recipients, bounce_address=bounce_address, secret=secret)
    if delivery_id is None:
        delivery_id = _named(reading.addressed_to, bounce_address=bounce_address, secret=secret)
    if delivery_id is None:
        log.warning("a bounce received over %s names none of our deliveries (no return path "
                    "under our key): dropped", source)
        return Recorded("unknown")
    kind, status, diagnostic = reading.kind, reading.status, reading.diagnostic
    now = clock.now()
    async with session_factory(engine)() as db, transaction(db):
        delivery = (await db.exec(select(Delivery).where(
            Delivery.id == delivery_id).with_for_update())).first()
        if delivery is None:
            log.warning("a bounce received over %s names delivery %s, which does not exist: "
                        "dropped", source, delivery_id)
            return Recorded("unknown", delivery_id)
        quoted = reading.original_message_id
        if quoted and _bare_id(quoted) != _bare_id(delivery.message_id):
            if _bare_id(quoted).startswith(MESSAGE_ID_START):
                log.warning("a bounce received over %s names delivery %s but quotes another "
                            "of our Message-IDs: dropped as forged", source, delivery_id)
                return Recorded("forged", delivery_id)
            # Some relays (Amazon SES among them) give each message a Message-ID of their
            # own: the return path's MAC still says which delivery it is.
            log.info("a bounce received over %s about delivery %s quotes a Message-ID the "
                     "relay gave it", source, delivery_id)
        report = BounceReport(received_at=now, source=source, delivery_id=delivery_id,
                              kind=kind, status=status, diagnostic=diagnostic,
                              parsed=kind is not None, size=len(raw), raw=raw[:RAW_LIMIT])
        db.add(report)
        await db.flush()
        if kind is None:
            log.warning("bounce report %s about delivery %s could not be read (%s): kept, the "
                        "delivery left as it was", report.id, delivery_id, reading.why)
            return Recorded("unparsed", delivery_id, report.id)
        # Ended for good already; or, for a soft bounce, being tried again anyway.
        if delivery.state in UNREACHED or (kind == "soft"
                                           and delivery.state != DeliveryState.SENT.value):
            return Recorded("unchanged", delivery_id, report.id, kind, status)
        reopened = False
        reply = " ".join(part for part in ("bounced:", status, diagnostic) if part)
        notification = await db.get(Notification, delivery.notification_id)
        assert notification is not None
        if kind == "hard":
            delivery.state = DeliveryState.BOUNCED.value
            delivery.ended_at = now
            delivery.lease_until, delivery.leased_by = None, None
            delivery.last_reply = reply
        else:
            step = after_attempt(DeliveryState.RETRY, reply=reply, attempts=delivery.attempts,
                                 now=now, hint_seconds=None, policy=POLICY,
                                 give_up_at=await _give_up_at(db, notification, now))
            delivery.state, delivery.last_reply = step.state.value, step.reply
            if step.next_attempt_at is not None:
                delivery.next_attempt_at = step.next_attempt_at
            if step.ended:
                delivery.ended_at = now
            else:
                delivery.ended_at = None
                reopened = _sending_again(db, notification)
        db.add(delivery)
        db.add(DeliveryAttempt(delivery_id=delivery_id, at=now, outcome=delivery.state,
                               reply=delivery.last_reply, worker=f"bounces ({source})"))
        if notification.incident_id is not None:
            await journal.append_event(
                db, chain=str(notification.incident_id), at=now, actor=SYSTEM,
                kind="delivery_bounced",
                payload={"delivery": delivery_id, "notification": notification.id,
                         "report": report.id, "kind": kind, "status": status,
                         "state": delivery.state,
                         **({"notification_sending_again": True} if reopened else {})})
        if (notification.incident_id is not None and delivery.state in UNREACHED
                and notification.status == NotificationStatus.DONE.value):
            incident = await db.get(Incident, notification.incident_id)
            assert incident is not None
            await settle(db, incident, notification, now,
                         cause=f"delivery {delivery_id}: {kind} bounce, report {report.id}")
        outcome: Outcome = ("bounced" if delivery.state == DeliveryState.BOUNCED.value
                            else "retry" if delivery.state == DeliveryState.RETRY.value
                            else "failed")
        return Recorded(outcome, delivery_id, report.id, kind, status)


async def _give_up_at(db: AsyncSession, notification: Notification, now: datetime) -> datetime:
    """When the outbox stops retrying this notification's deliveries: its obligation's due
    time (after one retry at least), else a while after it was sent — as `Letter` says."""
    deadline = None
    if notification.incident_id is not None:
        obligation = (await db.exec(select(IncidentObligation).where(
            IncidentObligation.incident_id == notification.incident_id,
            IncidentObligation.ref == notification.ref))).first()
        deadline = obligation.due_at if obligation is not None else None
    letter = Letter(notification, {}, {}, ZoneInfo("UTC"), deadline)
    return letter.give_up_at(now, first_retry=POLICY.first_retry,
                             without_deadline=POLICY.give_up_without_deadline)


def _sending_again(db: AsyncSession, notification: Notification) -> bool:
    """A notification already done has a delivery to try again: it is sending once more, so
    the outbox claims the retry (and finishes it again when every delivery has ended).
    True when it was done."""
    if notification.status != NotificationStatus.DONE.value:
        return False
    notification.status = NotificationStatus.SENDING.value
    notification.finished_at = None
    db.add(notification)
    return True
