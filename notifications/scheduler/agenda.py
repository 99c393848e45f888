"""The reminders dashboard: what the ticker will do next and what it has done.

Built on `reminders.upcoming` (due reminders, parked ones, the outbox's queue) with the
incidents they are about, the reminders fired most recently with how late each was, and the
lead-time reminders skipped because their moment had passed, with why. Each duty is named in
words, by whom it is owed to, with the authority's name from the organisation profile and the
regime's, as the reminder e-mails name it (`reminders.duty_of`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission, Role
from incident.kernel.clock import Clock
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.models import Incident
from notifications.obligations.service import get_profile
from notifications.reminders.models import Reminder
from notifications.reminders.rules import ReminderState
from notifications.reminders.service import Duty, duty_of
from notifications.scheduler.ticker import upcoming

KIND_NAMES = {"obligation_due": "reminder before the due time",
              "obligation_overdue": "obligation overdue", "step_overdue": "runbook step overdue",
              "delivery_failing": "deliveries failing",
              "classify_incident": "decision that starts a legal clock",
              "people_not_reached": "people not reached"}

PHASE_WORDS = {"initial": "initial notification", "intermediate": "intermediate report",
               "final": "final report", "follow_up": "follow-up"}
"""A duty's phase in words (the English of `templates/email/reminder/words/`)."""


@dataclass(frozen=True, slots=True)
class About:
    """The incident a reminder is about, as the dashboard names it."""

    reference: str
    title: str


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    kind: str
    what: str
    about: About | None
    due_at: datetime | None
    note: str | None = None
    fired_at: datetime | None = None
    fired_by: str | None = None
    lateness_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Agenda:
    due: list[Entry]
    due_now: int
    fired: list[Entry]
    parked: list[Entry]
    deliveries_queued: int
    next_delivery_at: datetime | None
    skipped: list[Entry] = field(default_factory=list)


def duty_words(duty: Duty) -> str:
    """A duty as the reminder e-mails say it (pure): `Notify the supervisory authority:
    initial notification (Information Commissioner's Office, UK GDPR)`."""
    phase = f": {PHASE_WORDS.get(duty.phase, duty.phase.replace('_', ' '))}" if duty.phase else ""
    whom = ", ".join(part for part in (duty.recipient, duty.regime) if part)
    return f"{duty.words}{phase}" + (f" ({whom})" if whom else "")


def describe(kind: str, detail: dict[str, Any], duty: Duty | None = None) -> str:
    """What a reminder is about, in a few words, from its stored detail and the duty it is
    about, named (pure; without one, the duty's reference)."""
    ref = duty_words(duty) if duty is not None else str(detail.get("ref") or "")
    if kind == "obligation_due" and "lead_hours" in detail:
        return f"{ref}, {float(detail['lead_hours']):g} h before it is due"
    if kind == "step_overdue":
        return str(detail.get("title") or detail.get("step") or "")
    if kind == "classify_incident":  # before the earliest due time counted from awareness
        return f"{ref if duty is not None else detail.get('action', '')}, before " \
               f"{detail.get('due_at', '')}"
    if kind == "delivery_failing":
        return f"{ref}: {detail.get('failing', 0)} of {detail.get('total', 0)} deliveries failing"
    return ref


def lateness_words(seconds: float | None) -> str:
    """How late a reminder fired, as people say it: `on time`, `3 min late`, `2 d 4 h late`.

    Under a minute counts as on time: the ticker runs every half minute.
    """
    if seconds is None or seconds < 60:
        return "on time"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        words = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        words = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    else:
        words = f"{minutes} min"
    return f"{words} late"


async def agenda(db: AsyncSession, engine: AsyncEngine, *, clock: Clock, actor: Actor,
                 due_limit: int = 20, fired_limit: int = 50, skipped_limit: int = 50) -> Agenda:
    """Due reminders (soonest first), the latest fired ones, the latest skipped ones (with
    why), parked ones, and the outbox queue."""
    auth.require(actor, Permission.READ_INCIDENTS)
    ahead: dict[str, Any] = await upcoming(engine, clock, limit=due_limit)
    fired = (await db.exec(select(Reminder).where(
        Reminder.state == ReminderState.FIRED.value).order_by(
        col(Reminder.fired_at).desc(), col(Reminder.id).desc()).limit(fired_limit))).all()
    skipped = (await db.exec(select(Reminder).where(
        Reminder.state == ReminderState.SKIPPED.value).order_by(
        col(Reminder.due_at).desc(), col(Reminder.id).desc()).limit(skipped_limit))).all()
    keys = [r["key"] for r in ahead["reminders"]] + [r["key"] for r in ahead["parked"]]
    known = {r.key: r for r in (await db.exec(select(Reminder).where(
        col(Reminder.key).in_(keys)))).all()} if keys else {}
    incidents = await _incidents(db, {r.incident_id for r in [*fired, *skipped,
                                                               *known.values()]},
                                 role=actor.role)
    profile = await get_profile(db)
    authorities = dict(profile.authorities or {}) if profile else {}
    duties: dict[str, Duty | None] = {}
    for row in [*fired, *skipped, *known.values()]:
        if row.incident_id in incidents:  # only what the role may open is named
            duties[row.key] = await duty_of(db, row, authorities)

    def entry(row: Reminder, **more: Any) -> Entry:
        return Entry(row.key, row.kind, describe(row.kind, row.detail, duties.get(row.key)),
                     incidents.get(row.incident_id), row.due_at, **more)

    def listed(key: str, kind: str, **more: Any) -> Entry:
        row = known.get(key)
        return entry(row, **more) if row is not None else Entry(key, kind, "", None, None,
                                                                   **more)

    return Agenda(
        due=[replace(listed(r["key"], r["kind"]), due_at=datetime.fromisoformat(r["due_at"]))
             for r in ahead["reminders"]],
        due_now=int(ahead["reminders_due_now"]),
        fired=[entry(r, note=r.note, fired_at=r.fired_at, fired_by=r.fired_by,
                     lateness_seconds=r.lateness_seconds) for r in fired],
        parked=[listed(r["key"], r["kind"], note=r["note"]) for r in ahead["parked"]],
        skipped=[entry(r, note=r.note) for r in skipped],
        deliveries_queued=int(ahead["deliveries_queued"]),
        next_delivery_at=_instant(ahead["next_delivery_at"]))


def _instant(value: str | None) -> datetime | None:
    """`upcoming` gives the next delivery time as the database printed it: naive on SQLite
    (stored in UTC), with an offset on PostgreSQL."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _incidents(db: AsyncSession, ids: set[uuid.UUID], *, role: Role
                     ) -> dict[uuid.UUID, About]:
    """The incidents named on the dashboard: only those the role may open (the lists' rule)."""
    if not ids:
        return {}
    visible = [status.value for status in lifecycle.visible_statuses(role)]
    rows = (await db.exec(select(Incident.id, Incident.reference, Incident.title).where(
        col(Incident.id).in_(ids), col(Incident.status).in_(visible)))).all()
    return {ident: About(reference, title) for ident, reference, title in rows}
