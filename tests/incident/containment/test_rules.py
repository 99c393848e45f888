"""The containment checklist's rules, as pure functions: step states, moves, progress, completeness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident.containment.rules import (
    OPEN_STATES,
    STEP_TRANSITIONS,
    StepChangeRefused,
    StepState,
    StepView,
    check_step_change,
    containment_complete,
    is_overdue,
    progress_by_phase,
)
from incident.containment.runbooks import Phase

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
S = StepState


def step(phase: Phase = Phase.CONTAIN, state: StepState = S.TODO,
         due_at: datetime = NOW + timedelta(hours=1)) -> StepView:
    return StepView(phase=phase, state=state, due_at=due_at)


def move(current: StepState, target: StepState, *, reason: str | None = None,
         evidence_required: bool = False, evidence_count: int = 0) -> None:
    check_step_change(current, target, reason=reason, evidence_required=evidence_required,
                      evidence_count=evidence_count)


# --- states and moves ----------------------------------------------------------------------------

def test_every_state_has_a_rule_and_no_state_moves_to_itself() -> None:
    assert set(STEP_TRANSITIONS) == set(StepState)
    for state, targets in STEP_TRANSITIONS.items():
        assert state not in targets, state


def test_open_steps_can_be_finished_either_way() -> None:
    assert {S.TODO, S.IN_PROGRESS} == OPEN_STATES
    for state in OPEN_STATES:
        move(state, S.DONE)
        move(state, S.SKIPPED, reason="the device was never connected to our network")


def test_work_can_start_and_be_put_back() -> None:
    move(S.TODO, S.IN_PROGRESS)
    move(S.IN_PROGRESS, S.TODO)


def test_a_finished_step_can_only_be_reopened() -> None:
    """Reopening is allowed (the timeline keeps that it was finished), switching outcomes is not."""
    move(S.DONE, S.IN_PROGRESS)
    move(S.SKIPPED, S.TODO)
    assert STEP_TRANSITIONS[S.DONE] == {S.IN_PROGRESS}
    assert STEP_TRANSITIONS[S.SKIPPED] == {S.TODO}


def test_every_state_can_reach_done() -> None:
    """No state is a dead end: whatever happened, the step can still be worked to done."""
    for start in StepState:
        seen, frontier = {start}, [start]
        while frontier:
            for target in STEP_TRANSITIONS[frontier.pop()]:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert S.DONE in seen, start


@pytest.mark.parametrize(("current", "target"), [
    (S.DONE, S.SKIPPED), (S.SKIPPED, S.DONE), (S.DONE, S.TODO), (S.SKIPPED, S.IN_PROGRESS),
    (S.TODO, S.TODO), (S.DONE, S.DONE)])
def test_illegal_moves_are_conflicts_naming_the_allowed_ones(current: StepState,
                                                             target: StepState) -> None:
    with pytest.raises(StepChangeRefused) as caught:
        move(current, target, reason="a reason", evidence_count=1)
    assert caught.value.status == 409 and caught.value.field is None
    message = str(caught.value)
    assert f"from {current} to {target}" in message
    for allowed in STEP_TRANSITIONS[current]:
        assert allowed.value in message


# --- what a move needs ---------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [None, "", "   \n\t"], ids=["none", "empty", "blank"])
def test_skipping_needs_a_written_reason(reason: str | None) -> None:
    with pytest.raises(StepChangeRefused) as caught:
        move(S.TODO, S.SKIPPED, reason=reason)
    assert (caught.value.status, caught.value.field) == (422, "reason")


def test_other_moves_need_no_reason() -> None:
    move(S.TODO, S.IN_PROGRESS, reason=None)
    move(S.IN_PROGRESS, S.DONE, reason=None)
    move(S.SKIPPED, S.TODO, reason=None)


def test_an_illegal_move_is_refused_as_such_even_without_a_reason() -> None:
    with pytest.raises(StepChangeRefused) as caught:
        move(S.DONE, S.SKIPPED, reason=None)
    assert caught.value.status == 409


def test_a_step_that_requires_evidence_is_done_only_with_evidence() -> None:
    with pytest.raises(StepChangeRefused) as caught:
        move(S.IN_PROGRESS, S.DONE, evidence_required=True, evidence_count=0)
    assert caught.value.status == 409 and "evidence" in str(caught.value)
    move(S.IN_PROGRESS, S.DONE, evidence_required=True, evidence_count=1)
    move(S.TODO, S.DONE, evidence_required=True, evidence_count=3)
    move(S.TODO, S.DONE, evidence_required=False, evidence_count=0)


def test_missing_evidence_does_not_stop_starting_or_skipping() -> None:
    move(S.TODO, S.IN_PROGRESS, evidence_required=True)
    move(S.TODO, S.SKIPPED, reason="no police report for a lost badge", evidence_required=True)
    move(S.DONE, S.IN_PROGRESS, evidence_required=True)


# --- overdue -------------------------------------------------------------------------------------

def test_an_open_step_is_overdue_once_its_due_time_has_passed() -> None:
    due = NOW
    for state in OPEN_STATES:
        assert not is_overdue(step(state=state, due_at=due), NOW - timedelta(seconds=1))
        assert not is_overdue(step(state=state, due_at=due), NOW)  # due now is not late yet
        assert is_overdue(step(state=state, due_at=due), NOW + timedelta(seconds=1))


def test_a_finished_step_is_never_overdue() -> None:
    long_ago = NOW - timedelta(days=30)
    assert not is_overdue(step(state=S.DONE, due_at=long_ago), NOW)
    assert not is_overdue(step(state=S.SKIPPED, due_at=long_ago), NOW)


# --- progress ------------------------------------------------------------------------------------

def test_progress_counts_each_state_per_phase_in_response_order() -> None:
    steps = [step(Phase.REVIEW, S.TODO), step(Phase.CONTAIN, S.DONE),
             step(Phase.IDENTIFY, S.IN_PROGRESS), step(Phase.CONTAIN, S.SKIPPED),
             step(Phase.CONTAIN, S.TODO)]
    progress = progress_by_phase(steps)
    assert list(progress) == ["identify", "contain", "review"]  # empty phases left out
    assert progress["contain"] == {"todo": 1, "in_progress": 0, "done": 1, "skipped": 1,
                                   "total": 3}
    assert progress["identify"] == {"todo": 0, "in_progress": 1, "done": 0, "skipped": 0,
                                    "total": 1}
    for row in progress.values():
        assert row["total"] == sum(row[state.value] for state in StepState)


def test_no_steps_no_progress() -> None:
    assert progress_by_phase([]) == {}


# --- containment complete ------------------------------------------------------------------------

def test_contained_when_every_contain_step_is_done_or_skipped() -> None:
    steps = [step(Phase.CONTAIN, S.DONE), step(Phase.CONTAIN, S.SKIPPED),
             step(Phase.RECOVER, S.TODO), step(Phase.IDENTIFY, S.IN_PROGRESS)]
    assert containment_complete(steps)  # open steps of other phases do not count


@pytest.mark.parametrize("open_state", sorted(OPEN_STATES))
def test_one_open_contain_step_keeps_containment_incomplete(open_state: StepState) -> None:
    steps = [step(Phase.CONTAIN, S.DONE), step(Phase.CONTAIN, open_state)]
    assert not containment_complete(steps)


def test_nothing_to_contain_is_not_contained() -> None:
    """Without contain steps (no runbook, or one with none) the checklist proves nothing."""
    assert not containment_complete([])
    assert not containment_complete([step(Phase.IDENTIFY, S.DONE), step(Phase.RECOVER, S.DONE)])

