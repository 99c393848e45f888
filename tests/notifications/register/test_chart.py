"""The timeline picture's geometry (chart.py): where each instant and each duty lie on the axis,
label rows that never overlap, and round ticks on the local calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.register import chart
from notifications.register.rules import DutyOutcome, Outcome

BERLIN = ZoneInfo("Europe/Berlin")
AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = AWARE + timedelta(hours=72)


def duty(ref: str, outcome: Outcome, *, due: datetime | None = DUE, met: datetime | None = None,
         overdue: bool = False, decided: datetime | None = None) -> DutyOutcome:
    return DutyOutcome(ref=ref, recipient="authority", recipient_name="Authority", phase=None,
                       trigger_at=AWARE, due_at=due, met_at=met, outcome=outcome,
                       late_by_seconds=int((met - due).total_seconds()) if met and due and met > due
                       else None, overdue=overdue,
                       overdue_by_seconds=3600 if overdue else None, seconds_left=None,
                       reason=None, decided_by=None, decided_at=decided, how=None)


def test_each_duty_runs_from_its_trigger_to_when_it_was_met_or_now() -> None:
    now = AWARE + timedelta(days=6)
    drawn = chart.incident_chart(
        marks=[("detected", AWARE - timedelta(hours=1)), ("aware", AWARE)],
        duties=[duty("a/on-time", Outcome.ON_TIME, met=AWARE + timedelta(hours=48)),
                duty("b/late", Outcome.LATE, met=DUE + timedelta(hours=26)),
                duty("c/waived", Outcome.WAIVED, due=None, decided=AWARE + timedelta(hours=5)),
                duty("d/overdue", Outcome.OPEN, overdue=True)],
        aware_at=AWARE, now=now, zone=BERLIN)
    on_time, late, waived, overdue = drawn.lanes
    assert on_time.met_x is not None and late.met_x is not None and late.due_x is not None
    assert on_time.start_x < on_time.met_x < (on_time.due_x or 0) < late.met_x
    assert late.due_x < late.met_x and late.end_x == late.met_x
    assert (on_time.colour, late.colour, waived.colour, overdue.colour) == (
        "#146c2e", "#b3261e", "#6e7781", "#b3261e")
    assert waived.start_x < waived.end_x and waived.met_x is None
    assert drawn.now_x is not None and overdue.end_x == drawn.now_x
    assert late.words == "met late, by 1 d 2 h"
    assert overdue.words == "open, overdue by 1 h"
    everything = [x for lane in drawn.lanes for x in (lane.start_x, lane.end_x, lane.due_x,
                                                      lane.met_x) if x is not None]
    assert all(drawn.left <= x <= drawn.right for x in everything + [m.x for m in drawn.marks])
    assert [lane.y for lane in drawn.lanes] == sorted({lane.y for lane in drawn.lanes})
    assert drawn.lanes_top < drawn.lanes[0].y < drawn.lanes[-1].y < drawn.lanes_bottom
    assert drawn.height > drawn.axis_y


def test_labels_that_would_overlap_take_the_next_row() -> None:
    drawn = chart.incident_chart(
        marks=[("detected", AWARE - timedelta(minutes=30)), ("aware", AWARE),
               ("contained", AWARE + timedelta(days=20))],
        duties=[], aware_at=AWARE, now=AWARE, zone=BERLIN)
    rows = {m.label: m.row for m in drawn.marks}
    assert rows == {"detected": 0, "aware": 1, "contained": 0}
    assert drawn.now_x is None  # no open duty runs up to now
    assert drawn.lanes_top > 2 * chart.MARK_ROW - 1


def test_ticks_fall_on_local_midnights_across_the_change_to_summer_time() -> None:
    start = datetime(2026, 3, 27, 12, tzinfo=UTC)
    found = chart.ticks(start, start + timedelta(days=4), BERLIN)
    assert [label for _, label in found] == ["28 Mar", "29 Mar", "30 Mar", "31 Mar"]
    assert all(at.astimezone(BERLIN).hour == 0 for at, _ in found)
    assert len(chart.ticks(start, start + timedelta(days=200), BERLIN)) <= chart.MAX_TICKS
    hours = chart.ticks(start, start + timedelta(hours=5), BERLIN)
    assert [label for _, label in hours][:2] == ["27 Mar 13:00", "27 Mar 14:00"]  # CET


def test_a_moment_alone_still_gets_an_axis() -> None:
    drawn = chart.incident_chart(marks=[("aware", AWARE)], duties=[], aware_at=AWARE, now=AWARE,
                                 zone=BERLIN)
    assert drawn.end - drawn.start >= timedelta(hours=1)
    assert drawn.ticks
