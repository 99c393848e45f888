"""Runbook steps on an incident: their states, what may follow what, progress. Pure rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from incident.containment.runbooks import Phase

EVIDENCE_DESCRIPTION_LIMIT = 2_000
"""Characters in what an evidence file shows; longer is refused, never cut short."""
STEP_REASON_LIMIT = 5_000
"""Characters in why a step was skipped or changed."""


class StepState(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"


OPEN_STATES = frozenset({StepState.TODO, StepState.IN_PROGRESS})

REMEDIAL_PHASES = (Phase.CONTAIN, Phase.ERADICATE, Phase.RECOVER)
"""The phases whose steps, once done, are remedial action: what reports to an authority and
the breach register state as the measures taken."""

STEP_TRANSITIONS: Mapping[StepState, frozenset[StepState]] = {
    StepState.TODO: frozenset({StepState.IN_PROGRESS, StepState.DONE, StepState.SKIPPED}),
    StepState.IN_PROGRESS: frozenset({StepState.TODO, StepState.DONE, StepState.SKIPPED}),
    # Reopening a finished step is allowed: the timeline keeps that it was finished before.
    StepState.DONE: frozenset({StepState.IN_PROGRESS}),
    StepState.SKIPPED: frozenset({StepState.TODO}),
}


class StepChangeRefused(Exception):
    """A step change breaks a rule; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, *, status: int = 409, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.field = status, field


def check_step_change(current: StepState, target: StepState, *, reason: str | None,
                      evidence_required: bool, evidence_count: int) -> None:
    """Raise unless the step may move from `current` to `target`.

    Skipping needs a written reason, and a step that requires evidence can only
    be done once evidence is attached to it: those are what an auditor checks.
    """
    if target not in STEP_TRANSITIONS[current]:
        allowed = ", ".join(sorted(STEP_TRANSITIONS[current]))
        raise StepChangeRefused(f"a step cannot move from {current} to {target}; allowed: {allowed}")
    if target is StepState.SKIPPED and not (reason and reason.strip()):
        raise StepChangeRefused("skipping a step needs a reason", status=422, field="reason")
    if target is StepState.DONE and evidence_required and evidence_count == 0:
        raise StepChangeRefused("this step requires evidence: attach a file to it first")


FINISHING_STATES = frozenset({StepState.DONE, StepState.SKIPPED})
"""The moves that finish a step: only the step's role (or an admin) makes them."""


def may_finish(step_role: str, actor_role: str) -> bool:
    """A step marked for a role is finished (done or skipped) by that role; an admin, who holds
    every role's permissions, may finish any step."""
    return actor_role in (step_role, "admin")


def check_step_role(step_role: str, actor_role: str, target: StepState) -> None:
    """Raise unless the actor's role may make this move on a step marked for `step_role`."""
    if target in FINISHING_STATES and not may_finish(step_role, actor_role):
        verb = "mark it done" if target is StepState.DONE else "skip it"
        article = "an" if step_role[:1] in "aeiou" else "a"
        also = "" if step_role == "admin" else " (or an admin)"
        raise StepChangeRefused(f"this step is for the {step_role}: only {article} {step_role}"
                                f"{also} may {verb}", status=403, field="state")


@dataclass(frozen=True, slots=True)
class StepView:
    """What progress and overdue rules need of a step."""

    phase: Phase
    state: StepState
    due_at: datetime


def is_overdue(step: StepView, now: datetime) -> bool:
    return step.state in OPEN_STATES and step.due_at < now


def progress_by_phase(steps: Iterable[StepView]) -> dict[str, dict[str, int]]:
    """For each phase, in runbook order: how many steps are in each state, and in total."""
    table: dict[str, dict[str, int]] = {}
    for phase in Phase:
        table[phase.value] = {state.value: 0 for state in StepState} | {"total": 0}
    for step in steps:
        row = table[step.phase.value]
        row[step.state.value] += 1
        row["total"] += 1
    return {phase: row for phase, row in table.items() if row["total"]}


def containment_complete(steps: Iterable[StepView]) -> bool:
    """True when the incident has contain-phase steps and each is done or skipped."""
    contain = [s for s in steps if s.phase is Phase.CONTAIN]
    return bool(contain) and all(s.state not in OPEN_STATES for s in contain)
