"""US state breach-notification laws, Oregon to Vermont: each duty as its statute words it.

Every expected instant and count below is worked out by hand from the text cited next to it
and a printed calendar, not from the engine. Day counts exclude the day of the trigger and end
at the end of the last local day; none of these states' rules moving a last day off a weekend
was read, so none is moved (see each regime's notes):

* Oregon, ORS 646A.604(3)(a): notice "not later than 45 days after discovering or receiving
  notification of the breach"; (1)(b): the Attorney General too if the consumers to be notified
  "exceeds 250"; (2)(a): a vendor tells the covered entity "not later than 10 days after
  discovering the breach"; (2)(c): and the Attorney General if "more than 250 consumers".
* Pennsylvania, 73 P.S. 2303(a): notice "without unreasonable delay" (no fixed period);
  2303(c.1) (Act 33 of 2024, from 26 September 2024): the Office of Attorney General
  "concurrently" when notice "must be given to more than 500 affected individuals in this
  Commonwealth".
* Rhode Island, R.I. Gen. Laws 11-49.3-4(a)(2)(ii): "no later than forty-five (45) calendar days
  after confirmation of the breach"; the attorney general when "more than five hundred (500)
  Rhode Island residents are to be notified".
* South Carolina, S.C. Code 39-1-90(A): "in the most expedient time possible and without
  unreasonable delay"; (B): a person maintaining data it does not own tells the owner
  "immediately following discovery".
* South Dakota, SDCL 22-40-20: "not later than sixty days from the discovery"; the attorney
  general for a breach that "exceeds two hundred fifty residents"; no disclosure to residents
  after "notice to the attorney general" and a determination that harm is not likely.
* Tennessee, Tenn. Code 47-18-2107(b) as amended by S.B. 2005 (from 1 July 2016):
  "immediately, but no later than forty-five (45) days from the discovery".
* Utah, Utah Code 13-44-202(1): a prompt investigation on becoming aware of a breach, and
  notice "to each affected Utah resident" only if misuse "has occurred, or is reasonably likely
  to occur"; (2): "in the most expedient time possible without unreasonable delay"; the
  Attorney General and the Utah Cyber Center for 500 or more residents (S.B. 127, 2023, read in
  summaries).
* Vermont, 9 V.S.A. 2435(b)(1): "not later than 45 days after the discovery"; (b)(3)(A)(i): the
  Attorney General "within 14 business days" of discovery; legal holidays: 1 V.S.A. 371(a)
  (Town Meeting Day, "the first Tuesday in March").
* Virginia, Va. Code 18.2-186.6 (duty read in summaries; definitions in (A) read): disclosure
  "to the Office of the Attorney General and any affected resident of the Commonwealth without
  unreasonable delay", whatever their number; the Attorney General again, with the timing,
  distribution and content of the notices, above 1,000 persons.
* West Virginia, W. Va. Code 46A-2A-102(a): notice "without unreasonable delay" for a breach that
  "causes, or the individual or entity reasonably believes has caused or will cause, identity
  theft or other fraud"; (c): a maintainer tells the owner "as soon as practicable".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from tests.notifications.obligations.samples import facts_data

CATALOGUE = load_regimes()
PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
US_ORG = {"country": "US", "timezone": "America/Chicago", "flags": []}
VENDOR = {"country": "US", "timezone": "America/Chicago", "flags": [],
          "roles": ["service_provider"]}
PEOPLE = {"US-OR": 4, "US-PA": 3, "US-RI": 2, "US-SC": 5, "US-SD": 1, "US-TN": 6, "US-UT": 2,
          "US-VT": 7, "US-VA": 3, "US-WV": 2, "US-WA": 8, "DE": 9, "": 1}
"""53 people: one group in each state tested here, and others who live elsewhere or whose
residence is not known."""


def end_of(day: str, tz: ZoneInfo) -> datetime:
    """The last instant of local `day` (23:59:59.999999), as the engine represents it."""
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


def at(instant: str) -> datetime:
    return datetime.fromisoformat(instant)


def results(organisation: dict[str, Any], affected: dict[str, int],
            **incident: Any) -> dict[str, ObligationResult]:
    data: dict[str, Any] = {"risk": "high", "data_categories": ["official_id"]} | incident
    return {r.ref: r for r in compute_obligations(
        facts_from_json(facts_data(organisation=organisation, affected=affected, incident=data)),
        CATALOGUE, explain=True)}


def discovered(when: str, affected: dict[str, int], organisation: dict[str, Any] = US_ORG,
               **incident: Any) -> dict[str, ObligationResult]:
    """A breach of Social Security numbers, discovered (and known) at `when`."""
    return results(organisation, affected, aware_at=when, discovered_at=when, **incident)


def determined(when: str, affected: dict[str, int], organisation: dict[str, Any] = US_ORG,
               **incident: Any) -> dict[str, ObligationResult]:
    """A breach of Social Security numbers, confirmed (determined) at `when`."""
    return results(organisation, affected, aware_at=when, breach_determined_at=when, **incident)


def no_harm(when: str) -> dict[str, Any]:
    """A documented determination, made at `when`, that misuse or harm is not likely."""
    return {"harm_not_likely": True, "harm_determined_at": when}


@pytest.mark.parametrize(("ref", "state"), [
    ("us-or/individuals", "US-OR"), ("us-pa/individuals", "US-PA"),
    ("us-ri/individuals", "US-RI"), ("us-sc/individuals", "US-SC"),
    ("us-sd/individuals", "US-SD"), ("us-tn/individuals", "US-TN"),
    ("us-ut/individuals", "US-UT"), ("us-vt/individuals", "US-VT"),
    ("us-va/individuals", "US-VA"), ("us-wv/individuals", "US-WV")])
def test_each_state_s_notice_goes_to_its_own_residents_only(ref: str, state: str) -> None:
    # ORS 646A.602(2) ("'Consumer' means an individual resident of this state"); 73 P.S. 2303(a)
    # ("any resident of this Commonwealth"); R.I. Gen. Laws 11-49.3-4(a)(1) ("any resident of
    # Rhode Island"); S.C. Code 39-1-90(A) ("a resident of this State"); SDCL 22-40-20 ("any
    # resident of this state"); Tenn. Code 47-18-2107(b); Utah Code 13-44-202(1)(b) ("each
    # affected Utah resident"); 9 V.S.A. 2435(b)(1) ("the consumer"); Va. Code 18.2-186.6 ("any
    # affected resident of the Commonwealth"); W. Va. Code 46A-2A-102(a) ("any resident of this
    # state").
    found = CATALOGUE.obligation(ref)
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US", people=PEOPLE)
    assert (addressed.everyone, addressed.jurisdictions) == (False, (state,))
    assert addressed.count == PEOPLE[state]
    assert addressed.unknown == 1 and addressed.not_protected == 53 - PEOPLE[state] - 1
    # And the duty arises when only one resident of the state is affected.
    one = discovered("2026-03-02T10:00:00-06:00", {state: 1},
                     breach_determined_at="2026-03-02T10:00:00-06:00")
    assert one[ref].applies, one[ref].why
    # Nobody of the state: the state's law is silent.
    none = discovered("2026-03-02T10:00:00-06:00", {"US-WA": 50},
                      breach_determined_at="2026-03-02T10:00:00-06:00")
    assert not none[ref].applies


# -------------------------------------------------------------------------- Oregon


def test_oregon_consumers_are_told_within_45_days_of_discovery() -> None:
    # ORS 646A.604(3)(a): discovered Monday 2 March 2026; 29 days left in March and 16 in April
    # make the 45th day Thursday 16 April 2026 (Pacific time).
    result = discovered("2026-03-02T10:00:00-08:00", {"US-OR": 10})["us-or/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-04-16", PACIFIC)


@pytest.mark.parametrize(("consumers", "owed"), [(250, False), (251, True)])
def test_oregon_attorney_general_only_above_250_consumers(consumers: int, owed: bool) -> None:
    # ORS 646A.604(1)(b): "if the number of consumers ... exceeds 250"; consumers are Oregon
    # residents (646A.602(2)), so 1,000 Washingtonians do not count toward it.
    result = discovered("2026-03-02T10:00:00-08:00",
                        {"US-OR": consumers, "US-WA": 1000})["us-or/attorney-general"]
    assert result.applies is owed
    if owed:
        assert result.due_at == end_of("2026-04-16", PACIFIC)   # the same 45 days, (3)(a)


def test_an_oregon_vendor_tells_the_covered_entity_within_10_days_and_above_250_the_ag() -> None:
    # ORS 646A.604(2)(a): "not later than 10 days after discovering the breach": Thursday
    # 12 March 2026. (2)(c): the vendor notifies the Attorney General itself if "more than 250
    # consumers"; it gives no notice to consumers (646A.602(5)(b): not a covered entity).
    found = discovered("2026-03-02T10:00:00-08:00", {"US-OR": 251}, VENDOR)
    assert found["us-or/covered-entity"].due_at == end_of("2026-03-12", PACIFIC)
    assert found["us-or/vendor-attorney-general"].applies
    assert found["us-or/vendor-attorney-general"].due_at is None   # (2)(c) sets no time
    assert not found["us-or/individuals"].applies
    assert not found["us-or/attorney-general"].applies
    assert not discovered("2026-03-02T10:00:00-08:00", {"US-OR": 250},
                          VENDOR)["us-or/vendor-attorney-general"].applies


def test_oregon_no_harm_determination_spares_consumers_and_attorney_general() -> None:
    # ORS 646A.604 (no-harm determination, read in summaries): no notice to consumers if the
    # covered entity reasonably determines that they are unlikely to suffer harm; the Attorney
    # General's notice counts only consumers the entity "must send the notice" to, (1)(b).
    found = discovered("2026-03-02T10:00:00-08:00", {"US-OR": 5000},
                       **no_harm("2026-03-05T10:00:00-08:00"))
    assert not found["us-or/individuals"].applies
    assert not found["us-or/attorney-general"].applies


def test_oregon_encrypted_data_with_a_safe_key_makes_no_duty() -> None:
    # ORS 646A.602 ("personal information": not where encryption has rendered it unusable).
    found = discovered("2026-03-02T10:00:00-08:00", {"US-OR": 5000}, encrypted=True,
                       state_of_the_art=True, key_compromised=False)
    assert not found["us-or/individuals"].applies
    stolen_key = discovered("2026-03-02T10:00:00-08:00", {"US-OR": 5000}, encrypted=True,
                            state_of_the_art=True, key_compromised=True)
    assert stolen_key["us-or/individuals"].applies


# -------------------------------------------------------------------- Pennsylvania


def test_pennsylvania_residents_are_told_without_unreasonable_delay() -> None:
    # 73 P.S. 2303(a): "without unreasonable delay": no legal due time, only our own target.
    result = determined("2026-03-02T10:00:00-05:00", {"US-PA": 10})["us-pa/individuals"]
    assert result.applies and result.due_at is None
    assert result.target_at == at("2026-03-02T10:00:00-05:00") + timedelta(hours=720)


@pytest.mark.parametrize(("residents", "owed"), [(500, False), (501, True)])
def test_pennsylvania_attorney_general_above_500_residents(residents: int, owed: bool) -> None:
    # 73 P.S. 2303(c.1): "more than 500 affected individuals in this Commonwealth",
    # "concurrently" with the residents' notice: the same target.
    result = determined("2026-03-02T10:00:00-05:00",
                        {"US-PA": residents, "US-NJ": 900})["us-pa/attorney-general"]
    assert result.applies is owed
    if owed:
        assert result.due_at is None
        assert result.target_at == at("2026-03-02T10:00:00-05:00") + timedelta(hours=720)


def test_pennsylvania_attorney_general_notice_began_with_act_33_of_2024() -> None:
    # Act 33 of 2024 added 2303(c.1), in force 26 September 2024: a breach determined the day
    # before owes no notice to the Attorney General.
    before = determined("2024-09-25T10:00:00-04:00", {"US-PA": 5000})
    assert not before["us-pa/attorney-general"].applies
    assert before["us-pa/individuals"].applies
    assert determined("2024-09-26T10:00:00-04:00", {"US-PA": 5000})["us-pa/attorney-general"].applies


def test_a_pennsylvania_vendor_tells_the_entity_not_the_residents() -> None:
    # 73 P.S. 2303(c): the vendor notifies the entity, which "shall be responsible for making
    # the determinations and discharging any remaining duties".
    found = discovered("2026-03-02T10:00:00-05:00", {"US-PA": 900}, VENDOR)
    assert found["us-pa/entity"].applies
    assert not found["us-pa/individuals"].applies


# -------------------------------------------------------------------- Rhode Island


def test_rhode_island_residents_are_told_within_45_calendar_days_of_confirmation() -> None:
    # R.I. Gen. Laws 11-49.3-4(a)(2)(ii): confirmed Friday 1 May 2026; 30 days left in May and
    # 15 in June make the 45th calendar day Monday 15 June 2026.
    result = determined("2026-05-01T10:00:00-04:00", {"US-RI": 10})["us-ri/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-06-15", EASTERN)


@pytest.mark.parametrize(("residents", "owed"), [(500, False), (501, True)])
def test_rhode_island_attorney_general_above_500_residents(residents: int, owed: bool) -> None:
    # 11-49.3-4(a)(2): "more than five hundred (500) Rhode Island residents are to be notified";
    # no time of its own, "without delaying notice to affected Rhode Island residents".
    result = determined("2026-05-01T10:00:00-04:00",
                        {"US-RI": residents, "US-MA": 900})["us-ri/attorney-general"]
    assert result.applies is owed
    if owed:
        assert result.due_at is None


def test_rhode_island_encryption_means_128_bit_with_a_safe_key() -> None:
    # 11-49.3-3(a)(4): data acquired with the key "shall not be considered to be encrypted".
    safe = determined("2026-05-01T10:00:00-04:00", {"US-RI": 10}, encrypted=True,
                      state_of_the_art=True)
    assert not safe["us-ri/individuals"].applies
    with_key = determined("2026-05-01T10:00:00-04:00", {"US-RI": 10}, encrypted=True,
                          state_of_the_art=True, key_compromised=True)
    assert with_key["us-ri/individuals"].applies


# ------------------------------------------------------------------ South Carolina


def test_south_carolina_residents_are_told_without_unreasonable_delay() -> None:
    # S.C. Code 39-1-90(A): no fixed period; our own target of 720 hours.
    result = discovered("2026-03-02T10:00:00-05:00", {"US-SC": 10})["us-sc/individuals"]
    assert result.applies and result.due_at is None
    assert result.target_at == at("2026-03-02T10:00:00-05:00") + timedelta(hours=720)


@pytest.mark.parametrize(("residents", "owed"), [(1000, False), (1001, True)])
def test_south_carolina_consumer_affairs_above_1000_residents(residents: int, owed: bool) -> None:
    # 39-1-90(K) (read in summaries): notice to "more than one thousand persons at one time".
    result = discovered("2026-03-02T10:00:00-05:00",
                        {"US-SC": residents})["us-sc/consumer-affairs"]
    assert result.applies is owed


def test_a_south_carolina_maintainer_tells_the_owner_at_once() -> None:
    # 39-1-90(B): "immediately following discovery": our own target of 24 hours.
    found = discovered("2026-03-02T10:00:00-05:00", {"US-SC": 10}, VENDOR)
    assert found["us-sc/owner"].target_at == at("2026-03-03T10:00:00-05:00")
    assert not found["us-sc/individuals"].applies


# -------------------------------------------------------------------- South Dakota


def test_south_dakota_residents_are_told_within_60_days_of_discovery() -> None:
    # SDCL 22-40-20: discovered Monday 5 January 2026; 26 days left in January, 28 in February
    # and 6 in March make the 60th day Friday 6 March 2026.
    result = discovered("2026-01-05T10:00:00-06:00", {"US-SD": 10})["us-sd/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-03-06", CENTRAL)


@pytest.mark.parametrize(("residents", "owed"), [(250, False), (251, True)])
def test_south_dakota_attorney_general_above_250_residents(residents: int, owed: bool) -> None:
    # SDCL 22-40-20: "any breach of system security that exceeds two hundred fifty residents".
    result = discovered("2026-01-05T10:00:00-06:00",
                        {"US-SD": residents, "US-ND": 900})["us-sd/attorney-general"]
    assert result.applies is owed


def test_south_dakota_no_harm_determination_needs_the_attorney_general_first() -> None:
    # SDCL 22-40-20: no disclosure to residents if, "following an appropriate investigation and
    # notice to the attorney general", the holder determines the breach "will not likely result
    # in harm"; the attorney general's own notice above 250 residents remains.
    found = discovered("2026-01-05T10:00:00-06:00", {"US-SD": 300},
                       **no_harm("2026-01-09T10:00:00-06:00"))
    assert not found["us-sd/individuals"].applies
    assert found["us-sd/attorney-general-determination"].applies
    assert found["us-sd/attorney-general"].applies
    harm = discovered("2026-01-05T10:00:00-06:00", {"US-SD": 300})
    assert not harm["us-sd/attorney-general-determination"].applies


# ----------------------------------------------------------------------- Tennessee


def test_tennessee_residents_are_told_within_45_days_of_discovery() -> None:
    # Tenn. Code 47-18-2107(b): discovered Tuesday 10 February 2026; 18 days left in February
    # and 27 in March make the 45th day Friday 27 March 2026.
    result = discovered("2026-02-10T10:00:00-06:00", {"US-TN": 10})["us-tn/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-03-27", CENTRAL)


def test_tennessee_before_1_july_2016_had_no_fixed_period() -> None:
    # Before S.B. 2005 (2016): "in the most expedient time possible and without unreasonable
    # delay"; no legal due time.
    result = discovered("2016-06-01T10:00:00-05:00", {"US-TN": 10})["us-tn/individuals"]
    assert result.applies and result.due_at is None


def test_tennessee_has_no_harm_exception() -> None:
    # 47-18-2107(b): "shall disclose any breach of system security"; the text sets no harm test.
    found = discovered("2026-02-10T10:00:00-06:00", {"US-TN": 10},
                       **no_harm("2026-02-11T10:00:00-06:00"))
    assert found["us-tn/individuals"].applies


def test_a_tennessee_holder_of_data_it_does_not_own_tells_the_owner() -> None:
    # 47-18-2107(c) (summaries): "no later than 45 days from the discovery": 27 March 2026.
    found = discovered("2026-02-10T10:00:00-06:00", {"US-TN": 10}, VENDOR)
    assert found["us-tn/owner"].due_at == end_of("2026-03-27", CENTRAL)
    assert not found["us-tn/individuals"].applies


# ---------------------------------------------------------------------------- Utah


def test_utah_residents_are_told_without_unreasonable_delay_after_the_investigation() -> None:
    # Utah Code 13-44-202(2): no fixed period; our own target of 720 hours from awareness.
    result = results(US_ORG, {"US-UT": 10},
                     aware_at="2026-03-02T10:00:00-07:00")["us-ut/individuals"]
    assert result.applies and result.due_at is None
    assert result.target_at == at("2026-03-02T10:00:00-07:00") + timedelta(hours=720)


def test_utah_no_notice_if_the_investigation_finds_misuse_unlikely() -> None:
    # Utah Code 13-44-202(1)(b): notice only if misuse "has occurred, or is reasonably likely to
    # occur"; the Attorney General's notice counts residents who must be notified.
    found = results(US_ORG, {"US-UT": 900}, aware_at="2026-03-02T10:00:00-07:00",
                    **no_harm("2026-03-04T10:00:00-07:00"))
    assert not found["us-ut/individuals"].applies
    assert not found["us-ut/attorney-general"].applies


@pytest.mark.parametrize(("residents", "owed"), [(499, False), (500, True)])
def test_utah_attorney_general_and_cyber_center_from_500_residents(residents: int,
                                                                  owed: bool) -> None:
    # S.B. 127 (2023), read in summaries: "500 or more" Utah residents.
    result = results(US_ORG, {"US-UT": residents, "US-ID": 900},
                     aware_at="2026-03-02T10:00:00-07:00")["us-ut/attorney-general"]
    assert result.applies is owed


def test_a_utah_maintainer_tells_the_owner_at_once() -> None:
    # Utah Code 13-44-202(3)(a): "immediately following the person's discovery of the breach".
    found = discovered("2026-03-02T10:00:00-07:00", {"US-UT": 10}, VENDOR)
    assert found["us-ut/owner"].target_at == at("2026-03-03T10:00:00-07:00")
    assert not found["us-ut/individuals"].applies


# ------------------------------------------------------------------------- Vermont


def test_vermont_consumers_are_told_within_45_days_of_discovery() -> None:
    # 9 V.S.A. 2435(b)(1): discovered Monday 23 February 2026; 5 days left in February, 31 in
    # March and 9 in April make the 45th day Thursday 9 April 2026.
    result = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1})["us-vt/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-04-09", EASTERN)


def test_vermont_attorney_general_within_14_business_days_skipping_town_meeting_day() -> None:
    # 9 V.S.A. 2435(b)(3)(A)(i): "within 14 business days" of discovery on Monday 23 February
    # 2026. Business days: 24, 25, 26, 27 February, 2 March (5); Tuesday 3 March is Town
    # Meeting Day, 1 V.S.A. 371(a)(4); 4, 5, 6 (8), 9 to 13 (13) and Monday 16 March (14).
    # Whatever the number of consumers: one is enough.
    result = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1})["us-vt/attorney-general-preliminary"]
    assert result.applies
    assert result.due_at == end_of("2026-03-16", EASTERN)


def test_vermont_preliminary_notice_when_consumers_are_told_if_sooner() -> None:
    # 2435(b)(3)(A)(i): "within 14 business days ... or when the data collector provides notice
    # to consumers ..., whichever is sooner": consumers told on Friday 27 February 2026 at 09:00,
    # before 16 March: the preliminary notice is due then.
    told = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1},
                      met={"us-vt/individuals": "2026-02-27T09:00:00-05:00"})
    assert told["us-vt/attorney-general-preliminary"].due_at == at("2026-02-27T09:00:00-05:00")


def test_vermont_attorney_general_hears_again_once_consumers_are_told() -> None:
    # 9 V.S.A. 2435(b)(3)(A)(ii): with the consumers' notice, the number of Vermont consumers
    # affected and a copy of the notice; no time of its own, our own target is a day.
    waiting = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1})
    assert waiting["us-vt/attorney-general-follow-up"].due_at is None
    assert waiting["us-vt/attorney-general-follow-up"].target_at is None   # not yet triggered
    told = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1},
                      met={"us-vt/individuals": "2026-03-20T09:00:00-04:00"})
    assert told["us-vt/attorney-general-follow-up"].target_at == at("2026-03-21T09:00:00-04:00")


def test_a_vermont_maintainer_tells_the_owner_at_once() -> None:
    # 9 V.S.A. 2435(b)(2): "immediately following discovery of the breach".
    found = discovered("2026-02-23T10:00:00-05:00", {"US-VT": 1}, VENDOR)
    assert found["us-vt/owner"].target_at == at("2026-02-24T10:00:00-05:00")
    assert not found["us-vt/individuals"].applies


# ------------------------------------------------------------------------ Virginia


def test_virginia_residents_and_attorney_general_are_told_without_unreasonable_delay() -> None:
    # Va. Code 18.2-186.6: to "the Office of the Attorney General and any affected resident of
    # the Commonwealth without unreasonable delay": no fixed period, and the Attorney General
    # whatever the number of residents (one is enough).
    found = discovered("2026-03-02T10:00:00-05:00", {"US-VA": 1})
    for ref in ("us-va/individuals", "us-va/attorney-general"):
        assert found[ref].applies and found[ref].due_at is None
        assert found[ref].target_at == at("2026-03-02T10:00:00-05:00") + timedelta(hours=720)
    assert not found["us-va/attorney-general-distribution"].applies


@pytest.mark.parametrize(("residents", "owed"), [(1000, False), (1001, True)])
def test_virginia_distribution_of_notices_above_1000(residents: int, owed: bool) -> None:
    # Va. Code 18.2-186.6 (summaries): notice to "more than 1,000 persons at one time".
    result = discovered("2026-03-02T10:00:00-05:00",
                        {"US-VA": residents})["us-va/attorney-general-distribution"]
    assert result.applies is owed


def test_virginia_no_notice_without_a_belief_of_identity_theft_or_fraud() -> None:
    # Va. Code 18.2-186.6(A): a breach is one that "causes, or the individual or entity
    # reasonably believes has caused, or will cause, identity theft or other fraud".
    found = discovered("2026-03-02T10:00:00-05:00", {"US-VA": 5000},
                       **no_harm("2026-03-03T10:00:00-05:00"))
    assert not found["us-va/individuals"].applies
    assert not found["us-va/attorney-general"].applies


def test_a_virginia_maintainer_tells_the_owner() -> None:
    # Va. Code 18.2-186.6 (summaries): the owner or licensee, without unreasonable delay.
    found = discovered("2026-03-02T10:00:00-05:00", {"US-VA": 10}, VENDOR)
    assert found["us-va/owner"].applies
    assert not found["us-va/individuals"].applies


# ------------------------------------------------------------------- West Virginia


def test_west_virginia_residents_are_told_without_unreasonable_delay() -> None:
    # W. Va. Code 46A-2A-102(a): no fixed period; no notice to a regulator in the article.
    found = discovered("2026-03-02T10:00:00-05:00", {"US-WV": 5000})
    assert found["us-wv/individuals"].applies and found["us-wv/individuals"].due_at is None
    assert found["us-wv/individuals"].target_at == at("2026-03-02T10:00:00-05:00") + timedelta(
        hours=720)
    assert not [ref for ref, result in found.items()
                if ref.startswith("us-wv/") and result.recipient == "authority"]


def test_west_virginia_encrypted_data_counts_only_with_the_key() -> None:
    # W. Va. Code 46A-2A-102(b): encrypted information only if acquired in unencrypted form or
    # the breach "involves a person with access to the encryption key".
    safe = discovered("2026-03-02T10:00:00-05:00", {"US-WV": 10}, encrypted=True,
                      state_of_the_art=True)
    assert not safe["us-wv/individuals"].applies
    with_key = discovered("2026-03-02T10:00:00-05:00", {"US-WV": 10}, encrypted=True,
                          state_of_the_art=True, key_compromised=True)
    assert with_key["us-wv/individuals"].applies


def test_a_west_virginia_maintainer_tells_the_owner_as_soon_as_practicable() -> None:
    # W. Va. Code 46A-2A-102(c): "as soon as practicable following discovery".
    found = discovered("2026-03-02T10:00:00-05:00", {"US-WV": 10}, VENDOR)
    assert found["us-wv/owner"].target_at == at("2026-03-03T10:00:00-05:00")
    assert not found["us-wv/individuals"].applies
