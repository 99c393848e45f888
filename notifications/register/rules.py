"""The breach register and the deadline-compliance report, as pure rules on plain values.

The register documents every incident as GDPR Art. 33(5) asks ("the facts relating to the
personal data breach, its effects and the remedial action taken"), with each duty to notify
and what was decided about it. The compliance report measures each duty against its due
time. Whether a duty was late is never decided here: `notifications.obligations.rules.is_late`
is the one definition, and both reports ask it.

Counts only: nothing here names an affected person, so auditors may read all of it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from incident.containment.rules import REMEDIAL_PHASES, StepState
from incident.kernel.errors import Invalid
from notifications.obligations.rules import FULFILLED, ObligationStatus, is_late, is_overdue

AUTHORITY_RECIPIENTS = frozenset({"authority", "regulator"})
"""Recipients whose notice counts as "the authority notice" (a supervisory authority, a CSIRT,
a financial or sector regulator)."""



class Decision(StrEnum):
    """What became of a duty to notify, as the register states it."""

    NOTIFIED = "notified"  # met, on time or late
    WAIVED = "waived"  # an approver decided it does not arise, with a justification
    NOT_APPLICABLE = "not_applicable"  # the law's conditions are not met (the engine says why)
    NOT_OWED = "not_owed"  # still pending when the incident was dismissed: nothing is owed
    OPEN = "open"  # still to do


class Outcome(StrEnum):
    """A duty measured against its due time, as the compliance report states it."""

    ON_TIME = "on_time"
    LATE = "late"
    WAIVED = "waived"
    OPEN = "open"  # overdue or not: see `overdue`


class PeopleBasis(StrEnum):
    """Where the number of people affected comes from."""

    SNAPSHOT = "snapshot"  # counted: the latest affected-people snapshot
    ESTIMATE = "estimate"  # the incident's estimate, before any snapshot
    UNKNOWN = "unknown"  # neither yet


class Per(StrEnum):
    """The periods the compliance report groups incidents by (when they became known)."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# --- the values the reports are made from ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duty:
    """One duty to notify as stored: what the engine computed and what people recorded."""

    ref: str
    recipient: str
    recipient_name: str
    phase: str | None
    applies: bool
    due_at: datetime | None
    trigger_at: datetime | None
    status: ObligationStatus
    met_at: datetime | None = None
    how: str | None = None
    late_reason: str | None = None
    waiver: str | None = None
    status_by: str | None = None
    status_at: datetime | None = None
    why: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts of one incident the register documents (when, what, which data)."""

    reference: str
    title: str
    description: str
    kind: str
    status: str
    breach_types: tuple[str, ...]
    data_categories: tuple[str, ...]
    systems: tuple[str, ...]
    occurred_from: datetime | None
    occurred_to: datetime | None
    detected_at: datetime
    aware_at: datetime
    contained_at: datetime | None
    closed_at: datetime | None
    estimated_subjects: int | None
    estimated_records: int | None


@dataclass(frozen=True, slots=True)
class People:
    """How many people the breach concerns, and where the number comes from."""

    count: int | None
    basis: PeopleBasis
    snapshot: int | None = None
    """The snapshot's number, when counted."""


@dataclass(frozen=True, slots=True)
class Effects:
    """The breach's effects as assessed: the severity, what it calls for, and why."""

    severity: str | None = None
    score: float | None = None
    recommendation: str | None = None
    """The recommendation in force: an approver's override when there is one."""
    overridden_by: str | None = None
    justification: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One runbook step on the incident: its phase, state, and how reports word it."""

    phase: str
    state: str
    reported_as: str | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Remedial:
    """The remedial action taken: the steps done, as reports word them, and the tally."""

    measures: tuple[str, ...]
    steps_done: int
    steps_skipped: int
    steps_total: int


@dataclass(frozen=True, slots=True)
class Dismissal:
    """Why an incident was found not to be a personal-data breach, by whom and when."""

    at: datetime
    by: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A file kept as evidence, named by its SHA-256 (its content is never in a report)."""

    id: int
    filename: str
    sha256: str
    size: int
    uploaded_at: datetime
    uploaded_by: str
    step: str | None
    description: str


@dataclass(frozen=True, slots=True)
class TimelineHead:
    """The incident's timeline as it stood: events so far and the hash of the last one."""

    events: int
    head_hash: str | None


# --- the register ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DutyDecision:
    """One duty to notify and what was decided about it."""

    ref: str
    recipient: str
    recipient_name: str
    phase: str | None
    decision: Decision
    due_at: datetime | None
    met_at: datetime | None
    how: str | None
    late_by_seconds: int | None
    """Met after its due time by this long; None when on time or not met."""
    overdue: bool
    """Still open past its due time, at the report's instant."""
    reason: str | None
    """The reasons for a delay, a waiver's justification, or why nothing is owed."""
    decided_by: str | None
    decided_at: datetime | None
    why_not: tuple[str, ...]
    """Why the duty does not apply (the engine's reasons)."""


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One incident on the register: facts, effects, remedial action, duties, evidence."""

    facts: Facts
    people: People
    dismissal: Dismissal | None
    effects: Effects | None
    remedial: Remedial
    duties: tuple[DutyDecision, ...]
    evidence: tuple[EvidenceFile, ...]
    timeline: TimelineHead
    milestones: tuple[tuple[str, datetime], ...] = ()


def seconds_between(earlier: datetime, later: datetime) -> int:
    """Whole seconds from `earlier` to `later` (negative when `later` is earlier)."""
    return int((later - earlier).total_seconds())


def late_by(due_at: datetime | None, met_at: datetime | None) -> int | None:
    """How many seconds after its due time a duty was met; None when it was not late."""
    if due_at is None or met_at is None or not is_late(due_at, met_at=met_at, now=met_at):
        return None
    return seconds_between(due_at, met_at)


def people_affected(*, snapshot: int | None, counted: int | None,
                    estimate: int | None) -> People:
    """The latest snapshot's count when there is one, else the incident's estimate, saying which
    (as a report to the authority does)."""
    if snapshot is not None and counted is not None:
        return People(counted, PeopleBasis.SNAPSHOT, snapshot)
    if estimate is not None:
        return People(estimate, PeopleBasis.ESTIMATE)
    return People(None, PeopleBasis.UNKNOWN)


def remedial_action(steps: Iterable[Step]) -> Remedial:
    """The remedial action taken, as reported: the contain, eradicate and recover steps done,
    in the order they were done, in the words their runbook gives reports (`reported_as`);
    internal work without such words is counted, not quoted."""
    steps = list(steps)
    done = [s for s in steps if s.state == StepState.DONE]
    far = datetime.max.replace(tzinfo=UTC)
    reported = sorted((s for s in done if s.phase in REMEDIAL_PHASES and s.reported_as),
                      key=lambda s: s.changed_at or far)
    return Remedial(measures=tuple(s.reported_as or "" for s in reported), steps_done=len(done),
                    steps_skipped=sum(s.state == StepState.SKIPPED for s in steps),
                    steps_total=len(steps))


NOT_OWED_REASON = "the incident was dismissed as not a personal-data breach"


def decide(duty: Duty, *, dismissed: bool, now: datetime) -> DutyDecision:
    """What the register says about one duty, at `now`."""
    reason: str | None = None
    by, at = duty.status_by, duty.status_at
    if not duty.applies:
        decision = Decision.NOT_APPLICABLE
    elif duty.status in FULFILLED:
        decision = Decision.NOTIFIED
        reason = duty.late_reason
    elif duty.status is ObligationStatus.WAIVED:
        decision, reason = Decision.WAIVED, duty.waiver
    elif dismissed:
        decision, reason, by, at = Decision.NOT_OWED, NOT_OWED_REASON, None, None
    else:
        decision, by, at = Decision.OPEN, None, None
    notified = decision is Decision.NOTIFIED
    return DutyDecision(
        ref=duty.ref, recipient=duty.recipient, recipient_name=duty.recipient_name,
        phase=duty.phase, decision=decision, due_at=duty.due_at,
        met_at=duty.met_at if notified else None, how=duty.how if notified else None,
        late_by_seconds=late_by(duty.due_at, duty.met_at) if notified else None,
        overdue=decision is Decision.OPEN and is_overdue(duty.status, applies=True,
                                                         due_at=duty.due_at, now=now),
        reason=reason, decided_by=by, decided_at=at,
        why_not=duty.why if decision is Decision.NOT_APPLICABLE else ())


def register_entry(facts: Facts, *, people: People, dismissal: Dismissal | None,
                   effects: Effects | None, steps: Iterable[Step], duties: Iterable[Duty],
                   evidence: Iterable[EvidenceFile], timeline: TimelineHead,
                   milestones: Mapping[str, datetime] | None = None,
                   now: datetime) -> RegisterEntry:
    """One incident's line on the register, from plain values.

    A duty still pending on a dismissed incident is not owed (there was no personal-data
    breach to notify); a duty met or waived before the dismissal stays as recorded.
    """
    dismissed = facts.status == "dismissed"
    decided = sorted((decide(d, dismissed=dismissed, now=now) for d in duties), key=_duty_order)
    return RegisterEntry(facts=facts, people=people, dismissal=dismissal if dismissed else None,
                         effects=effects, remedial=remedial_action(steps), duties=tuple(decided),
                         evidence=tuple(sorted(evidence, key=lambda e: (e.uploaded_at, e.id))),
                         timeline=timeline,
                         milestones=tuple(sorted((milestones or {}).items(), key=lambda m: m[1])))


def _duty_order(duty: DutyDecision) -> tuple[bool, datetime, str]:
    """Duties that apply first, then by due time (none last), then by name."""
    far = datetime.max.replace(tzinfo=UTC)
    return duty.decision is Decision.NOT_APPLICABLE, duty.due_at or far, duty.ref


# --- the compliance report ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DutyOutcome:
    """One duty measured against its due time."""

    ref: str
    recipient: str
    recipient_name: str
    phase: str | None
    trigger_at: datetime | None
    due_at: datetime | None
    met_at: datetime | None
    outcome: Outcome
    late_by_seconds: int | None
    overdue: bool
    overdue_by_seconds: int | None
    seconds_left: int | None
    """Until a pending duty is due (open and not overdue)."""
    reason: str | None
    """The recorded reasons for the delay (late), or the waiver's justification."""
    decided_by: str | None
    decided_at: datetime | None
    how: str | None


def outcome_of(duty: Duty, *, dismissed: bool, now: datetime) -> DutyOutcome | None:
    """A duty against its due time at `now`; None when nothing was owed (it does not apply,
    or it was still pending when its incident was dismissed)."""
    if not duty.applies:
        return None
    late_seconds = overdue_seconds = left = None
    reason, by, at, met_at, how = None, duty.status_by, duty.status_at, None, None
    overdue = False
    if duty.status in FULFILLED:
        met_at, how, reason = duty.met_at, duty.how, duty.late_reason
        late_seconds = late_by(duty.due_at, met_at)
        outcome = Outcome.ON_TIME if late_seconds is None else Outcome.LATE
    elif duty.status is ObligationStatus.WAIVED:
        outcome, reason = Outcome.WAIVED, duty.waiver
    elif dismissed:
        return None
    else:
        outcome, by, at = Outcome.OPEN, None, None
        overdue = is_overdue(duty.status, applies=True, due_at=duty.due_at, now=now)
        if duty.due_at is not None:
            if overdue:
                overdue_seconds = seconds_between(duty.due_at, now)
            else:
                left = seconds_between(now, duty.due_at)
    return DutyOutcome(ref=duty.ref, recipient=duty.recipient, recipient_name=duty.recipient_name,
                       phase=duty.phase, trigger_at=duty.trigger_at, due_at=duty.due_at,
                       met_at=met_at, outcome=outcome, late_by_seconds=late_seconds,
                       overdue=overdue, overdue_by_seconds=overdue_seconds, seconds_left=left,
                       reason=reason, decided_by=by, decided_at=at, how=how)


def first_authority_notice(aware_at: datetime, outcomes: Iterable[DutyOutcome]) -> int | None:
    """Seconds from awareness to the first notice to an authority or regulator (GDPR
    Art. 33(1) counts its 72 hours from awareness); None before any was made."""
    notices = [o.met_at for o in outcomes
               if o.recipient in AUTHORITY_RECIPIENTS and o.met_at is not None
               and o.outcome in (Outcome.ON_TIME, Outcome.LATE)]
    return seconds_between(aware_at, min(notices)) if notices else None


@dataclass(frozen=True, slots=True)
class Summary:
    """How the duties of a set of incidents fared.

    `share_on_time` is the duties met on time over those the clock has decided: met on time,
    met late, or still open past their due time. Waived duties and open ones not yet due are
    left out; None when the clock has decided none.
    """

    incidents: int
    duties: int
    on_time: int
    late: int
    waived: int
    open: int
    overdue: int
    share_on_time: float | None
    notices: int
    """Incidents with a notice to an authority, which the two times below measure."""
    median_notice_seconds: int | None
    worst_notice_seconds: int | None
    worst_notice_incident: str | None


def share_on_time(on_time: int, late: int, overdue: int) -> float | None:
    decided = on_time + late + overdue
    return on_time / decided if decided else None


def median_seconds(values: Sequence[int]) -> int | None:
    """The median, rounded to the whole second; None for no values."""
    return round(statistics.median(values)) if values else None


def summarise(incidents: int, outcomes: Iterable[DutyOutcome],
              notice_delays: Iterable[tuple[str, int]]) -> Summary:
    """The tally of `outcomes`, with the median and worst time from awareness to the authority
    notice over `notice_delays` (incident reference, seconds)."""
    outcomes = list(outcomes)
    delays = list(notice_delays)

    def count(outcome: Outcome) -> int:
        return sum(o.outcome is outcome for o in outcomes)

    on_time, late = count(Outcome.ON_TIME), count(Outcome.LATE)
    overdue = sum(o.overdue for o in outcomes)
    worst = max(delays, key=lambda d: (d[1], d[0]), default=None)
    return Summary(incidents=incidents, duties=len(outcomes), on_time=on_time, late=late,
                   waived=count(Outcome.WAIVED), open=count(Outcome.OPEN), overdue=overdue,
                   share_on_time=share_on_time(on_time, late, overdue), notices=len(delays),
                   median_notice_seconds=median_seconds([d[1] for d in delays]),
                   worst_notice_seconds=worst[1] if worst else None,
                   worst_notice_incident=worst[0] if worst else None)


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month, quarter or year in the report's time zone, as UTC instants."""

    label: str
    start: datetime
    end: datetime
    """Exclusive."""


def period_of(at: datetime, *, per: Per, zone: ZoneInfo) -> Period:
    """The period `at` falls in, on the calendar of `zone`: `2026-03`, `2026-Q1`, `2026`."""
    local = at.astimezone(zone)
    year = local.year
    if per is Per.MONTH:
        first, months, label = local.month, 1, f"{year:04d}-{local.month:02d}"
    elif per is Per.QUARTER:
        quarter = (local.month - 1) // 3 + 1
        first, months, label = 3 * quarter - 2, 3, f"{year:04d}-Q{quarter}"
    else:
        first, months, label = 1, 12, f"{year:04d}"
    start = datetime(year, first, 1, tzinfo=zone)
    after = first + months
    end = datetime(year + (after - 1) // 12, (after - 1) % 12 + 1, 1, tzinfo=zone)
    return Period(label, start.astimezone(UTC), end.astimezone(UTC))


def check_period(start: datetime | None, end: datetime | None) -> None:
    """A report's period runs from `start` (included) to `end` (excluded): `from` before `to`."""
    if start is not None and end is not None and start >= end:
        raise Invalid.fields([("from", "must be before to")])


def span_words(seconds: int | None) -> str:
    """A duration as people read it: `2 d 4 h 5 min`, `3 h`, `45 s`; empty for None.

    Whole minutes (rounded down) from one minute on; seconds only below it."""
    if seconds is None:
        return ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def percent(share: float | None) -> str:
    """A share as a whole percentage (`67 %`), or `—` when there is none."""
    return "—" if share is None else f"{round(share * 100)} %"


# --- the deadline dashboard: open duties by urgency ----------------------------------------------

SOON_HOURS = 6
"""A duty due within this many hours is urgent (shown red-orange on the dashboard)."""
TODAY_HOURS = 24
"""A duty due within this many hours is due today (shown amber)."""


class Urgency(StrEnum):
    """How soon an open duty falls due, as the dashboard and the incident list colour it."""

    OVERDUE = "overdue"  # past its due time and still pending
    SOON = "soon"  # due in less than SOON_HOURS
    TODAY = "today"  # due in less than TODAY_HOURS
    LATER = "later"  # due later than that
    UNTIMED = "untimed"  # no fixed due time ("without undue delay")


URGENCY_LABELS: Mapping[Urgency, str] = {
    Urgency.OVERDUE: "Overdue", Urgency.SOON: f"Due in under {SOON_HOURS} h",
    Urgency.TODAY: f"Due in under {TODAY_HOURS} h", Urgency.LATER: "Due later",
    Urgency.UNTIMED: "No fixed due time"}
"""The words shown with each urgency's colour (colour alone says nothing to some readers)."""


def urgency(due_at: datetime | None, now: datetime) -> Urgency:
    """How soon a pending duty that applies falls due. Overdue exactly as the obligations
    say (`is_overdue`: after its due time, never at it)."""
    if due_at is None:
        return Urgency.UNTIMED
    if is_overdue(ObligationStatus.PENDING, applies=True, due_at=due_at, now=now):
        return Urgency.OVERDUE
    left = (due_at - now).total_seconds()
    if left < SOON_HOURS * 3600:
        return Urgency.SOON
    if left < TODAY_HOURS * 3600:
        return Urgency.TODAY
    return Urgency.LATER


def time_left(due_at: datetime | None, now: datetime) -> str:
    """How long until (or since) `due_at`, to the minute: `3 h 05 min left`, `overdue by 2 d 4 h`."""
    if due_at is None:
        return ""
    seconds = int((due_at - now).total_seconds())
    minutes = abs(seconds) // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        span = f"{days} d {hours} h"
    elif hours:
        span = f"{hours} h {mins:02d} min"
    else:
        span = f"{mins} min"
    return f"overdue by {span}" if seconds < 0 else f"{span} left"
