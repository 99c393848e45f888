"""Step due times: the due notation, elapsed time across DST, and the legal clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.containment.due_offsets import (
    DECIDE_NOTIFIABLE,
    LEGAL_CLOCK,
    MAX_DUE,
    NOTIFY_AUTHORITY,
    parse_due,
    step_due_at,
)
from incident.containment.runbook_loader import load_runbook
from incident.containment.runbooks import Phase, Step, StepRole
from tests.incident.containment.samples import SHIPPED_FILES

LONDON = ZoneInfo("Europe/London")


# --- due notation and due times ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)), ("2d", timedelta(days=2)),
    ("1d12h", timedelta(hours=36)), ("72h", LEGAL_CLOCK), ("1d2h3m", timedelta(minutes=1563)),
    (" 5d ", timedelta(days=5)), ("365d", MAX_DUE)])
def test_parse_due(text: str, expected: timedelta) -> None:
    assert parse_due(text) == expected


@given(st.integers(0, 364), st.integers(0, 23), st.integers(0, 59))
def test_parse_due_reads_every_well_formed_offset(days: int, hours: int, minutes: int) -> None:
    offset = timedelta(days=days, hours=hours, minutes=minutes)
    if offset > timedelta(0):
        assert parse_due(f"{days}d{hours}h{minutes}m") == offset


def _step(due: str) -> Step:
    return Step(id="s", title="S", phase=Phase.CONTAIN, role=StepRole.RESPONDER, due=due,
                evidence_required=False, guidance="Go.")


def test_due_across_spring_forward_is_elapsed_time() -> None:
    aware_at = datetime(2026, 3, 28, 12, 0, tzinfo=LONDON)  # GMT; BST starts 29 March 01:00
    due = step_due_at(_step("24h"), aware_at)
    assert due.astimezone(UTC) - aware_at.astimezone(UTC) == timedelta(hours=24)
    assert due == datetime(2026, 3, 29, 13, 0, tzinfo=LONDON)  # one hour later on the wall
    assert due.tzinfo is LONDON


def test_due_across_fall_back_is_elapsed_time() -> None:
    aware_at = datetime(2026, 10, 24, 12, 0, tzinfo=LONDON)  # BST; GMT from 25 October 02:00
    due = step_due_at(_step("3d"), aware_at)
    assert due.astimezone(UTC) - aware_at.astimezone(UTC) == timedelta(days=3)
    assert (due.day, due.hour) == (27, 11)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.sampled_from([ZoneInfo("Europe/London"),
                                               ZoneInfo("America/New_York"),
                                               ZoneInfo("Australia/Lord_Howe"), UTC])),
       st.sampled_from(["30m", "4h", "24h", "2d", "1d12h", "30d"]))
def test_due_is_always_aware_and_exactly_the_offset_later(aware_at: datetime, due: str) -> None:
    at = step_due_at(_step(due), aware_at)
    assert at.tzinfo is aware_at.tzinfo
    assert at.astimezone(UTC) - aware_at.astimezone(UTC) == parse_due(due)


def test_naive_aware_at_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        step_due_at(_step("4h"), datetime(2026, 1, 1, 12, 0))


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_legal_duty_steps_are_due_within_72_hours(path: Path) -> None:
    runbook = load_runbook(path)
    aware_at = datetime(2026, 3, 28, 22, 30, tzinfo=LONDON)  # the clock crosses a DST change
    due = {step.id: step_due_at(step, aware_at) for step in runbook.steps
           if step.id in (DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY)}
    for at in due.values():
        assert at.astimezone(UTC) - aware_at.astimezone(UTC) <= timedelta(hours=72)
    if len(due) == 2:
        assert due[DECIDE_NOTIFIABLE] <= due[NOTIFY_AUTHORITY]
