"""Whom a notification reached, and what that makes of the duties it meets.

A duty owed through a notification is met only when every person its letters address was
reached: by e-mail (accepted, and no hard bounce since), or another way that was recorded
(`OtherContact`: a postal letter, a call, a public communication where the duty's law
allows one). The pure rule is `obligations.rules.status_after_reach`; this module counts,
and `settle` applies it inside the caller's transaction:

- every letter ended and every person reached: the duty is met (late after its due time)
  at the time the last person was reached, and names the notification (`met_by`);
- someone not reached: the duty stays pending, the timeline says who is missing, by why
  (`people_not_reached`, or `recipient_not_reached` for a report to an authority);
- a duty this notification met, and someone found unreached since (a hard bounce after
  the server accepted the message): the duty is reopened (`obligation_reopened`).

The outbox settles when a notification's last delivery ends, the bounce receiver when a
hard bounce ends one of a finished notification, and recording another way of reaching
people when it is recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import SYSTEM
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.delivery.models import OtherContact
from notifications.delivery.rules import GAVE_UP
from notifications.drafting import queuing, tallies
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.rules import DeliveryState, NotificationKind, NotificationStatus
from notifications.obligations import rules as obligations
from notifications.obligations.engine import iso
from notifications.obligations.models import IncidentObligation
from notifications.obligations.regimes import SubstituteNotice
from notifications.obligations.rules import ObligationStatus, Reach
from notifications.obligations.service import UNFINISHED, reconcile, reopen, shipped_regimes

__all__ = ["OPEN", "UNREACHED", "UnreachedNotice", "Why", "meeting", "notices_leaving_unreached",
           "reach_of", "reached_otherwise", "settle", "substitute_notice", "unreached_by_why",
           "why_of"]

UNREACHED = (DeliveryState.FAILED.value, DeliveryState.BOUNCED.value)
"""Delivery states that end without reaching the person."""
OPEN = (DeliveryState.PENDING.value, DeliveryState.SENDING.value, DeliveryState.RETRY.value,
        DeliveryState.IN_DOUBT.value)
"""Delivery states still being sent."""
REACHED = "reached"


@dataclass(frozen=True, slots=True)
class Why:
    """Why the people not reached were not: no address on record, the server refused the
    message for good, the outbox gave up retrying by the deadline, a hard bounce."""

    no_address: int = 0
    refused: int = 0
    gave_up: int = 0
    bounced: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _why_sql() -> ColumnElement[str]:
    """`why_of`, in SQL."""
    return case((col(Delivery.state) == DeliveryState.BOUNCED.value, "bounced"),
                (col(Delivery.address).is_(None), "no_address"),
                (col(Delivery.last_reply).startswith(GAVE_UP), "gave_up"), else_="refused")


def why_of(delivery: Delivery) -> str:
    """Why one delivery that ended unreached did not reach its person (a field of `Why`)."""
    if delivery.state == DeliveryState.BOUNCED.value:
        return "bounced"
    if delivery.address is None:
        return "no_address"
    return "gave_up" if (delivery.last_reply or "").startswith(GAVE_UP) else "refused"


def meeting(notification: Notification, ref: str) -> ColumnElement[bool]:
    """The deliveries of `notification` whose letter meets `ref` for its recipient."""
    mine = col(Delivery.notification_id) == notification.id
    if not notification.covers:
        return mine
    return and_(mine, (literal(",") + col(Delivery.meets) + literal(",")).contains(
        f",{ref},", autoescape=True))


def substitute_notice(ref: str) -> SubstituteNotice | None:
    """The duty's rule for a public communication in place of a person's own notice, or
    None where its law allows none."""
    found = shipped_regimes().obligation(ref)
    return found[1].substitute_notice if found is not None else None


def _counted(ref: str | None) -> ColumnElement[bool]:
    """A record that reached its person, by a way `ref`'s law accepts (a public
    communication only where it allows one); any way when `ref` is None."""
    counted = col(OtherContact.outcome) == REACHED
    if ref is not None and substitute_notice(ref) is None:
        counted = and_(counted, col(OtherContact.channel) != "public")
    return counted


def reached_otherwise(ref: str | None = None) -> ColumnElement[bool]:
    """A delivery (of the query's `deliveries`) that something recorded reached another
    way (for `ref`: a way its law accepts)."""
    return select(OtherContact.id).where(col(OtherContact.delivery_id) == col(Delivery.id),
                                         _counted(ref)).exists()


async def reach_of(db: AsyncSession, notification: Notification, ref: str) -> Reach:
    """Whom the notification's letters meeting `ref` reached so far, and how."""
    scope = meeting(notification, ref)
    by_state: dict[str, int]
    if notification.covers:  # its letters meet several duties: count those meeting `ref`
        by_state = dict((await db.exec(select(Delivery.state, func.count()).where(
            scope).group_by(col(Delivery.state)))).all())
    else:
        by_state = (await tallies.counts_of(await db.connection(),
                                            [notification.id or 0]))[notification.id or 0]
    last_sent = (await db.exec(select(func.max(Delivery.sent_at)).where(
        scope, Delivery.state == DeliveryState.SENT.value))).one()
    others = (await db.exec(select(OtherContact.delivery_id, OtherContact.channel,
                                   OtherContact.at)
                            .join(Delivery, col(Delivery.id) == col(OtherContact.delivery_id))
                            .where(scope, col(Delivery.state).in_(UNREACHED),
                                   _counted(ref))
                            .order_by(col(OtherContact.delivery_id), col(OtherContact.at),
                                      col(OtherContact.id)))).all()
    first: dict[int, tuple[str, datetime]] = {}
    for delivery_id, channel, at in others:
        first.setdefault(delivery_id, (channel, at))
    otherwise: dict[str, int] = {}
    for channel, _ in first.values():
        otherwise[channel] = otherwise.get(channel, 0) + 1
    times = [t for t in (last_sent, *(at for _, at in first.values())) if t is not None]
    unreached = sum(int(by_state.get(s, 0)) for s in UNREACHED) - len(first)
    # People of a large notice not queued yet are still being sent to (for one meeting
    # several laws, some of them may be protected by another law than `ref`'s).
    waiting = (await queuing.waiting_of(await db.connection(), [notification.id or 0])).get(
        notification.id or 0, 0)
    return Reach(by_email=int(by_state.get(DeliveryState.SENT.value, 0)), otherwise=otherwise,
                 open=sum(int(by_state.get(s, 0)) for s in OPEN) + waiting,
                 unreached=max(unreached, 0),
                 last_at=max(times) if times else None)


async def unreached_by_why(db: AsyncSession, notification: Notification, ref: str) -> Why:
    """The people the notification's letters for `ref` did not reach, by why."""
    why = _why_sql()
    rows = (await db.exec(select(why, func.count()).where(
        meeting(notification, ref), col(Delivery.state).in_(UNREACHED),
        ~reached_otherwise(ref)).group_by(why))).all()
    return Why(**{str(name): int(count) for name, count in rows})


@dataclass(frozen=True, slots=True)
class UnreachedNotice:
    """A finished notice that left people not reached, with a duty it meets still pending."""

    notification: Notification
    reference: str
    """Its incident's."""
    people: int


async def notices_leaving_unreached(db: AsyncSession, *, only: int | None = None,
                                    limit: int | None = None) -> list[UnreachedNotice]:
    """The finished notices to people of unfinished incidents that left people not reached
    and nothing recorded reached them yet, while a duty they meet is pending and applies
    (oldest first; `only`: that notice alone; `limit`: looked at, before the duty check)."""
    query = (select(Notification, Incident.reference, func.count())
             .join(Delivery, col(Delivery.notification_id) == col(Notification.id))
             .join(Incident, col(Incident.id) == col(Notification.incident_id))
             .where(Notification.status == NotificationStatus.DONE.value,
                    Notification.kind == NotificationKind.SUBJECT_NOTICE.value,
                    col(Incident.status).in_(UNFINISHED),
                    col(Delivery.state).in_(UNREACHED), ~reached_otherwise())
             .group_by(col(Notification.id), col(Incident.reference))
             .order_by(col(Notification.id)))
    if only is not None:
        query = query.where(Notification.id == only)
    rows = (await db.exec(query.limit(limit) if limit is not None else query)).all()
    if not rows:
        return []
    pending = {(row.incident_id, row.ref) for row in (await db.exec(select(
        IncidentObligation).where(
        col(IncidentObligation.incident_id).in_({n.incident_id for n, _, _ in rows}),
        IncidentObligation.status == ObligationStatus.PENDING.value,
        IncidentObligation.applies == True))).all()}  # noqa: E712
    return [UnreachedNotice(notification, str(reference), int(people))
            for notification, reference, people in rows
            if any((notification.incident_id, ref) in pending for ref in notification.refs)]


async def settle(db: AsyncSession, incident: Incident, notification: Notification,
                 now: datetime, *, cause: str, announce: bool = True) -> bool:
    """Apply whom `notification` reached to each duty it meets (see the module's docstring),
    in the caller's transaction. Returns whether any duty changed (then the incident's
    obligations are reconciled). `announce`: a duty still pending says who is missing on
    the timeline (off where the caller's own event says it)."""
    rows = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        col(IncidentObligation.ref).in_(notification.refs)).with_for_update())).all()
    changed = False
    for row in sorted(rows, key=lambda r: notification.refs.index(r.ref)):
        reach = await reach_of(db, notification, row.ref)
        verdict = obligations.status_after_reach(reach, row.due_at)
        if verdict is None:
            continue
        status = ObligationStatus(row.status)
        if status is ObligationStatus.PENDING and verdict is not ObligationStatus.PENDING:
            await _met(db, incident, notification, row, reach, verdict, now)
            changed = True
        elif verdict is ObligationStatus.PENDING and reach.unreached:
            why = await unreached_by_why(db, notification, row.ref)
            if status in obligations.FULFILLED and row.met_by == notification.id:
                await _reopen(db, incident, notification, row, reach, why, now, cause)
                changed = True
            elif status is ObligationStatus.PENDING and announce:
                await _missing(db, incident, notification, row, reach, why, now)
    if changed:
        await reconcile(db, incident, now=now, cause=f"notification {notification.id}: {cause}")
    return changed


async def _met(db: AsyncSession, incident: Incident, notification: Notification,
               row: IncidentObligation, reach: Reach, status: ObligationStatus,
               now: datetime) -> None:
    assert reach.last_at is not None and notification.id is not None
    late = status is ObligationStatus.LATE
    row.status, row.met_at, row.met_by = status.value, reach.last_at, notification.id
    row.how = obligations.how_reached(reach, notification.id)
    if notification.covers:
        row.how += f"; one letter per person with {', '.join(notification.refs)}"
    row.late_reason = ("the last person was reached after the due time; the reasons for the "
                       "delay remain to be recorded") if late else None
    row.status_by, row.status_at = SYSTEM.label, now
    db.add(row)
    await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                               kind="obligation_late" if late else "obligation_met",
                               payload={"ref": row.ref, "met_at": iso(reach.last_at),
                                        "how": row.how, "late_reason": row.late_reason,
                                        "notification": notification.id,
                                        "reached": reach.by_channel})


def _event_kind(notification: Notification) -> str:
    return ("people_not_reached" if notification.kind == NotificationKind.SUBJECT_NOTICE.value
            else "recipient_not_reached")


async def _missing(db: AsyncSession, incident: Incident, notification: Notification,
                   row: IncidentObligation, reach: Reach, why: Why, now: datetime) -> None:
    payload: dict[str, Any] = {"ref": row.ref, "notification": notification.id,
                               "not_reached": reach.unreached, "why": why.as_dict(),
                               "reached": reach.by_channel}
    await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                               kind=_event_kind(notification), payload=payload)


async def _reopen(db: AsyncSession, incident: Incident, notification: Notification,
                  row: IncidentObligation, reach: Reach, why: Why, now: datetime,
                  cause: str) -> None:
    was = row.status
    reason = (f"{reach.unreached} {'person' if reach.unreached == 1 else 'people'} "
              f"notification {notification.id} counted as reached "
              f"{'is' if reach.unreached == 1 else 'are'} not reached ({cause})")
    reopen(row)
    row.status_by, row.status_at = SYSTEM.label, now
    db.add(row)
    await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                               kind="obligation_reopened",
                               payload={"ref": row.ref, "was": was, "reason": reason,
                                        "notification": notification.id})
    await _missing(db, incident, notification, row, reach, why, now)

