"""US state breach-notification laws, second group: each case is written from the section it
cites (the regime files say which words were read in the statute and which in summaries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue

REGIMES: Catalogue = load_regimes()
ALL_DATA = ["contact", "official_id", "financial", "credentials", "health"]


def run(affected: dict[str, int], *, timezone: str = "America/New_York",
        roles: list[str] | None = None, data: list[str] | None = None,
        **incident: Any) -> dict[str, ObligationResult]:
    facts = {
        "organisation": {"country": "US", "timezone": timezone, "roles": roles or []},
        "incident": {"aware_at": "2026-05-01T10:00:00-04:00", "risk": "high",
                     "data_categories": ALL_DATA if data is None else data, **incident},
        "affected": affected,
    }
    results = compute_obligations(facts_from_json(facts), REGIMES, explain=True)
    return {r.ref: r for r in results}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def owed(results: dict[str, ObligationResult], ref: str) -> bool:
    return ref in results and results[ref].applies


# ------------------------------------------------------------------ Maine, 10 M.R.S. 1348


def test_maine_1348_1_residents_within_30_days_of_becoming_aware_and_the_regulator() -> None:
    # 10 M.R.S. 1348(1) as amended by PL 2019, c. 512: notice "no more than 30 days after the
    # person ... becomes aware of a breach of security and identifies its scope"; counted from
    # awareness, the earliest start. Friday 1 May + 30 days = Sunday 31 May: Maine moves no
    # last day on a Sunday (Oakland Mfg. Co. v. Lemieux, 98 Me. 488 (1904)).
    results = run({"US-ME": 1})
    people = results["us-me/individuals"]
    assert people.applies and people.recipient == "individuals"
    assert people.due_at == at("2026-05-31T23:59:59.999999-04:00")
    # 1348(5): when notice is required, the Department's regulator or the Attorney General is
    # told too, for any number of residents; the statute gives it no number of days.
    regulator = results["us-me/regulator"]
    assert regulator.applies and regulator.recipient == "regulator" and regulator.due_at is None


def test_maine_protects_maine_residents_only_and_needs_one_of_its_data_elements() -> None:
    # 1348(1): notice "to a resident of this State"; 1347(6): name with SSN, licence, account
    # numbers, passwords or access codes.
    assert not owed(run({"US-NH": 40}), "us-me/individuals")
    assert not owed(run({"US-ME": 40}, data=["contact"]), "us-me/individuals")
    assert not owed(run({"US-ME": 0}), "us-me/regulator")
    assert owed(run({"US-ME": 1, "US-NH": 40}, data=["credentials"]), "us-me/individuals")


def test_maine_1347_encrypted_data_with_a_safe_key_is_not_personal_information() -> None:
    # 1347(6): personal information is the name or data elements "not encrypted or redacted".
    safe = run({"US-ME": 5}, encrypted=True, state_of_the_art=True)
    assert not owed(safe, "us-me/individuals") and not owed(safe, "us-me/regulator")
    assert owed(run({"US-ME": 5}, encrypted=True, state_of_the_art=True, key_compromised=True),
                "us-me/individuals")


def test_maine_1348_2_the_third_party_tells_the_person_it_maintains_data_for() -> None:
    # 1348(2): a 3rd-party entity maintaining data it does not own notifies that person
    # "immediately following discovery": no number of days, our target of 24 hours.
    results = run({"US-ME": 5}, roles=["service_provider"],
                  discovered_at="2026-05-04T08:00:00-04:00")
    owner = results["us-me/owner"]
    assert owner.applies and owner.recipient == "counterparty" and owner.due_at is None
    assert owner.target_at == at("2026-05-05T08:00:00-04:00")
    assert not owed(results, "us-me/individuals")


def test_maine_1348_3_a_law_enforcement_delay_replaces_the_30_days_with_7_business_days() -> None:
    # 1348(3): notice delayed by law enforcement is made "no more than 7 business days after a law
    # enforcement agency determines that the notification will not compromise a criminal
    # investigation"; 1348(1) (LD 696): the 30 days hold only "if there is no delay ... due to
    # law enforcement". The delay ends on Tuesday 5 May 2026: the 7 business days are 6, 7, 8,
    # 11, 12, 13 and 14 May (no Maine holiday among them), so Thursday 14 May, though the 30
    # days would run to 31 May.
    def delayed(ended: str) -> ObligationResult:
        delay = {"agency": "Maine State Police", "requested_at": "2026-05-02T09:00:00-04:00",
                 "written": True, "ended_at": ended}
        return run({"US-ME": 5}, law_enforcement_delay=delay)["us-me/individuals"]
    assert delayed("2026-05-05T10:00:00-04:00").due_at == at("2026-05-14T23:59:59.999999-04:00")
    # Ended on Thursday 28 May: 29 May, 1, 2, 3, 4, 5 and 8 June (Memorial Day, 25 May, is before
    # the count): Monday 8 June, after the 31 May the 30 days would have given.
    assert delayed("2026-05-28T16:00:00-04:00").due_at == at("2026-06-08T23:59:59.999999-04:00")


def test_maine_1348_1_only_an_information_broker_notifies_when_misuse_is_not_possible() -> None:
    # 1348(1)(A): an information broker notifies whenever the information "has been, or is
    # reasonably believed to have been, acquired"; (B): any other person only if misuse "has
    # occurred or if it is reasonably possible that misuse will occur".
    calm: dict[str, Any] = {"harm_not_likely": True,
                            "harm_determined_at": "2026-05-03T09:00:00-04:00"}
    other = run({"US-ME": 5}, **calm)
    assert not owed(other, "us-me/individuals") and not owed(other, "us-me/regulator")
    facts = {"organisation": {"country": "US", "timezone": "America/New_York",
                              "entity_type": "information_broker"},
             "incident": {"aware_at": "2026-05-01T10:00:00-04:00", "risk": "high",
                          "data_categories": ALL_DATA, **calm},
             "affected": {"US-ME": 5}}
    broker = {r.ref: r for r in compute_obligations(facts_from_json(facts), REGIMES)}
    assert broker["us-me/individuals"].due_at == at("2026-05-31T23:59:59.999999-04:00")


def test_maine_1348_4_consumer_reporting_agencies_above_1000_persons() -> None:
    # 1348(4) (secondary sources): "more than 1,000 persons at a single time": the nationwide
    # consumer reporting agencies, "without unreasonable delay": no legal due time.
    assert not owed(run({"US-ME": 1000}), "us-me/consumer-reporting-agencies")
    told = run({"US-ME": 1001})["us-me/consumer-reporting-agencies"]
    assert told.applies and told.due_at is None
    assert told.target_at == at("2026-05-31T10:00:00-04:00")  # our 30 days from awareness


def test_maine_substitute_notice_thresholds_are_those_of_1347_4() -> None:
    # 1347(4)(C): cost over $5,000, more than 1,000 to notify, or insufficient contact details.
    regime = REGIMES.get("us-me")
    assert regime is not None
    people = regime.obligation("individuals")
    assert people is not None and people.substitute_notice is not None
    conditions = people.substitute_notice.conditions
    assert any("$5,000" in c for c in conditions) and any("exceeds 1,000" in c for c in conditions)


# -------------------------------------------------------- Maryland, Com. Law 14-3504


def test_maryland_14_3504_b_3_residents_within_45_days_of_discovery() -> None:
    # 14-3504(b)(3): "not later than 45 days after the business discovers or is notified of the
    # breach". Discovered Monday 4 May: 45 days later is Thursday 18 June 2026.
    results = run({"US-MD": 1}, discovered_at="2026-05-04T09:00:00-04:00")
    people = results["us-md/individuals"]
    assert people.applies and people.due_at == at("2026-06-18T23:59:59.999999-04:00")
    # 14-3504(h): the Attorney General is told for any resident, before the residents are.
    assert results["us-md/attorney-general"].applies
    assert results["us-md/attorney-general"].due_at == people.due_at
    assert not owed(run({"US-MD": 0, "US-VA": 3}), "us-md/attorney-general")


def test_maryland_14_3504_h_the_attorney_general_before_the_residents() -> None:
    # 14-3504(h): "prior to giving the notification required under subsection (b)": residents
    # told on Friday 8 May 2026 at 12:00: the Attorney General's notice is late after that.
    results = run({"US-MD": 3}, discovered_at="2026-05-04T09:00:00-04:00",
                  met={"us-md/individuals": "2026-05-08T12:00:00-04:00"})
    assert results["us-md/attorney-general"].due_at == at("2026-05-08T12:00:00-04:00")


def test_maryland_protects_individuals_residing_in_maryland() -> None:
    # 14-3504(b)(1): "personal information of an individual residing in the State".
    assert not owed(run({"US-DE": 100}), "us-md/individuals")
    assert owed(run({"US-MD": 1, "US-DE": 100}, data=["health"]), "us-md/individuals")
    assert not owed(run({"US-MD": 10}, data=["contact"]), "us-md/individuals")


def test_maryland_14_3504_b_2_no_notice_where_misuse_is_not_likely() -> None:
    # 14-3504(b)(2): notice "unless the business reasonably determines that the breach ... does
    # not create a likelihood that personal information has been or will be misused".
    results = run({"US-MD": 10}, harm_not_likely=True,
                  harm_determined_at="2026-05-10T09:00:00-04:00")
    assert not owed(results, "us-md/individuals") and not owed(results, "us-md/attorney-general")


def test_maryland_14_3504_c_the_maintainer_tells_the_owner_within_10_days() -> None:
    # 14-3504(c) as amended by HB 962 (2022): "as soon as practicable, but not later than 10
    # days" after discovering or being notified. Discovered 4 May: due Thursday 14 May.
    results = run({"US-MD": 10}, roles=["processor"], discovered_at="2026-05-04T09:00:00-04:00")
    owner = results["us-md/owner"]
    assert owner.applies and owner.due_at == at("2026-05-14T23:59:59.999999-04:00")
    assert not owed(results, "us-md/individuals") and not owed(results, "us-md/attorney-general")


def test_maryland_14_3504_g_the_notice_names_the_agencies_and_the_attorney_general() -> None:
    # 14-3504(g)(3)-(4): the consumer reporting agencies, the FTC and the Attorney General.
    regime = REGIMES.get("us-md")
    assert regime is not None
    people = regime.obligation("individuals")
    assert people is not None and people.letter is not None
    assert {"data_involved", "contact", "credit_bureaus", "federal_agencies",
            "state_agencies"} <= set(people.letter.elements)
    assert people.letter.agencies[0].name.startswith("Maryland Office of the Attorney General")
    assert people.substitute_notice is not None
    assert any("$100,000" in c for c in people.substitute_notice.conditions)
    assert any("175,000" in c for c in people.substitute_notice.conditions)


# ------------------------------------------------------------------ Michigan, MCL 445.72


def test_michigan_445_72_residents_without_unreasonable_delay_and_no_state_agency() -> None:
    # MCL 445.72(1) and (4): notice to each resident of this state "without unreasonable
    # delay": no number of days, so no legal due time, only our target of 30 days.
    results = run({"US-MI": 3}, timezone="America/Detroit",
                  discovered_at="2026-05-04T09:00:00-04:00")
    people = results["us-mi/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-06-03T09:00:00-04:00")
    # 445.72 asks for no notice to the Attorney General or any other state agency.
    assert not any(ref.startswith("us-mi/") and r.recipient in ("authority", "regulator")
                   for ref, r in results.items())
    assert not owed(run({"US-OH": 3}), "us-mi/individuals")


def test_michigan_445_72_1_no_notice_without_likely_substantial_loss_or_identity_theft() -> None:
    # 445.72(1): unless the person determines the breach "has not or is not likely to cause
    # substantial loss or injury to, or result in identity theft".
    results = run({"US-MI": 3}, harm_not_likely=True,
                  harm_determined_at="2026-05-05T09:00:00-04:00")
    assert not owed(results, "us-mi/individuals")
    # 445.72(1)(b): encrypted data counts when the key was also obtained.
    assert owed(run({"US-MI": 3}, encrypted=True, state_of_the_art=True, key_compromised=True),
                "us-mi/individuals")
    # 445.63: only name with SSN, licence or ID number, or account or card number with code.
    assert not owed(run({"US-MI": 3}, data=["credentials", "health"]), "us-mi/individuals")


def test_michigan_445_72_2_the_maintainer_tells_the_owner_or_licensor() -> None:
    results = run({"US-MI": 3}, roles=["service_provider"])
    assert owed(results, "us-mi/owner") and not owed(results, "us-mi/individuals")


# ------------------------------------------------------------ Minnesota, 325E.61


def test_minnesota_325e_61_residents_in_the_most_expedient_time_possible() -> None:
    # 325E.61 subd. 1(a): "to any resident of this state whose unencrypted personal information
    # was, or is reasonably believed to have been, acquired"; no number of days, and no harm test.
    results = run({"US-MN": 2, "US-WI": 50}, timezone="America/Chicago",
                  discovered_at="2026-05-04T09:00:00-05:00", harm_not_likely=True,
                  harm_determined_at="2026-05-05T09:00:00-05:00")
    people = results["us-mn/individuals"]
    assert people.applies and people.due_at is None
    assert not owed(run({"US-WI": 50}), "us-mn/individuals")
    safe = run({"US-MN": 2}, encrypted=True, state_of_the_art=True)
    assert not owed(safe, "us-mn/individuals")


def test_minnesota_325e_61_1_b_the_maintainer_tells_the_owner_immediately() -> None:
    # subd. 1(b): "shall notify the owner or licensee ... immediately following discovery".
    results = run({"US-MN": 2}, roles=["processor"], discovered_at="2026-05-04T09:00:00-05:00")
    owner = results["us-mn/owner"]
    assert owner.applies and owner.due_at is None
    assert owner.target_at == at("2026-05-05T09:00:00-05:00")
    assert not owed(results, "us-mn/individuals")


# ------------------------------------------------------- Mississippi, Miss. Code 75-24-29


def test_mississippi_75_24_29_3_residents_without_unreasonable_delay_unless_no_harm() -> None:
    # 75-24-29(3): "without unreasonable delay"; "Notification shall not be required if, after
    # an appropriate investigation, the person reasonably determines that the breach will not
    # likely result in harm to the affected individuals."
    results = run({"US-MS": 4}, timezone="America/Chicago")
    people = results["us-ms/individuals"]
    assert people.applies and people.due_at is None
    assert not any(r.recipient in ("authority", "regulator") and ref.startswith("us-ms/")
                   for ref, r in results.items())
    no_harm = run({"US-MS": 4}, timezone="America/Chicago", harm_not_likely=True,
                  harm_determined_at="2026-05-02T10:00:00-05:00")
    assert not owed(no_harm, "us-ms/individuals")
    assert not owed(run({"US-AL": 4}), "us-ms/individuals")


def test_mississippi_75_24_29_4_the_maintainer_tells_the_owner() -> None:
    results = run({"US-MS": 4}, roles=["service_provider"], timezone="America/Chicago")
    assert owed(results, "us-ms/owner") and not owed(results, "us-ms/individuals")


# ------------------------------------------------------------ Missouri, RSMo 407.1500


def test_missouri_407_1500_attorney_general_for_more_than_1000_consumers() -> None:
    # 407.1500.2(8): notice to "more than one thousand consumers at one time" also goes to the
    # attorney general's office; 1(2): a consumer is "an individual who is a resident of this
    # state", so only Missouri residents count.
    assert not owed(run({"US-MO": 1000, "US-KS": 5000}, timezone="America/Chicago"),
                    "us-mo/attorney-general")
    results = run({"US-MO": 1001}, timezone="America/Chicago")
    ag = results["us-mo/attorney-general"]
    assert ag.applies and ag.recipient == "authority" and ag.due_at is None
    assert results["us-mo/individuals"].applies and results["us-mo/individuals"].due_at is None


def test_missouri_407_1500_2_5_no_notice_where_fraud_is_not_reasonably_likely() -> None:
    # 407.1500.2(5): no notice if the person determines that a risk of identity theft or other
    # fraud is not reasonably likely; documented in writing.
    results = run({"US-MO": 2000}, timezone="America/Chicago", harm_not_likely=True,
                  harm_determined_at="2026-05-03T10:00:00-05:00")
    assert not owed(results, "us-mo/individuals") and not owed(results, "us-mo/attorney-general")
    # 407.1500.1(9): medical and health insurance information are personal information.
    assert owed(run({"US-MO": 2}, data=["health"]), "us-mo/individuals")
    assert not owed(run({"US-MO": 2}, data=["credentials"]), "us-mo/individuals")


def test_missouri_407_1500_2_2_the_maintainer_tells_the_owner_immediately() -> None:
    results = run({"US-MO": 2000}, roles=["processor"], timezone="America/Chicago")
    assert owed(results, "us-mo/owner")
    assert not owed(results, "us-mo/individuals") and not owed(results, "us-mo/attorney-general")


# ------------------------------------------------------------- Montana, MCA 30-14-1704


def test_montana_30_14_1704_the_office_gets_a_copy_when_the_residents_get_notice() -> None:
    # MCA 30-14-1704: notice to residents "without unreasonable delay"; a business required to
    # issue it "simultaneously" submits an electronic copy to the Office of Consumer Protection
    # (Montana Department of Justice), for any number of residents.
    results = run({"US-MT": 1}, timezone="America/Denver")
    assert owed(results, "us-mt/individuals") and results["us-mt/individuals"].due_at is None
    office = results["us-mt/consumer-protection"]
    assert office.applies and office.recipient == "authority" and office.target_at is None
    sent = run({"US-MT": 1}, timezone="America/Denver",
               met={"us-mt/individuals": "2026-05-10T09:00:00-06:00"})
    assert sent["us-mt/consumer-protection"].target_at == at("2026-05-10T10:00:00-06:00")
    assert not owed(run({"US-ID": 9}), "us-mt/consumer-protection")


def test_montana_no_breach_where_no_loss_or_injury_is_reasonably_believed() -> None:
    # 30-14-1704(4)(a): a breach "causes or is reasonably believed to cause loss or injury to a
    # Montana resident"; medical record information is personal information.
    results = run({"US-MT": 3}, data=["health"], harm_not_likely=True,
                  harm_determined_at="2026-05-02T10:00:00-06:00")
    assert not owed(results, "us-mt/individuals") and not owed(results, "us-mt/consumer-protection")
    assert owed(run({"US-MT": 3}, data=["health"]), "us-mt/individuals")


# ---------------------------------------------------------- Nebraska, Neb. Rev. Stat. 87-803


def test_nebraska_87_803_residents_and_the_attorney_general_no_later_than_them() -> None:
    # 87-803(1): notice "as soon as possible and without unreasonable delay"; (2): "not later
    # than the time when notice is provided to the Nebraska resident", notice to the Attorney
    # General, for any number of residents.
    results = run({"US-NE": 1}, timezone="America/Chicago")
    people, ag = results["us-ne/individuals"], results["us-ne/attorney-general"]
    assert people.applies and ag.applies and ag.recipient == "authority"
    assert people.due_at is None and ag.due_at is None and ag.target_at == people.target_at
    assert not owed(run({"US-IA": 30}), "us-ne/attorney-general")


def test_nebraska_87_802_3_data_is_not_encrypted_when_its_key_was_taken() -> None:
    # 87-802(3): "Data shall not be considered encrypted if the confidential process or key was
    # or is reasonably believed to have been acquired as a result of the breach".
    assert not owed(run({"US-NE": 2}, encrypted=True, state_of_the_art=True), "us-ne/individuals")
    taken = run({"US-NE": 2}, encrypted=True, state_of_the_art=True, key_compromised=True)
    assert owed(taken, "us-ne/individuals") and owed(taken, "us-ne/attorney-general")


def test_nebraska_87_803_1_notice_only_where_unauthorized_use_is_reasonably_likely() -> None:
    results = run({"US-NE": 2}, harm_not_likely=True,
                  harm_determined_at="2026-05-02T10:00:00-05:00")
    assert not owed(results, "us-ne/individuals") and not owed(results, "us-ne/attorney-general")
    # 87-803(3): the maintainer gives notice to and cooperates with the owner or licensee.
    assert owed(run({"US-NE": 2}, roles=["service_provider"]), "us-ne/owner")


# -------------------------------------------------------------------- Nevada, NRS 603A.220


def test_nevada_603a_220_residents_and_no_harm_test_and_no_state_agency() -> None:
    # 603A.220(1): disclosure "to any resident of this State whose unencrypted personal
    # information was, or is reasonably believed to have been, acquired", "in the most expedient
    # time possible and without unreasonable delay"; no harm test, no state agency.
    results = run({"US-NV": 1}, timezone="America/Los_Angeles", harm_not_likely=True,
                  harm_determined_at="2026-05-02T10:00:00-07:00")
    people = results["us-nv/individuals"]
    assert people.applies and people.due_at is None
    assert not any(r.recipient in ("authority", "regulator") and ref.startswith("us-nv/")
                   for ref, r in results.items())
    assert not owed(run({"US-AZ": 40}), "us-nv/individuals")


def test_nevada_603a_220_3_notice_waits_for_law_enforcement() -> None:
    # 603A.220(3): delayed while a law enforcement agency determines it will impede a criminal
    # investigation; made after the agency determines it will not compromise it.
    delay = {"agency": "Las Vegas Metropolitan Police", "requested_at": "2026-05-02T10:00:00-07:00"}
    waiting = run({"US-NV": 1}, timezone="America/Los_Angeles", law_enforcement_delay=delay)
    people = waiting["us-nv/individuals"]
    assert people.applies and people.target_at is None
    assert people.trigger is not None and people.trigger.waiting_for is not None
    # 603A.220(2): the maintainer tells the owner "immediately following discovery".
    assert owed(run({"US-NV": 1}, roles=["processor"]), "us-nv/owner")


# ------------------------------------------------------------ New Hampshire, RSA 359-C:20


def test_new_hampshire_359_c_20_individuals_and_the_attorney_general() -> None:
    # RSA 359-C:20, I(a): notice "as soon as possible" where misuse has occurred, is reasonably
    # likely or cannot be determined; I(b): the regulator or Attorney General is told the
    # anticipated date of the notice and the number of individuals in this state.
    results = run({"US-NH": 1}, harm_not_likely=False)
    assert owed(results, "us-nh/individuals") and owed(results, "us-nh/attorney-general")
    assert results["us-nh/individuals"].due_at is None
    # RSA 359-C:19, II: data acquired with its key is not encrypted.
    taken = run({"US-NH": 1}, encrypted=True, state_of_the_art=True, key_compromised=True)
    assert owed(taken, "us-nh/individuals")
    assert not owed(run({"US-NH": 1}, encrypted=True, state_of_the_art=True), "us-nh/individuals")
    no_misuse = run({"US-NH": 1}, harm_not_likely=True,
                    harm_determined_at="2026-05-02T10:00:00-04:00")
    assert not owed(no_misuse, "us-nh/individuals")
    assert not owed(no_misuse, "us-nh/attorney-general")


def test_new_hampshire_notice_to_individuals_sets_no_residence() -> None:
    # RSA 359-C:20, I(a): "notify the affected individuals" - no residence in the words; the duty
    # arises where a New Hampshire resident is affected and reaches every affected person.
    found = REGIMES.obligation("us-nh/individuals")
    assert found is not None and found[1].protects is not None
    reached = audience(found[1].protects, established_in="US", people={"US-NH": 2, "US-ME": 3})
    assert reached.everyone and reached.count == 5
    assert not owed(run({"US-ME": 3}), "us-nh/individuals")
    # I(c): the maintainer notifies and cooperates with the owner immediately following discovery.
    assert owed(run({"US-NH": 2}, roles=["service_provider"]), "us-nh/owner")


# -------------------------------------------------------------- New Jersey, N.J.S.A. 56:8-163


def test_new_jersey_56_8_163_c_1_the_state_police_hear_before_the_customers() -> None:
    # 56:8-163(c)(1): a business required to disclose "shall, in advance of the disclosure to the
    # customer, report the breach of security ... to the Division of State Police"; for any
    # number of residents; neither notice has a number of days.
    results = run({"US-NJ": 1})
    police, people = results["us-nj/state-police"], results["us-nj/individuals"]
    assert police.applies and police.recipient == "authority" and people.applies
    assert police.due_at is None and people.due_at is None
    assert police.target_at == people.target_at
    assert not owed(run({"US-PA": 50}), "us-nj/state-police")


def test_new_jersey_56_8_163_c_1_once_the_customers_are_told_the_report_is_late() -> None:
    # "In advance of the disclosure to the customer": customers told on 6 May 2026 at 11:00:
    # the report to the State Police had to come by then.
    results = run({"US-NJ": 1}, met={"us-nj/individuals": "2026-05-06T11:00:00-04:00"})
    assert results["us-nj/state-police"].due_at == at("2026-05-06T11:00:00-04:00")


def test_new_jersey_no_disclosure_where_misuse_is_not_reasonably_possible() -> None:
    # 56:8-163(a): not required if the business establishes that misuse of the information is
    # not reasonably possible (documented in writing); then no report to the State Police either.
    results = run({"US-NJ": 3}, harm_not_likely=True,
                  harm_determined_at="2026-05-02T10:00:00-04:00")
    assert not owed(results, "us-nj/individuals") and not owed(results, "us-nj/state-police")
    # P.L.2019, c.95: a user name or e-mail address with its password is personal information.
    assert owed(run({"US-NJ": 3}, data=["credentials"]), "us-nj/individuals")
    assert owed(run({"US-NJ": 3}, roles=["service_provider"]), "us-nj/owner")


# ---------------------------------------------------------- New Mexico, NMSA 57-12C-6 and -10


def test_new_mexico_57_12c_6_45_calendar_days_with_a_weekend_last_day_moved() -> None:
    # 57-12C-6(A): "not later than forty-five calendar days following discovery"; NMSA 12-2A-7:
    # the first day excluded (A); a last day on a Saturday or Sunday ends the period on the next
    # day that is neither (F). Discovered Wednesday 6 May 2026: the 45th day is Saturday 20 June,
    # moved to Monday 22 June.
    results = run({"US-NM": 1}, timezone="America/Denver",
                  discovered_at="2026-05-06T09:00:00-06:00")
    assert results["us-nm/individuals"].due_at == at("2026-06-22T23:59:59.999999-06:00")
    # Discovered Monday 4 May: the 45th day is Thursday 18 June, not moved.
    weekday = run({"US-NM": 1}, timezone="America/Denver",
                  discovered_at="2026-05-04T09:00:00-06:00")
    assert weekday["us-nm/individuals"].due_at == at("2026-06-18T23:59:59.999999-06:00")


def test_new_mexico_57_12c_10_attorney_general_for_more_than_1000_residents() -> None:
    # 57-12C-10: a person required to notify "more than one thousand New Mexico residents as a
    # result of a single security breach" tells the attorney general, within forty-five calendar
    # days following discovery, the number notified and a copy of the notification.
    changes: dict[str, Any] = {"timezone": "America/Denver",
                               "discovered_at": "2026-05-04T09:00:00-06:00"}
    assert not owed(run({"US-NM": 1000, "US-AZ": 9000}, **changes), "us-nm/attorney-general")
    ag = run({"US-NM": 1001}, **changes)["us-nm/attorney-general"]
    assert ag.applies and ag.due_at == at("2026-06-18T23:59:59.999999-06:00")
    # 57-12C-6: no notice where there is no significant risk of identity theft or fraud.
    calm = run({"US-NM": 1001}, harm_not_likely=True,
               harm_determined_at="2026-05-05T09:00:00-06:00", **changes)
    assert not owed(calm, "us-nm/individuals") and not owed(calm, "us-nm/attorney-general")
    # 57-12C-2: biometric data is personal identifying information.
    assert owed(run({"US-NM": 1}, data=["special"]), "us-nm/individuals")


# ---------------------------------------------------------------- whom each notice addresses


@pytest.mark.parametrize(("ref", "state", "neighbour", "citation"), [
    ("us-me/individuals", "US-ME", "US-NH", "10 M.R.S. 1348(1)"),
    ("us-md/individuals", "US-MD", "US-VA", "Md. Code Com. Law 14-3504(b)(1) and (2)"),
    ("us-mi/individuals", "US-MI", "US-OH", "MCL 445.72(1)"),
    ("us-mn/individuals", "US-MN", "US-WI", "Minn. Stat. 325E.61, subd. 1(a)"),
    ("us-ms/individuals", "US-MS", "US-AL", "Miss. Code Ann. 75-24-29(2)(a) and (3)"),
    ("us-mo/individuals", "US-MO", "US-KS", "Mo. Rev. Stat. 407.1500.1(2) and 407.1500.2(1)"),
    ("us-mt/individuals", "US-MT", "US-ID", "Mont. Code Ann. 30-14-1704(1)"),
    ("us-ne/individuals", "US-NE", "US-IA", "Neb. Rev. Stat. 87-803(1)"),
    ("us-nv/individuals", "US-NV", "US-AZ", "NRS 603A.220(1)"),
    ("us-nj/individuals", "US-NJ", "US-PA", "N.J.S.A. 56:8-163(a)"),
    ("us-nm/individuals", "US-NM", "US-AZ", "NMSA 57-12C-6(A)"),
])
def test_each_notice_goes_to_the_residents_of_its_state_only(
        ref: str, state: str, neighbour: str, citation: str) -> None:
    found = REGIMES.obligation(ref)
    assert found is not None
    protects = found[1].protects
    assert protects is not None and protects.citation == citation
    reached = audience(protects, established_in="US", people={state: 3, neighbour: 5, "": 1})
    assert (reached.count, reached.jurisdictions) == (3, (state,))
    assert (reached.not_protected, reached.unknown) == (5, 1)
