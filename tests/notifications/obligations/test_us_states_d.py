"""US state breach-notification laws, Arizona to Indiana: each duty as its statute words it.

Every expected instant and count below is worked out by hand from the text cited next to it and a
printed calendar, not from the engine. Day counts exclude the day of the trigger and end at the
end of the last local day; no rule of these states moving a last day off a weekend was read, so
none is moved (see each regime's notes). Where a provision was read in a summary rather than in
the statute, the regime file says so, and so does the comment here:

* Arizona, A.R.S. 18-552(B): "within forty-five days after the determination" (House summary of
  HB 2146); (B)(2): the Attorney General and the Director of the Department of Homeland Security
  if "more than one thousand individuals"; 18-551(4): an individual is an Arizona resident.
* Arkansas, Ark. Code 4-110-105(a)(2): "in the most expedient time and manner possible and without
  unreasonable delay"; (b)(1): the maintainer "immediately following discovery"; (b)(2): the
  Attorney General if the breach "affects the personal information of more than one thousand
  (1,000) individuals", at the same time as the individuals "or within forty-five (45) days".
* Connecticut, Conn. Gen. Stat. 36a-701b(b): "without unreasonable delay but not later than sixty
  days after the discovery" (Public Act 21-59, from 1 October 2021; ninety days before); the
  Attorney General "not later than" the residents' notice, for any number.
* Delaware, 6 Del. C. 12B-102(a): notice "following determination of the breach of security"
  unless harm is unlikely; (c): "not later than 60 days after determination"; (d): the Attorney
  General if the residents to be notified "exceeds 500" (summaries).
* District of Columbia, D.C. Code 28-3852(a): "in the most expedient time possible and without
  unreasonable delay" (summaries); (b-1): the Attorney General from 50 residents (summaries
  disagree between "50 or more" and "more than 50": the lower number is used).
* Georgia, O.C.G.A. 10-1-912(a): "Any information broker or data collector" notifies residents "in
  the most expedient time possible"; (b): the maintainer "within 24 hours following discovery".
* Hawaii, HRS 487N-2(a): notice "to the affected person" "without unreasonable delay"; (f): the
  Office of Consumer Protection if "more than one thousand persons are notified at one time"
  (summaries).
* Idaho, Idaho Code 28-51-105(1): notice "as soon as possible" where misuse "has occurred or is
  reasonably likely to occur" (AICPA summary).
* Illinois, 815 ILCS 530/10(a): "in the most expedient time possible and without unreasonable
  delay", never stating "the number of Illinois residents affected"; (e): the Attorney General for
  "more than 500 Illinois residents as a result of a single breach" (summaries of P.A. 101-0343).
* Indiana, IC 24-4.9-3-3(a): "without unreasonable delay, but not more than forty-five (45) days
  after the discovery of the breach" (P.L.171-2022, from 1 July 2022); 3-1(c): the Attorney General
  whenever residents are told; 3-2: the maintainer notifies the data base owner.
"""

from __future__ import annotations

from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.state_laws import (
    REGIMES,
    at,
    no_harm,
    owed,
    state_results,
    substitute,
)

STATES = ("us-az", "us-ar", "us-ct", "us-de", "us-dc", "us-ga", "us-hi", "us-id", "us-il",
          "us-in")


def run(affected: dict[str, int], *, timezone: str = "America/New_York",
        **facts: Any) -> dict[str, ObligationResult]:
    return state_results(affected, aware_at="2026-05-01T10:00:00-04:00", timezone=timezone, **facts)


# ---------------------------------------------------------------- whom each notice addresses


@pytest.mark.parametrize(("ref", "state", "neighbour", "extra"), [
    # A.R.S. 18-551(4): "'Individual' means a resident of this state who has a principal mailing
    # address in this state".
    ("us-az/individuals", "US-AZ", "US-NM", {"breach_determined_at": "2026-05-04T09:00:00-07:00"}),
    # Ark. Code 4-110-105(a)(1): "to any resident of Arkansas".
    ("us-ar/individuals", "US-AR", "US-TX", {"discovered_at": "2026-05-04T09:00:00-05:00"}),
    # Conn. Gen. Stat. 36a-701b(b): "to any resident of this state".
    ("us-ct/individuals", "US-CT", "US-NY", {"discovered_at": "2026-05-04T09:00:00-04:00"}),
    # 6 Del. C. 12B-102(a): "to any resident of this State".
    ("us-de/individuals", "US-DE", "US-MD", {"breach_determined_at": "2026-05-04T09:00:00-04:00"}),
    # D.C. Code 28-3852(a) (summaries): "any District of Columbia resident".
    ("us-dc/individuals", "US-DC", "US-VA", {"discovered_at": "2026-05-04T09:00:00-04:00"}),
    # Idaho Code 28-51-105(1) (AICPA summary): "the affected Idaho resident".
    ("us-id/individuals", "US-ID", "US-OR", {}),
    # 815 ILCS 530/10(a): "personal information concerning an Illinois resident".
    ("us-il/individuals", "US-IL", "US-WI", {"discovered_at": "2026-05-04T09:00:00-05:00"}),
    # IC 24-4.9-3-1(a): "to an Indiana resident".
    ("us-in/individuals", "US-IN", "US-OH", {"discovered_at": "2026-05-04T09:00:00-04:00"}),
])
def test_each_state_s_notice_goes_to_its_own_residents_only(
        ref: str, state: str, neighbour: str, extra: dict[str, Any]) -> None:
    found = REGIMES.obligation(ref)
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={state: 3, neighbour: 40, "": 1})
    assert (addressed.everyone, addressed.jurisdictions) == (False, (state,))
    assert addressed.count == 3 and addressed.unknown == 1 and addressed.not_protected == 40
    # One resident is enough for the duty; none, and the state's law is silent.
    assert owed(run({state: 1}, **extra), ref)
    assert not owed(run({neighbour: 40}, **extra), ref)


def test_hawaii_notice_goes_to_every_affected_person() -> None:
    # HRS 487N-2(a): a business owning personal information "of residents of Hawaii" "shall provide
    # notice to the affected person" - no residence in those words; the duty arises only where a
    # Hawaii resident is affected.
    found = REGIMES.obligation("us-hi/individuals")
    assert found is not None and found[1].protects is not None
    reached = audience(found[1].protects, established_in="US", people={"US-HI": 2, "US-CA": 5})
    assert reached.everyone and reached.count == 7
    assert not owed(run({"US-CA": 5}), "us-hi/individuals")
    assert owed(run({"US-HI": 1}), "us-hi/individuals")


# -------------------------------------------------------------------------------- Arizona


def test_arizona_18_552_b_individuals_within_45_days_of_the_determination() -> None:
    # A.R.S. 18-552(B)(1): determined Monday 4 May 2026 at 09:00 Mountain Standard Time (Arizona
    # keeps no daylight time); 27 days left in May and 18 in June: Thursday 18 June 2026.
    results = run({"US-AZ": 10}, timezone="America/Phoenix",
                  breach_determined_at="2026-05-04T09:00:00-07:00")
    people = results["us-az/individuals"]
    assert people.applies and people.recipient == "individuals"
    assert people.due_at == at("2026-06-18T23:59:59.999999-07:00")
    assert people.trigger is not None and people.trigger.name == "breach_determined_at"


@pytest.mark.parametrize(("residents", "told"), [(1000, False), (1001, True)])
def test_arizona_18_552_b_2_attorney_general_and_homeland_security_above_1000(
        residents: int, told: bool) -> None:
    # A.R.S. 18-552(B)(2): "more than one thousand individuals", who are Arizona residents
    # (18-551(4)), so 5,000 New Mexicans do not count; within the same 45 days.
    results = run({"US-AZ": residents, "US-NM": 5000}, timezone="America/Phoenix",
                  breach_determined_at="2026-05-04T09:00:00-07:00")
    for ref in ("us-az/attorney-general", "us-az/homeland-security"):
        assert owed(results, ref) is told, ref
        if told:
            assert results[ref].recipient == "authority"
            assert results[ref].due_at == at("2026-06-18T23:59:59.999999-07:00")


def test_arizona_unencrypted_and_unredacted_data_only() -> None:
    # A.R.S. 18-551(1): a breach is of "unencrypted and unredacted computerized personal
    # information"; a key taken with the data leaves it readable.
    base: dict[str, Any] = {"breach_determined_at": "2026-05-04T09:00:00-07:00"}
    safe = run({"US-AZ": 2000}, timezone="America/Phoenix", encrypted=True,
               state_of_the_art=True, **base)
    assert not owed(safe, "us-az/individuals") and not owed(safe, "us-az/attorney-general")
    taken = run({"US-AZ": 2000}, timezone="America/Phoenix", encrypted=True,
                state_of_the_art=True, key_compromised=True, **base)
    assert owed(taken, "us-az/individuals")
    assert not owed(run({"US-AZ": 5}, data=["contact"], **base), "us-az/individuals")


def test_arizona_substitute_notice_is_a_letter_to_the_attorney_general_and_45_days_online() -> None:
    # A.R.S. 18-552 (House caucus summary of HB 2146): cost over $50,000, more than 100,000
    # individuals, or insufficient contact information; a written letter to the Attorney General
    # and a conspicuous posting for at least 45 days.
    notice = substitute("us-az/individuals")
    assert any("$50,000" in c for c in notice.conditions)
    assert any("100,000" in c for c in notice.conditions)
    assert any("Attorney General" in m for m in notice.means)
    assert any("at least 45 days" in m for m in notice.means)
    assert notice.confidence == "medium" and notice.note is not None
    assert "not read in the statute's words" in notice.note


def test_arizona_maintainer_tells_the_owner() -> None:
    # A.R.S. 18-552 (summaries): the maintainer notifies the owner or licensee; it does not notify
    # the individuals itself.
    results = run({"US-AZ": 10}, roles=["service_provider"],
                  discovered_at="2026-05-04T09:00:00-07:00",
                  breach_determined_at="2026-05-04T09:00:00-07:00")
    assert owed(results, "us-az/owner") and not owed(results, "us-az/individuals")
    assert results["us-az/owner"].due_at is None


# ------------------------------------------------------------------------------- Arkansas


def test_arkansas_4_110_105_a_residents_without_unreasonable_delay() -> None:
    # 4-110-105(a)(2): "in the most expedient time and manner possible and without unreasonable
    # delay": no number of days, only our own target of 30 days.
    results = run({"US-AR": 3}, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00")
    people = results["us-ar/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-05:00")


@pytest.mark.parametrize(("affected", "told"), [
    ({"US-AR": 1000}, False), ({"US-AR": 1001}, True),
    # (b)(2) counts "individuals", not Arkansas residents.
    ({"US-AR": 10, "US-TX": 991}, True),
])
def test_arkansas_4_110_105_b_2_attorney_general_above_1000_individuals_within_45_days(
        affected: dict[str, int], told: bool) -> None:
    # "within forty-five (45) days after the person or business determines that there is a
    # reasonable likelihood of harm": determined Monday 4 May 2026: Thursday 18 June 2026.
    results = run(affected, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00",
                  breach_determined_at="2026-05-04T09:00:00-05:00")
    ag = results["us-ar/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.due_at == at("2026-06-18T23:59:59.999999-05:00")


def test_arkansas_4_110_105_b_2_attorney_general_with_the_individuals_if_sooner() -> None:
    # (b)(2): "At the same time the security breach is disclosed to an affected individual or
    # within forty-five (45) days ..., whichever occurs first": individuals told on Monday 11 May
    # 2026 at 10:00 Central, before 18 June, so the Attorney General is due then.
    results = run({"US-AR": 5000}, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00",
                  breach_determined_at="2026-05-04T09:00:00-05:00",
                  met={"us-ar/individuals": "2026-05-11T10:00:00-05:00"})
    assert results["us-ar/attorney-general"].due_at == at("2026-05-11T10:00:00-05:00")


def test_arkansas_attorney_general_notice_began_with_act_1030_of_2019() -> None:
    # Act 1030 of 2019 added 4-110-105(b)(2), in force 23 July 2019.
    before = run({"US-AR": 5000}, timezone="America/Chicago",
                 breach_determined_at="2019-07-22T09:00:00-05:00")
    assert not owed(before, "us-ar/attorney-general") and owed(before, "us-ar/individuals")
    after = run({"US-AR": 5000}, timezone="America/Chicago",
                breach_determined_at="2019-07-23T09:00:00-05:00")
    assert owed(after, "us-ar/attorney-general")


def test_arkansas_no_notice_without_a_reasonable_likelihood_of_harm_and_the_owner_told() -> None:
    # 4-110-105(d) (summaries): not required if there is no reasonable likelihood of harm.
    calm = run({"US-AR": 5000}, timezone="America/Chicago",
               breach_determined_at="2026-05-04T09:00:00-05:00",
               **no_harm("2026-05-05T09:00:00-05:00"))
    assert not owed(calm, "us-ar/individuals") and not owed(calm, "us-ar/attorney-general")
    # (b)(1): the maintainer tells the owner "immediately following discovery": our 24 hours.
    vendor = run({"US-AR": 5}, roles=["processor"], timezone="America/Chicago",
                 discovered_at="2026-05-04T09:00:00-05:00")
    assert vendor["us-ar/owner"].target_at == at("2026-05-05T09:00:00-05:00")
    assert not owed(vendor, "us-ar/individuals")


# ---------------------------------------------------------------------------- Connecticut


def test_connecticut_36a_701b_b_residents_and_attorney_general_within_60_days() -> None:
    # Public Act 21-59: "not later than sixty days after the discovery"; discovered Monday 4 May
    # 2026: 27 days left in May, 30 in June, 3 in July: Friday 3 July 2026. The Attorney General
    # "not later than" the residents' notice, for any number of residents: one is enough.
    results = run({"US-CT": 1}, discovered_at="2026-05-04T09:00:00-04:00")
    people, ag = results["us-ct/individuals"], results["us-ct/attorney-general"]
    assert people.applies and people.due_at == at("2026-07-03T23:59:59.999999-04:00")
    assert ag.applies and ag.recipient == "authority" and ag.due_at == people.due_at
    assert not owed(run({"US-NY": 100}), "us-ct/attorney-general")


def test_connecticut_attorney_general_no_later_than_the_residents_notice() -> None:
    # 36a-701b(b): the Attorney General "not later than the time when notice is provided to the
    # resident": residents told on Sunday 10 May 2026 at 15:00, so the report is due then, not on
    # 3 July; and once given, the residents' own 60 days no longer matter to it.
    results = run({"US-CT": 1}, discovered_at="2026-05-04T09:00:00-04:00",
                  met={"us-ct/individuals": "2026-05-10T15:00:00-04:00"})
    ag = results["us-ct/attorney-general"]
    assert ag.due_at == at("2026-05-10T15:00:00-04:00")
    assert ag.basis is not None and any("no later than us-ct/individuals" in note
                                        for note in ag.basis.notes)


def test_connecticut_before_public_act_21_59_had_ninety_days() -> None:
    # Before 1 October 2021: "not later than ninety days after the discovery"; discovered
    # Wednesday 1 September 2021: 29 days left in September, 31 in October, 30 in November:
    # Tuesday 30 November 2021.
    results = run({"US-CT": 1}, discovered_at="2021-09-01T09:00:00-04:00")
    assert results["us-ct/individuals"].due_at == at("2021-11-30T23:59:59.999999-05:00")


def test_connecticut_harm_exception_needs_law_enforcement_consulted() -> None:
    # 36a-701b(b) (our reading, low confidence): no notice if, after investigation "and
    # consultation with relevant federal, state and local agencies responsible for law
    # enforcement", harm is not likely.
    alone = run({"US-CT": 5}, **no_harm("2026-05-05T09:00:00-04:00"))
    assert owed(alone, "us-ct/individuals")
    consulted = run({"US-CT": 5}, law_enforcement_consulted=True,
                    **no_harm("2026-05-05T09:00:00-04:00"))
    assert not owed(consulted, "us-ct/individuals")
    assert not owed(consulted, "us-ct/attorney-general")


def test_connecticut_offers_24_months_of_protection_where_ssns_were_breached() -> None:
    # 36a-701b(b)(2)(B) (the Attorney General's page): identity theft prevention services for at
    # least 24 months where a Social Security or taxpayer identification number was breached.
    found = REGIMES.obligation("us-ct/individuals")
    assert found is not None and found[1].letter is not None
    services = found[1].letter.elements["mitigation_services"]
    assert "24 months" in services.citation and services.if_exposed == ("official_id",)


# ------------------------------------------------------------------------------- Delaware


def test_delaware_12b_102_c_residents_within_60_days_of_the_determination() -> None:
    # 12B-102(c): "not later than 60 days after determination of the breach of security";
    # determined Monday 4 May 2026: Friday 3 July 2026.
    results = run({"US-DE": 10}, breach_determined_at="2026-05-04T09:00:00-04:00")
    people = results["us-de/individuals"]
    assert people.applies and people.due_at == at("2026-07-03T23:59:59.999999-04:00")


@pytest.mark.parametrize(("residents", "told"), [(500, False), (501, True)])
def test_delaware_12b_102_d_attorney_general_above_500_residents(residents: int,
                                                                 told: bool) -> None:
    # 12B-102(d) (summaries): "exceeds 500 residents"; Marylanders do not count.
    results = run({"US-DE": residents, "US-MD": 3000},
                  breach_determined_at="2026-05-04T09:00:00-04:00")
    assert owed(results, "us-de/attorney-general") is told
    if told:
        assert results["us-de/attorney-general"].due_at == at("2026-07-03T23:59:59.999999-04:00")


def test_delaware_12b_102_a_no_notice_where_harm_is_unlikely() -> None:
    # 12B-102(a): "unless, after an appropriate investigation, the person reasonably determines
    # that the breach of security is unlikely to result in harm".
    results = run({"US-DE": 900}, breach_determined_at="2026-05-04T09:00:00-04:00",
                  **no_harm("2026-05-06T09:00:00-04:00"))
    assert not owed(results, "us-de/individuals") and not owed(results, "us-de/attorney-general")


def test_delaware_12b_101_encrypted_data_is_no_breach_unless_the_key_was_taken() -> None:
    # 12B-101(1)b.: not a breach "to the extent that personal information contained therein is
    # encrypted, unless such unauthorized acquisition includes ... the encryption key".
    base: dict[str, Any] = {"breach_determined_at": "2026-05-04T09:00:00-04:00",
                            "encrypted": True, "state_of_the_art": True}
    assert not owed(run({"US-DE": 10}, **base), "us-de/individuals")
    assert owed(run({"US-DE": 10}, key_compromised=True, **base), "us-de/individuals")


def test_delaware_12b_102_c_2_notice_waits_for_law_enforcement() -> None:
    # 12B-102(c)(2): delayed while the agency that asked determines notice will impede a
    # criminal investigation; made after it says that notice will not compromise it.
    delay = {"agency": "Delaware State Police", "requested_at": "2026-05-05T10:00:00-04:00"}
    results = run({"US-DE": 10}, breach_determined_at="2026-05-04T09:00:00-04:00",
                  law_enforcement_delay=delay)
    people = results["us-de/individuals"]
    assert people.applies and people.due_at is None
    assert people.trigger is not None and people.trigger.waiting_for is not None


def test_delaware_12b_102_b_the_maintainer_tells_the_owner_at_once() -> None:
    # 12B-102(b): "immediately following determination of the breach of security".
    results = run({"US-DE": 10}, roles=["service_provider"],
                  breach_determined_at="2026-05-04T09:00:00-04:00")
    assert results["us-de/owner"].target_at == at("2026-05-05T09:00:00-04:00")
    assert not owed(results, "us-de/individuals")


# ------------------------------------------------------------------- District of Columbia


def test_district_of_columbia_28_3852_a_residents_without_unreasonable_delay() -> None:
    # 28-3852(a) (summaries): "in the most expedient time possible and without unreasonable
    # delay": no number of days (an unsourced 60-day limit is not applied).
    results = run({"US-DC": 3}, discovered_at="2026-05-04T09:00:00-04:00")
    people = results["us-dc/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-04:00")


@pytest.mark.parametrize(("residents", "told"), [(49, False), (50, True)])
def test_district_of_columbia_attorney_general_from_50_residents(residents: int,
                                                                 told: bool) -> None:
    # 28-3852(b-1) (summaries disagree: "50 or more", "more than 50"; the lower is used, low
    # confidence); Virginians do not count; no later than the residents' notice.
    results = run({"US-DC": residents, "US-VA": 900}, discovered_at="2026-05-04T09:00:00-04:00")
    ag = results["us-dc/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.target_at == results["us-dc/individuals"].target_at
        assert ag.confidence == "low"


def test_district_of_columbia_no_harm_finding_needs_consultation() -> None:
    # 28-3852 (the Attorney General's page): "A company must consult with OAG before concluding
    # that consumer harm is unlikely".
    alone = run({"US-DC": 60}, **no_harm("2026-05-05T09:00:00-04:00"))
    assert owed(alone, "us-dc/individuals")
    consulted = run({"US-DC": 60}, law_enforcement_consulted=True,
                    **no_harm("2026-05-05T09:00:00-04:00"))
    assert not owed(consulted, "us-dc/individuals")
    assert not owed(consulted, "us-dc/attorney-general")


def test_district_of_columbia_28_3852_02_eighteen_months_of_protection() -> None:
    # 28-3852.02: identity theft protection "for a period of not less than 18 months" where a
    # Social Security or taxpayer identification number was released.
    found = REGIMES.obligation("us-dc/individuals")
    assert found is not None and found[1].letter is not None
    services = found[1].letter.elements["mitigation_services"]
    assert "18 months" in services.citation and services.if_exposed == ("official_id",)


# -------------------------------------------------------------------------------- Georgia


def test_georgia_10_1_912_a_only_information_brokers_and_data_collectors_notify() -> None:
    # 10-1-912(a): "Any information broker or data collector"; 10-1-911(3): an information broker
    # furnishes personal information to nonaffiliated third parties for fees. Another business
    # owes Georgians no notice under this article.
    plain = run({"US-GA": 50})
    assert not owed(plain, "us-ga/individuals")
    broker = run({"US-GA": 50}, entity_type="information_broker",
                 discovered_at="2026-05-04T09:00:00-04:00")
    people = broker["us-ga/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-04:00")
    # No harm test in 10-1-912(a): a finding that misuse is unlikely does not lift it.
    calm = run({"US-GA": 50}, entity_type="information_broker",
               **no_harm("2026-05-02T09:00:00-04:00"))
    assert owed(calm, "us-ga/individuals")
    # No notice to the Attorney General or any state agency.
    assert not any(ref.startswith("us-ga/") and r.recipient == "authority"
                   for ref, r in broker.items())


def test_georgia_10_1_912_b_the_maintainer_has_24_hours() -> None:
    # 10-1-912(b): "within 24 hours following discovery": elapsed hours from 09:00 on 4 May.
    results = run({"US-GA": 5}, roles=["service_provider"],
                  discovered_at="2026-05-04T09:00:00-04:00")
    owner = results["us-ga/owner"]
    assert owner.applies and owner.due_at == at("2026-05-05T09:00:00-04:00")
    assert not owed(results, "us-ga/individuals")


def test_georgia_10_1_912_b_binds_only_who_maintains_data_for_a_broker_or_collector() -> None:
    # 10-1-912(b): "Any person or business that maintains computerized data on behalf of an
    # information broker or data collector": maintaining a retailer's data owes nothing here.
    def maintainer(owners: list[str] | None) -> ObligationResult:
        recorded: dict[str, Any] = {} if owners is None else {"owner_entity_types": owners}
        return run({"US-GA": 5}, roles=["service_provider"],
                   discovered_at="2026-05-04T09:00:00-04:00", **recorded)["us-ga/owner"]
    assert not maintainer(["retailer"]).applies
    assert maintainer(["information_broker"]).applies
    # 10-1-911(2): a data collector is a state or local agency, such as a public university.
    assert maintainer(["data_collector"]).due_at == at("2026-05-05T09:00:00-04:00")
    # Not recorded: shown, and said to be assumed.
    unknown = maintainer(None)
    assert unknown.applies and any("assumed" in reason for reason in unknown.why)


def test_georgia_10_1_912_a_a_state_agency_is_a_data_collector() -> None:
    # 10-1-911(2): "'Data collector' means any state or local agency or subdivision thereof".
    agency = run({"US-GA": 50}, entity_type="data_collector",
                 discovered_at="2026-05-04T09:00:00-04:00")
    assert owed(agency, "us-ga/individuals")
    assert owed(run({"US-GA": 50}, entity_type="public_agency"), "us-ga/individuals")
    assert not owed(run({"US-GA": 50}, entity_type="retailer"), "us-ga/individuals")


def test_georgia_10_1_912_d_consumer_reporting_agencies_above_10000_residents() -> None:
    # 10-1-912(d): "more than 10,000 residents of this state at one time": "without unreasonable
    # delay", all nationwide consumer reporting agencies. 10,000 Georgians (and any number of
    # others) are not enough; 10,001 are.
    def agencies(affected: dict[str, int], **more: Any) -> ObligationResult:
        return run(affected, entity_type="information_broker",
                   discovered_at="2026-05-04T09:00:00-04:00",
                   **more)["us-ga/consumer-reporting-agencies"]
    assert not agencies({"US-GA": 10_000, "US-FL": 5_000}).applies
    above = agencies({"US-GA": 10_001})
    assert above.applies and above.recipient == "consumer_reporting_agencies"
    assert above.due_at is None and above.target_at == at("2026-06-03T09:00:00-04:00")
    # Only with the residents' notice: a business that is no broker owes neither.
    plain = run({"US-GA": 20_000})["us-ga/consumer-reporting-agencies"]
    assert not plain.applies
    # Nor where the data was encrypted with a safe key (no notice "pursuant to this Code section").
    assert not agencies({"US-GA": 20_000}, encrypted=True, state_of_the_art=True).applies


# --------------------------------------------------------------------------------- Hawaii


def test_hawaii_487n_2_a_without_unreasonable_delay() -> None:
    # 487N-2(a): "without unreasonable delay": no number of days, only our target.
    results = run({"US-HI": 4}, timezone="Pacific/Honolulu",
                  discovered_at="2026-05-04T09:00:00-10:00")
    people = results["us-hi/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-10:00")


@pytest.mark.parametrize(("affected", "told"), [
    ({"US-HI": 1000}, False), ({"US-HI": 1001}, True),
    # "more than one thousand persons": persons notified, wherever they live.
    ({"US-HI": 1, "US-CA": 1000}, True),
])
def test_hawaii_487n_2_f_office_of_consumer_protection_above_1000_persons(
        affected: dict[str, int], told: bool) -> None:
    results = run(affected, timezone="Pacific/Honolulu")
    assert owed(results, "us-hi/consumer-protection") is told


def test_hawaii_no_security_breach_without_a_risk_of_harm_or_with_a_safe_key() -> None:
    # 487N-1 ("security breach", summaries): illegal use has occurred or is reasonably likely and
    # creates a risk of harm; encrypted records only with the key.
    calm = run({"US-HI": 2000}, **no_harm("2026-05-02T09:00:00-10:00"))
    assert not owed(calm, "us-hi/individuals") and not owed(calm, "us-hi/consumer-protection")
    assert not owed(run({"US-HI": 4}, encrypted=True, state_of_the_art=True), "us-hi/individuals")
    # 487N-1 "personal information": the name with SSN, licence or financial account data only.
    assert not owed(run({"US-HI": 4}, data=["health", "credentials"]), "us-hi/individuals")
    # 487N-2(b): the maintainer tells the owner "immediately following discovery".
    assert owed(run({"US-HI": 4}, roles=["processor"]), "us-hi/owner")


# ---------------------------------------------------------------------------------- Idaho


def test_idaho_28_51_105_residents_as_soon_as_possible_unless_misuse_is_unlikely() -> None:
    # 28-51-105(1) (AICPA summary): notice only "if the investigation determines that the misuse
    # of information about an Idaho resident has occurred or is reasonably likely to occur".
    results = run({"US-ID": 5}, timezone="America/Boise")
    assert owed(results, "us-id/individuals") and results["us-id/individuals"].due_at is None
    # No notice by a business to the Attorney General (only public agencies, not modelled).
    assert not any(ref.startswith("us-id/") and r.recipient == "authority"
                   for ref, r in results.items())
    calm = run({"US-ID": 5}, timezone="America/Boise", **no_harm("2026-05-02T09:00:00-06:00"))
    assert not owed(calm, "us-id/individuals")
    # 28-51-104: name with SSN, licence or financial account data; credentials alone are not.
    assert not owed(run({"US-ID": 5}, data=["credentials"]), "us-id/individuals")


# ------------------------------------------------------------------------------- Illinois


def test_illinois_530_10_a_residents_without_the_number_affected() -> None:
    # 530/10(a): "in the most expedient time possible and without unreasonable delay"; "The
    # notification shall not, however, include information concerning the number of Illinois
    # residents affected by the breach": its own letter.
    results = run({"US-IL": 3}, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00")
    people = results["us-il/individuals"]
    assert people.applies and people.due_at is None
    found = REGIMES.obligation("us-il/individuals")
    assert found is not None and found[1].letter is not None
    assert found[1].letter.omits == ("count",) and found[1].letter.own_letter is not None
    elements = found[1].letter.elements
    assert elements["password_change"].if_exposed == ("credentials",)
    assert "official_id" in elements["credit_bureaus"].if_exposed
    # No harm test in 530/10(a).
    calm = run({"US-IL": 3}, **no_harm("2026-05-02T09:00:00-04:00"))
    assert owed(calm, "us-il/individuals")


@pytest.mark.parametrize(("residents", "told"), [(500, False), (501, True)])
def test_illinois_530_10_e_attorney_general_above_500_residents(residents: int,
                                                                told: bool) -> None:
    # P.A. 101-0343 (summaries): "more than 500 Illinois residents as a result of a single
    # breach"; no later than the notice to consumers; Wisconsinites do not count.
    results = run({"US-IL": residents, "US-WI": 4000}, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00")
    ag = results["us-il/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.due_at is None and ag.target_at == results["us-il/individuals"].target_at


def test_illinois_attorney_general_notice_began_on_1_january_2020() -> None:
    # P.A. 101-0343, effective 1 January 2020.
    before = run({"US-IL": 900}, discovered_at="2019-12-31T09:00:00-06:00")
    assert not owed(before, "us-il/attorney-general") and owed(before, "us-il/individuals")
    assert owed(run({"US-IL": 900}, discovered_at="2020-01-01T09:00:00-06:00"),
                "us-il/attorney-general")


# -------------------------------------------------------------------------------- Indiana


def test_indiana_24_4_9_3_3_residents_and_attorney_general_within_45_days() -> None:
    # 3-3(a): "not more than forty-five (45) days after the discovery"; discovered Monday 4 May
    # 2026: Thursday 18 June 2026. 3-1(c): the Attorney General whenever residents are told,
    # whatever their number.
    results = run({"US-IN": 1}, timezone="America/Indiana/Indianapolis",
                  discovered_at="2026-05-04T09:00:00-04:00")
    people, ag = results["us-in/individuals"], results["us-in/attorney-general"]
    assert people.applies and people.due_at == at("2026-06-18T23:59:59.999999-04:00")
    assert ag.applies and ag.due_at == people.due_at


def test_indiana_before_1_july_2022_had_no_fixed_period() -> None:
    # Before P.L.171-2022: "without unreasonable delay" only.
    results = run({"US-IN": 1}, discovered_at="2022-06-01T09:00:00-04:00")
    assert results["us-in/individuals"].applies and results["us-in/individuals"].due_at is None


def test_indiana_24_4_9_3_1_a_encryption_key_and_harm() -> None:
    # 3-1(a)(2): encrypted data counts when acquired "by an unauthorized person with access to the
    # encryption key"; and only if the breach "has resulted in or could result in identity
    # deception ..., identity theft, or fraud".
    base: dict[str, Any] = {"discovered_at": "2026-05-04T09:00:00-04:00",
                            "encrypted": True, "state_of_the_art": True}
    assert not owed(run({"US-IN": 5}, **base), "us-in/attorney-general")
    assert owed(run({"US-IN": 5}, key_compromised=True, **base), "us-in/individuals")
    calm = run({"US-IN": 5}, discovered_at="2026-05-04T09:00:00-04:00",
               **no_harm("2026-05-05T09:00:00-04:00"))
    assert not owed(calm, "us-in/individuals") and not owed(calm, "us-in/attorney-general")


def test_indiana_24_4_9_3_2_the_maintainer_notifies_the_data_base_owner_within_45_days() -> None:
    # 3-2 with 3-3(a): a "notification under this chapter", not more than 45 days after discovery.
    results = run({"US-IN": 5}, roles=["service_provider"],
                  discovered_at="2026-05-04T09:00:00-04:00")
    owner = results["us-in/owner"]
    assert owner.applies and owner.due_at == at("2026-06-18T23:59:59.999999-04:00")
    assert not owed(results, "us-in/individuals") and not owed(results, "us-in/attorney-general")


# --------------------------------------------------------- substitute notice and sources


@pytest.mark.parametrize("ref", [
    "us-ar/individuals", "us-ct/individuals", "us-de/individuals", "us-dc/individuals",
    "us-ga/individuals", "us-hi/individuals", "us-id/individuals", "us-il/individuals",
    "us-in/individuals"])
def test_a_substitute_notice_not_read_in_the_text_is_marked(ref: str) -> None:
    # Each of these laws provides a substitute notice (its own section, cited); where its
    # conditions or means were not read, the data says so instead of guessing them.
    notice = substitute(ref)
    assert notice.confidence == "low" and notice.note is not None
    assert "not read" in notice.note and "before relying on" in notice.note


def test_the_illinois_substitute_notice_thresholds_come_from_a_summary() -> None:
    # CATA summary of 815 ILCS 530: cost over $250,000, more than 500,000 persons, or
    # insufficient contact information.
    conditions = " | ".join(substitute("us-il/individuals").conditions)
    assert "$250,000" in conditions and "500,000" in conditions


@pytest.mark.parametrize("regime_id", STATES)
def test_every_new_state_cites_its_statute_and_says_how_sure_we_are(regime_id: str) -> None:
    regime = REGIMES.get(regime_id)
    assert regime is not None
    assert regime.confidence in ("high", "medium", "low") and regime.reviewed.year == 2026
    assert regime.applies.affected_in == (regime.jurisdiction,)
    for obligation in regime.obligations:
        assert obligation.citation and obligation.source.startswith("http"), obligation.id
        if obligation.recipient == "counterparty":
            assert obligation.when is not None and obligation.when.roles is not None
            assert "service_provider" in obligation.when.roles
