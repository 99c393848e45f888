"""Periods whose last day rolls forward off weekends, holidays and closed days.

Every expected date below is worked out by hand from the law's text and a printed
calendar, not from the engine:

* Japan, APPI leakage report (kakuho): 30 days, 60 when done for a wrongful purpose,
  the day of awareness being day 1 (PPC Enforcement Rules Art. 8(2)). A deadline set as
  a period for a report to a national administrative agency that falls on a holiday of
  the administrative organs (Saturdays, Sundays, national holidays, 29 December to
  3 January) is the day after it (Act on Holidays of Administrative Organs, Act No. 91
  of 1988, Arts. 1(1) and 2).
* Texas: in computing a period of days the first day is excluded and the last day
  included; a last day on a Saturday, Sunday or legal holiday extends the period to
  the next day that is not one (Tex. Gov't Code 311.014(a) and (b)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from notifications.obligations.deadlines import (
    CalendarDaysRule,
    DeadlineRule,
    RollForward,
    describe,
    due_at,
    is_working_day,
)
from notifications.obligations.due_times import DueTimes, due_times
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from tests.notifications.obligations.samples import facts_data

TOKYO = ZoneInfo("Asia/Tokyo")
CHICAGO = ZoneInfo("America/Chicago")
CATALOGUE = load_regimes()
YEAR_END = {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}


def end_of(day: str, tz: ZoneInfo) -> datetime:
    """The last instant of local `day` (23:59:59.999999), as the engine represents it."""
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


def timing(ref: str, **changes: Any) -> DueTimes:
    found = CATALOGUE.obligation(ref)
    assert found is not None
    regime, obligation = found
    return due_times(regime, obligation, facts_from_json(facts_data(**changes)))


def japan(aware_at: str, *, malicious: bool = False) -> DueTimes:
    jp = {"country": "JP", "timezone": "Asia/Tokyo", "flags": []}
    return timing("jp-appi/final", organisation=jp, affected={"JP": 2000},
                  incident__aware_at=aware_at, incident__malicious=malicious)


def texas(ref: str, determined_at: str) -> DueTimes:
    us = {"country": "US", "timezone": "America/Chicago", "flags": []}
    return timing(ref, organisation=us, affected={"US-TX": 300},
                  incident__breach_determined_at=determined_at,
                  incident__data_categories=["official_id"])


# ------------------------------------------------------------------------- Japan


@pytest.mark.parametrize(
    ("why", "aware_at", "malicious", "due"),
    [
        # Rules Art. 8(2); Act No. 91 of 1988 Arts. 1(1)(ii), 2: aware Sat 4 April 2026
        # (05:00 in Tokyo, still 3 April in UTC) is day 1; day 30 is Sun 3 May
        # (Constitution Day), then Greenery Day, Children's Day and the substitute
        # holiday of Wed 6 May: due Thu 7 May.
        ("30 days ending in Golden Week", "2026-04-03T20:00:00+00:00", False, "2026-05-07"),
        # Act No. 91 of 1988 Art. 1(1)(iii): aware Mon 30 Nov 2026, day 30 is Tue
        # 29 Dec, closed to Sun 3 Jan; Mon 4 Jan 2027 is a working day.
        ("30 days ending on 29 December", "2026-11-30T10:00:00+09:00", False, "2027-01-04"),
        # Same, a year on: day 30 is Mon 29 Dec 2025; Sun 4 Jan 2026 is a Sunday
        # (Art. 1(1)(i)), so the report is due Mon 5 Jan 2026.
        ("year-end closure then a Sunday", "2025-11-30T10:00:00+09:00", False, "2026-01-05"),
        # Rules Art. 8(2), wrongful purpose: 60 days. Aware Thu 5 March 2026 is day 1,
        # day 60 is Sun 3 May: rolls past Golden Week to Thu 7 May.
        ("60 days when malicious, Golden Week", "2026-03-05T09:00:00+09:00", True, "2026-05-07"),
        # Day 30 on Sat 18 July 2026; Sun 19; Mon 20 is Marine Day: due Tue 21 July.
        ("30 days ending on a Saturday before Marine Day", "2026-06-19T12:00:00+09:00", False,
         "2026-07-21"),
        # Aware Mon 1 June 2026: day 30 is Tue 30 June, a working day: no move.
        ("a working last day does not move", "2026-06-01T09:00:00+09:00", False, "2026-06-30"),
    ],
)
def test_japanese_final_report_rolls_past_closed_days(
    why: str, aware_at: str, malicious: bool, due: str
) -> None:
    result = japan(aware_at, malicious=malicious)
    assert result.due_at == end_of(due, TOKYO), why
    rolled = any("is not a working day in JP" in note for note in result.basis.notes)
    assert rolled == (why != "a working last day does not move")
    assert "Act on Holidays of Administrative Organs" in result.basis.citation


def test_the_japanese_preliminary_report_keeps_its_72_hour_target() -> None:
    # Act No. 91 of 1988 Art. 2 excludes periods fixed in hours; sokuho has no legal time.
    result = timing("jp-appi/preliminary", organisation={"country": "JP",
                    "timezone": "Asia/Tokyo", "flags": []}, affected={"JP": 2000})
    assert result.due_at is None


# ------------------------------------------------------------------------- Texas


@pytest.mark.parametrize(
    ("why", "ref", "determined_at", "due"),
    [
        # Bus. & Com. Code 521.053(i), 30 days; Gov't Code 311.014(a): determined Thu
        # 2 April 2026, day 1 is 3 April, day 30 is Sat 2 May; 311.014(b): Mon 4 May.
        ("AG notice ending on a Saturday", "us-tx/attorney-general", "2026-04-02T15:00:00-05:00",
         "2026-05-04"),
        # Day 30 after Sun 22 March 2026 is Tue 21 April, San Jacinto Day (a Texas state
        # holiday): extended to Wed 22 April.
        ("AG notice ending on San Jacinto Day", "us-tx/attorney-general",
         "2026-03-22T09:00:00-05:00", "2026-04-22"),
        # 521.053(b), 60 days: after Mon 20 April 2026 the 60th day is Fri 19 June,
        # Emancipation Day (and Juneteenth); then a weekend: Mon 22 June.
        ("individuals' notice ending on Emancipation Day", "us-tx/individuals",
         "2026-04-20T09:00:00-05:00", "2026-06-22"),
        # Determined Wed 1 April 2026: day 30 is Fri 1 May, a working day: no move.
        ("a working last day does not move", "us-tx/attorney-general",
         "2026-04-01T09:00:00-05:00", "2026-05-01"),
        # Day 30 after Wed 4 March 2026 is Fri 3 April, Good Friday: an optional holiday
        # (Gov't Code 662.003(c)), not a legal holiday of 311.014(b): no move.
        ("Good Friday is optional", "us-tx/attorney-general", "2026-03-04T09:00:00-06:00",
         "2026-04-03"),
        # Day 30 after Sun 1 March 2026 is Tue 31 March, Cesar Chavez Day, optional
        # (662.013): no move.
        ("Cesar Chavez Day is optional", "us-tx/attorney-general", "2026-03-01T09:00:00-06:00",
         "2026-03-31"),
        # Day 30 after Wed 3 June 2026 is Fri 3 July; Independence Day falls on Saturday
        # 4 July and 662.003 creates no "observed" Friday: the Friday stands.
        ("no observed Friday", "us-tx/attorney-general", "2026-06-03T09:00:00-05:00",
         "2026-07-03"),
    ],
)
def test_texas_periods_extend_past_weekends_and_holidays(
    why: str, ref: str, determined_at: str, due: str
) -> None:
    result = texas(ref, determined_at)
    assert result.due_at == end_of(due, CHICAGO), why
    assert "311.014" in result.basis.citation


# ------------------------------------------------------------------ the rule itself

RULE = TypeAdapter(DeadlineRule)


def test_roll_forward_is_described_and_validated() -> None:
    rule = RULE.validate_python({"calendar_days": 30, "include_trigger_day": True,
                                 "roll_forward": {"calendar": "JP", "closed": ["12-29"]}})
    assert isinstance(rule, CalendarDaysRule)
    due = due_at(rule, datetime(2026, 6, 1, tzinfo=TOKYO), TOKYO)
    assert due == end_of("2026-06-30", TOKYO)
    assert ("a last day on a weekend, a JP public holiday or a closed day (12-29) moves to the "
            "next day that is none of these") in describe(rule, "aware_at")
    for bad, message in [
        ({"calendar": "XX"}, "no public-holiday calendar for 'XX'"),
        ({"calendar": "JP", "closed": ["12/29"]}, '"MM-DD"'),
        ({"calendar": "JP", "closed": ["02-30"]}, "not a day of the year"),
        ({"calendar": "JP", "closing": ["12-29"]}, "Extra inputs are not permitted"),
    ]:
        with pytest.raises(ValidationError, match=message):
            RULE.validate_python({"calendar_days": 3, "roll_forward": bad})


def test_a_feb_29_closed_day_is_accepted() -> None:
    assert RollForward(calendar="JP", closed=("02-29",)).closed == ("02-29",)


# ------------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2045, 12, 31),
    timezones=st.just(UTC),
)
offsets = st.integers(-12 * 60, 14 * 60).map(lambda minutes: timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(instants, st.booleans())
def test_japanese_due_date_never_falls_on_a_closed_day(aware: datetime, malicious: bool) -> None:
    # Act No. 91 of 1988 Arts. 1(1) and 2: never a weekend, national holiday or year-end day.
    due = japan(aware.isoformat(), malicious=malicious).due_at
    assert due is not None
    last = due.astimezone(TOKYO).date()
    assert is_working_day(last, "JP")
    assert (last.month, last.day) not in YEAR_END
    counted = aware.astimezone(TOKYO).date() + timedelta(days=(60 if malicious else 30) - 1)
    assert last >= counted
    # Every day between the counted last day and the due day is a closed day.
    for n in range((last - counted).days):
        day = counted + timedelta(days=n)
        assert not is_working_day(day, "JP") or (day.month, day.day) in YEAR_END


@settings(max_examples=200, deadline=None)
@given(instants, offsets, offsets)
def test_one_instant_in_two_offsets_gives_one_due_time(
    aware: datetime, first: timedelta, second: timedelta
) -> None:
    one = aware.astimezone(timezone(first)).isoformat()
    other = aware.astimezone(timezone(second)).isoformat()
    due = japan(one).due_at
    assert due is not None and due == japan(other).due_at


def test_date_helpers_agree_with_the_calendar() -> None:
    # Sanity for the hand-worked cases: the days named there are what the text says.
    assert date(2026, 5, 3).weekday() == 6 and date(2027, 1, 4).weekday() == 0
    assert date(2026, 1, 4).weekday() == 6 and date(2026, 4, 21).weekday() == 1
    assert not is_working_day(date(2026, 4, 21), "US-TX")
    assert not is_working_day(date(2026, 6, 19), "US-TX")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def texas_legal_holidays(year: int) -> set[date]:
    """Tex. Gov't Code 662.003(a) national and (b) state holidays, on their own dates, as
    the text lists them (not its optional holidays of (c) and 662.013)."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return {
        date(year, 1, 1), _nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3),
        _nth_weekday(year, 5, 0, -1), date(year, 7, 4), _nth_weekday(year, 9, 0, 1),
        date(year, 11, 11), thanksgiving, date(year, 12, 25),
        date(year, 1, 19), date(year, 3, 2), date(year, 4, 21), date(year, 6, 19),
        date(year, 8, 27), thanksgiving + timedelta(days=1), date(year, 12, 24),
        date(year, 12, 26),
    }


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 10, 31),
                    timezones=st.just(UTC)))
def test_texas_due_date_is_the_first_day_off_none_of_the_statutes_closed_days(
        determined: datetime) -> None:
    # 311.014: day 30 counted from the day after; a Saturday, Sunday or legal holiday
    # (662.003(a), (b)) extends it to the next day that is none of these; nothing else does.
    due = texas("us-tx/attorney-general", determined.isoformat()).due_at
    assert due is not None
    last = due.astimezone(CHICAGO).date()
    counted = determined.astimezone(CHICAGO).date() + timedelta(days=30)

    def closed(day: date) -> bool:
        return day.weekday() >= 5 or day in texas_legal_holidays(day.year)

    assert not closed(last)
    assert all(closed(counted + timedelta(days=n)) for n in range((last - counted).days))
