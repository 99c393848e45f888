"""An obligation's status rules, as pure functions: when a duty is late, what may be recorded
after what, and the limits of what people write about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident.kernel.errors import Conflict, Invalid
from notifications.obligations.rules import (
    HOW_LIMIT,
    JUSTIFICATION_MINIMUM,
    REASON_LIMIT,
    TRANSITIONS,
    ObligationStatus,
    check_change,
    how_text,
    is_late,
    is_overdue,
    justification_text,
    reason_text,
    seconds_left,
    status_when_met,
)

DUE = datetime(2026, 3, 13, 9, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)
PENDING, MET, LATE, WAIVED = (ObligationStatus.PENDING, ObligationStatus.MET,
                              ObligationStatus.LATE, ObligationStatus.WAIVED)


def test_met_exactly_at_the_due_time_is_on_time() -> None:
    assert is_late(DUE, met_at=DUE, now=DUE + timedelta(days=9)) is False
    assert status_when_met(DUE, DUE) is MET


def test_met_one_microsecond_after_the_due_time_is_late() -> None:
    assert is_late(DUE, met_at=DUE + TICK, now=DUE + TICK) is True
    assert status_when_met(DUE, DUE + TICK) is LATE


def test_met_before_the_due_time_stays_on_time_whenever_it_is_looked_at() -> None:
    assert is_late(DUE, met_at=DUE - timedelta(hours=1), now=DUE + timedelta(days=30)) is False


def test_open_past_the_due_time_is_late_and_at_it_is_not_yet() -> None:
    assert is_late(DUE, met_at=None, now=DUE) is False
    assert is_late(DUE, met_at=None, now=DUE + TICK) is True


def test_without_a_fixed_due_time_nothing_is_late_by_the_clock() -> None:
    far = DUE + timedelta(days=365)
    assert is_late(None, met_at=far, now=far) is False
    assert is_late(None, met_at=None, now=far) is False
    assert status_when_met(None, far) is MET


def test_overdue_is_a_pending_duty_that_applies_and_is_open_past_its_time() -> None:
    after = DUE + TICK
    assert is_overdue(PENDING, applies=True, due_at=DUE, now=after) is True
    assert is_overdue(PENDING, applies=True, due_at=DUE, now=DUE) is False
    assert is_overdue(PENDING, applies=False, due_at=DUE, now=after) is False
    for settled in (MET, LATE, WAIVED):
        assert is_overdue(settled, applies=True, due_at=DUE, now=after) is False


def test_seconds_left_count_down_only_while_pending() -> None:
    assert seconds_left(PENDING, DUE, DUE - timedelta(hours=2)) == 7200
    assert seconds_left(PENDING, DUE, DUE + timedelta(minutes=1)) == -60
    assert seconds_left(MET, DUE, DUE) is None
    assert seconds_left(PENDING, None, DUE) is None


def test_every_status_has_its_moves() -> None:
    assert set(TRANSITIONS) == set(ObligationStatus)


@pytest.mark.parametrize(("current", "target"), [
    (PENDING, MET), (PENDING, LATE), (PENDING, WAIVED),
    (MET, PENDING), (LATE, PENDING), (WAIVED, PENDING)])
def test_allowed_records(current: ObligationStatus, target: ObligationStatus) -> None:
    check_change(current, target, ref="gdpr/authority")


@pytest.mark.parametrize(("current", "target"), [
    (MET, MET), (MET, LATE), (LATE, MET), (MET, WAIVED), (LATE, WAIVED), (WAIVED, WAIVED),
    (WAIVED, MET)])
def test_a_settled_duty_is_reopened_before_it_is_recorded_again(
        current: ObligationStatus, target: ObligationStatus) -> None:
    with pytest.raises(Conflict, match="reopen it first"):
        check_change(current, target, ref="gdpr/authority")


def test_a_pending_duty_cannot_be_reopened() -> None:
    with pytest.raises(Conflict, match="already pending"):
        check_change(PENDING, PENDING, ref="gdpr/authority")


def field_of(caught: pytest.ExceptionInfo[Invalid]) -> str:
    return str(caught.value.extensions["errors"][0]["field"])


def test_how_is_required_and_limited() -> None:
    assert how_text("  portal receipt 77 ") == "portal receipt 77"
    assert how_text("x" * HOW_LIMIT) == "x" * HOW_LIMIT
    for refused in ("", "   ", "x" * (HOW_LIMIT + 1)):
        with pytest.raises(Invalid) as caught:
            how_text(refused)
        assert field_of(caught) == "how"


def test_reasons_are_limited_and_required_only_when_asked() -> None:
    assert reason_text("") == ""
    assert reason_text("x" * REASON_LIMIT) == "x" * REASON_LIMIT
    with pytest.raises(Invalid, match="longer than"):
        reason_text("x" * (REASON_LIMIT + 1))
    with pytest.raises(Invalid, match="say why"):
        reason_text("  ", at_least=1, needed="say why")


def test_a_justification_has_a_minimum_and_a_maximum() -> None:
    assert justification_text("x" * JUSTIFICATION_MINIMUM) == "x" * JUSTIFICATION_MINIMUM
    for refused in ("x" * (JUSTIFICATION_MINIMUM - 1), " " * 20, "x" * (REASON_LIMIT + 1)):
        with pytest.raises(Invalid) as caught:
            justification_text(refused)
        assert field_of(caught) == "justification"
