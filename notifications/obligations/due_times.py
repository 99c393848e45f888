"""When an obligation that applies falls due: its trigger, deadline rule and caps.

`due_times(regime, obligation, facts)` finds the event that starts the obligation's
clock (or what it still waits for), picks the deadline rule (a variant's when its
condition holds), applies it with `deadlines.compute_deadline`, then the obligation's
outer limit (a second clock; the earlier due time wins, as DORA's 24-hour cap) and its
weekend relief (a due time on a non-working day moves to the next working day). Every
step that moved the result adds a note to the `Basis`, so anyone can re-check it.

Separate from applicability (`applicability.py`) and from the generic arithmetic of
deadline rules (`deadlines.py`): this is the per-obligation timing the regime files
describe, and it changes when they gain a new kind of clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from notifications.obligations.applicability import check
from notifications.obligations.deadlines import (
    Basis,
    DeadlineRule,
    compute_deadline,
    describe,
    due_at,
    next_working_day_at,
    rule_as_data,
    zone,
)
from notifications.obligations.delays import apply_delay
from notifications.obligations.facts import Facts, Incident
from notifications.obligations.regimes import MetTrigger, Obligation, Regime, Trigger, trigger_label


@dataclass(frozen=True)
class TriggerState:
    """The event that starts the clock: when it happened, or what is still awaited."""

    name: str
    at: datetime | None
    waiting_for: str | None = None


@dataclass(frozen=True)
class DueTimes:
    """When one applicable obligation is due (None: no legal time, or still waiting), and why."""

    trigger: TriggerState
    rule: DeadlineRule
    due_at: datetime | None
    target_at: datetime | None
    basis: Basis
    assumed: bool = False
    """The clock counts from a stand-in event until its own trigger is recorded (`assume_from`)."""


def due_times(regime: Regime, obligation: Obligation, facts: Facts) -> DueTimes:
    """The due and target times of `obligation` for these facts, with their basis.

    An obligation whose trigger has not happened yet gets neither time, and a basis
    naming the event it waits for.
    """
    ref = f"{regime.id}/{obligation.id}"
    tz = zone(regime.timezone or facts.organisation.timezone)
    rule, notes = _rule_for(obligation, facts)
    trigger, trigger_notes = trigger_state(obligation.trigger, facts.incident)
    start, counted, assumed = trigger.at, trigger.name, assumed_start(obligation, trigger, facts.incident)
    if assumed is not None:
        counted, start, note = assumed
        trigger_notes = [note, *trigger_notes]
    if start is None:
        waiting = Basis(
            rule=describe(rule, trigger.name),
            trigger=trigger.name,
            trigger_at=None,
            timezone=tz.key,
            citation=obligation.citation,
            source=obligation.source,
            notes=tuple(notes + list(obligation.notes)),
        )
        return DueTimes(trigger, rule, None, None, waiting)
    deadline = compute_deadline(
        rule,
        trigger=counted,
        trigger_at=start,
        tz=tz,
        citation=obligation.citation,
        source=obligation.source,
        target_hours=facts.organisation.targets.get(ref),
        notes=tuple(trigger_notes + notes + list(obligation.notes)),
    )
    due, target, extra = deadline.due_at, deadline.target_at, list[str]()
    if due is not None and obligation.outer_limit is not None:
        due, extra = _outer_limit(obligation, facts, start, due, tz)
    if due is not None and obligation.weekend_relief is not None:
        due, relief_notes = _relief(obligation, facts, due, tz)
        extra += relief_notes
    delayed = apply_delay(obligation, facts.incident, due=due, target=target, tz=tz)
    due, target, extra = delayed.due_at, delayed.target_at, extra + list(delayed.notes)
    trigger = replace(trigger, waiting_for=delayed.waiting_for) if delayed.waiting_for else trigger
    if due is not None:
        target = min(target, due)
    basis = replace(deadline.basis, notes=deadline.basis.notes + tuple(extra))
    return DueTimes(trigger, rule, due, None if delayed.waiting_for else target, basis,
                    assumed=assumed is not None)


_RECORDED = {
    "classified_major_at": "classified", "breach_determined_at": "determined to be a breach",
    "materiality_determined_at": "determined to be material", "assessment_completed_at": "assessed",
    "discovered_at": "discovered", "aware_at": "known",
}
_EVENT = {
    "aware_at": "awareness", "discovered_at": "discovery", "classified_major_at": "classification",
    "breach_determined_at": "the breach determination",
    "materiality_determined_at": "the materiality determination",
    "assessment_completed_at": "the assessment",
}


def assumed_start(obligation: Obligation, trigger: TriggerState, incident: Incident
                  ) -> tuple[str, datetime, str] | None:
    """While the trigger is awaited and the regime file says to assume a start
    (`assume_from`): the stand-in event, its instant (UTC) and the basis note; else None."""
    assume = obligation.assume_from
    if assume is None or trigger.at is not None or not isinstance(obligation.trigger, str):
        return None
    at = getattr(incident, assume.trigger)
    if at is None:
        return None
    done = _RECORDED.get(obligation.trigger, f"recorded ({obligation.trigger})")
    note = (f"assumed: not yet {done} ({assume.decision}); counted from "
            f"{_EVENT.get(assume.trigger, assume.trigger)} as if it had been {done} then "
            f"({assume.citation})")
    return assume.trigger, at.astimezone(UTC), note


def trigger_state(trigger: Trigger, incident: Incident) -> tuple[TriggerState, list[str]]:
    """When the trigger happened (UTC), or what it waits for; plus notes on fallbacks."""
    label = trigger_label(trigger)
    if isinstance(trigger, MetTrigger):
        at = incident.met.get(trigger.met)
        waiting = None if at else f"{trigger.met} to be fulfilled (incident.met)"
        return TriggerState(label, at.astimezone(UTC) if at else None, waiting), []
    at = getattr(incident, trigger)
    notes: list[str] = []
    if at is None and trigger == "discovered_at":
        # Discovery cannot be later than awareness: aware_at is the safe stand-in.
        at = incident.aware_at
        notes.append("discovered_at not given: aware_at used as the time of discovery")
    waiting = None if at else f"incident.{trigger}"
    return TriggerState(label, at.astimezone(UTC) if at else None, waiting), notes


def _rule_for(obligation: Obligation, facts: Facts) -> tuple[DeadlineRule, list[str]]:
    for variant in obligation.variants:
        ok, reasons = check(variant.when, facts)
        if ok:
            return variant.deadline, [f"{variant.note} ({'; '.join(reasons)})"]
    return obligation.deadline, []


def _outer_limit(
    obligation: Obligation, facts: Facts, start: datetime, due: datetime, tz: ZoneInfo
) -> tuple[datetime, list[str]]:
    """Apply a second clock: the earlier due time wins, unless it passed before the trigger."""
    assert obligation.outer_limit is not None
    limit = obligation.outer_limit
    other, _ = trigger_state(limit.trigger, facts.incident)
    if other.at is None:
        return due, []
    cap = due_at(limit.deadline, other.at, tz)
    if cap is None or cap >= due:
        return due, []
    label = trigger_label(limit.trigger)
    if cap < start:
        return due, [
            f"the outer limit after {label} had passed before {trigger_label(obligation.trigger)}"
            " happened: only the main clock applies"
        ]
    return cap, [f"capped by the outer limit: {rule_as_data(limit.deadline)} after {label}"]


def _relief(obligation: Obligation, facts: Facts, due: datetime, tz: ZoneInfo) -> tuple[datetime, list[str]]:
    """Move a due time on a non-working day to the next working day, where the law allows."""
    relief = obligation.weekend_relief
    assert relief is not None
    if relief.not_for is not None and check(relief.not_for, facts)[0]:
        return due, ["no weekend/holiday relief for this kind of entity"]
    calendar = facts.organisation.country if relief.calendar == "establishment" else relief.calendar
    hours, minutes = (int(part) for part in relief.until.split(":"))
    moved = next_working_day_at(due, tz, calendar, time(hours, minutes))
    if moved is None:
        return due, []
    return moved, [
        f"due on a non-working day in {calendar}: may be submitted by {relief.until} "
        "local time of the next working day"
    ]
