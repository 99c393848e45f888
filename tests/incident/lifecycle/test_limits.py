"""The lifecycle's limits and visibility, as pure rules: notes and reasons, which incidents
a role sees, which statuses are finished."""

from __future__ import annotations

import pytest

from incident.kernel.auth import PERMISSIONS, Permission, Role
from incident.kernel.errors import Invalid
from incident.lifecycle.rules import (
    FINISHED,
    NOTE_LIMIT,
    REASON_LIMIT,
    TRANSITIONS,
    Status,
    check_transition,
    is_finished,
    is_visible,
    note_text,
    reason_text,
    visible_statuses,
)


def test_a_note_is_trimmed_and_may_be_as_long_as_the_limit() -> None:
    assert note_text("  called the owner \n") == "called the owner"
    assert note_text("x" * NOTE_LIMIT) == "x" * NOTE_LIMIT


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (NOTE_LIMIT + 1)])
def test_an_empty_or_too_long_note_is_refused_whole(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        note_text(text)
    assert caught.value.status == 422
    assert [e["field"] for e in caught.value.extensions["errors"]] == ["text"]


def test_the_limit_counts_the_text_kept_not_the_white_space_around_it() -> None:
    assert note_text(" " + "x" * NOTE_LIMIT + " ") == "x" * NOTE_LIMIT


def test_a_reason_is_limited_whatever_the_move() -> None:
    assert reason_text(None) is None and reason_text("  ") is None
    check_transition(Status.OPEN, Status.DISMISSED, reason="x" * REASON_LIMIT)
    for target in (Status.DISMISSED, Status.ASSESSING):
        with pytest.raises(Invalid) as caught:
            check_transition(Status.OPEN, target, reason="x" * (REASON_LIMIT + 1))
        assert caught.value.extensions["errors"][0]["field"] == "reason"


@pytest.mark.parametrize("role", list(Role))
def test_a_role_that_may_read_incidents_sees_every_status(role: Role) -> None:
    # Dismissed incidents stay on the register, with their reason, for everyone who reads it.
    assert Permission.READ_INCIDENTS in PERMISSIONS[role]
    assert visible_statuses(role) == frozenset(Status)
    assert all(is_visible(role, status) for status in Status)


def test_closed_and_dismissed_are_finished_and_only_a_dismissal_is_reopened() -> None:
    assert frozenset({Status.CLOSED, Status.DISMISSED}) == FINISHED
    assert [s for s in Status if is_finished(s)] == [Status.CLOSED, Status.DISMISSED]
    assert TRANSITIONS[Status.CLOSED] == frozenset()
    assert TRANSITIONS[Status.DISMISSED] == {Status.OPEN}
