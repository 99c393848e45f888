"""Deadline arithmetic: worked cases derived from the law texts, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from notifications.obligations.deadlines import (
    AfterYearEndRule,
    BusinessDaysRule,
    CalendarDaysRule,
    DeadlineRule,
    HoursRule,
    MonthsRule,
    UndueDelayRule,
    add_business_days,
    add_months,
    compute_deadline,
    due_at,
    end_of_local_day,
    is_working_day,
    next_working_day_at,
    rule_as_data,
    zone,
)

RULE = TypeAdapter(DeadlineRule)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def rule(data: dict[str, Any]) -> Any:
    return RULE.validate_python(data)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (why, rule, trigger, zone, expected due as local ISO)
WORKED = [
    # GDPR Art. 33: 72 elapsed hours; clocks jump forward on the last Sunday of March.
    (
        "gdpr 72h over EU spring DST",
        {"hours": 72},
        "2026-03-27T10:00+01:00",
        "Europe/Berlin",
        "2026-03-30T11:00+02:00",
    ),
    # ... and fall back on the last Sunday of October: the wall clock shows 71 hours.
    (
        "gdpr 72h over EU autumn DST",
        {"hours": 72},
        "2026-10-23T10:00+02:00",
        "Europe/Berlin",
        "2026-10-26T09:00+01:00",
    ),
    (
        "gdpr 72h from the repeated hour",
        {"hours": 72},
        "2026-10-25T02:30+01:00",
        "Europe/Berlin",
        "2026-10-28T02:30+01:00",
    ),
    # NYDFS 500.17: 72 hours; US DST starts on the second Sunday of March (8 March 2026).
    (
        "nydfs 72h over US spring DST",
        {"hours": 72},
        "2026-03-06T12:00-05:00",
        "America/New_York",
        "2026-03-09T13:00-04:00",
    ),
    # Banking rule: 36 hours; US DST ends on the first Sunday of November (1 Nov 2026).
    (
        "bank 36h over US autumn DST",
        {"hours": 36},
        "2026-10-31T18:00-04:00",
        "America/New_York",
        "2026-11-02T05:00-05:00",
    ),
    # Calendar days end at the end of the last local day, whatever DST did in between.
    (
        "30 calendar days over DST",
        {"calendar_days": 30},
        "2026-03-10T15:00+01:00",
        "Europe/Berlin",
        "2026-04-09T23:59:59.999999+02:00",
    ),
    # The day is the local day: 22:00 in Los Angeles is already the next day in UTC.
    (
        "california 30 days, local day",
        {"calendar_days": 30},
        "2026-05-01T05:00+00:00",
        "America/Los_Angeles",
        "2026-05-30T23:59:59.999999-07:00",
    ),
    # Texas 60 days across a month end and a leap day.
    (
        "texas 60 days",
        {"calendar_days": 60},
        "2028-01-15T09:00-06:00",
        "America/Chicago",
        "2028-03-15T23:59:59.999999-05:00",
    ),
    # Japan: the day of awareness counts as day 1.
    (
        "japan 30 days, day 1 included",
        {"calendar_days": 30, "include_trigger_day": True},
        "2026-04-01T09:00+09:00",
        "Asia/Tokyo",
        "2026-04-30T23:59:59.999999+09:00",
    ),
    # Singapore s.26D: 3 calendar days after the day of the assessment (weekend included).
    (
        "singapore 3 days over a weekend",
        {"calendar_days": 3},
        "2026-05-08T17:00+08:00",
        "Asia/Singapore",
        "2026-05-11T23:59:59.999999+08:00",
    ),
    # Form 8-K: four business days; Friday 3 July 2026 is Independence Day (observed).
    (
        "8-K over July 4th",
        {"business_days": 4, "calendar": "US", "ends_at": "17:30"},
        "2026-07-02T10:00-04:00",
        "America/New_York",
        "2026-07-09T17:30-04:00",
    ),
    # An event on Saturday: the count starts on Monday (General Instruction B.1).
    (
        "8-K from a Saturday",
        {"business_days": 4, "calendar": "US", "ends_at": "17:30"},
        "2026-05-09T10:00-04:00",
        "America/New_York",
        "2026-05-14T17:30-04:00",
    ),
    # Federal closures by executive order (24 and 26 December 2025) are not business days.
    (
        "8-K over Christmas 2025 closures",
        {
            "business_days": 4,
            "calendar": "US",
            "holiday_categories": ["public", "government"],
            "ends_at": "17:30",
        },
        "2025-12-22T09:00-05:00",
        "America/New_York",
        "2025-12-31T17:30-05:00",
    ),
    # 8-K from a Friday afternoon over Thanksgiving 2026 (26 November).
    (
        "8-K over Thanksgiving",
        {"business_days": 4, "calendar": "US", "ends_at": "17:30"},
        "2026-11-20T16:00-05:00",
        "America/New_York",
        "2026-11-27T17:30-05:00",
    ),
    # Brazil: 3 business days; Tiradentes (21 April 2026, a Tuesday) is skipped.
    (
        "lgpd over Tiradentes",
        {"business_days": 3, "calendar": "BR"},
        "2026-04-17T11:00-03:00",
        "America/Sao_Paulo",
        "2026-04-23T23:59:59.999999-03:00",
    ),
    # ... and Good Friday (3 April 2026) too.
    (
        "lgpd over Good Friday",
        {"business_days": 3, "calendar": "BR"},
        "2026-04-01T11:00-03:00",
        "America/Sao_Paulo",
        "2026-04-07T23:59:59.999999-03:00",
    ),
    # New York State holidays (Lincoln's Birthday, 12 February) with a subdivision calendar.
    (
        "US-NY subdivision holidays",
        {"business_days": 2, "calendar": "US-NY"},
        "2026-02-11T10:00-05:00",
        "America/New_York",
        "2026-02-17T23:59:59.999999-05:00",
    ),
    (
        "US federal holidays only",
        {"business_days": 2, "calendar": "US"},
        "2026-02-11T10:00-05:00",
        "America/New_York",
        "2026-02-13T23:59:59.999999-05:00",
    ),
    # NIS2 final report: one month; 31 January clamps to 28 February ...
    (
        "nis2 month end clamps",
        {"months": 1},
        "2026-01-31T10:00+01:00",
        "Europe/Berlin",
        "2026-02-28T23:59:59.999999+01:00",
    ),
    # ... or to 29 February in a leap year ...
    (
        "month end in a leap year",
        {"months": 1},
        "2028-01-31T10:00+01:00",
        "Europe/Berlin",
        "2028-02-29T23:59:59.999999+01:00",
    ),
    (
        "31 March + 1 month",
        {"months": 1},
        "2026-03-31T08:00+02:00",
        "Europe/Berlin",
        "2026-04-30T23:59:59.999999+02:00",
    ),
    (
        "month across the year end",
        {"months": 1},
        "2026-12-15T08:00+01:00",
        "Europe/Berlin",
        "2027-01-15T23:59:59.999999+01:00",
    ),
    # HIPAA 164.408(c): 60 days after the end of the calendar year of discovery.
    (
        "hipaa log, non-leap year",
        {"after_year_end_days": 60},
        "2026-06-15T09:00-04:00",
        "America/New_York",
        "2027-03-01T23:59:59.999999-05:00",
    ),
    (
        "hipaa log, leap year",
        {"after_year_end_days": 60},
        "2027-06-15T09:00-04:00",
        "America/New_York",
        "2028-02-29T23:59:59.999999-05:00",
    ),
    # New Year's Eve in New York is already 1 January in UTC: the local year counts.
    (
        "hipaa log, local year",
        {"after_year_end_days": 60},
        "2026-12-31T23:30-05:00",
        "America/New_York",
        "2027-03-01T23:59:59.999999-05:00",
    ),
]


@pytest.mark.parametrize(
    ("data", "trigger", "tz", "expected"),
    [case[1:] for case in WORKED],
    ids=[case[0] for case in WORKED],
)
def test_worked_deadlines(data: dict[str, Any], trigger: str, tz: str, expected: str) -> None:
    due = due_at(rule(data), at(trigger), zone(tz))
    assert due == at(expected)
    assert due is not None and due.tzinfo is UTC


def test_without_undue_delay_has_no_due_time_only_a_target() -> None:
    deadline = compute_deadline(
        rule({"without_undue_delay": True, "target_hours": 72}),
        trigger="aware_at",
        trigger_at=at("2026-03-27T10:00+01:00"),
        tz=BERLIN,
        citation="GDPR Art. 34",
    )
    assert deadline.due_at is None
    assert deadline.target_at == at("2026-03-30T09:00+00:00")
    assert "no fixed time" in deadline.basis.rule


def test_internal_target_overrides_the_rule_target_and_never_passes_the_due_time() -> None:
    start = at("2026-03-02T08:00+00:00")
    undue = compute_deadline(
        UndueDelayRule(without_undue_delay=True, target_hours=72),
        trigger="aware_at",
        trigger_at=start,
        tz=BERLIN,
        citation="x",
        target_hours=12,
    )
    assert undue.target_at == start + timedelta(hours=12)
    fixed = compute_deadline(
        HoursRule(hours=72),
        trigger="aware_at",
        trigger_at=start,
        tz=BERLIN,
        citation="x",
        target_hours=24,
    )
    assert fixed.due_at == start + timedelta(hours=72)
    assert fixed.target_at == start + timedelta(hours=24)
    late = compute_deadline(
        HoursRule(hours=4),
        trigger="aware_at",
        trigger_at=start,
        tz=BERLIN,
        citation="x",
        target_hours=24,
    )
    assert late.target_at == late.due_at


def test_basis_names_rule_trigger_instant_zone_and_citation() -> None:
    deadline = compute_deadline(
        rule({"hours": 72, "without_undue_delay": True}),
        trigger="aware_at",
        trigger_at=at("2026-03-27T10:00+01:00"),
        tz=BERLIN,
        citation="Regulation (EU) 2016/679, Art. 33(1)",
        source="https://eur-lex.europa.eu/eli/reg/2016/679/oj",
    )
    basis = deadline.basis
    assert basis.rule == "without undue delay and at the latest 72 hours (elapsed) after aware_at"
    assert (basis.trigger, basis.trigger_at) == ("aware_at", at("2026-03-27T09:00+00:00"))
    assert (basis.timezone, basis.citation) == ("Europe/Berlin", "Regulation (EU) 2016/679, Art. 33(1)")
    assert any("outer bound" in note for note in basis.notes)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"calendar_days": 30}, "30 calendar days after aware_at (the day of the trigger excluded)"),
        ({"business_days": 4, "calendar": "US", "ends_at": "17:30"}, "at 17:30 local time"),
        ({"months": 1}, "clamped to the month's last day"),
        ({"after_year_end_days": 60}, "60 days after 31 December of the calendar year"),
    ],
)
def test_rules_in_words(data: dict[str, Any], words: str) -> None:
    deadline = compute_deadline(
        rule(data),
        trigger="aware_at",
        trigger_at=at("2026-01-05T10:00+00:00"),
        tz=BERLIN,
        citation="x",
    )
    assert words in deadline.basis.rule


def test_end_of_day_after_a_repeated_last_hour() -> None:
    # Chile falls back at midnight: 23:00-24:00 on 4 April 2026 happens twice; the day
    # ends after the second one.
    end = end_of_local_day(date(2026, 4, 4), zone("America/Santiago"))
    assert end == at("2026-04-05T03:59:59.999999+00:00")


def test_weekend_and_holiday_relief_moves_to_noon_of_next_working_day() -> None:
    noon = datetime.min.time().replace(hour=12)
    saturday = at("2026-03-28T00:30+01:00")
    assert next_working_day_at(saturday, BERLIN, "DE", noon) == at("2026-03-30T12:00+02:00")
    easter_monday = at("2026-04-06T09:00+02:00")
    assert next_working_day_at(easter_monday, BERLIN, "DE", noon) == at("2026-04-07T12:00+02:00")
    assert next_working_day_at(at("2026-04-08T09:00+02:00"), BERLIN, "DE", noon) is None


def test_rule_as_data_round_trips() -> None:
    data = {"business_days": 4, "calendar": "US", "ends_at": "17:30:00"}
    assert rule_as_data(rule(data)) == data
    assert rule(rule_as_data(rule(data))) == rule(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "a deadline rule needs one of"),
        ({"hourz": 72}, "a deadline rule needs one of"),
        ({"hours": 0}, "greater than 0"),
        ({"hours": 72, "calendar": "US"}, "Extra inputs are not permitted"),
        ({"business_days": 3, "calendar": "XX"}, "no public-holiday calendar for 'XX'"),
        ({"business_days": 3, "calendar": "US-ZZ"}, "no subdivision 'ZZ'"),
        ({"calendar_days": 3, "ends_at": 1050}, 'quoted string, e.g. "17:30"'),
        ({"without_undue_delay": True}, "Field required"),
    ],
)
def test_bad_rules_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(data)


def test_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


# ------------------------------------------------------------------- properties

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Berlin",
        "Europe/London",
        "America/New_York",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Australia/Sydney",
        "America/Santiago",
        "Asia/Kolkata",
    )
]
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2045, 12, 31),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
day_rules = st.one_of(
    st.builds(CalendarDaysRule, calendar_days=st.integers(1, 400), include_trigger_day=st.booleans()),
    st.builds(
        BusinessDaysRule,
        business_days=st.integers(1, 30),
        calendar=st.sampled_from(["US", "US-NY", "BR", "DE", "GB", "JP"]),
    ),
    st.builds(MonthsRule, months=st.integers(1, 36)),
    st.builds(AfterYearEndRule, after_year_end_days=st.integers(1, 400)),
)
any_rules = st.one_of(day_rules, st.builds(HoursRule, hours=st.integers(1, 10_000)))


@settings(max_examples=300, deadline=None)
@given(any_rules, instants, st.sampled_from(ZONES))
def test_due_is_never_before_the_trigger(r: Any, trigger: datetime, tz: ZoneInfo) -> None:
    due = due_at(r, trigger, tz)
    assert due is not None and due >= trigger


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10_000), instants, st.sampled_from(ZONES))
def test_hour_rules_are_exact_in_elapsed_seconds(hours: int, trigger: datetime, tz: ZoneInfo) -> None:
    due = due_at(HoursRule(hours=hours), trigger, tz)
    assert due is not None
    # Subtracting aware datetimes of different zones is exact elapsed time.
    assert due - trigger == timedelta(seconds=hours * 3600)
    assert due - trigger.astimezone(UTC) == timedelta(hours=hours)


@settings(max_examples=300, deadline=None)
@given(any_rules, instants, st.timedeltas(timedelta(0), timedelta(days=40)), st.sampled_from(ZONES))
def test_due_is_monotonic_in_the_trigger(r: Any, first: datetime, gap: timedelta, tz: ZoneInfo) -> None:
    later = (first.astimezone(UTC) + gap).astimezone(first.tzinfo)
    early_due, late_due = due_at(r, first, tz), due_at(r, later, tz)
    assert early_due is not None and late_due is not None
    assert early_due <= late_due


@settings(max_examples=300, deadline=None)
@given(day_rules, instants, st.sampled_from(ZONES))
def test_day_rules_end_at_the_end_of_a_later_local_day(r: Any, trigger: datetime, tz: ZoneInfo) -> None:
    due = due_at(r, trigger, tz)
    assert due is not None
    local = due.astimezone(tz)
    assert (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 999_999)
    trigger_day = trigger.astimezone(tz).date()
    included = isinstance(r, CalendarDaysRule) and r.include_trigger_day
    assert local.date() >= trigger_day if included else local.date() > trigger_day
    if isinstance(r, BusinessDaysRule):
        assert is_working_day(local.date(), r.calendar)


@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(0, 240))
def test_add_months_clamps_to_the_month_end(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(days=1)).day == 1)


@settings(max_examples=100, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2045, 12, 31)), st.integers(1, 20))
def test_business_days_count_exactly_the_working_days(day: date, count: int) -> None:
    last = add_business_days(day, count, "US")
    between = [day + timedelta(days=n) for n in range(1, (last - day).days + 1)]
    assert sum(is_working_day(d, "US") for d in between) == count
    assert is_working_day(last, "US")
