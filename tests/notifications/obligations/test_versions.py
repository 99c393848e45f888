"""Law versions chosen by instant, in the law's own zone.

Expected results are worked out by hand from the texts and their dates of effect:

* DORA, Regulation (EU) 2022/2554 Art. 64: "It shall apply from 17 January 2025."
  A financial entity established in Germany counts that day on German time.
* California, Civ. Code 1798.82(a) and (f) as amended by SB 446 (Stats. 2025), in force
  1 January 2026: residents within 30 calendar days of discovery; the Attorney General's
  sample copy within 15 calendar days of notifying them. Before: "in the most expedient
  time possible and without unreasonable delay", and no time for the sample copy.
* Texas, Bus. & Com. Code 521.053(i): added by HB 4 (86th Leg., 2019) from 1 January
  2020 with 60 days; SB 768 (88th Leg., 2023) made it 30 days from 1 September 2023.
  Periods counted under Gov't Code 311.014 (first day excluded, a last day on a weekend
  or legal holiday extends to the next day that is none).
* New York, Gen. Bus. Law 899-aa(2) as amended in December 2024 (effective on signature,
  21 December 2024): within 30 days after discovery; before, no fixed limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from notifications.obligations.engine import ObligationResult, compute_obligations, result_to_json
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Regime
from tests.notifications.obligations.samples import facts_data

CATALOGUE = load_regimes()
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")


def end_of(day: str, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


def duty(ref: str, **changes: Any) -> ObligationResult:
    results = compute_obligations(facts_from_json(facts_data(**changes)), CATALOGUE, explain=True)
    return next(r for r in results if r.ref == ref)


# --- DORA: in force from 17 January 2025, on the calendar of the Member State --------------


def dora(aware_at: str) -> ObligationResult:
    return duty("dora/initial", organisation={"country": "DE", "timezone": "Europe/Berlin",
                                              "flags": ["dora_financial_entity"]},
                incident__aware_at=aware_at)


def test_dora_applies_from_midnight_on_17_january_2025_berlin_time() -> None:
    assert dora("2025-01-17T00:00:00+01:00").applies
    before = dora("2025-01-16T23:59:59+01:00")
    assert not before.applies
    assert before.why[0].startswith("dora applies to breaches from 2025-01-17 (Europe/Berlin)")


@pytest.mark.parametrize("written", ["2025-01-17T00:30:00+01:00", "2025-01-16T23:30:00+00:00",
                                     "2025-01-16T18:30:00-05:00", "2025-01-17T08:30:00+09:00"])
def test_one_instant_written_with_any_offset_gets_one_answer(written: str) -> None:
    # 00:30 in Berlin on the 17th: the date as written is the 16th in three of these.
    assert dora(written).applies


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 15), max_value=datetime(2025, 1, 19)),
       st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_the_in_force_answer_never_depends_on_the_offset(instant: datetime, minutes: int) -> None:
    utc = instant.replace(tzinfo=UTC)
    other = utc.astimezone(timezone(timedelta(minutes=minutes)))
    assert dora(utc.isoformat()).applies == dora(other.isoformat()).applies
    assert dora(utc.isoformat()).applies == (utc >= datetime(2025, 1, 16, 23, tzinfo=UTC))


# --- California: SB 446 from 1 January 2026 ----------------------------------------------


def california(discovered_at: str, **incident: Any) -> dict[str, ObligationResult]:
    results = compute_obligations(facts_from_json(facts_data(
        affected={"US-CA": 800},
        incident={"aware_at": discovered_at, "discovered_at": discovered_at, "risk": "high",
                  "data_categories": ["official_id"], **incident})), CATALOGUE, explain=True)
    return {r.ref: r for r in results if r.regime == "us-ca"}


def test_california_breach_discovered_on_new_years_eve_has_no_fixed_limit() -> None:
    old = california("2025-12-31T23:59:00-08:00")["us-ca/individuals"]
    assert old.applies and old.due_at is None
    assert old.version is not None and old.version.startswith("before SB 446")
    assert old.target_at == datetime(2026, 1, 31, 7, 59, tzinfo=UTC)  # our own 30-day target
    assert old.basis is not None and "version: before SB 446" in old.basis.notes[0]


@pytest.mark.parametrize("written", ["2026-01-01T00:00:00-08:00", "2026-01-01T08:00:00+00:00"])
def test_california_breach_discovered_on_1_january_2026_has_30_days(written: str) -> None:
    new = california(written)["us-ca/individuals"]
    assert new.version is not None and new.version.startswith("SB 446")
    # Day 1 is 2 January; day 30 is 31 January 2026.
    assert new.due_at == end_of("2026-01-31", LOS_ANGELES)
    assert result_to_json(new)["version"] == new.version


def test_a_follow_up_takes_the_version_of_the_breach_it_follows() -> None:
    # Discovered in 2025, residents told on 5 January 2026: the sample copy is governed by
    # the wording in force at discovery, which set no time for it.
    met = {"us-ca/individuals": "2026-01-05T10:00:00-08:00"}
    sample = california("2025-12-20T10:00:00-08:00", met=met)["us-ca/attorney-general"]
    assert sample.applies and sample.due_at is None
    assert sample.version is not None and sample.version.startswith("before SB 446")
    later = california("2026-01-02T10:00:00-08:00", met=met)["us-ca/attorney-general"]
    assert later.due_at == end_of("2026-01-20", LOS_ANGELES)  # 15 days after 5 January


# --- Texas: the attorney-general notice, 60 days (2020) then 30 days (SB 768) ---------------


def texas(determined_at: str) -> dict[str, ObligationResult]:
    results = compute_obligations(facts_from_json(facts_data(
        affected={"US-TX": 300},
        incident={"aware_at": determined_at, "breach_determined_at": determined_at,
                  "risk": "high", "data_categories": ["official_id"]})), CATALOGUE, explain=True)
    return {r.ref: r for r in results if r.regime == "us-tx"}


def test_texas_attorney_general_notice_under_hb_4_is_60_days() -> None:
    notice = texas("2023-08-31T12:00:00-05:00")["us-tx/attorney-general"]
    assert notice.version is not None and notice.version.startswith("HB 4")
    # 1 September is day 1; 30 October 2023 (a Monday) is day 60.
    assert notice.due_at == end_of("2023-10-30", CHICAGO)


def test_texas_attorney_general_notice_under_sb_768_is_30_days_rolled_off_a_sunday() -> None:
    notice = texas("2023-09-01T12:00:00-05:00")["us-tx/attorney-general"]
    assert notice.version is not None and notice.version.startswith("SB 768")
    # Day 30 is Sunday 1 October 2023: 311.014(b) extends it to Monday 2 October.
    assert notice.due_at == end_of("2023-10-02", CHICAGO)


def test_texas_had_no_attorney_general_notice_before_2020() -> None:
    duties = texas("2019-12-31T12:00:00-06:00")
    assert not duties["us-tx/attorney-general"].applies
    assert "applies to breaches from 2020-01-01" in duties["us-tx/attorney-general"].why[0]
    individuals = duties["us-tx/individuals"]
    assert individuals.applies and individuals.due_at is None
    assert individuals.version is not None and individuals.version.startswith("before HB 4")


# --- New York: 30 days from 21 December 2024 ---------------------------------------------


def new_york(discovered_at: str, category: str = "financial") -> ObligationResult:
    return duty("us-ny/individuals", affected={"US-NY": 10},
                incident={"aware_at": discovered_at, "discovered_at": discovered_at,
                          "risk": "high", "data_categories": [category]})


def test_new_york_30_days_from_the_december_2024_amendment() -> None:
    before = new_york("2024-12-20T23:00:00-05:00")
    assert before.due_at is None and before.version is not None
    after = new_york("2024-12-21T00:00:00-05:00")
    assert after.due_at == end_of("2025-01-20", NEW_YORK)  # day 30 after 21 December


def test_new_york_covers_medical_information_from_21_march_2025() -> None:
    # A.B. 920 (L. 2025): medical and health insurance information became "private
    # information" (899-aa(1)(b)) from 21 March 2025.
    before = new_york("2025-03-20T23:30:00-04:00", "health")
    assert not before.applies
    assert before.why[0].startswith("under December 2024 wording")
    assert new_york("2025-03-21T00:00:00-04:00", "health").applies
    assert new_york("2025-03-20T23:30:00-04:00", "financial").applies


# --- the schema ----------------------------------------------------------------------------


def regime_with(**obligation: Any) -> Regime:
    return Regime.model_validate({
        "id": "demo", "name": "Demo", "jurisdiction": "EU", "sources": ["https://example.org/law"],
        "applies": {"affected_in": ["EU"]}, "confidence": "low", "reviewed": "2026-11-24",
        "obligations": [{
            "id": "authority", "recipient": "authority", "recipient_name": "The authority",
            "trigger": "aware_at", "deadline": {"hours": 72}, "content": ["what happened"],
            "citation": "Demo Act s. 1", "source": "https://example.org/law#s1", **obligation}]})


def test_earlier_versions_must_be_in_order_and_name_the_current_one() -> None:
    first = {"name": "first", "until": "2020-12-31", "deadline": {"hours": 96}}
    second = {"name": "second", "until": "2022-12-31", "deadline": {"hours": 48}}
    assert len(regime_with(version="third", earlier=[first, second]).obligations[0].earlier) == 2
    with pytest.raises(ValidationError, match="oldest first"):
        regime_with(version="third", earlier=[second, first])
    with pytest.raises(ValidationError, match="names its current one"):
        regime_with(earlier=[first])
    with pytest.raises(ValidationError, match="in_force_until"):
        regime_with(version="third", earlier=[first], in_force_until="2020-06-30")


# --- Washington: 45 days until HB 1071 (1 March 2020), 30 after --------------------------


def washington(discovered_at: str) -> dict[str, ObligationResult]:
    results = compute_obligations(facts_from_json(facts_data(
        affected={"US-WA": 600},
        incident={"aware_at": discovered_at, "discovered_at": discovered_at, "risk": "high",
                  "data_categories": ["official_id"]})), CATALOGUE, explain=True)
    return {r.ref: r for r in results if r.regime == "us-wa"}


def test_washington_45_days_before_hb_1071_and_30_after() -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    before = washington("2020-02-29T12:00:00-08:00")
    # Day 1 is 1 March 2020; day 45 is 14 April.
    assert before["us-wa/individuals"].due_at == end_of("2020-04-14", pacific)
    assert before["us-wa/attorney-general"].due_at == end_of("2020-04-14", pacific)
    after = washington("2020-03-01T12:00:00-08:00")
    assert after["us-wa/individuals"].due_at == end_of("2020-03-31", pacific)
    assert after["us-wa/attorney-general"].due_at == end_of("2020-03-31", pacific)


# --- NIS2: Member States apply it from 18 October 2024 (Art. 41(1)) -----------------------


def test_nis2_applies_from_18_october_2024_in_the_member_state() -> None:
    def nis2(aware_at: str) -> ObligationResult:
        return duty("nis2/early-warning", organisation={"country": "DE", "timezone": "Europe/Berlin",
                                                         "flags": ["nis2_essential"]},
                    incident__aware_at=aware_at)

    assert not nis2("2024-10-17T23:59:00+02:00").applies
    assert nis2("2024-10-17T22:00:00+00:00").applies  # midnight in Berlin


# --- Colorado: 30 days and the Attorney General from HB 18-1128 (1 September 2018) --------


def test_colorado_30_days_and_attorney_general_from_1_september_2018() -> None:
    def colorado(determined_at: str) -> dict[str, ObligationResult]:
        results = compute_obligations(facts_from_json(facts_data(
            affected={"US-CO": 600},
            incident={"aware_at": determined_at, "breach_determined_at": determined_at,
                      "risk": "high", "data_categories": ["official_id"]})), CATALOGUE,
            explain=True)
        return {r.ref: r for r in results if r.regime == "us-co"}

    before = colorado("2018-08-31T12:00:00-06:00")
    assert before["us-co/individuals"].applies and before["us-co/individuals"].due_at is None
    assert not before["us-co/attorney-general"].applies
    after = colorado("2018-09-01T12:00:00-06:00")
    # Day 1 is 2 September; day 30 is Monday 1 October 2018.
    denver = ZoneInfo("America/Denver")
    assert after["us-co/individuals"].due_at == end_of("2018-10-01", denver)
    assert after["us-co/attorney-general"].due_at == end_of("2018-10-01", denver)
