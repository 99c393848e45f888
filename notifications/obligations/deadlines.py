"""Deadline rules as data, and the pure arithmetic that turns a trigger into a due time.

A regime file states each legal time limit as one small mapping:

    {hours: 72}                                 elapsed hours
    {calendar_days: 30}                         whole local days after the trigger day
    {calendar_days: 30, roll_forward: {calendar: US-TX}}   ... a last day off work moves on
    {business_days: 4, calendar: US}            working days of a public-holiday calendar
    {months: 1}                                 same day number N months later, clamped
    {after_year_end_days: 60}                   days after 31 December of the trigger's year
    {without_undue_delay: true, target_hours: 24}   no legal due time, only an internal target

Conventions, chosen once and applied everywhere so a human can re-check any result:

* Hours are elapsed time: the trigger instant plus N x 3600 s, whatever the clocks do
  (a 72-hour period across a DST change is still 259,200 seconds).
* Days, business days, months and year-end days are counted on the local calendar of
  the deadline's time zone. The trigger day itself is excluded (day 1 is the next day)
  unless the rule says `include_trigger_day: true`.
* A day-based period ends at the END of its last local day, represented as the last
  representable instant of that day, 23:59:59.999999 local time (never "next midnight",
  which some zones skip and which reads as the wrong day). `ends_at: "17:30"` moves the
  end to that local time on the last day (a filing cut-off).
* A calendar-day rule with `roll_forward` keeps its count, but a last day that is a
  weekend day, a public holiday of `roll_forward.calendar`, or one of its `closed`
  month-days (Japan's year-end closure, "12-29" to "01-03") moves to the next day that
  is none of these (Tex. Gov't Code 311.014(b); Japan's Act on Holidays of
  Administrative Organs, Art. 2). Its `not_holidays` month-days are days the holidays
  package lists that the law does not count (Colorado's optional Cesar Chavez Day, or
  a Friday "observed" for a Saturday holiday where the law moves only Sundays): they
  stay working days unless they fall on a weekend. Without `roll_forward` the last day
  stays where it falls.
* Month ends clamp: 31 January + 1 month is 28 (or 29) February, as in Art. 3(2)(c) of
  Regulation (EEC, Euratom) No 1182/71.
* A rule may add `without_undue_delay: true` to a fixed limit ("without undue delay and
  at the latest 72 hours"): the limit is an outer bound, and the basis says so.

All results are aware datetimes in UTC; the local zone is only used for counting.
"""

from __future__ import annotations

import calendar as _calendar
import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PositiveInt,
    Tag,
    field_validator,
)

END_OF_DAY = time.max
"""The local wall time at which a day-based period ends (23:59:59.999999)."""


# --------------------------------------------------------------------------- rules


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_local_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 17:30 as the integer 1050 (base 60): refuse it
    # rather than silently turning it into 00:17:30.
    if not isinstance(value, str | time):
        raise ValueError('write the time of day as a quoted string, e.g. "17:30"')
    return value


class HoursRule(_Rule):
    """N elapsed hours after the trigger."""

    hours: PositiveInt
    without_undue_delay: bool = False


def _known_calendar(value: str) -> str:
    country, _, subdivision = value.partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"no public-holiday calendar for {country!r} in the holidays package")
    if subdivision and subdivision not in supported[country]:
        raise ValueError(f"{country} has no subdivision {subdivision!r} in the holidays data")
    return value


def _month_day(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"\d\d-\d\d", value):
        raise ValueError('write a closed day as a quoted "MM-DD" string, e.g. "12-29"')
    try:
        date.fromisoformat(f"2000-{value}")  # a leap year, so "02-29" is a day
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a day of the year") from exc
    return value


MonthDay = Annotated[str, BeforeValidator(_month_day)]


class RollForward(_Rule):
    """Where a period's last day is not a working day, the next day that is.

    Not working: a weekend day or public holiday of `calendar` (ISO 3166-1 country or
    ISO 3166-2 subdivision, from the holidays package), or one of the `closed` days,
    written "MM-DD", on which the recipient's offices are closed by law every year.
    A `not_holidays` day ("MM-DD") is a day the holidays package lists for `calendar`
    but the governing law does not count as a holiday: it is open unless a weekend day.
    """

    calendar: str = Field(description="ISO 3166-1 country or ISO 3166-2 subdivision, e.g. US-TX")
    closed: tuple[MonthDay, ...] = Field(default=(), max_length=31)
    """At most a month of days: a law closes offices for some days a year, never most of it."""
    not_holidays: tuple[MonthDay, ...] = Field(default=(), max_length=31)
    """Days the holidays package lists that the law does not: counted as working days."""
    not_named: tuple[str, ...] = Field(default=(), max_length=31)
    """Holidays the package lists by these names that the law does not count (Texas's optional
    Good Friday, which moves every year): such a day is a working day unless a weekend day."""
    observed: bool = True
    """False where the law counts a holiday on its own date only, never a weekday "observed"
    in its place (the package adds those for Saturday and Sunday holidays)."""

    _check_calendar = field_validator("calendar")(_known_calendar)

    def is_open(self, day: date) -> bool:
        """True if `day` is none of: weekend, holiday of `calendar` (unless listed in
        `not_holidays`), `closed` day."""
        month_day = f"{day:%m-%d}"
        if month_day in self.closed:
            return False
        if month_day in self.not_holidays or is_weekend(day, self.calendar):
            return not is_weekend(day, self.calendar)
        names = _holiday_calendar(self.calendar, ("public",), observed=self.observed).get_list(day)
        return all(name in self.not_named for name in names)

    def next_open_day(self, day: date) -> date:
        """`day` itself if it is open, otherwise the next day that is (within a year:
        at most 31 closed days plus weekends and holidays can never fill one)."""
        for _ in range(366):
            if self.is_open(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no open day in the year after {day - timedelta(days=366)}")


class CalendarDaysRule(_Rule):
    """N calendar days after the trigger day, ending at the end of the last local day.

    With `roll_forward`, a last day that is not a working day moves to the next one.
    """

    calendar_days: PositiveInt
    include_trigger_day: bool = False
    roll_forward: RollForward | None = None
    ends_at: time | None = None
    without_undue_delay: bool = False

    _check_ends_at = field_validator("ends_at", mode="before")(_parse_local_time)


class BusinessDaysRule(_Rule):
    """N working days (not weekend, not a holiday of `calendar`) after the trigger day."""

    business_days: PositiveInt
    calendar: str = Field(description="ISO 3166-1 country or ISO 3166-2 subdivision, e.g. US-NY")
    holiday_categories: tuple[str, ...] = ("public",)
    ends_at: time | None = None
    without_undue_delay: bool = False

    _check_ends_at = field_validator("ends_at", mode="before")(_parse_local_time)

    _check_calendar = field_validator("calendar")(_known_calendar)


class MonthsRule(_Rule):
    """N months after the trigger day: same day number, clamped to the month's last day."""

    months: PositiveInt
    ends_at: time | None = None
    without_undue_delay: bool = False

    _check_ends_at = field_validator("ends_at", mode="before")(_parse_local_time)


class AfterYearEndRule(_Rule):
    """N days after 31 December of the (local) year in which the trigger happened."""

    after_year_end_days: PositiveInt
    ends_at: time | None = None

    _check_ends_at = field_validator("ends_at", mode="before")(_parse_local_time)


class UndueDelayRule(_Rule):
    """No legal due time ("without undue delay", "as soon as practicable"): only a target."""

    without_undue_delay: Literal[True]
    target_hours: PositiveInt


_KINDS = ("hours", "calendar_days", "business_days", "months", "after_year_end_days")


def _rule_kind(value: Any) -> str | None:
    """Tell which rule a mapping is by its defining key (the first of _KINDS present)."""
    if isinstance(value, dict):
        for kind in _KINDS:
            if kind in value:
                return kind
        return "without_undue_delay" if "without_undue_delay" in value else None
    for kind, model in _MODELS.items():
        if isinstance(value, model):
            return kind
    return None


_MODELS: dict[str, type[_Rule]] = {
    "hours": HoursRule,
    "calendar_days": CalendarDaysRule,
    "business_days": BusinessDaysRule,
    "months": MonthsRule,
    "after_year_end_days": AfterYearEndRule,
    "without_undue_delay": UndueDelayRule,
}

DeadlineRule = Annotated[
    Annotated[HoursRule, Tag("hours")]
    | Annotated[CalendarDaysRule, Tag("calendar_days")]
    | Annotated[BusinessDaysRule, Tag("business_days")]
    | Annotated[MonthsRule, Tag("months")]
    | Annotated[AfterYearEndRule, Tag("after_year_end_days")]
    | Annotated[UndueDelayRule, Tag("without_undue_delay")],
    Discriminator(
        _rule_kind,
        custom_error_type="deadline_rule",
        custom_error_message=(
            "a deadline rule needs one of: hours, calendar_days, business_days, months, "
            "after_year_end_days, or without_undue_delay with target_hours"
        ),
    ),
]
"""Any deadline rule; which one is decided by the key that defines it."""


# ------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Basis:
    """Everything a human needs to re-derive a deadline by hand."""

    rule: str
    trigger: str
    trigger_at: datetime | None
    timezone: str
    citation: str
    source: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    """A computed deadline: the legal due time (None where the law sets none) and a target."""

    due_at: datetime | None
    target_at: datetime
    basis: Basis


# -------------------------------------------------------------------- arithmetic


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name`, or raise ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def end_of_local_day(day: date, tz: ZoneInfo, ends_at: time | None = None) -> datetime:
    """The instant (UTC) at which local `day` ends in `tz`, or its `ends_at` wall time.

    fold=1 picks the later of two repeated wall times, so a day whose last hour is
    repeated by a DST change ends after the repetition.
    """
    local = datetime.combine(day, ends_at or END_OF_DAY, tzinfo=tz).replace(fold=1)
    return local.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """`day` plus `months`, clamped to the last day of the target month."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=64)
def _holiday_calendar(code: str, categories: tuple[str, ...], *, observed: bool = True
                      ) -> holidays.HolidayBase:
    country, _, subdivision = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None, categories=categories,
                                     observed=observed)


def is_weekend(day: date, calendar: str) -> bool:
    """True if `day` is a weekend day of `calendar` (Saturday and Sunday almost everywhere)."""
    return day.weekday() in _holiday_calendar(calendar, ("public",)).weekend


def is_working_day(day: date, calendar: str, categories: tuple[str, ...] = ("public",)) -> bool:
    """True unless `day` is a weekend day or a holiday of `calendar` (e.g. "US-NY", "BR")."""
    days_off = _holiday_calendar(calendar, categories)
    return day.weekday() not in days_off.weekend and day not in days_off


def add_business_days(
    day: date, count: int, calendar: str, categories: tuple[str, ...] = ("public",)
) -> date:
    """The `count`-th working day after `day` (`day` itself never counts).

    An event on a Saturday therefore starts the count on Monday, which is also what
    Form 8-K General Instruction B.1 prescribes.
    """
    current, remaining = day, count
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, calendar, categories):
            remaining -= 1
    return current


def next_working_day_at(instant: datetime, tz: ZoneInfo, calendar: str, at: time) -> datetime | None:
    """If `instant` falls on a non-working local day, the next working day at `at` (UTC).

    Returns None when the day is a working day (no relief applies). Used for reliefs
    such as DORA's "by 12:00 noon of the next working day".
    """
    day = instant.astimezone(tz).date()
    if is_working_day(day, calendar):
        return None
    return end_of_local_day(add_business_days(day, 1, calendar), tz, at)


def counted_last_day(rule: CalendarDaysRule, trigger_day: date) -> date:
    """The last day of a calendar-day period as counted, before any roll forward."""
    offset = rule.calendar_days - 1 if rule.include_trigger_day else rule.calendar_days
    return trigger_day + timedelta(days=offset)


def due_at(rule: DeadlineRule, trigger_at: datetime, tz: ZoneInfo) -> datetime | None:
    """The legal due instant (UTC) of `rule` for a trigger at `trigger_at`, or None.

    None means the law fixes no time ("without undue delay"): only a target exists.
    """
    if trigger_at.tzinfo is None:
        raise ValueError("trigger instant must be time-zone aware")
    start = trigger_at.astimezone(UTC)
    if isinstance(rule, HoursRule):
        return start + timedelta(hours=rule.hours)
    if isinstance(rule, UndueDelayRule):
        return None
    trigger_day = start.astimezone(tz).date()
    if isinstance(rule, CalendarDaysRule):
        last = counted_last_day(rule, trigger_day)
        if rule.roll_forward is not None:
            last = rule.roll_forward.next_open_day(last)
        return end_of_local_day(last, tz, rule.ends_at)
    if isinstance(rule, BusinessDaysRule):
        last = add_business_days(trigger_day, rule.business_days, rule.calendar, rule.holiday_categories)
        return end_of_local_day(last, tz, rule.ends_at)
    if isinstance(rule, MonthsRule):
        return end_of_local_day(add_months(trigger_day, rule.months), tz, rule.ends_at)
    last = date(trigger_day.year, 12, 31) + timedelta(days=rule.after_year_end_days)
    return end_of_local_day(last, tz, rule.ends_at)


def describe(rule: DeadlineRule, trigger: str) -> str:
    """The rule in words, naming the trigger, as shown in an obligation's basis."""
    ends = "at the end of that local day"
    if not isinstance(rule, HoursRule | UndueDelayRule) and rule.ends_at is not None:
        ends = f"at {rule.ends_at:%H:%M} local time on that day"
    prefix = "without undue delay and at the latest " if _prompt(rule) else ""
    if isinstance(rule, HoursRule):
        return f"{prefix}{rule.hours} hours (elapsed) after {trigger}"
    if isinstance(rule, UndueDelayRule):
        return (
            f"without undue delay after {trigger}: the law sets no fixed time; "
            f"default internal target {rule.target_hours} hours"
        )
    if isinstance(rule, CalendarDaysRule):
        day_one = (
            "the day of the trigger counting as day 1"
            if rule.include_trigger_day
            else "the day of the trigger excluded"
        )
        rolled = ""
        if rule.roll_forward is not None:
            closed = ", ".join(rule.roll_forward.closed)
            not_holidays = ", ".join(rule.roll_forward.not_holidays + rule.roll_forward.not_named)
            rolled = (
                f"; a last day on a weekend, a {rule.roll_forward.calendar} public holiday"
                + (f" (not counting {not_holidays})" if not_holidays else "")
                + ("" if rule.roll_forward.observed else " on its own date (no observed days)")
                + (f" or a closed day ({closed})" if closed else "")
                + " moves to the next day that is none of these"
            )
        return f"{prefix}{rule.calendar_days} calendar days after {trigger} ({day_one}){rolled}, {ends}"
    if isinstance(rule, BusinessDaysRule):
        categories = "+".join(rule.holiday_categories)
        return (
            f"{prefix}{rule.business_days} business days after the day of {trigger} "
            f"(weekends and {rule.calendar} {categories} holidays skipped), {ends}"
        )
    if isinstance(rule, MonthsRule):
        return (
            f"{prefix}{rule.months} month(s) after the day of {trigger} (same day number, "
            f"clamped to the month's last day), {ends}"
        )
    return f"{rule.after_year_end_days} days after 31 December of the calendar year of {trigger}, {ends}"


def _prompt(rule: DeadlineRule) -> bool:
    return not isinstance(rule, AfterYearEndRule | UndueDelayRule) and rule.without_undue_delay


def compute_deadline(
    rule: DeadlineRule,
    *,
    trigger: str,
    trigger_at: datetime,
    tz: ZoneInfo,
    citation: str,
    source: str | None = None,
    target_hours: float | None = None,
    notes: tuple[str, ...] = (),
) -> Deadline:
    """Apply `rule` to a trigger and return the deadline with its basis.

    `target_hours` is the organisation's internal target (elapsed hours after the
    trigger). It replaces the rule's own target for a without-undue-delay rule, and is
    capped at the legal due time otherwise: a target is never later than the law.
    """
    start = trigger_at.astimezone(UTC)
    due = due_at(rule, start, tz)
    extra: list[str] = list(notes)
    if isinstance(rule, UndueDelayRule):
        hours = rule.target_hours if target_hours is None else target_hours
        target = start + timedelta(hours=hours)
        if target_hours is not None:
            extra.append(f"internal target of {target_hours:g} hours set by the organisation")
    else:
        assert due is not None  # every rule but UndueDelayRule has a due time
        target = due
        if target_hours is not None:
            target = min(due, start + timedelta(hours=target_hours))
            extra.append(f"internal target of {target_hours:g} hours set by the organisation")
        if _prompt(rule):
            extra.append("the time limit is an outer bound: notify earlier if you can")
        if isinstance(rule, CalendarDaysRule) and rule.roll_forward is not None:
            counted = counted_last_day(rule, start.astimezone(tz).date())
            last = due.astimezone(tz).date()
            if last != counted:
                extra.append(
                    f"the counted last day {counted:%a %Y-%m-%d} is not a working day in "
                    f"{rule.roll_forward.calendar}: the period runs to {last:%a %Y-%m-%d}"
                )
    basis = Basis(
        rule=describe(rule, trigger),
        trigger=trigger,
        trigger_at=start,
        timezone=tz.key,
        citation=citation,
        source=source,
        notes=tuple(extra),
    )
    return Deadline(due_at=due, target_at=target, basis=basis)


def rule_as_data(rule: DeadlineRule) -> dict[str, Any]:
    """The rule as it is written in a regime file (defaults left out), for JSON output."""
    return rule.model_dump(mode="json", exclude_defaults=True)
