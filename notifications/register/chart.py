"""The timeline picture of one incident on the compliance report, as geometry (pure).

Awareness and the incident's other instants are vertical marks; each duty is a lane running
from its trigger to its due time, with a dot where it was met (or a bar running on to "now"
while it is open). This module only places things on a horizontal time axis: the page's
Jinja2 template draws them as inline SVG, so the picture needs no script and prints as it
shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.register.rules import DutyOutcome, Outcome, span_words

Place = Callable[[datetime], float]
"""Where an instant lies on the picture's horizontal axis."""

WIDTH = 760
LEFT = 170
"""Room for the duties' names at the left of their lanes."""
RIGHT = 20
MARK_ROW = 14
"""Height of one row of mark labels above the lanes."""
LANE = 26
AXIS = 34
"""Height of the time axis below the lanes, with its tick labels."""
LABEL_WIDTH = 118
"""The room a mark's label takes on its row, so labels that would overlap go a row down."""

COLOURS = {"on_time": "#146c2e", "late": "#b3261e", "waived": "#6e7781", "open": "#0b57d0",
           "overdue": "#b3261e"}
"""Colours by outcome (the stylesheet's --good, --bad, --muted, --accent)."""

STEPS = [timedelta(minutes=m) for m in (15, 30)] + [timedelta(hours=h) for h in (1, 2, 3, 6, 12)] + [
    timedelta(days=d) for d in (1, 2, 7, 14, 30, 61, 91, 182, 365, 730, 1826, 3652)]
"""Tick spacings to choose from: the smallest that keeps the axis to MAX_TICKS ticks."""
MAX_TICKS = 7


@dataclass(frozen=True, slots=True)
class Mark:
    """An instant of the incident (awareness, detection, a milestone), drawn across the lanes."""

    x: float
    label: str
    at: datetime
    row: int
    """Which row of labels it sits on (0 at the top)."""
    label_y: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class DutyLane:
    """One duty: from its trigger (`start_x`) to its due time, and when it was met."""

    ref: str
    y: float
    start_x: float
    due_x: float | None
    met_x: float | None
    end_x: float
    """Where its bar ends: when it was met, now while it is open, or when it was waived."""
    outcome: str
    """`on_time`, `late`, `waived`, `open` or `overdue`: its colour and its words."""
    colour: str
    words: str
    """What a reader of the picture's text alternative learns of it."""


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    lanes_top: float
    lanes_bottom: float
    axis_y: float
    marks: tuple[Mark, ...]
    lanes: tuple[DutyLane, ...]
    ticks: tuple[Tick, ...]
    now_x: float | None
    """Where "now" is, when an open duty runs up to it."""
    start: datetime
    end: datetime


def incident_chart(*, marks: Sequence[tuple[str, datetime]], duties: Sequence[DutyOutcome],
                   aware_at: datetime, now: datetime, zone: ZoneInfo) -> Chart:
    """The picture of one incident: `marks` are its named instants (awareness among them),
    `duties` its duties measured at `now`; tick labels in `zone`."""
    open_duties = any(d.outcome is Outcome.OPEN for d in duties)
    instants = [at for _, at in marks] + [aware_at]
    for duty in duties:
        instants += [at for at in (duty.trigger_at, duty.due_at, duty.met_at, duty.decided_at)
                     if at is not None]
    if open_duties:
        instants.append(now)
    first, last = min(instants), max(instants)
    if last - first < timedelta(hours=1):
        last = first + timedelta(hours=1)
    pad = (last - first) * 0.03
    start, end = first - pad, last + pad
    right = WIDTH - RIGHT
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return round(LEFT + (right - LEFT) * (at - start).total_seconds() / span, 1)

    placed = _rows(sorted(marks, key=lambda m: m[1]), x)
    rows = max((row for _, _, row in placed), default=-1) + 1
    lanes_top = rows * MARK_ROW + 8
    lanes = tuple(_lane(duty, i, lanes_top, x, now) for i, duty in enumerate(duties))
    lanes_bottom = lanes_top + max(len(lanes), 1) * LANE
    return Chart(
        width=WIDTH, height=int(lanes_bottom + AXIS), left=LEFT, right=right, lanes_top=lanes_top,
        lanes_bottom=lanes_bottom, axis_y=lanes_bottom + 4,
        marks=tuple(Mark(x=x(at), label=label, at=at, row=row, label_y=(row + 1) * MARK_ROW - 3)
                    for label, at, row in placed),
        lanes=lanes, ticks=tuple(Tick(x(at), text) for at, text in ticks(start, end, zone)),
        now_x=x(now) if open_duties else None, start=start, end=end)


def _rows(marks: Sequence[tuple[str, datetime]], place: Place
          ) -> list[tuple[str, datetime, int]]:
    """Each mark on the first label row where it does not overlap the previous label."""
    ends: list[float] = []
    placed: list[tuple[str, datetime, int]] = []
    for label, at in marks:
        position = place(at)
        row = next((i for i, end in enumerate(ends) if position >= end), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = position + LABEL_WIDTH
        placed.append((label, at, row))
    return placed


def _lane(duty: DutyOutcome, index: int, top: float, place: Place, now: datetime) -> DutyLane:
    y = top + index * LANE + LANE / 2
    start = duty.trigger_at or duty.due_at or duty.met_at or now
    outcome = "overdue" if duty.overdue else duty.outcome.value
    if duty.met_at is not None:
        end = duty.met_at
    elif duty.outcome is Outcome.OPEN:
        end = now
    else:  # waived: up to the waiver
        end = duty.decided_at or duty.due_at or start
    return DutyLane(ref=duty.ref, y=y, start_x=place(start),
                    due_x=place(duty.due_at) if duty.due_at else None,
                    met_x=place(duty.met_at) if duty.met_at else None, end_x=place(end),
                    outcome=outcome, colour=COLOURS[outcome], words=_words(duty))


def _words(duty: DutyOutcome) -> str:
    if duty.outcome is Outcome.LATE:
        return f"met late, by {span_words(duty.late_by_seconds)}"
    if duty.outcome is Outcome.ON_TIME:
        return "met on time" if duty.due_at else "met (no fixed due time)"
    if duty.outcome is Outcome.WAIVED:
        return "waived"
    if duty.overdue:
        return f"open, overdue by {span_words(duty.overdue_by_seconds)}"
    return "open" + (f", due in {span_words(duty.seconds_left)}" if duty.seconds_left is not None
                     else " (no fixed due time)")


def ticks(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """Round instants between `start` and `end` on the calendar of `zone`, with labels: whole
    hours or days (local midnight) at the smallest spacing giving at most MAX_TICKS."""
    span = end - start
    step = next((s for s in STEPS if span / s <= MAX_TICKS), STEPS[-1])
    local = start.astimezone(zone)
    if step < timedelta(days=1):
        unit = step if step < timedelta(hours=1) else timedelta(hours=1)
        base = local.replace(minute=0, second=0, microsecond=0)
        fmt = "%d %b %H:%M"
    else:
        unit = timedelta(days=1)
        base = local.replace(hour=0, minute=0, second=0, microsecond=0)
        fmt = "%d %b %Y" if step >= timedelta(days=30) else "%d %b"
    found: list[tuple[datetime, str]] = []
    at = base
    while at <= end and len(found) < 4 * MAX_TICKS:
        if at >= start and _on_step(at, base, step, unit):
            found.append((at, at.strftime(fmt)))
        # Wall-clock steps: a day is a calendar day, also across a change of summer time.
        at = (at.replace(tzinfo=None) + unit).replace(tzinfo=zone)
    return found


def _on_step(at: datetime, base: datetime, step: timedelta, unit: timedelta) -> bool:
    """Whether `at` is a whole number of `step`s of wall-clock time after `base`."""
    elapsed = at.replace(tzinfo=None) - base.replace(tzinfo=None)
    return (elapsed // unit) % max(1, step // unit) == 0
