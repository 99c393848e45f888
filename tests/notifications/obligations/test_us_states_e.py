"""US state breach-notification laws, Iowa to Wyoming: each duty as its statute words it.

Every expected instant and count below is worked out by hand from the text cited next to it and a
printed calendar, not from the engine. Day counts exclude the day of the trigger and end at the
end of the last local day; no rule of these states moving a last day off a weekend was read, so
none is moved (see each regime's notes). Where a provision was read in a summary rather than in
the statute, the regime file says so, and so does the comment here:

* Iowa, Iowa Code 715C.2(1): notice to consumers "in the most expeditious manner possible and
  without unreasonable delay" (quoted in summaries); 715C.2(8): the Director of the Consumer
  Protection Division "within five business days after notifying affected people", for a breach
  that "affects at least 500 Iowa residents" (the Attorney General's page).
* Kansas, K.S.A. 50-7a02(a): a "reasonable and prompt investigation", then notice "as soon as
  possible to the affected Kansas resident" if misuse "has occurred or is reasonably likely to
  occur"; (b): the maintainer tells the owner "following discovery of a breach".
* Kentucky, KRS 365.732(2): "to any resident of Kentucky whose unencrypted personal information
  was ... acquired", "in the most expedient time possible and without unreasonable delay".
* Louisiana, La. R.S. 51:3074(C): "notify any resident of the state"; (E) (summaries): "not later
  than sixty days from the discovery of the breach" (Act 382 of 2018, from 1 August 2018);
  LAC 16:III.701(B): notice to the Attorney General "timely if received within 10 days of
  distribution of notice to Louisiana citizens".
* North Carolina, N.C.G.S. 75-65(a): notice "without unreasonable delay"; (b): the maintainer
  "immediately following discovery"; (e1) (Perkins Coie): the Consumer Protection Division
  "without unreasonable delay" whenever notice is given to an affected person.
* North Dakota, N.D.C.C. 51-30-02: residents "in the most expedient time possible and without
  unreasonable delay"; the Attorney General for "any breach of the security system which exceeds
  two hundred fifty individuals"; 51-30-03: the maintainer "immediately following the discovery".
* Ohio, O.R.C. 1349.19(B)(2) (quoted by Words by Wit): "not later than forty-five days following
  its discovery"; (A)(1)(a): a breach causes or is believed to cause "a material risk of
  identity theft or other fraud".
* Oklahoma, 24 O.S. 163 as amended by SB 626 (summaries): the Attorney General, for 500 or more
  residents, "in no event more than 60 days after providing notice to impacted Oklahoma
  residents", for breaches from 1 January 2026.
* Wisconsin, Wis. Stat. 134.98(3)(a) (quoted): "within a reasonable time, not to exceed 45 days
  after the entity learns of the acquisition of personal information".
* Wyoming, Wyo. Stat. 40-12-502(a): notice "as soon as possible to the affected Wyoming resident"
  if misuse "has occurred or is reasonably likely to occur"; (b): delayed if a law enforcement
  agency "determines in writing"; (e): the content of the notice.
"""

from __future__ import annotations

from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from tests.notifications.obligations.state_laws import (
    REGIMES,
    at,
    no_harm,
    owed,
    state_results,
    substitute,
)

STATES = ("us-ia", "us-ks", "us-ky", "us-la", "us-nc", "us-nd", "us-oh", "us-ok", "us-wi",
          "us-wy")
DISCOVERED = "2026-05-04T09:00:00-05:00"
"""Monday 4 May 2026, 09:00 Central Daylight Time."""


def run(affected: dict[str, int], *, timezone: str = "America/Chicago",
        **facts: Any) -> dict[str, ObligationResult]:
    return state_results(affected, aware_at="2026-05-01T10:00:00-05:00", timezone=timezone, **facts)


# ---------------------------------------------------------------- whom each notice addresses


@pytest.mark.parametrize(("ref", "state", "neighbour"), [
    # Iowa Code 715C.2(1): "to any consumer whose personal information was included"; a consumer
    # is an Iowa resident (715C.1).
    ("us-ia/individuals", "US-IA", "US-NE"),
    # K.S.A. 50-7a02(a): "to the affected Kansas resident".
    ("us-ks/individuals", "US-KS", "US-MO"),
    # KRS 365.732(2): "to any resident of Kentucky".
    ("us-ky/individuals", "US-KY", "US-TN"),
    # La. R.S. 51:3074(C): "notify any resident of the state".
    ("us-la/individuals", "US-LA", "US-MS"),
    # N.C.G.S. 75-65(a): personal information "of residents of North Carolina".
    ("us-nc/individuals", "US-NC", "US-SC"),
    # N.D.C.C. 51-30-02: "to any resident of the state".
    ("us-nd/individuals", "US-ND", "US-MN"),
    # O.R.C. 1349.19(A)(1)(a): "a resident of this state".
    ("us-oh/individuals", "US-OH", "US-PA"),
    # 24 O.S. 163(A): "to any resident of this state".
    ("us-ok/individuals", "US-OK", "US-TX"),
    # Wis. Stat. 134.98(2)(b): "each resident of this state who is the subject".
    ("us-wi/individuals", "US-WI", "US-IL"),
    # Wyo. Stat. 40-12-502(a): "to the affected Wyoming resident".
    ("us-wy/individuals", "US-WY", "US-CO"),
])
def test_each_state_s_notice_goes_to_its_own_residents_only(ref: str, state: str,
                                                            neighbour: str) -> None:
    found = REGIMES.obligation(ref)
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={state: 3, neighbour: 40, "": 1})
    assert (addressed.everyone, addressed.jurisdictions) == (False, (state,))
    assert addressed.count == 3 and addressed.unknown == 1 and addressed.not_protected == 40
    # One resident is enough for the duty; none, and the state's law is silent.
    assert owed(run({state: 1}, discovered_at=DISCOVERED,
                    breach_determined_at=DISCOVERED), ref)
    assert not owed(run({neighbour: 40}, discovered_at=DISCOVERED), ref)


def test_wisconsin_134_98_2_a_a_wisconsin_business_notifies_every_subject() -> None:
    # Wis. Stat. 134.98(2)(a) (895.507(2)(a) in the 2005 text, read): an entity "whose principal
    # place of business is located in this state" notifies "each subject of the personal
    # information", resident or not; (2)(b): an entity whose principal place of business is not
    # in Wisconsin notifies "each resident of this state who is the subject".
    found = REGIMES.obligation("us-wi/individuals")
    assert found is not None and found[1].protects is not None
    protects = found[1].protects
    home = audience(protects, established_in="US-WI", people={"US-WI": 3, "US-IL": 40})
    assert home.everyone and home.count == 43 and "134.98(2)(a)" in home.basis
    away = audience(protects, established_in="US-IL", people={"US-WI": 3, "US-IL": 40})
    assert not away.everyone and away.count == 3
    # Only Illinoisans affected: a Wisconsin business still owes them notice, 45 days after it
    # learns of the acquisition (4 May 2026 + 45 days = Thursday 18 June, end of day).
    wisconsin = {"country": "US", "timezone": "America/Chicago", "principal_place": "US-WI"}
    illinois_only = state_results({"US-IL": 40}, aware_at="2026-05-01T10:00:00-05:00",
                                  timezone="America/Chicago", discovered_at=DISCOVERED)
    assert not owed(illinois_only, "us-wi/individuals")
    facts = {"organisation": {**wisconsin, "roles": []},
             "incident": {"aware_at": "2026-05-01T10:00:00-05:00", "risk": "high",
                          "data_categories": ["official_id"], "discovered_at": DISCOVERED},
             "affected": {"US-IL": 40}}
    results = {r.ref: r for r in compute_obligations(facts_from_json(facts), REGIMES)}
    assert results["us-wi/individuals"].due_at == at("2026-06-18T23:59:59.999999-05:00")


def test_wisconsin_134_98_2_br_consumer_reporting_agencies_from_1000_individuals() -> None:
    # 134.98(2)(br) (quoted in law-firm charts): "as the result of a single incident" required
    # "to notify 1,000 or more individuals": all nationwide consumer reporting agencies,
    # "without unreasonable delay". 999 Wisconsinites are not enough; 1,000 are; people
    # elsewhere count only for a Wisconsin business, which must notify them too.
    def agencies(affected: dict[str, int], place: str | None = None) -> ObligationResult:
        organisation: dict[str, Any] = {"country": "US", "timezone": "America/Chicago"}
        if place:
            organisation["principal_place"] = place
        facts = {"organisation": organisation,
                 "incident": {"aware_at": "2026-05-01T10:00:00-05:00", "risk": "high",
                              "data_categories": ["official_id"], "discovered_at": DISCOVERED},
                 "affected": affected}
        results = compute_obligations(facts_from_json(facts), REGIMES, explain=True)
        return next(r for r in results if r.ref == "us-wi/consumer-reporting-agencies")
    assert not agencies({"US-WI": 999, "US-IL": 5_000}).applies
    above = agencies({"US-WI": 1_000})
    assert above.applies and above.recipient == "consumer_reporting_agencies"
    assert above.due_at is None and above.target_at == at("2026-06-03T09:00:00-05:00")
    assert agencies({"US-WI": 10, "US-IL": 990}, place="US-WI").applies
    assert not agencies({"US-WI": 10, "US-IL": 989}, place="US-WI").applies


# ----------------------------------------------------------------------------------- Iowa


def test_iowa_715c_2_consumers_without_unreasonable_delay_and_the_owner_told() -> None:
    # 715C.2(1): "in the most expeditious manner possible and without unreasonable delay": no
    # number of days, only our own target of 30 days.
    results = run({"US-IA": 3}, discovered_at=DISCOVERED)
    people = results["us-ia/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-05:00")
    # 715C.2(2): the maintainer tells the owner "immediately following discovery": our 24 hours.
    vendor = run({"US-IA": 3}, roles=["service_provider"], discovered_at=DISCOVERED)
    assert vendor["us-ia/owner"].target_at == at("2026-05-05T09:00:00-05:00")
    assert not owed(vendor, "us-ia/individuals") and not owed(vendor, "us-ia/attorney-general")


@pytest.mark.parametrize(("residents", "told"), [(499, False), (500, True)])
def test_iowa_715c_2_8_attorney_general_from_500_residents(residents: int, told: bool) -> None:
    # The Attorney General's page: a breach that "affects at least 500 Iowa residents" (summaries
    # say more than 500: the lower number is used, low confidence); Nebraskans do not count.
    results = run({"US-IA": residents, "US-NE": 3000}, discovered_at=DISCOVERED)
    ag = results["us-ia/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.recipient == "authority" and ag.confidence == "low"


@pytest.mark.parametrize(("notified", "due"), [
    # Consumers notified Friday 8 May 2026: business days Monday 11 to Friday 15 May.
    ("2026-05-08T10:00:00-05:00", "2026-05-15T23:59:59.999999-05:00"),
    # Notified Wednesday 20 May: Thursday 21, Friday 22, (Memorial Day Monday 25 May is a
    # holiday) Tuesday 26, Wednesday 27, Thursday 28 May.
    ("2026-05-20T10:00:00-05:00", "2026-05-28T23:59:59.999999-05:00"),
])
def test_iowa_715c_2_8_five_business_days_after_notifying_consumers(notified: str,
                                                                   due: str) -> None:
    results = run({"US-IA": 800}, discovered_at=DISCOVERED,
                  met={"us-ia/individuals": notified})
    assert results["us-ia/attorney-general"].due_at == at(due)


def test_iowa_715c_2_6_no_notice_without_a_reasonable_likelihood_of_financial_harm() -> None:
    # 715C.2(6) (summaries): no notice if, after investigation or consultation with law
    # enforcement, no reasonable likelihood of financial harm is determined in writing.
    calm = run({"US-IA": 800}, discovered_at=DISCOVERED, **no_harm("2026-05-05T09:00:00-05:00"))
    assert not owed(calm, "us-ia/individuals") and not owed(calm, "us-ia/attorney-general")
    # 715C.1: encrypted data counts only with its key.
    base: dict[str, Any] = {"discovered_at": DISCOVERED, "encrypted": True,
                            "state_of_the_art": True}
    assert not owed(run({"US-IA": 800}, **base), "us-ia/individuals")
    assert owed(run({"US-IA": 800}, key_compromised=True, **base), "us-ia/individuals")


def test_iowa_715c_2_5_the_notice_names_the_consumer_reporting_agencies() -> None:
    # 715C.2(5)(d): "contact information for consumer reporting agencies"; (e): advice to report
    # identity theft to local law enforcement or the attorney general.
    found = REGIMES.obligation("us-ia/individuals")
    assert found is not None and found[1].letter is not None
    elements = found[1].letter.elements
    assert {"nature", "dates", "data_involved", "credit_bureaus", "advice"} <= set(elements)
    assert "715C.2(5)(d)" in elements["credit_bureaus"].citation


# --------------------------------------------------------------------------------- Kansas


def test_kansas_50_7a02_a_notice_after_the_investigation_unless_misuse_is_unlikely() -> None:
    # 50-7a02(a): "as soon as possible" after a "reasonable and prompt investigation"; counted
    # from awareness (Friday 1 May 2026, 10:00): our own 30 days.
    results = run({"US-KS": 4})
    people = results["us-ks/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-05-31T10:00:00-05:00")
    calm = run({"US-KS": 4}, **no_harm("2026-05-02T10:00:00-05:00"))
    assert not owed(calm, "us-ks/individuals")
    # 50-7a01: name with SSN, licence or financial account data; credentials alone are not.
    assert not owed(run({"US-KS": 4}, data=["credentials", "health"]), "us-ks/individuals")
    # No notice to the Attorney General (summaries agree).
    assert not any(ref.startswith("us-ks/") and r.recipient == "authority"
                   for ref, r in results.items())


def test_kansas_50_7a02_c_notice_waits_for_law_enforcement() -> None:
    # 50-7a02(c): "may be delayed if a law enforcement agency determines that the notice will
    # impede a criminal investigation".
    delay = {"agency": "Kansas Bureau of Investigation",
             "requested_at": "2026-05-02T10:00:00-05:00"}
    people = run({"US-KS": 4}, law_enforcement_delay=delay)["us-ks/individuals"]
    assert people.applies and people.due_at is None
    assert people.trigger is not None and people.trigger.waiting_for is not None


def test_kansas_50_7a02_b_the_maintainer_tells_the_owner() -> None:
    results = run({"US-KS": 4}, roles=["processor"], discovered_at=DISCOVERED)
    assert results["us-ks/owner"].target_at == at("2026-05-05T09:00:00-05:00")
    assert not owed(results, "us-ks/individuals")


# ------------------------------------------------------------------------------- Kentucky


def test_kentucky_365_732_residents_without_unreasonable_delay_and_no_state_agency() -> None:
    # 365.732(2): "in the most expedient time possible and without unreasonable delay".
    results = run({"US-KY": 1500}, timezone="America/New_York",
                  discovered_at="2026-05-04T09:00:00-04:00")
    people = results["us-ky/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-04:00")
    # No notice to the Attorney General by a private information holder (Perkins Coie), even
    # above the 1,000 persons at which the consumer reporting agencies are told.
    assert not any(ref.startswith("us-ky/") and r.recipient == "authority"
                   for ref, r in results.items())


def test_kentucky_365_732_1_a_no_breach_without_identity_theft_or_fraud_believed() -> None:
    # 365.732(1)(a): a breach "actually causes, or leads the information holder to reasonably
    # believe has caused or will cause, identity theft or fraud"; of "unencrypted and unredacted"
    # data; (1)(c): name with SSN, driver's licence or financial account data only.
    calm = run({"US-KY": 5}, **no_harm("2026-05-02T10:00:00-04:00"))
    assert not owed(calm, "us-ky/individuals")
    assert not owed(run({"US-KY": 5}, redacted=True), "us-ky/individuals")
    assert not owed(run({"US-KY": 5}, data=["health", "credentials"]), "us-ky/individuals")


def test_kentucky_substitute_notice_figures_come_from_summaries() -> None:
    # Legal Clarity's summary of KRS 365.732: cost over $250,000, more than 500,000 individuals,
    # or insufficient contact information.
    notice = substitute("us-ky/individuals")
    conditions = " | ".join(notice.conditions)
    assert "$250,000" in conditions and "500,000" in conditions
    assert notice.confidence == "low" and notice.note is not None and "not read" in notice.note


# ------------------------------------------------------------------------------ Louisiana


def test_louisiana_51_3074_residents_within_60_days_of_discovery() -> None:
    # 51:3074(E) (summaries): "not later than sixty days from the discovery of the breach";
    # discovered Monday 4 May 2026: 27 days left in May, 30 in June, 3 in July: Friday 3 July.
    results = run({"US-LA": 2}, discovered_at=DISCOVERED)
    people = results["us-la/individuals"]
    assert people.applies and people.due_at == at("2026-07-03T23:59:59.999999-05:00")
    assert people.trigger is not None and people.trigger.name == "discovered_at"


def test_louisiana_before_act_382_of_2018_had_no_fixed_period() -> None:
    # Before 1 August 2018: "in the most expedient time possible and without unreasonable delay".
    results = run({"US-LA": 2}, discovered_at="2018-07-02T09:00:00-05:00")
    assert results["us-la/individuals"].applies and results["us-la/individuals"].due_at is None
    later = run({"US-LA": 2}, discovered_at="2018-08-01T09:00:00-05:00")
    assert later["us-la/individuals"].due_at is not None


def test_louisiana_lac_16_iii_701_attorney_general_within_10_days_of_the_notices() -> None:
    # LAC 16:III.701(A): "When notice to Louisiana citizens is required", written notice to the
    # Consumer Protection Section with "the names of all Louisiana citizens affected", for any
    # number; (B): "timely if received within 10 days of distribution of notice". Notices sent
    # Sunday 10 May 2026: Wednesday 20 May.
    results = run({"US-LA": 1}, discovered_at=DISCOVERED,
                  met={"us-la/individuals": "2026-05-10T09:00:00-05:00"})
    ag = results["us-la/attorney-general"]
    assert ag.applies and ag.recipient == "authority" and ag.confidence == "high"
    assert ag.due_at == at("2026-05-20T23:59:59.999999-05:00")
    assert any("names of all Louisiana citizens" in item for item in ag.content)
    assert not owed(run({"US-MS": 90}, discovered_at=DISCOVERED), "us-la/attorney-general")


def test_louisiana_51_3074_i_no_notice_where_harm_is_not_reasonably_likely() -> None:
    # 51:3074(I) (summaries): no notice if, after a reasonable investigation, there is no
    # reasonable likelihood of harm to Louisiana residents; then no notice to the Attorney
    # General either (701(A): only "when notice to Louisiana citizens is required").
    calm = run({"US-LA": 20}, discovered_at=DISCOVERED, **no_harm("2026-05-05T09:00:00-05:00"))
    assert not owed(calm, "us-la/individuals") and not owed(calm, "us-la/attorney-general")
    # 51:3074(D): the maintainer tells the owner following discovery: our own 24 hours.
    vendor = run({"US-LA": 20}, roles=["service_provider"], discovered_at=DISCOVERED)
    assert vendor["us-la/owner"].target_at == at("2026-05-05T09:00:00-05:00")


# ------------------------------------------------------------------------- North Carolina


def test_north_carolina_75_65_residents_and_the_attorney_general_for_any_number() -> None:
    # 75-65(a): "without unreasonable delay"; (e1): the Consumer Protection Division "without
    # unreasonable delay" once notice is given to an affected person, whatever their number.
    results = run({"US-NC": 1}, timezone="America/New_York",
                  discovered_at="2026-05-04T09:00:00-04:00")
    people, ag = results["us-nc/individuals"], results["us-nc/attorney-general"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-04:00")
    assert ag.applies and ag.recipient == "authority" and ag.due_at is None
    sent = run({"US-NC": 1}, timezone="America/New_York",
               discovered_at="2026-05-04T09:00:00-04:00",
               met={"us-nc/individuals": "2026-05-11T09:00:00-04:00"})
    # No number of days: 72 hours after the notices is our own target.
    assert sent["us-nc/attorney-general"].target_at == at("2026-05-14T09:00:00-04:00")


def test_north_carolina_75_61_14_encrypted_data_with_its_key_and_harm() -> None:
    # 75-61(14) (quoted in summaries): acquisition of "encrypted records or data ... along with
    # the confidential process or key shall constitute a security breach"; a breach is one where
    # illegal use "has occurred or is reasonably likely to occur or that creates a material risk
    # of harm".
    base: dict[str, Any] = {"encrypted": True, "state_of_the_art": True}
    assert not owed(run({"US-NC": 5}, **base), "us-nc/individuals")
    assert owed(run({"US-NC": 5}, key_compromised=True, **base), "us-nc/individuals")
    calm = run({"US-NC": 5}, **no_harm("2026-05-02T10:00:00-04:00"))
    assert not owed(calm, "us-nc/individuals") and not owed(calm, "us-nc/attorney-general")


def test_north_carolina_75_65_b_the_maintainer_tells_the_owner_immediately() -> None:
    # 75-65(b): "immediately following discovery of the breach": our own 24 hours.
    results = run({"US-NC": 5}, roles=["service_provider"], timezone="America/New_York",
                  discovered_at="2026-05-04T09:00:00-04:00")
    assert results["us-nc/owner"].target_at == at("2026-05-05T09:00:00-04:00")
    assert not owed(results, "us-nc/individuals") and not owed(results, "us-nc/attorney-general")


# --------------------------------------------------------------------------- North Dakota


@pytest.mark.parametrize(("affected", "told"), [
    ({"US-ND": 250}, False), ({"US-ND": 251}, True),
    # "exceeds two hundred fifty individuals": individuals, wherever they live.
    ({"US-ND": 1, "US-MN": 249}, False), ({"US-ND": 1, "US-MN": 250}, True),
])
def test_north_dakota_51_30_02_attorney_general_above_250_individuals(
        affected: dict[str, int], told: bool) -> None:
    results = run(affected, discovered_at=DISCOVERED)
    ag = results["us-nd/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.recipient == "authority" and ag.due_at is None
        assert ag.target_at == results["us-nd/individuals"].target_at


def test_north_dakota_has_no_harm_exception_but_encryption_is_no_breach() -> None:
    # 51-30-01(1): a breach is an acquisition "when access to personal information has not been
    # secured by encryption"; no harm test is in the text, so a finding that harm is unlikely
    # does not lift the duty.
    calm = run({"US-ND": 300}, discovered_at=DISCOVERED, **no_harm("2026-05-05T09:00:00-05:00"))
    assert owed(calm, "us-nd/individuals") and owed(calm, "us-nd/attorney-general")
    safe = run({"US-ND": 300}, discovered_at=DISCOVERED, encrypted=True, state_of_the_art=True)
    assert not owed(safe, "us-nd/individuals") and not owed(safe, "us-nd/attorney-general")
    # 51-30-01(4)(a)(7) and (8): medical and health insurance information are personal
    # information; (5): the date of birth too.
    assert owed(run({"US-ND": 2}, data=["health"]), "us-nd/individuals")
    assert owed(run({"US-ND": 2}, data=["identity"]), "us-nd/individuals")


def test_north_dakota_51_30_03_the_maintainer_tells_the_owner_immediately() -> None:
    results = run({"US-ND": 2}, roles=["processor"], discovered_at=DISCOVERED)
    assert results["us-nd/owner"].target_at == at("2026-05-05T09:00:00-05:00")
    assert not owed(results, "us-nd/attorney-general")


# ----------------------------------------------------------------------------------- Ohio


def test_ohio_1349_19_b_2_residents_within_45_days_of_discovery() -> None:
    # "Not later than forty-five days following its discovery"; discovered Monday 4 May 2026:
    # 27 days left in May and 18 in June: Thursday 18 June 2026.
    results = run({"US-OH": 10}, timezone="America/New_York",
                  discovered_at="2026-05-04T09:00:00-04:00")
    people = results["us-oh/individuals"]
    assert people.applies and people.due_at == at("2026-06-18T23:59:59.999999-04:00")
    # No notice to the Attorney General (Davis Wright Tremaine).
    assert not any(ref.startswith("us-oh/") and r.recipient == "authority"
                   for ref, r in results.items())


def test_ohio_1349_19_a_1_no_breach_without_a_material_risk_of_identity_theft() -> None:
    # (A)(1)(a): a breach "reasonably is believed will cause a material risk of identity theft or
    # other fraud to the person or property of a resident of this state".
    calm = run({"US-OH": 10}, discovered_at="2026-05-04T09:00:00-04:00",
               **no_harm("2026-05-05T09:00:00-04:00"))
    assert not owed(calm, "us-oh/individuals")
    assert not owed(run({"US-OH": 10}, encrypted=True, state_of_the_art=True),
                    "us-oh/individuals")
    assert not owed(run({"US-OH": 10}, data=["health"]), "us-oh/individuals")


def test_ohio_s_b_126_a_hipaa_covered_entity_is_outside_the_section() -> None:
    # S.B. 126 (2007): persons and entities that are covered entities under HIPAA are exempt
    # from 1349.19 (they notify under 45 CFR 164.400-414 instead).
    def ohio(flags: list[str], roles: list[str]) -> dict[str, ObligationResult]:
        facts = {"organisation": {"country": "US", "timezone": "America/New_York",
                                  "flags": flags, "roles": roles},
                 "incident": {"aware_at": "2026-05-01T10:00:00-04:00", "risk": "high",
                              "data_categories": ["official_id"],
                              "discovered_at": "2026-05-04T09:00:00-04:00"},
                 "affected": {"US-OH": 2000}}
        return {r.ref: r for r in compute_obligations(facts_from_json(facts), REGIMES,
                                                      explain=True)}
    hospital = ohio(["hipaa_covered_entity"], [])
    assert not owed(hospital, "us-oh/individuals")
    assert not owed(hospital, "us-oh/consumer-reporting-agencies")
    assert owed(hospital, "hipaa/individuals")
    shop = ohio([], [])
    assert owed(shop, "us-oh/individuals") and owed(shop, "us-oh/consumer-reporting-agencies")
    assert not owed(ohio(["hipaa_covered_entity"], ["service_provider"]), "us-oh/owner")
    assert owed(ohio([], ["service_provider"]), "us-oh/owner")


def test_ohio_substitute_notice_reaches_three_quarters_of_the_state() -> None:
    # 1349.19(E)(4) (Snell & Wilmer): cost over $250,000, more than 500,000 residents, or
    # insufficient contact information; major media reaching 75 per cent of Ohio's population.
    notice = substitute("us-oh/individuals")
    conditions, means = " | ".join(notice.conditions), " | ".join(notice.means)
    assert "$250,000" in conditions and "500,000" in conditions
    assert "75 per cent" in means
    assert notice.confidence == "low" and notice.note is not None
    assert "10 or fewer employees" in notice.note


# ------------------------------------------------------------------------------- Oklahoma


@pytest.mark.parametrize(("residents", "told"), [(499, False), (500, True)])
def test_oklahoma_sb_626_attorney_general_from_500_residents_within_60_days(
        residents: int, told: bool) -> None:
    # SB 626 (Tenaco): 500 or more Oklahoma residents; "in no event more than 60 days after
    # providing notice to impacted Oklahoma residents". Residents told Monday 4 May 2026:
    # Friday 3 July 2026. Texans do not count.
    results = run({"US-OK": residents, "US-TX": 4000}, discovered_at=DISCOVERED,
                  met={"us-ok/individuals": "2026-05-04T15:00:00-05:00"})
    ag = results["us-ok/attorney-general"]
    assert ag.applies is told
    if told:
        assert ag.due_at == at("2026-07-03T23:59:59.999999-05:00")
        assert ag.confidence == "low"


@pytest.mark.parametrize(("entity_type", "residents", "told"), [
    ("credit_bureau", 999, False), ("credit_bureau", 1000, True),
    ("consumer_reporting_agency", 999, False), ("retailer", 500, True), (None, 500, True)])
def test_oklahoma_sb_626_a_credit_bureau_reports_from_1000_residents(
        entity_type: str | None, residents: int, told: bool) -> None:
    # SB 626 as read by the Insights Association: not for breaches "affecting less than 500
    # Oklahoma residents (1,000 such residents if the system is maintained by a credit bureau)".
    results = run({"US-OK": residents}, discovered_at=DISCOVERED, entity_type=entity_type,
                  met={"us-ok/individuals": "2026-05-04T15:00:00-05:00"})
    assert results["us-ok/attorney-general"].applies is told


def test_oklahoma_attorney_general_notice_began_on_1_january_2026() -> None:
    # SB 626 reaches breaches discovered on or after 1 January 2026.
    before = run({"US-OK": 900}, discovered_at="2025-12-31T09:00:00-06:00")
    assert owed(before, "us-ok/individuals") and not owed(before, "us-ok/attorney-general")
    after = run({"US-OK": 900}, discovered_at="2026-01-01T09:00:00-06:00")
    assert owed(after, "us-ok/attorney-general")


def test_oklahoma_24_o_s_162_no_breach_without_identity_theft_or_fraud_believed() -> None:
    # 162(1) (SB 626's text): a breach "causes, or the individual or entity reasonably believes
    # has caused or will cause, identity theft or other fraud".
    calm = run({"US-OK": 900}, discovered_at=DISCOVERED, **no_harm("2026-05-05T09:00:00-05:00"))
    assert not owed(calm, "us-ok/individuals") and not owed(calm, "us-ok/attorney-general")
    # Substitute notice (TechInsurance): cost over $50,000 or more than 100,000 residents.
    conditions = " | ".join(substitute("us-ok/individuals").conditions)
    assert "$50,000" in conditions and "100,000" in conditions


# ------------------------------------------------------------------------------ Wisconsin


def test_wisconsin_134_98_3_a_within_45_days_after_learning_of_the_acquisition() -> None:
    # "Not to exceed 45 days after the entity learns of the acquisition"; learned Monday 4 May
    # 2026: Thursday 18 June 2026. No notice to a state agency (summaries).
    results = run({"US-WI": 2000}, discovered_at=DISCOVERED)
    people = results["us-wi/individuals"]
    assert people.applies and people.due_at == at("2026-06-18T23:59:59.999999-05:00")
    assert not any(ref.startswith("us-wi/") and r.recipient == "authority"
                   for ref, r in results.items())


def test_wisconsin_no_notice_without_a_material_risk_of_identity_theft_or_fraud() -> None:
    # 134.98(2)(cm)1. (summaries): no notice if the acquisition "does not create a material risk
    # of identity theft or fraud"; 134.98(1)(b): a DNA profile or biometric data counts.
    calm = run({"US-WI": 20}, discovered_at=DISCOVERED, **no_harm("2026-05-05T09:00:00-05:00"))
    assert not owed(calm, "us-wi/individuals")
    assert owed(run({"US-WI": 20}, data=["special"]), "us-wi/individuals")
    vendor = run({"US-WI": 20}, roles=["service_provider"], discovered_at=DISCOVERED)
    assert owed(vendor, "us-wi/owner") and not owed(vendor, "us-wi/individuals")


# -------------------------------------------------------------------------------- Wyoming


def test_wyoming_40_12_502_a_notice_after_the_investigation_with_its_content() -> None:
    # 502(a): notice "as soon as possible" where misuse "has occurred or is reasonably likely";
    # our own target of 30 days from awareness (Friday 1 May 2026, 09:00 Mountain Daylight).
    results = run({"US-WY": 3}, timezone="America/Denver")
    people = results["us-wy/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-05-31T09:00:00-06:00")
    calm = run({"US-WY": 3}, **no_harm("2026-05-02T10:00:00-06:00"))
    assert not owed(calm, "us-wy/individuals")
    # 502(e)(i) to (v) (quoted by Words by Wit): a toll-free number, the types of information, a
    # general description, the approximate date and the actions taken.
    found = REGIMES.obligation("us-wy/individuals")
    assert found is not None and found[1].letter is not None
    assert {"contact", "credit_bureaus", "data_involved", "nature", "dates", "measures"} <= set(
        found[1].letter.elements)


def test_wyoming_only_redaction_is_read_as_a_harbour() -> None:
    # Davis Wright Tremaine: the statute "does not apply to information where data elements are
    # redacted"; no encryption harbour was read, so encrypted data still leads to notice.
    assert owed(run({"US-WY": 3}, encrypted=True, state_of_the_art=True), "us-wy/individuals")
    assert not owed(run({"US-WY": 3}, redacted=True), "us-wy/individuals")
    # Credentials (a username or e-mail address with its password) are personal information.
    assert owed(run({"US-WY": 3}, data=["credentials"]), "us-wy/individuals")


def test_wyoming_40_12_502_b_only_a_written_determination_delays_notice() -> None:
    # 502(b): "may be delayed if a law enforcement agency determines in writing".
    oral = {"agency": "Wyoming DCI", "requested_at": "2026-05-02T10:00:00-06:00"}
    spoken = run({"US-WY": 3}, timezone="America/Denver", law_enforcement_delay=oral)
    assert spoken["us-wy/individuals"].target_at == at("2026-05-31T09:00:00-06:00")
    written = run({"US-WY": 3}, timezone="America/Denver",
                  law_enforcement_delay={**oral, "written": True})
    trigger = written["us-wy/individuals"].trigger
    assert trigger is not None and trigger.waiting_for is not None


def test_wyoming_40_12_502_g_the_maintainer_tells_the_owner_after_the_determination() -> None:
    # 502(g) (Perkins Coie): "as soon as practicable following the determination".
    results = run({"US-WY": 3}, roles=["service_provider"], timezone="America/Denver",
                  breach_determined_at="2026-05-04T09:00:00-06:00")
    assert results["us-wy/owner"].target_at == at("2026-05-05T09:00:00-06:00")
    assert not owed(results, "us-wy/individuals")


# --------------------------------------------------------- substitute notice and sources


@pytest.mark.parametrize("ref", [
    "us-ia/individuals", "us-ks/individuals", "us-ky/individuals", "us-la/individuals",
    "us-nc/individuals", "us-nd/individuals", "us-oh/individuals", "us-ok/individuals",
    "us-wi/individuals", "us-wy/individuals"])
def test_a_substitute_notice_not_read_in_the_text_is_marked(ref: str) -> None:
    # Each of these laws provides a substitute notice (its own section, cited); none of them was
    # read in the statute's words, and the data says so instead of guessing.
    notice = substitute(ref)
    assert notice.confidence == "low" and notice.note is not None
    assert "not read" in notice.note and "before relying on" in notice.note


def test_the_iowa_substitute_notice_thresholds_come_from_a_summary() -> None:
    # A summary of Iowa Code 715C.2(4): cost over $250,000, more than 350,000 consumers, or
    # insufficient contact information.
    conditions = " | ".join(substitute("us-ia/individuals").conditions)
    assert "$250,000" in conditions and "350,000" in conditions


def test_north_carolina_75_65_e_4_substitute_notice_conditions_in_the_law_s_words() -> None:
    # 75-65(e)(4), quoted on the Attorney General's reporting form: "the cost of providing notice
    # would exceed two hundred fifty thousand dollars ($250,000) or that the affected class of
    # subject persons to be notified exceeds 500,000", or, "for only those affected persons",
    # no sufficient contact information or consent, or persons the business cannot identify.
    notice = substitute("us-nc/individuals")
    assert notice.citation == "N.C.G.S. 75-65(e)(4)"
    conditions = " | ".join(notice.conditions)
    assert "($250,000)" in conditions and "exceeds 500,000" in conditions
    assert "for only those unidentifiable affected persons" in conditions


def test_kansas_and_louisiana_substitute_notice_figures_are_marked_as_summaries() -> None:
    # TekRisq's chart of K.S.A. 50-7a01: cost over $100,000 or more than 5,000 consumers.
    kansas = " | ".join(substitute("us-ks/individuals").conditions)
    assert "$100,000" in kansas and "5,000" in kansas
    # La. R.S. 51:3074: the summaries disagree ($100,000 / 100,000 against $250,000 / 500,000);
    # the higher figures are recorded and the disagreement is stated.
    louisiana = substitute("us-la/individuals")
    assert "$250,000" in " | ".join(louisiana.conditions)
    assert louisiana.note is not None and "disagree" in louisiana.note


@pytest.mark.parametrize("regime_id", STATES)
def test_every_new_state_cites_its_statute_and_says_how_sure_we_are(regime_id: str) -> None:
    regime = REGIMES.get(regime_id)
    assert regime is not None
    assert regime.confidence in ("high", "medium", "low") and regime.reviewed.year == 2026
    # Its own residents bring a state's law in; Wisconsin's also reaches a business whose
    # principal place is there (134.98(2)(a)).
    branches = regime.applies.any_of or (regime.applies,)
    assert any(branch.affected_in == (regime.jurisdiction,) for branch in branches)
    for obligation in regime.obligations:
        assert obligation.citation and obligation.source.startswith("http"), obligation.id
        if obligation.recipient == "counterparty":
            assert obligation.when is not None and obligation.when.roles is not None
            assert "service_provider" in obligation.when.roles
