"""Each regime's periods counted as its own law, or its jurisdiction's general rule on
computing time, counts them.

Every expected instant below is worked out by hand from the text cited next to it and a
printed calendar, not from the engine. The readings, with their confidence, are in each
obligation's notes in notifications/regimes/*.yaml:

* Colorado, C.R.S. 2-4-108: "(1) In computing a period of days, the first day is excluded
  and the last day is included. (2) If the last day of any period is a Saturday, Sunday,
  or legal holiday, the period is extended to include the next day which is not a
  Saturday, Sunday, or legal holiday." Legal holidays: C.R.S. 24-11-101(1); a holiday on a
  Sunday is kept on the Monday (24-11-101(2)); Cesar Chavez Day is only an optional day
  off for state employees (24-11-112).
* Washington, RCW 1.12.040: the first day excluded, the last included "unless the last
  day is a holiday, Saturday, or Sunday, and then it is also excluded". Holidays: RCW
  1.16.050, a Sunday holiday kept on the Monday and a Saturday holiday on the Friday.
* Australia, Acts Interpretation Act 1901 s. 36(2): a last day on a Saturday, Sunday or
  holiday moves to the next day that is none of these (national holidays only here).
* Periods with no general rule that moves them (HIPAA, FTC, Florida, Singapore's
  "calendar days" as read here) keep a last day on a weekend; periods in hours are
  elapsed time (Regulation (EEC, Euratom) No 1182/71 Art. 3(4) moves only periods
  "expressed otherwise than in hours").
* Business days: Brazil (Res. CD/ANPD 15/2024 Art. 6, national holidays) and the SEC
  (Form 8-K General Instruction B.1; Exchange Act Rules 0-2(a), 0-3(a)).
* DORA: Delegated Regulation (EU) 2025/301 Art. 5(4)-(5): a report due on a weekend or
  bank holiday may be filed by noon of the next working day; the listed entities lose
  that relief only for the initial notification and intermediate report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.obligations.deadlines import is_working_day
from notifications.obligations.due_times import DueTimes, due_times
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from tests.notifications.obligations.samples import facts_data

CATALOGUE = load_regimes()
DENVER = ZoneInfo("America/Denver")
PACIFIC = ZoneInfo("America/Los_Angeles")
SYDNEY = ZoneInfo("Australia/Sydney")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SINGAPORE = ZoneInfo("Asia/Singapore")

US_ORG = {"country": "US", "timezone": "America/Chicago", "flags": []}


def end_of(day: str, tz: ZoneInfo) -> datetime:
    """The last instant of local `day` (23:59:59.999999), as the engine represents it."""
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


def at(instant: str) -> datetime:
    return datetime.fromisoformat(instant)


def timing(ref: str, **changes: Any) -> DueTimes:
    found = CATALOGUE.obligation(ref)
    assert found is not None, ref
    regime, obligation = found
    return due_times(regime, obligation, facts_from_json(facts_data(**changes)))


def duty(ref: str, **changes: Any) -> ObligationResult:
    """The engine's full result (applicability and law version chosen) for one duty."""
    results = compute_obligations(facts_from_json(facts_data(**changes)), CATALOGUE, explain=True)
    return next(r for r in results if r.ref == ref)


# ---------------------------------------------------------------- the law's calendars
# Independent of the holidays package: the days each statute names, for checking.


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday 0) of the month; n = -1 for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def colorado_legal_holidays(year: int) -> set[date]:
    """C.R.S. 24-11-101(1), with (2): a holiday on a Sunday is kept on the Monday."""
    named = {
        date(year, 1, 1),                # New Year's day
        nth_weekday(year, 1, 0, 3),      # Dr. Martin Luther King, Jr.
        nth_weekday(year, 2, 0, 3),      # Washington-Lincoln day
        nth_weekday(year, 5, 0, -1),     # Memorial day
        date(year, 6, 19),               # Juneteenth
        date(year, 7, 4),                # Independence day
        nth_weekday(year, 9, 0, 1),      # Labor day
        nth_weekday(year, 10, 0, 1),     # Frances Xavier Cabrini day
        date(year, 11, 11),              # Veterans' day
        nth_weekday(year, 11, 3, 4),     # Thanksgiving day
        date(year, 12, 25),              # Christmas day
    }
    return named | {day + timedelta(days=1) for day in named if day.weekday() == 6}


def washington_legal_holidays(year: int) -> set[date]:
    """RCW 1.16.050(1): a Sunday holiday is kept on the Monday, a Saturday one on the Friday."""
    thanksgiving = nth_weekday(year, 11, 3, 4)
    named = {
        date(year, 1, 1), nth_weekday(year, 1, 0, 3), nth_weekday(year, 2, 0, 3),
        nth_weekday(year, 5, 0, -1), date(year, 6, 19), date(year, 7, 4),
        nth_weekday(year, 9, 0, 1), date(year, 11, 11), thanksgiving,
        thanksgiving + timedelta(days=1),  # Native American heritage day
        date(year, 12, 25), date(year + 1, 1, 1),  # next New Year on a Saturday: 31 Dec
    }
    moved = {day + timedelta(days=1) for day in named if day.weekday() == 6}
    moved |= {day - timedelta(days=1) for day in named if day.weekday() == 5}
    return {day for day in named | moved if day.year == year}


def closed_in_colorado(day: date) -> bool:
    return day.weekday() >= 5 or day in colorado_legal_holidays(day.year)


def closed_in_washington(day: date) -> bool:
    return day.weekday() >= 5 or day in washington_legal_holidays(day.year)


# -------------------------------------------------------------------------- Colorado


def colorado(ref: str, determined_at: str) -> DueTimes:
    return timing(ref, organisation=US_ORG, affected={"US-CO": 600},
                  incident__breach_determined_at=determined_at,
                  incident__data_categories=["official_id"])


@pytest.mark.parametrize(
    ("why", "determined_at", "due"),
    [
        # 6-1-716(2)(a), 30 days; 2-4-108(1): determined Thu 2 April 2026, day 30 is
        # Sat 2 May; 2-4-108(2): Mon 4 May.
        ("30th day a Saturday", "2026-04-02T15:00:00-06:00", "2026-05-04"),
        # Determined Sat 5 September 2026: day 30 is Mon 5 October, Frances Xavier
        # Cabrini day (24-11-101(1)): Tue 6 October.
        ("30th day on Cabrini day", "2026-09-05T10:00:00-06:00", "2026-10-06"),
        # Determined Sun 1 March 2026: day 30 is Tue 31 March, Cesar Chavez day, not a
        # legal holiday under 24-11-101 (24-11-112 makes it optional): no move.
        ("Cesar Chavez day is a working day", "2026-03-01T10:00:00-07:00", "2026-03-31"),
        # Determined Wed 3 June 2026: day 30 is Fri 3 July. 4 July falls on a Saturday,
        # and 24-11-101(2) moves only Sunday holidays: the Friday is a working day.
        ("the Friday before a Saturday holiday", "2026-06-03T10:00:00-06:00", "2026-07-03"),
        # Determined Wed 20 May 2026: day 30 is Fri 19 June, Juneteenth: Mon 22 June.
        ("30th day on Juneteenth", "2026-05-20T10:00:00-06:00", "2026-06-22"),
        # Christmas 2033 is a Sunday, kept on Mon 26 December (24-11-101(2)). Determined
        # Sat 26 November 2033: day 30 is Mon 26 December: Tue 27 December.
        ("Sunday holiday kept on the Monday", "2033-11-26T10:00:00-07:00", "2033-12-27"),
        # Determined Wed 1 April 2026: day 30 is Fri 1 May, a working day.
        ("working last day", "2026-04-01T10:00:00-06:00", "2026-05-01"),
    ],
)
@pytest.mark.parametrize("ref", ["us-co/individuals", "us-co/attorney-general"])
def test_colorado_periods_follow_crs_2_4_108(why: str, determined_at: str, due: str, ref: str) -> None:
    assert colorado(ref, determined_at).due_at == end_of(due, DENVER), why


def test_colorado_rule_says_what_it_skips() -> None:
    result = colorado("us-co/individuals", "2026-04-02T15:00:00-06:00")
    assert "not counting 03-31" in result.basis.rule
    assert any("Sat 2026-05-02 is not a working day in US-CO" in note for note in result.basis.notes)


# ------------------------------------------------------------------------ Washington


def washington(ref: str, discovered_at: str) -> ObligationResult:
    return duty(ref, affected={"US-WA": 600},
                incident={"aware_at": discovered_at, "discovered_at": discovered_at,
                          "risk": "high", "data_categories": ["official_id"]})


@pytest.mark.parametrize(
    ("why", "discovered_at", "due"),
    [
        # RCW 19.255.010(8), 30 calendar days; RCW 1.12.040: discovered Fri 27 March
        # 2026, day 30 is Sun 26 April, excluded: Mon 27 April.
        ("30th day a Sunday", "2026-03-27T02:00:00-07:00", "2026-04-27"),
        # Discovered Wed 28 October 2026: day 30 is Fri 27 November, Native American
        # heritage day (RCW 1.16.050), then a weekend: Mon 30 November.
        ("Native American heritage day", "2026-10-28T09:00:00-07:00", "2026-11-30"),
        # Discovered Wed 3 June 2026: day 30 is Fri 3 July, the legal holiday for
        # 4 July on a Saturday (RCW 1.16.050), then a weekend: Mon 6 July.
        ("Friday kept for a Saturday holiday", "2026-06-03T09:00:00-07:00", "2026-07-06"),
        # Discovered Wed 1 April 2026: day 30 is Fri 1 May, a working day.
        ("working last day", "2026-04-01T09:00:00-07:00", "2026-05-01"),
        # Before HB 1071 (until 29 February 2020), 45 calendar days: discovered Thu
        # 6 February 2020, day 45 is Sun 22 March: Mon 23 March.
        ("45 days before 1 March 2020", "2020-02-06T09:00:00-08:00", "2020-03-23"),
    ],
)
@pytest.mark.parametrize("ref", ["us-wa/individuals", "us-wa/attorney-general"])
def test_washington_periods_follow_rcw_1_12_040(why: str, discovered_at: str, due: str, ref: str) -> None:
    assert washington(ref, discovered_at).due_at == end_of(due, PACIFIC), why


# ------------------------------------------------------------------------- Australia


def australia(aware_at: str) -> DueTimes:
    return timing("au-ndb/assessment", organisation={"country": "AU", "timezone": "Australia/Sydney",
                                                     "flags": []},
                  affected={"AU": 100}, incident__aware_at=aware_at)


@pytest.mark.parametrize(
    ("why", "aware_at", "due"),
    [
        # s. 26WH(2), 30 days after awareness; s. 36(1) item 6: aware Wed 4 March 2026,
        # day 30 is Fri 3 April, Good Friday; s. 36(2): Sat, Sun, Easter Monday: Tue 7 April.
        ("Easter", "2026-03-04T10:00:00+11:00", "2026-04-07"),
        # Aware Thu 2 April 2026: day 30 is Sat 2 May: Mon 4 May.
        ("30th day a Saturday", "2026-04-02T10:00:00+11:00", "2026-05-04"),
        # Aware Wed 1 April 2026: day 30 is Fri 1 May, a working day.
        ("working last day", "2026-04-01T10:00:00+11:00", "2026-05-01"),
    ],
)
def test_australian_assessment_follows_acts_interpretation_act_s36(why: str, aware_at: str, due: str) -> None:
    assert australia(aware_at).due_at == end_of(due, SYDNEY), why


# ---------------------------------------------------- periods that keep a weekend end


def test_hipaa_60_calendar_days_keep_a_saturday() -> None:
    # 45 CFR 164.404(b): discovered Tue 2 June 2026, day 60 is Sat 1 August; no rule moves it.
    org = {"country": "US", "timezone": "America/New_York", "flags": ["hipaa_covered_entity"]}
    result = timing("hipaa/individuals", organisation=org, affected={"US-NY": 10},
                    incident__discovered_at="2026-06-02T09:00:00-04:00")
    assert result.due_at == end_of("2026-08-01", NEW_YORK)


def test_hipaa_annual_log_is_due_60_days_after_the_year_end() -> None:
    # 45 CFR 164.408(c): discovered in 2027; 2028 is a leap year, so day 60 is 29 February.
    org = {"country": "US", "timezone": "America/New_York", "flags": ["hipaa_covered_entity"]}
    result = timing("hipaa/hhs", organisation=org, affected={"US-NY": 10},
                    incident__discovered_at="2027-05-01T09:00:00-04:00")
    assert result.due_at == end_of("2028-02-29", NEW_YORK)


def test_ftc_30_days_keep_a_saturday() -> None:
    # 16 CFR 314.4(j): discovered Thu 1 October 2026, day 30 is Sat 31 October.
    org = {"country": "US", "timezone": "America/New_York", "flags": ["ftc_financial_institution"]}
    result = timing("us-ftc/ftc", organisation=org, affected={"US-NY": 600},
                    incident__discovered_at="2026-10-01T09:00:00-04:00")
    assert result.due_at == end_of("2026-10-31", NEW_YORK)


def test_florida_30_days_keep_a_saturday() -> None:
    # Fla. Stat. 501.171(4)(a): determined Thu 2 April 2026, day 30 is Sat 2 May; no
    # Florida statute moves it (Rule 2.514 is a court rule): not extended.
    result = timing("us-fl/individuals", organisation=US_ORG, affected={"US-FL": 600},
                    incident__breach_determined_at="2026-04-02T15:00:00-04:00")
    assert result.due_at == end_of("2026-05-02", NEW_YORK)


def test_singapore_3_calendar_days_count_a_public_holiday() -> None:
    # PDPA s. 26D(1): assessed Thu 6 August 2026; day 3 is Sun 9 August, National Day.
    # Interpretation Act s. 50(b) is not applied (see the obligation's note).
    result = timing("sg-pdpa/commission", organisation={"country": "SG", "timezone": "Asia/Singapore",
                                                        "flags": []},
                    affected={"SG": 600}, incident__assessment_completed_at="2026-08-06T18:00:00+08:00")
    assert result.due_at == end_of("2026-08-09", SINGAPORE)


# ------------------------------------------------------------------- periods in hours


@pytest.mark.parametrize(
    ("ref", "changes", "due"),
    [
        # GDPR Art. 33(1): aware Fri 25 December 2026 16:30 Berlin; 72 elapsed hours run
        # through Christmas and the weekend: Mon 28 December 16:30.
        ("gdpr/authority", {"incident__aware_at": "2026-12-25T16:30:00+01:00"}, "2026-12-28T16:30:00+01:00"),
        # Aware Sat 28 March 2026 10:00 CET; clocks go forward on Sunday 29 March:
        # 259,200 s later is Tue 31 March 11:00 CEST.
        ("gdpr/authority", {"incident__aware_at": "2026-03-28T10:00:00+01:00"}, "2026-03-31T11:00:00+02:00"),
        # 12 CFR 53.3: determined Fri 3 July 2026 20:00 New York, a federal holiday
        # weekend: 36 hours is Sun 5 July 08:00.
        ("us-bank/regulator", {"organisation": {**US_ORG, "flags": ["us_banking_organization"]},
                               "incident__breach_determined_at": "2026-07-03T20:00:00-04:00"},
         "2026-07-05T08:00:00-04:00"),
        # 23 NYCRR 500.17(a)(1): determined Sat 4 July 2026 09:00: Tue 7 July 09:00.
        ("us-nydfs/superintendent", {"organisation": {**US_ORG, "flags": ["nydfs_covered_entity"]},
                                     "incident__breach_determined_at": "2026-07-04T09:00:00-04:00"},
         "2026-07-07T09:00:00-04:00"),
    ],
)
def test_hours_are_elapsed_time(ref: str, changes: dict[str, Any], due: str) -> None:
    assert timing(ref, **changes).due_at == at(due)


# ------------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("aware_at", "due"),
    [
        # Res. CD/ANPD 15/2024 Art. 6: aware Thu 16 April 2026; business days Fri 17,
        # Mon 20, (Tue 21 Tiradentes skipped), Wed 22: due Wed 22 April.
        ("2026-04-16T10:00:00-03:00", "2026-04-22"),
        # Carnival (16-17 February 2026) is a federal optional day, not a holiday:
        # aware Fri 13 February, days Mon 16, Tue 17, Wed 18.
        ("2026-02-13T10:00:00-03:00", "2026-02-18"),
    ],
)
def test_brazil_counts_national_business_days(aware_at: str, due: str) -> None:
    org = {"country": "BR", "timezone": "America/Sao_Paulo", "flags": []}
    result = timing("br-lgpd/anpd", organisation=org, affected={"BR": 100}, incident__aware_at=aware_at)
    assert result.due_at == end_of(due, SAO_PAULO)


def test_form_8k_event_on_a_holiday_weekend_starts_on_the_next_business_day() -> None:
    # General Instruction B.1: determined Sat 4 July 2026 (Independence Day; Fri 3 July is
    # the federal holiday): the four business days begin on, and include, Mon 6 July:
    # Mon 6, Tue 7, Wed 8, Thu 9; filed by 17:30 Eastern (17 CFR 232.13(a)(2)).
    org = {**US_ORG, "flags": ["sec_registrant"]}
    result = timing("sec-8k/form-8k", organisation=org,
                    incident__materiality_determined_at="2026-07-04T11:00:00-04:00")
    assert result.due_at == at("2026-07-09T17:30:00-04:00")


# ----------------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2023, 1, 1),
    max_value=datetime(2045, 12, 1),
    timezones=st.just(UTC),
)
offsets = st.integers(-12 * 60, 14 * 60).map(lambda minutes: timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(instants)
def test_colorado_due_day_is_never_a_saturday_sunday_or_legal_holiday(determined: datetime) -> None:
    # C.R.S. 2-4-108(2), checked against 24-11-101 written out above, not the holidays package.
    due = colorado("us-co/attorney-general", determined.isoformat()).due_at
    assert due is not None
    last = due.astimezone(DENVER).date()
    counted = determined.astimezone(DENVER).date() + timedelta(days=30)
    assert not closed_in_colorado(last)
    assert last >= counted
    assert all(closed_in_colorado(counted + timedelta(days=n)) for n in range((last - counted).days))


@settings(max_examples=200, deadline=None)
@given(instants)
def test_washington_due_day_is_never_a_saturday_sunday_or_legal_holiday(discovered: datetime) -> None:
    # RCW 1.12.040, checked against RCW 1.16.050 written out above.
    result = timing("us-wa/individuals", organisation=US_ORG, affected={"US-WA": 600},
                    incident__discovered_at=discovered.isoformat())
    assert result.due_at is not None
    last = result.due_at.astimezone(PACIFIC).date()
    counted = discovered.astimezone(PACIFIC).date() + timedelta(days=30)
    assert not closed_in_washington(last)
    assert all(closed_in_washington(counted + timedelta(days=n)) for n in range((last - counted).days))


@settings(max_examples=200, deadline=None)
@given(instants)
def test_australian_assessment_never_ends_on_a_weekend_or_national_holiday(aware: datetime) -> None:
    # Acts Interpretation Act 1901 s. 36(2).
    due = australia(aware.isoformat()).due_at
    assert due is not None
    last = due.astimezone(SYDNEY).date()
    assert is_working_day(last, "AU")
    assert last >= aware.astimezone(SYDNEY).date() + timedelta(days=30)


ONE_ANSWER = [
    ("us-co/individuals", lambda when: {"organisation": US_ORG, "incident__breach_determined_at": when}),
    ("us-wa/attorney-general", lambda when: {"organisation": US_ORG, "incident__discovered_at": when}),
    ("au-ndb/assessment", lambda when: {"organisation": {"country": "AU", "timezone": "Australia/Perth",
                                                          "flags": []}, "incident__aware_at": when}),
    ("br-lgpd/anpd", lambda when: {"incident__aware_at": when}),
    ("sg-pdpa/commission", lambda when: {"incident__assessment_completed_at": when}),
    ("gdpr/authority", lambda when: {"incident__aware_at": when}),
    ("hipaa/hhs", lambda when: {"organisation": US_ORG, "incident__discovered_at": when}),
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ONE_ANSWER), instants, offsets, offsets)
def test_one_instant_in_two_offsets_gives_one_due_time(
    case: tuple[str, Any], when: datetime, first: timedelta, second: timedelta
) -> None:
    ref, changes = case
    one = timing(ref, **changes(when.astimezone(timezone(first)).isoformat())).due_at
    other = timing(ref, **changes(when.astimezone(timezone(second)).isoformat())).due_at
    assert one is not None and one == other


def test_the_hand_calendars_agree_with_the_days_named_in_the_cases() -> None:
    # Sanity for the cases above: weekdays and holidays as the texts name them.
    assert date(2026, 5, 2).weekday() == 5 and date(2026, 10, 5) in colorado_legal_holidays(2026)
    assert date(2026, 3, 31) not in colorado_legal_holidays(2026)
    assert date(2026, 7, 3) not in colorado_legal_holidays(2026)
    assert date(2033, 12, 26) in colorado_legal_holidays(2033)
    assert date(2026, 7, 3) in washington_legal_holidays(2026)
    assert date(2026, 11, 27) in washington_legal_holidays(2026)
    assert date(2027, 12, 31) in washington_legal_holidays(2027)  # 1 January 2028 is a Saturday
    assert date(2026, 8, 1).weekday() == 5 and date(2026, 8, 9).weekday() == 6


def test_not_holidays_are_validated_like_closed_days() -> None:
    from pydantic import ValidationError

    from notifications.obligations.deadlines import RollForward

    assert RollForward(calendar="US-CO", not_holidays=("03-31",)).is_open(date(2026, 3, 31))
    # A listed day on a weekend is still a weekend day: 31 March 2029 is a Saturday.
    assert not RollForward(calendar="US-CO", not_holidays=("03-31",)).is_open(date(2029, 3, 31))
    with pytest.raises(ValidationError, match='"MM-DD"'):
        RollForward(calendar="US-CO", not_holidays=("3/31",))


def test_dora_final_report_relief_reaches_credit_institutions() -> None:
    # Delegated Regulation (EU) 2025/301 Art. 5(4)-(5): the relief is withheld from the
    # listed entities only for the initial notification and intermediate report. Latest
    # intermediate report Fri 3 April 2026; one month later is Sun 3 May (Art. 5(c);
    # Regulation 1182/71 Art. 3(2)(c)): a bank may file by Mon 4 May 12:00 Berlin time.
    bank = {"country": "DE", "timezone": "Europe/Berlin", "flags": ["dora_financial_entity"],
            "entity_type": "credit_institution"}
    result = timing("dora/final", organisation=bank,
                    incident__met={"dora/initial": "2026-04-01T13:00:00+02:00",
                                   "dora/intermediate": "2026-04-03T11:00:00+02:00"})
    assert result.due_at == at("2026-05-04T12:00:00+02:00")
