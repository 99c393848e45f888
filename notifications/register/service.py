"""Reading the breach register and the deadline-compliance report from the stored incidents.

Both reports only read: the incidents, their obligations as last computed (the scheduler
recomputes open incidents' every minute, and reading an incident's obligations does at
once), assessments, affected-people snapshots (their counts, never the people), runbook
steps, evidence (its hashes, never its content) and each timeline's head. A few set-based
queries per report, whatever the number of incidents; the rules in rules.py do the rest.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot
from incident.containment.models import Evidence, IncidentStep
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.models import Incident
from incident.lifecycle.rules import Status
from incident.timeline import service as journal
from incident.timeline.models import TimelineEvent, TimelineHead
from notifications.obligations.models import IncidentAssessment, IncidentObligation
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.service import get_profile
from notifications.register import rules
from notifications.register.rules import Per

BATCH = 500
"""Incident ids per `IN (…)` list: well under every database's limit on bound parameters."""

MILESTONE_NAMES = {"occurred_from": "occurred", "detected_at": "detected", "aware_at": "aware",
                   "contained_at": "contained", "closed_at": "closed",
                   "breach_determined_at": "breach determined",
                   "classified_major_at": "classified major",
                   "materiality_determined_at": "materiality determined"}
"""The instants of an incident its timeline picture marks, with their labels."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which incidents a report covers: those that became known (aware_at) from `start`
    (included) to `end` (excluded), in `status` when given."""

    start: datetime | None = None
    end: datetime | None = None
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class Register:
    generated_at: datetime
    organisation: str | None
    selection: Selection
    time_zone: str
    entries: tuple[rules.RegisterEntry, ...]


@dataclass(frozen=True, slots=True)
class IncidentCompliance:
    """One incident's duties against their due times, and the instants its picture marks."""

    reference: str
    title: str
    status: str
    aware_at: datetime
    period: str
    marks: tuple[tuple[str, datetime], ...]
    duties: tuple[rules.DutyOutcome, ...]
    notice_seconds: int | None
    """From awareness to the first notice to an authority or regulator."""


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    period: rules.Period
    summary: rules.Summary


@dataclass(frozen=True, slots=True)
class Compliance:
    generated_at: datetime
    organisation: str | None
    selection: Selection
    per: Per
    time_zone: str
    overall: rules.Summary
    periods: tuple[PeriodSummary, ...]
    incidents: tuple[IncidentCompliance, ...]


@dataclass(slots=True)
class _Loaded:
    """What the reports read about each incident, by incident id."""

    duties: dict[uuid.UUID, list[rules.Duty]] = field(default_factory=lambda: defaultdict(list))
    snapshots: dict[uuid.UUID, AffectedSnapshot] = field(default_factory=dict)
    assessments: dict[uuid.UUID, IncidentAssessment] = field(default_factory=dict)
    steps: dict[uuid.UUID, list[IncidentStep]] = field(default_factory=lambda: defaultdict(list))
    evidence: dict[uuid.UUID, list[Evidence]] = field(default_factory=lambda: defaultdict(list))
    heads: dict[str, TimelineHead] = field(default_factory=dict)
    dismissals: dict[str, rules.Dismissal] = field(default_factory=dict)


async def register(db: AsyncSession, *, clock: Clock, actor: Actor, selection: Selection,
                   zone: ZoneInfo) -> Register:
    """Every incident that became known in the selection, oldest first, with its facts,
    effects, remedial action, duties and evidence (GDPR Art. 33(5))."""
    auth.require(actor, Permission.AUDIT_REPORTS)
    rules.check_period(selection.start, selection.end)
    now = clock.now()
    incidents = await _incidents(db, actor, selection)
    loaded = await _load(db, incidents, full=True)
    entries = tuple(_entry(incident, loaded, now) for incident in incidents)
    profile = await get_profile(db)
    return Register(generated_at=now, organisation=profile.name if profile else None,
                    selection=selection, time_zone=str(zone), entries=entries)


async def compliance(db: AsyncSession, *, clock: Clock, actor: Actor, selection: Selection,
                     per: Per, zone: ZoneInfo) -> Compliance:
    """Each duty of the incidents that became known in the selection against its due time,
    and per period (by when the incident became known) how many were met on time and how
    long the first notice to an authority took."""
    auth.require(actor, Permission.AUDIT_REPORTS)
    rules.check_period(selection.start, selection.end)
    now = clock.now()
    incidents = await _incidents(db, actor, selection)
    loaded = await _load(db, incidents, full=False)
    found: list[IncidentCompliance] = []
    for incident in incidents:
        dismissed = incident.status == Status.DISMISSED.value
        outcomes = [o for d in loaded.duties.get(incident.id, [])
                    if (o := rules.outcome_of(d, dismissed=dismissed, now=now)) is not None]
        far = datetime.max.replace(tzinfo=now.tzinfo)
        outcomes.sort(key=lambda o: (o.due_at or far, o.ref))
        found.append(IncidentCompliance(
            reference=incident.reference, title=incident.title, status=incident.status,
            aware_at=incident.aware_at,
            period=rules.period_of(incident.aware_at, per=per, zone=zone).label,
            marks=_marks(incident), duties=tuple(outcomes),
            notice_seconds=rules.first_authority_notice(incident.aware_at, outcomes)))
    periods: dict[str, list[IncidentCompliance]] = defaultdict(list)
    bounds: dict[str, rules.Period] = {}
    for item in found:
        period = rules.period_of(item.aware_at, per=per, zone=zone)
        periods[period.label].append(item)
        bounds[period.label] = period
    profile = await get_profile(db)
    return Compliance(
        generated_at=now, organisation=profile.name if profile else None, selection=selection,
        per=per, time_zone=str(zone), overall=_summary(found),
        periods=tuple(PeriodSummary(bounds[label], _summary(items))
                      for label, items in sorted(periods.items(), key=lambda p: bounds[p[0]].start)),
        incidents=tuple(found))


def _summary(items: Sequence[IncidentCompliance]) -> rules.Summary:
    return rules.summarise(len(items), (d for item in items for d in item.duties),
                           ((item.reference, item.notice_seconds) for item in items
                            if item.notice_seconds is not None))


def _marks(incident: Incident) -> tuple[tuple[str, datetime], ...]:
    """The instants an incident's picture marks: awareness, detection, containment… and the
    milestones that start other clocks."""
    found: list[tuple[str, datetime]] = []
    for name, label in MILESTONE_NAMES.items():
        at = getattr(incident, name, None) or _milestone(incident, name)
        if at is not None:
            found.append((label, at))
    return tuple(sorted(found, key=lambda m: m[1]))


def _milestone(incident: Incident, name: str) -> datetime | None:
    text = (incident.milestones or {}).get(name)
    return datetime.fromisoformat(text) if text else None


# --- reading ------------------------------------------------------------------------------------


async def _incidents(db: AsyncSession, actor: Actor, selection: Selection) -> list[Incident]:
    """The incidents the actor may see in the selection, oldest awareness first."""
    visible = [s.value for s in lifecycle.visible_statuses(actor.role)]
    query = select(Incident).where(col(Incident.status).in_(visible))
    if selection.status is not None:
        query = query.where(Incident.status == selection.status.value)
    if selection.start is not None:
        query = query.where(Incident.aware_at >= selection.start)
    if selection.end is not None:
        query = query.where(Incident.aware_at < selection.end)
    query = query.order_by(col(Incident.aware_at), col(Incident.reference))
    return list((await db.exec(query)).all())


M = TypeVar("M", bound=SQLModel)


async def _rows(db: AsyncSession, model: type[M], column: Any, keys: Sequence[Any],
                *where: ColumnElement[bool]) -> list[M]:
    """Rows of `model` whose `column` is one of `keys`, read in batches."""
    found: list[M] = []
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        found += (await db.exec(select(model).where(col(column).in_(batch), *where))).all()
    return found


async def _load(db: AsyncSession, incidents: Sequence[Incident], *, full: bool) -> _Loaded:
    """The obligations of `incidents`; with `full`, also what the register shows besides."""
    ids = [incident.id for incident in incidents]
    loaded = _Loaded()
    for row in await _rows(db, IncidentObligation, IncidentObligation.incident_id, ids):
        loaded.duties[row.incident_id].append(_duty(row))
    if not full:
        return loaded
    for snapshot in await _rows(db, AffectedSnapshot, AffectedSnapshot.incident_id, ids):
        kept = loaded.snapshots.get(snapshot.incident_id)
        if kept is None or snapshot.number > kept.number:
            loaded.snapshots[snapshot.incident_id] = snapshot
    for assessment in await _rows(db, IncidentAssessment, IncidentAssessment.incident_id, ids):
        if assessment.pending:  # awaits an approver's confirmation: not in force yet
            continue
        kept_assessment = loaded.assessments.get(assessment.incident_id)
        if kept_assessment is None or assessment.number > kept_assessment.number:
            loaded.assessments[assessment.incident_id] = assessment
    for step in await _rows(db, IncidentStep, IncidentStep.incident_id, ids):
        loaded.steps[step.incident_id].append(step)
    for item in await _rows(db, Evidence, Evidence.incident_id, ids):
        loaded.evidence[item.incident_id].append(item)
    chains = [str(i) for i in ids]
    loaded.heads = {h.chain: h for h in await _rows(db, TimelineHead, TimelineHead.chain, chains)}
    dismissed = [str(i.id) for i in incidents if i.status == Status.DISMISSED.value]
    events = await _rows(db, TimelineEvent, TimelineEvent.chain, dismissed,
                         col(TimelineEvent.kind) == "status_changed")
    loaded.dismissals = _dismissals(events)
    return loaded


def _dismissals(events: Iterable[TimelineEvent]) -> dict[str, rules.Dismissal]:
    """Each chain's latest move to `dismissed`: when, by whom, why (the reason a dismissal
    needs is on its timeline event)."""
    found: dict[str, tuple[int, rules.Dismissal]] = {}
    for event in events:
        payload = journal.payload_of(event)
        if payload.get("to") != Status.DISMISSED.value:
            continue
        if event.chain not in found or event.seq > found[event.chain][0]:
            reason = payload.get("reason")
            found[event.chain] = (event.seq, rules.Dismissal(
                at=event.at, by=event.actor, reason=str(reason) if reason else None))
    return {chain: dismissal for chain, (_, dismissal) in found.items()}


def _duty(row: IncidentObligation) -> rules.Duty:
    trigger = (row.computed or {}).get("trigger") or {}
    trigger_at = trigger.get("at")
    return rules.Duty(
        ref=row.ref, recipient=row.recipient, recipient_name=row.recipient_name,
        phase=row.phase, applies=row.applies, due_at=row.due_at,
        trigger_at=datetime.fromisoformat(trigger_at) if isinstance(trigger_at, str) else None,
        status=ObligationStatus(row.status), met_at=row.met_at, how=row.how,
        late_reason=row.late_reason, waiver=row.waiver, status_by=row.status_by,
        status_at=row.status_at, why=tuple(str(w) for w in (row.computed or {}).get("why") or ()))


def _entry(incident: Incident, loaded: _Loaded, now: datetime) -> rules.RegisterEntry:
    snapshot = loaded.snapshots.get(incident.id)
    assessment = loaded.assessments.get(incident.id)
    steps = loaded.steps.get(incident.id, [])
    titles = {s.id: f"{s.runbook_id}/{s.step_id}" for s in steps}
    head = loaded.heads.get(str(incident.id))
    facts = rules.Facts(
        reference=incident.reference, title=incident.title, description=incident.description,
        kind=incident.kind, status=incident.status, breach_types=tuple(incident.breach_types),
        data_categories=tuple(incident.data_categories), systems=tuple(incident.systems),
        occurred_from=incident.occurred_from, occurred_to=incident.occurred_to,
        detected_at=incident.detected_at, aware_at=incident.aware_at,
        contained_at=incident.contained_at, closed_at=incident.closed_at,
        estimated_subjects=incident.estimated_subjects,
        estimated_records=incident.estimated_records)
    milestones = {MILESTONE_NAMES[name]: at for name in ("breach_determined_at",
                                                          "classified_major_at",
                                                          "materiality_determined_at")
                  if (at := _milestone(incident, name)) is not None}
    return rules.register_entry(
        facts,
        people=rules.people_affected(snapshot=snapshot.number if snapshot else None,
                                     counted=snapshot.total if snapshot else None,
                                     estimate=incident.estimated_subjects),
        dismissal=loaded.dismissals.get(str(incident.id)),
        effects=_effects(assessment) if assessment else None,
        steps=[rules.Step(phase=s.phase, state=s.state, reported_as=s.reported_as,
                          changed_at=s.changed_at) for s in steps],
        duties=loaded.duties.get(incident.id, []),
        evidence=[rules.EvidenceFile(id=e.id or 0, filename=e.filename, sha256=e.sha256,
                                     size=e.size, uploaded_at=e.uploaded_at,
                                     uploaded_by=e.uploaded_by,
                                     step=titles.get(e.step_row_id) if e.step_row_id else None,
                                     description=e.description)
                  for e in loaded.evidence.get(incident.id, [])],
        timeline=rules.TimelineHead(events=head.seq if head else 0,
                                    head_hash=head.hash if head else None),
        milestones=milestones, now=now)


def _effects(assessment: IncidentAssessment) -> rules.Effects:
    result = assessment.result or {}
    score = result.get("score")
    return rules.Effects(
        severity=result.get("severity"), score=float(score) if score is not None else None,
        recommendation=assessment.decided,
        overridden_by=assessment.overridden_by if assessment.override else None,
        justification=assessment.override_justification if assessment.override else None,
        reasons=tuple(str(r) for r in result.get("reasons") or ()))


# --- the deadline dashboard: every open duty of every open incident ------------------------------


@dataclass(frozen=True, slots=True)
class OpenDuty:
    """One duty still owed by an open incident, with how soon it falls due."""

    reference: str
    title: str
    status: str
    ref: str
    recipient_name: str
    phase: str | None
    due_at: datetime | None
    urgency: rules.Urgency
    left: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    time_zone: str
    """The organisation's (its profile's; the service's before there is one)."""
    duties: tuple[OpenDuty, ...]
    counts: dict[rules.Urgency, int]


def _open_statuses(actor: Actor) -> list[str]:
    """The statuses of incidents whose duties are still open, among those the actor may see."""
    visible = lifecycle.visible_statuses(actor.role)
    return [s.value for s in Status if s in visible and not lifecycle.is_finished(s)]


def _utc(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


async def dashboard(db: AsyncSession, *, clock: Clock, actor: Actor, zone: ZoneInfo) -> Dashboard:
    """Every pending duty that applies, of every open incident the actor may see, soonest due
    first (those with no fixed due time last), as last computed (the scheduler recomputes
    open incidents' duties every tick; reading an incident's recomputes them at once)."""
    auth.require(actor, Permission.READ_INCIDENTS)
    now = clock.now()
    found = (await db.exec(
        select(IncidentObligation, Incident)
        .join(Incident, col(Incident.id) == col(IncidentObligation.incident_id))
        .where(col(Incident.status).in_(_open_statuses(actor)), col(IncidentObligation.applies),
               IncidentObligation.status == ObligationStatus.PENDING.value))).all()
    duties = []
    for row, incident in found:
        due = _utc(row.due_at)
        duties.append(OpenDuty(
            reference=incident.reference, title=incident.title, status=incident.status,
            ref=row.ref, recipient_name=row.recipient_name, phase=row.phase, due_at=due,
            urgency=rules.urgency(due, now), left=rules.time_left(due, now)))
    far = datetime.max.replace(tzinfo=UTC)
    duties.sort(key=lambda d: (d.due_at or far, d.reference, d.ref))
    counts = {level: sum(1 for d in duties if d.urgency is level) for level in rules.Urgency}
    profile = await get_profile(db)
    return Dashboard(generated_at=now, time_zone=profile.timezone if profile else str(zone),
                     duties=tuple(duties), counts=counts)


async def next_due(db: AsyncSession, *, now: datetime) -> dict[uuid.UUID, dict[str, Any]]:
    """The `incident.next_due` hook: each open incident's soonest pending duty with a due time
    (its due time, urgency, the urgency's words and the time left), by incident id."""
    unfinished = [s.value for s in Status if not lifecycle.is_finished(s)]
    soonest = (await db.exec(
        select(IncidentObligation.incident_id, func.min(IncidentObligation.due_at))
        .join(Incident, col(Incident.id) == col(IncidentObligation.incident_id))
        .where(col(Incident.status).in_(unfinished), col(IncidentObligation.applies),
               IncidentObligation.status == ObligationStatus.PENDING.value,
               col(IncidentObligation.due_at).is_not(None))
        .group_by(col(IncidentObligation.incident_id)))).all()
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for incident_id, at in soonest:
        due = _utc(at)
        level = rules.urgency(due, now)
        found[incident_id] = {"due_at": due, "urgency": level.value,
                              "label": rules.URGENCY_LABELS[level],
                              "left": rules.time_left(due, now)}
    return found
