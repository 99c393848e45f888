"""US state laws' notices to the nationwide consumer reporting agencies, each as its statute words
it: how many people must be notified before the agencies are told, and by when.

Every expected instant and count below is worked out by hand from the text cited next to it and a
printed calendar, not from the engine. Where a provision was read in a summary rather than in the
statute, the regime file says so (and gives its confidence); the threshold tested is the one the
file states:

* Alabama, Ala. Code 8-38-7 (official text): "more than 1,000 individuals at a single time",
  "without unreasonable delay".
* Arizona, A.R.S. 18-552(B)(2) (summaries): "more than 1,000 individuals", within the same 45
  days after the determination as the residents' notice.
* Minnesota, Minn. Stat. 325E.61, subd. 2 (read): "more than 500 persons at one time", "within 48
  hours".
* New Mexico, NMSA 57-12C-10 (read): "more than one thousand New Mexico residents", "no later
  than forty-five calendar days".
* Rhode Island, R.I. Gen. Laws 11-49.3-4(a)(2) (read): "more than five hundred (500) Rhode Island
  residents".
* Indiana, IC 24-4.9-3-1(b) (read): "more than one thousand (1,000) consumers".
* New York, N.Y. Gen. Bus. Law 899-aa(8)(b) (summaries): "more than five thousand New York
  residents".
* Texas, Tex. Bus. & Com. Code 521.053(h) (summaries): "more than 10,000 persons"; Hawaii, HRS
  487N-2(f) and New Hampshire, RSA 359-C:20, VI: their notices go to every affected person, so
  every one of them counts.
* Pennsylvania, 73 P.S. 2305 (summaries): "500 or more persons" since Act 33 of 2024, "more than
  1,000" before.
* Georgia (10,000) and Wisconsin (1,000 or more) are tested with their other duties.
"""

from __future__ import annotations

from typing import Any

import pytest

from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.state_laws import REGIMES, at, no_harm, state_results

DISCOVERED = "2026-05-04T09:00:00-05:00"
"""Monday 4 May 2026, 09:00 Central Daylight Time (14:00 UTC)."""


def agencies(state: str, affected: dict[str, int], **incident: Any) -> ObligationResult:
    """The duty to the agencies under `state`'s law: a breach of every data category found on
    4 May 2026 (discovered and determined then) by the owner of the data."""
    moments = {"discovered_at": DISCOVERED, "breach_determined_at": DISCOVERED, **incident}
    results = state_results(affected, aware_at="2026-05-01T10:00:00-05:00",
                            timezone="America/Chicago", **moments)
    return results[f"us-{state}/consumer-reporting-agencies"]


@pytest.mark.parametrize(("state", "below", "above", "citation"), [
    ("ak", 1000, 1001, "AS 45.48.040(a)"),
    ("al", 1000, 1001, "Ala. Code 8-38-7"),
    ("az", 1000, 1001, "A.R.S. 18-552(B)(2)"),
    ("co", 1000, 1001, "C.R.S. 6-1-716(2)(d)"),
    ("dc", 1000, 1001, "D.C. Code 28-3852(c)"),
    ("fl", 1000, 1001, "Fla. Stat. 501.171(5)"),
    ("in", 1000, 1001, "IC 24-4.9-3-1(b)"),
    ("ks", 1000, 1001, "K.S.A. 50-7a02(f)"),
    ("ky", 1000, 1001, "KRS 365.732(7)"),
    ("md", 999, 1000, "Md. Code Com. Law 14-3506"),
    ("me", 1000, 1001, "10 M.R.S. 1348(4)"),
    ("mi", 1000, 1001, "MCL 445.72(8)"),
    ("mn", 500, 501, "Minn. Stat. 325E.61, subd. 2"),
    ("mo", 1000, 1001, "Mo. Rev. Stat. 407.1500.2(8)"),
    ("nc", 1000, 1001, "N.C.G.S. 75-65(f)"),
    ("nj", 1000, 1001, "N.J.S.A. 56:8-163(f)"),
    ("nm", 1000, 1001, "NMSA 57-12C-10"),
    ("nv", 1000, 1001, "NRS 603A.220(6)"),
    ("ny", 5000, 5001, "N.Y. Gen. Bus. Law 899-aa(8)(b)"),
    ("oh", 1000, 1001, "O.R.C. 1349.19(G)"),
    ("or", 1000, 1001, "ORS 646A.604"),
    ("ri", 500, 501, "R.I. Gen. Laws 11-49.3-4(a)(2)"),
    ("sc", 1000, 1001, "S.C. Code 39-1-90(D)"),
    ("tn", 1000, 1001, "Tenn. Code 47-18-2107(f)"),
    ("ut", 999, 1000, "Utah Code 13-44-202"),
    ("va", 1000, 1001, "Va. Code 18.2-186.6(E)"),
    ("vt", 1000, 1001, "9 V.S.A. 2435(c)"),
    ("wv", 1000, 1001, "W. Va. Code 46A-2A-102(f)"),
])
def test_the_agencies_are_told_only_above_the_state_s_number_of_its_residents(
        state: str, below: int, above: int, citation: str) -> None:
    code = f"US-{state.upper()}"
    # Residents of other states do not count toward this state's number.
    short = agencies(state, {code: below, "US-IA": 50_000})
    assert not short.applies
    told = agencies(state, {code: above})
    assert told.applies and told.recipient == "consumer_reporting_agencies"
    assert told.basis is not None and told.basis.citation.startswith(citation)


def test_alabama_8_38_7_without_unreasonable_delay_has_no_legal_due_time() -> None:
    # "Without unreasonable delay": no number of days; only our target, 30 days (720 hours)
    # after the determination at 09:00 Central on 4 May: 3 June, 09:00.
    told = agencies("al", {"US-AL": 1001})
    assert told.due_at is None and told.target_at == at("2026-06-03T09:00:00-05:00")


def test_minnesota_325e_61_subd_2_within_48_hours() -> None:
    # "Within 48 hours": elapsed hours from the discovery at 09:00 Central on 4 May.
    told = agencies("mn", {"US-MN": 501})
    assert told.due_at == at("2026-05-06T09:00:00-05:00")


def test_new_mexico_57_12c_10_no_later_than_45_calendar_days() -> None:
    # 45 calendar days after discovery on 4 May 2026 (day excluded): Thursday 18 June, a working
    # day, to the end of the day in Mountain Daylight Time.
    told = agencies("nm", {"US-NM": 1001})
    assert told.due_at == at("2026-06-18T23:59:59.999999-06:00")


def test_arizona_18_552_b_within_the_same_45_days_as_the_residents() -> None:
    # 45 days after the determination on 4 May 2026: 18 June, end of day in Arizona (MST).
    told = agencies("az", {"US-AZ": 1001})
    assert told.due_at == at("2026-06-18T23:59:59.999999-07:00")


@pytest.mark.parametrize(("state", "below", "above"), [
    ("hi", 1000, 1001),    # HRS 487N-2(f): "more than one thousand persons are notified at one time"
    ("nh", 1000, 1001),    # RSA 359-C:20, VI: "more than 1,000 consumers"
    ("tx", 10_000, 10_001),  # 521.053(h): "more than 10,000 persons"
])
def test_where_the_notice_goes_to_everyone_everyone_counts(state: str, below: int,
                                                           above: int) -> None:
    code = f"US-{state.upper()}"
    assert not agencies(state, {code: 1, "US-IA": below - 1}).applies
    assert agencies(state, {code: 1, "US-IA": above - 1}).applies


def test_pennsylvania_2305_500_since_act_33_of_2024_more_than_1000_before() -> None:
    # Act 33 of 2024, in force 26 September 2024: "500 or more persons at one time"; a breach
    # determined before that day is governed by the earlier "more than 1,000".
    assert agencies("pa", {"US-PA": 500}).applies
    assert not agencies("pa", {"US-PA": 499}).applies
    before: dict[str, Any] = {"discovered_at": "2024-05-06T09:00:00-04:00",
                              "breach_determined_at": "2024-05-06T09:00:00-04:00"}
    results = state_results({"US-PA": 1000}, aware_at="2024-05-03T10:00:00-04:00",
                            timezone="America/New_York", **before)
    assert not results["us-pa/consumer-reporting-agencies"].applies
    results = state_results({"US-PA": 1001}, aware_at="2024-05-03T10:00:00-04:00",
                            timezone="America/New_York", **before)
    assert results["us-pa/consumer-reporting-agencies"].applies


def test_no_notice_to_residents_means_none_to_the_agencies() -> None:
    # Ala. Code 8-38-7: "circumstances requiring notice under Section 8-38-5": 8-38-5(a) asks
    # none where the breach is not reasonably likely to cause substantial harm.
    calm = agencies("al", {"US-AL": 5000}, **no_harm("2026-05-05T09:00:00-05:00"))
    assert not calm.applies
    assert calm.why == ("arises only with us-al/individuals, which does not apply",)
    # A service provider that maintains the data tells the owner, not the agencies.
    results = state_results({"US-MN": 900}, aware_at="2026-05-01T10:00:00-05:00",
                            timezone="America/Chicago", roles=["service_provider"],
                            discovered_at=DISCOVERED)
    assert not results["us-mn/consumer-reporting-agencies"].applies


def test_every_duty_to_the_agencies_says_where_it_was_read_and_how_sure_we_are() -> None:
    duties = [(regime, duty) for regime in REGIMES for duty in regime.obligations
              if duty.recipient == "consumer_reporting_agencies"]
    assert len(duties) >= 30
    for regime, duty in duties:
        assert duty.arises_with == f"{regime.id}/individuals", duty.id
        assert duty.confidence in ("high", "medium", "low") and duty.notes, regime.id
        assert any("read" in note for note in duty.notes), regime.id
