"""The lifecycle rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident.lifecycle.rules import (
    TRANSITIONS,
    ReasonRequired,
    Status,
    Times,
    TransitionNotAllowed,
    check_times,
    check_transition,
    format_reference,
    timestamps_on_entering,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def test_every_status_has_a_rule_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.CLOSED] == frozenset()
    reachable = {Status.OPEN}
    frontier = [Status.OPEN]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status)


@pytest.mark.parametrize(("current", "target"), [
    (Status.OPEN, Status.CLOSED), (Status.OPEN, Status.NOTIFYING), (Status.CLOSED, Status.OPEN),
    (Status.NOTIFYING, Status.OPEN), (Status.CONTAINED, Status.DISMISSED),
    (Status.OPEN, Status.OPEN)])
def test_illegal_moves_name_the_allowed_ones(current: Status, target: Status) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        check_transition(current, target, reason="because")
    assert caught.value.allowed == sorted(TRANSITIONS[current])


def test_dismissal_needs_a_reason() -> None:
    for reason in (None, "", "   "):
        with pytest.raises(ReasonRequired):
            check_transition(Status.OPEN, Status.DISMISSED, reason=reason)
    check_transition(Status.OPEN, Status.DISMISSED, reason="test data only")


def test_transitions_set_their_timestamps() -> None:
    assert timestamps_on_entering(Status.CONTAINED, NOW) == {"contained_at": NOW}
    assert timestamps_on_entering(Status.CLOSED, NOW) == {"closed_at": NOW}
    assert timestamps_on_entering(Status.ASSESSING, NOW) == {}


def test_references() -> None:
    assert format_reference(2026, 7) == "BR-2026-0007"
    assert format_reference(2026, 12345) == "BR-2026-12345"


def times(**overrides: datetime | None) -> Times:
    values: dict[str, datetime | None] = {
        "occurred_from": NOW - timedelta(days=2), "occurred_to": NOW - timedelta(days=1),
        "detected_at": NOW - timedelta(hours=10), "aware_at": NOW - timedelta(hours=8)}
    values.update(overrides)
    return Times(**values)  # type: ignore[arg-type]


def test_a_plausible_story_passes() -> None:
    assert check_times(times(), now=NOW, skew=SKEW) == []
    assert check_times(times(occurred_from=None, occurred_to=None), now=NOW, skew=SKEW) == []
    assert check_times(times(aware_at=NOW + timedelta(minutes=4)), now=NOW, skew=SKEW) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"aware_at": NOW - timedelta(days=3)}, "aware_at"),
    ({"aware_at": NOW + timedelta(minutes=6)}, "aware_at"),
    ({"detected_at": NOW - timedelta(days=3)}, "detected_at"),
    ({"occurred_to": NOW - timedelta(days=3)}, "occurred_to"),
    ({"aware_at": NOW - timedelta(hours=11)}, "aware_at"),
    ({"occurred_from": NOW + timedelta(days=1), "occurred_to": None}, "occurred_from"),
])
def test_impossible_stories_name_the_field(overrides: dict[str, datetime | None],
                                           field: str) -> None:
    problems = check_times(times(**overrides), now=NOW, skew=SKEW)
    assert field in [name for name, _ in problems]
