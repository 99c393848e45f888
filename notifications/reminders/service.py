"""Reminders and escalations that fire exactly once, survive restarts and scale out.

`plan` derives every reminder the current state calls for — before each obligation's
due time at the configured lead times, when an obligation is overdue, when a runbook
step is overdue, when a notification's deliveries keep failing — and inserts the ones
not yet known (the unique key makes that idempotent across processes). `fire` claims
due reminders (FOR UPDATE SKIP LOCKED on PostgreSQL), and in the same transaction
marks each fired with its lateness and queues its e-mails in the outbox, to the
incident's lead, the approvers and the admins. A crash loses nothing (the claim rolls
back) and doubles nothing (a fired reminder is never claimed again).

What a tick does with each due reminder is `rules.decide`: on time, its own message; a
lead-time reminder found late (after downtime, or for an incident recorded or a profile set
after its moment) is skipped, never sent late; anything else found late goes, with the rest
of that tick's late items, into one digest per person (`rules.digests`), each marked fired
with its lateness and named on its incident's timeline (`reminder_fired`, with the message it
went out in). Messages name each duty in words by whom it is owed to and its phase (the
templates' `words/`, in every language they exist in), with the authority's name from the
organisation profile and the regime's name from its file; they are written in the
organisation's language and link to BREACH_BASE_URL.

An incident whose duties run on an assumed clock (counted from awareness until the
incident is classified, `assume_from` in the regime files) also gets one reminder to make
the decision that starts the real clock, "classify the incident (NIS2 significant / DORA
major)", due at once: the assumed clock has been running since awareness.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import User
from incident.containment.models import IncidentStep
from incident.containment.rules import OPEN_STATES as OPEN_STEPS
from incident.kernel.auth import SYSTEM
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, session_factory, transaction
from incident.kernel.vocabulary import normalise_locale
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.delivery.reaching import notices_leaving_unreached
from notifications.drafting import rules as drafting
from notifications.drafting.models import Delivery, Notification, NotificationVersion
from notifications.drafting.requirements import authority_contact
from notifications.drafting.rules import (
    DeliveryState,
    NotificationKind,
    NotificationStatus,
    content_hash,
)
from notifications.drafting.sending import set_message_ids
from notifications.obligations.engine import iso
from notifications.obligations.models import IncidentObligation
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.service import UNFINISHED, get_profile, shipped_regimes
from notifications.reminders.models import Reminder
from notifications.reminders.rules import Action, ReminderState, decide, digests, skipped_note

log = logging.getLogger("breachdesk.reminders")

DEFAULT_LEADS_HOURS = (48.0, 24.0, 6.0, 1.0)
FAILING_AFTER_ATTEMPTS = 3


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    subject: str
    incident_id: uuid.UUID
    due_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


# --- what the state calls for (pure) -------------------------------------------------------------


def obligation_reminders(obligation: IncidentObligation, leads_hours: Sequence[float]
                         ) -> list[Planned]:
    """Reminders before a pending obligation's due time, and the escalation at it."""
    if (obligation.due_at is None or obligation.status != ObligationStatus.PENDING
            or not obligation.applies):
        return []
    due, subject = obligation.due_at, f"obligation:{obligation.id}"
    found = [Planned(f"{subject}|reminder-{hours:g}h|{iso(due)}", "obligation_due", subject,
                     obligation.incident_id, due - timedelta(hours=hours),
                     {"ref": obligation.ref, "due_at": iso(due), "lead_hours": hours})
             for hours in leads_hours]
    found.append(Planned(f"{subject}|overdue|{iso(due)}", "obligation_overdue", subject,
                         obligation.incident_id, due, {"ref": obligation.ref, "due_at": iso(due)}))
    return found


CLASSIFY = "classify_incident"
ACTIONS = {"classified_major_at": "classify the incident"}
"""What recording an awaited trigger means, in words (otherwise "record incident.<name>")."""


def assumed_rows(rows: Sequence[IncidentObligation]) -> list[IncidentObligation]:
    """The pending duties that apply and whose due time is assumed, soonest first."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted((r for r in rows if r.applies and r.status == ObligationStatus.PENDING
                   and r.due_at is not None and (r.computed or {}).get("assumed")),
                  key=lambda r: (r.due_at or far, r.ref))


def classify_reminder(incident_id: uuid.UUID, rows: Sequence[IncidentObligation],
                      decision: Callable[[str], str]) -> Planned | None:
    """One reminder for an incident whose duties run on an assumed clock: make the decision
    that starts the real one, due when the assumed clock started (awareness), so it fires at
    once and before the earliest assumed due time. `decision(ref)` names what deciding means
    for one duty ("NIS2 significant"). None when no duty of the incident is assumed."""
    assumed = assumed_rows([r for r in rows if r.incident_id == incident_id])
    if not assumed:
        return None
    first = assumed[0]
    assert first.due_at is not None
    awaited = [str(((r.computed or {}).get("trigger") or {}).get("name", "")) for r in assumed]
    verbs = list(dict.fromkeys(ACTIONS.get(name, f"record incident.{name}") for name in awaited))
    decisions = list(dict.fromkeys(decision(r.ref) for r in assumed))
    action = f"{' / '.join(verbs)} ({' / '.join(decisions)})"
    started = [((r.computed or {}).get("basis") or {}).get("trigger_at") for r in assumed]
    start = min((datetime.fromisoformat(str(at)) for at in started if at), default=first.due_at)
    subject = f"classify:{incident_id}"
    return Planned(f"{subject}|{iso(first.due_at)}", CLASSIFY, subject, incident_id,
                   min(start, first.due_at),
                   {"action": action, "refs": [r.ref for r in assumed], "due_at": iso(first.due_at),
                    "regimes": list(dict.fromkeys(r.regime.upper() for r in assumed))})


def _decision(ref: str) -> str:
    """What the regime file says recording the trigger decides ("NIS2 significant")."""
    found = shipped_regimes().obligation(ref)
    assume = found[1].assume_from if found else None
    return assume.decision if assume else ref.split("/")[0].upper()


def step_reminder(step: IncidentStep) -> Planned:
    subject = f"step:{step.id}"
    return Planned(f"{subject}|overdue|{iso(step.due_at)}", "step_overdue", subject,
                   step.incident_id, step.due_at,
                   {"step": step.step_id, "title": step.title, "due_at": iso(step.due_at)})


def failing_reminder(notification: Notification, now: datetime, failing: int, total: int,
                     last_error: str) -> Planned:
    """At most one escalation per failing notification per day."""
    subject = f"notification:{notification.id}"
    assert notification.incident_id is not None  # notices and reports belong to an incident
    return Planned(f"{subject}|failing|{now.date().isoformat()}", "delivery_failing", subject,
                   notification.incident_id, now,
                   {"ref": notification.ref, "failing": failing, "total": total,
                    "last_error": last_error[:500]})


# --- planning --------------------------------------------------------------------------------


async def plan(engine: AsyncEngine, clock: Clock,
               leads_hours: Sequence[float] = DEFAULT_LEADS_HOURS) -> int:
    """Insert the reminders the current state calls for; returns how many were new."""
    now = clock.now()
    async with session_factory(engine)() as db:
        open_ids = select(Incident.id).where(col(Incident.status).in_(UNFINISHED))
        obligations = (await db.exec(select(IncidentObligation).where(
            col(IncidentObligation.incident_id).in_(open_ids),
            IncidentObligation.status == ObligationStatus.PENDING.value))).all()
        steps = (await db.exec(select(IncidentStep).where(
            col(IncidentStep.incident_id).in_(open_ids),
            col(IncidentStep.state).in_([s.value for s in OPEN_STEPS]),
            col(IncidentStep.due_at) <= now))).all()
        planned = [p for o in obligations for p in obligation_reminders(o, leads_hours)]
        planned += [p for incident_id in dict.fromkeys(o.incident_id for o in obligations)
                    if (p := classify_reminder(incident_id, obligations, _decision)) is not None]
        planned += [step_reminder(s) for s in steps]
        planned += await _failing(db, now)
        planned += await _not_reached(db, now)
        if not planned:
            return 0
        rows = [{"key": p.key, "kind": p.kind, "subject": p.subject, "incident_id": p.incident_id,
                 "due_at": p.due_at, "state": ReminderState.DUE.value, "detail": p.detail}
                for p in planned]
        insert = pg_insert if is_postgresql(db) else sqlite_insert
        await db.rollback()  # end the reading transaction; the write takes its own
        async with transaction(db):
            conn = await db.connection()
            result = await conn.execute(insert(Reminder).values(rows).on_conflict_do_nothing(
                index_elements=["key"]))
        return max(int(result.rowcount or 0), 0)


async def _failing(db: AsyncSession, now: datetime) -> list[Planned]:
    """Notifications being sent whose deliveries keep failing: one grouped query for all."""
    rows = (await db.exec(
        select(Notification, func.count(), func.max(Delivery.last_reply))
        .join(Delivery, col(Delivery.notification_id) == col(Notification.id))
        .where(col(Notification.status).in_([s.value for s in drafting.IN_FLIGHT]),
               col(Notification.kind).in_((NotificationKind.SUBJECT_NOTICE.value,
                                           NotificationKind.AUTHORITY_REPORT.value)),
               # Still being tried after several attempts, or refused for good at any
               # attempt; a person with no address is no failure of the mail (they are
               # "not reached" once the notice is done: `_not_reached`).
               ((col(Delivery.state) == DeliveryState.RETRY.value)
                & (col(Delivery.attempts) >= FAILING_AFTER_ATTEMPTS))
               | ((col(Delivery.state) == DeliveryState.FAILED.value)
                  & col(Delivery.address).is_not(None)))
        .group_by(col(Notification.id)))).all()
    return [failing_reminder(notification, now, int(stuck), notification.recipients,
                             str(last or "")) for notification, stuck, last in rows]


def not_reached_reminder(notification: Notification, now: datetime, missing: int) -> Planned:
    """At most one escalation per notice per day while people it addressed are not reached."""
    subject = f"notification:{notification.id}"
    assert notification.incident_id is not None
    return Planned(f"{subject}|not_reached|{now.date().isoformat()}", "people_not_reached",
                   subject, notification.incident_id, now,
                   {"ref": notification.ref, "not_reached": missing,
                    "total": notification.recipients})


async def _not_reached(db: AsyncSession, now: datetime) -> list[Planned]:
    """Notices that left people not reached while a duty they meet is pending: escalated
    at once, to those who can act."""
    return [not_reached_reminder(found.notification, now, found.people)
            for found in await notices_leaving_unreached(db)]


# --- firing ----------------------------------------------------------------------------------


KNOWN_KINDS = frozenset({"obligation_due", "obligation_overdue", "step_overdue",
                         "delivery_failing", "people_not_reached", CLASSIFY})


async def fire(engine: AsyncEngine, clock: Clock, *, worker: str, message_domain: str,
               base_url: str, batch: int = 500) -> int:
    """Fire the due reminders (one batch, one transaction); returns how many fired.

    Each is decided by `rules.decide`: on time, its own message; a lead-time reminder found
    late, skipped; anything else found late, in one digest per person (`rules.digests`).
    """
    now = clock.now()
    async with session_factory(engine)() as db, transaction(db):
        due = (await db.exec(select(Reminder).where(
            Reminder.state == ReminderState.DUE.value, col(Reminder.due_at) <= now).order_by(
            col(Reminder.due_at), col(Reminder.id)).limit(batch).with_for_update(
            skip_locked=True))).all()
        profile = await get_profile(db)
        names = Names(dict(profile.authorities or {}) if profile else {},
                      _locale_of(profile.language if profile else None))
        late: list[Firing] = []
        fired = 0
        for reminder in due:
            firing = await _decided(db, reminder, now, base_url, names)
            if firing is None:
                continue
            if firing.action == Action.SEND:
                await _send(db, [firing], firing.recipients, now, worker, message_domain, names)
                fired += 1
            else:
                late.append(firing)
        fired += await _send_digests(db, late, now, worker, message_domain, names)
        return fired


@dataclass(frozen=True)
class Names:
    """What reminders name duties with: the profile's authorities, and the language the
    organisation reads (its reminders are written in it, when templates exist for it)."""

    authorities: dict[str, Any]
    locale: str = "en"


@dataclass
class Firing:
    """A due reminder that is sent (on its own or in digests), with what its message says."""

    reminder: Reminder
    incident: Incident
    action: Action
    recipients: list[User]
    fields: dict[str, Any]
    lateness: float


def _locale_of(language: str | None) -> str:
    try:
        return normalise_locale(language or "en")
    except ValueError:
        return "en"


async def _decided(db: AsyncSession, reminder: Reminder, now: datetime, base_url: str,
                   names: Names) -> Firing | None:
    """Park, retire or skip `reminder` (None), or say how it is sent."""
    if reminder.kind not in KNOWN_KINDS:
        reminder.state = ReminderState.PARKED.value
        reminder.note = f"unknown kind {reminder.kind!r}: kept, not fired"
        db.add(reminder)
        log.error("reminder %s parked: unknown kind %r (left by another version?)",
                  reminder.key, reminder.kind)
        return None
    incident = await db.get(Incident, reminder.incident_id)
    assert incident is not None
    still = await _still_called_for(db, reminder, incident)
    if still is not None:
        reminder.state, reminder.note = ReminderState.OBSOLETE.value, still
        db.add(reminder)
        return None
    action = decide(reminder.kind, reminder.due_at, now)
    if action == Action.SKIP:
        reminder.state, reminder.note = ReminderState.SKIPPED.value, skipped_note(
            now, reminder.due_at)
        db.add(reminder)
        return None
    duty = await _duty(db, reminder, names)
    return Firing(reminder, incident, action, await _recipients(db, incident),
                  page_context(reminder, incident, now, base_url, duty),
                  max((now - reminder.due_at).total_seconds(), 0.0))


def _template(kind: str) -> str:
    return (NotificationKind.REMINDER if kind in ("obligation_due", CLASSIFY)
            else NotificationKind.ESCALATION).value


async def _send(db: AsyncSession, firings: Sequence[Firing], recipients: Sequence[User],
                now: datetime, worker: str, domain: str, names: Names, *, ref: str = "",
                ) -> Notification:
    """One message to `recipients`: one reminder's own, or the digest of several (`ref`).

    Each reminder is marked fired, and each incident's timeline says what was sent about it
    in this message, to how many people, in the same transaction."""
    first = firings[0]
    if len(firings) == 1:
        template, fields = _template(first.reminder.kind), first.fields
        ref, key = ref or f"reminder:{first.reminder.id}", first.reminder.key
    else:
        template = NotificationKind.REMINDER.value
        fields = {"items": [digest_item(f.reminder.kind, f.fields) for f in firings]}
        key = "|".join(f.reminder.key for f in firings)
    notification = Notification(incident_id=first.incident.id, ref=ref, kind=template,
                                status=NotificationStatus.SENDING.value, sent_at=now,
                                content_hash=content_hash(template, key, 1, fields),
                                recipients=len(recipients), created_at=now,
                                created_by=SYSTEM.label)
    db.add(notification)
    await db.flush()
    assert notification.id is not None
    db.add(NotificationVersion(notification_id=notification.id, version=1, fields=fields,
                               content_hash=notification.content_hash, created_at=now,
                               created_by=SYSTEM.label))
    for user in recipients:
        db.add(Delivery(notification_id=notification.id, recipient_key=user.email,
                        address=user.email, name=user.name, locale=names.locale, message_id="",
                        next_attempt_at=now))
    await db.flush()
    await set_message_ids(await db.connection(), notification.id, domain)
    for firing in firings:
        reminder = firing.reminder
        if reminder.state != ReminderState.FIRED:  # in one digest, or another's too
            reminder.state, reminder.fired_at, reminder.fired_by = (
                ReminderState.FIRED.value, now, worker)
            reminder.lateness_seconds, reminder.notification_id = (
                firing.lateness, notification.id)
            db.add(reminder)
    by_incident: dict[uuid.UUID, list[Firing]] = {}
    for firing in firings:
        by_incident.setdefault(firing.incident.id, []).append(firing)
    for incident_id, about in by_incident.items():
        payload: dict[str, Any] = {
            "reminder": about[0].reminder.key, "kind": about[0].reminder.kind,
            "due_at": iso(about[0].reminder.due_at),
            "late_seconds": round(max(f.lateness for f in about)),
            "recipients": len(recipients), "notification": notification.id}
        if len(firings) > 1:  # a digest: every reminder of this incident it carries
            payload.update(digest=True, items=len(firings),
                           reminders=[f.reminder.key for f in about])
        await journal.append_event(db, chain=str(incident_id), at=now, actor=SYSTEM,
                                   kind="reminder_fired", payload=payload)
    return notification


async def _send_digests(db: AsyncSession, late: Sequence[Firing], now: datetime, worker: str,
                        domain: str, names: Names) -> int:
    """What fell due while nothing could send it: one message per person (those with the
    same items share one); returns how many reminders fired."""
    if not late:
        return 0
    late = sorted(late, key=lambda f: (f.incident.reference, f.reminder.due_at, f.reminder.id))
    by_id = {f.reminder.id: f for f in late}
    users = {u.id: u for f in late for u in f.recipients}
    shared = digests((f.reminder.id, [u.id for u in f.recipients]) for f in late)
    for number, digest in enumerate(shared, start=1):
        firings = [by_id[ident] for ident in digest.items]
        ref = (f"reminder:{firings[0].reminder.id}" if len(firings) == 1
               else f"reminder-digest:{firings[0].reminder.id}:{number}")
        await _send(db, firings, [users[p] for p in digest.people], now, worker, domain,
                    names, ref=ref)
    for firing in late:  # an item nobody is there to receive still counts as decided
        if firing.reminder.state != ReminderState.FIRED:
            firing.reminder.state, firing.reminder.fired_at = ReminderState.FIRED.value, now
            firing.reminder.fired_by, firing.reminder.lateness_seconds = worker, firing.lateness
            firing.reminder.note = "nobody to send it to"
            db.add(firing.reminder)
    return len(late)


async def _still_called_for(db: AsyncSession, reminder: Reminder, incident: Incident) -> str | None:
    """Why a due reminder no longer applies, or None when it does."""
    if lifecycle.is_finished(lifecycle.Status(incident.status)):
        return f"the incident is {incident.status}"
    what, _, ident = reminder.subject.partition(":")
    if what == "classify":
        rows = (await db.exec(select(IncidentObligation).where(
            IncidentObligation.incident_id == incident.id))).all()
        assumed = assumed_rows(rows)
        if not assumed:
            return "no duty runs on an assumed clock any more: the incident was classified"
        if iso(assumed[0].due_at) != reminder.detail.get("due_at"):
            return f"the earliest assumed due time moved to {iso(assumed[0].due_at)}"
    elif what == "obligation":
        row = await db.get(IncidentObligation, int(ident))
        if row is None or row.status != ObligationStatus.PENDING or not row.applies:
            return "the obligation is no longer pending"
        if iso(row.due_at) != reminder.detail.get("due_at"):
            return f"the obligation's due time moved to {iso(row.due_at)}"
    elif reminder.kind == "people_not_reached":
        if not await notices_leaving_unreached(db, only=int(ident)):
            return "everyone the notice addressed was reached, or its duties are settled"
    elif what == "step":
        step = await db.get(IncidentStep, int(ident))
        if step is None or step.state not in OPEN_STEPS:
            return "the step is no longer open"
        if iso(step.due_at) != reminder.detail.get("due_at"):
            return f"the step's due time moved to {iso(step.due_at)}"
    return None


async def _recipients(db: AsyncSession, incident: Incident) -> list[User]:
    """The incident's lead, the approvers and the admins: whoever can act on it."""
    users = (await db.exec(select(User).where(
        User.active == True, col(User.role).in_(("admin", "approver"))  # noqa: E712
        | (col(User.id) == incident.lead_id)).order_by(col(User.id)))).all()
    return list(users)


DUTY_WORDS = {"authority": "Notify the supervisory authority", "regulator": "Notify the regulator",
              "individuals": "Notify the people affected", "media": "Inform the media",
              "internal": "Notify within the organisation",
              "counterparty": "Notify the business partner",
              "consumer_reporting_agencies": "Notify the nationwide consumer reporting agencies"}
"""A duty in words, by whom it is owed to (the English of `templates/email/reminder/words/`)."""


@dataclass(frozen=True)
class Duty:
    """A duty as reminders name it: whom it is owed to (`duty`, a recipient of the regime
    files), in words, the regime's name and the authority's (or the recipient's) name."""

    duty: str
    words: str
    regime: str
    recipient: str
    phase: str = ""


def name_duty(ref: str, recipient: str, recipient_name: str, regime_name: str | None,
              authorities: Mapping[str, Mapping[str, Any]], phase: str | None = None) -> Duty:
    """`ref` in words (pure): an authority's or a regulator's name as the organisation profile
    gives it (the duty's own entry, else its regime's), else the regime file's recipient name;
    the regime by the short name its file gives it ("UK GDPR", from "UK GDPR - personal data
    breach notification"), else its id in capitals."""
    regime = (regime_name.split(" - ")[0].strip() if regime_name
              else ref.split("/")[0].upper().replace("-", " "))
    named = ""
    if recipient in ("authority", "regulator"):
        named = str((authority_contact(ref, authorities) or {}).get("name") or "")
    return Duty(recipient, DUTY_WORDS.get(recipient, ref), regime, named or recipient_name,
                phase or "")


async def _duty(db: AsyncSession, reminder: Reminder, names: Names) -> Duty | None:
    """The duty a reminder is about, named (None for a runbook step). For the decision that
    starts a legal clock: the regimes and authorities of the duties it starts."""
    if reminder.kind == CLASSIFY:
        named = [_named(ref, None, names) for ref in reminder.detail.get("refs", [])]
        return Duty("", str(reminder.detail.get("action", reminder.kind)),
                    " / ".join(dict.fromkeys(d.regime for d in named)),
                    ", ".join(dict.fromkeys(d.recipient for d in named)))
    ref = str(reminder.detail.get("ref") or "")
    if not ref:
        return None
    what, _, ident = reminder.subject.partition(":")
    row = await db.get(IncidentObligation, int(ident)) if what == "obligation" else None
    if row is None:
        row = (await db.exec(select(IncidentObligation).where(
            IncidentObligation.incident_id == reminder.incident_id,
            IncidentObligation.ref == ref))).first()
    return _named(ref, row, names)


def _named(ref: str, row: IncidentObligation | None, names: Names) -> Duty:
    found = shipped_regimes().obligation(ref)
    recipient = row.recipient if row else (found[1].recipient if found else "")
    recipient_name = row.recipient_name if row else (found[1].recipient_name if found else ref)
    phase = row.phase if row else (found[1].phase if found else None)
    return name_duty(ref, recipient, recipient_name, found[0].name if found else None,
                     names.authorities, phase)


async def duty_of(db: AsyncSession, reminder: Reminder,
                  authorities: Mapping[str, Any]) -> Duty | None:
    """The duty `reminder` is about, named as its message names it (`authorities`: the
    organisation profile's); None for a runbook step."""
    return await _duty(db, reminder, Names(dict(authorities)))


def page_context(reminder: Reminder, incident: Incident, now: datetime, base_url: str,
                 duty: Duty | None = None) -> dict[str, Any]:
    """The stored fields of a reminder's message (JSON: instants as ISO 8601, spans in seconds)."""
    detail = reminder.detail
    due = detail.get("due_at") or iso(reminder.due_at)
    base: dict[str, Any] = {
        "incident_reference": incident.reference, "incident_title": incident.title,
        "incident_url": f"{base_url.rstrip('/')}/incidents/{incident.reference}",
        "duty": duty.duty if duty else "", "phase": duty.phase if duty else "",
        "obligation": (duty.words if duty
                       else detail.get("ref") or detail.get("title") or reminder.kind),
        "regime": (duty.regime if duty
                   else str(detail.get("ref", "runbook")).split("/")[0].upper()),
        "obligation_recipient": duty.recipient if duty else detail.get("ref", ""),
        "due_at": due, "items": []}
    if reminder.kind == CLASSIFY and duty is None:  # the decision, before the earliest
        base.update(obligation=detail.get("action", reminder.kind),  # assumed due time
                    regime=" / ".join(detail.get("regimes", [])),
                    obligation_recipient=", ".join(detail.get("refs", [])))
    if reminder.kind in ("obligation_due", CLASSIFY):
        return {**base, "time_left_seconds": max(
            (datetime.fromisoformat(str(due)) - now).total_seconds(), 0)}
    issue = (reminder.kind if reminder.kind in ("delivery_failing", "people_not_reached")
             else "obligation_overdue")
    context = {**base, "issue": issue, "since": iso(reminder.due_at),
               "elapsed_seconds": max((now - reminder.due_at).total_seconds(), 0)}
    context.pop("items")  # the escalation's templates have no digest
    if issue == "people_not_reached":
        context.update(not_reached=detail.get("not_reached", 0),
                       deliveries_total=detail.get("total", 0))
    if issue == "delivery_failing":
        context.update(deliveries_failed=detail.get("failing", 0),
                       deliveries_total=detail.get("total", 0),
                       last_error=detail.get("last_error", ""))
    return context


DIGEST_STATES = {"obligation_overdue": "overdue", "step_overdue": "overdue",
                 CLASSIFY: "decide", "obligation_due": "due"}
"""How a digest says what each item is (anything else: it needs attention)."""


def digest_item(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a digest from a reminder's own fields (pure)."""
    return {name: fields[name] for name in (
        "incident_reference", "incident_title", "incident_url", "duty", "obligation", "regime",
        "obligation_recipient", "due_at")} | {"phase": fields.get("phase", ""),
                                               "state": DIGEST_STATES.get(kind, "attention")}


# --- who ticks (SQLite) ------------------------------------------------------------------------




