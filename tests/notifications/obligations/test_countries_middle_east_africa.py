"""Middle East and Africa: each regime's breach duties as its law words them.

Every expected instant below is worked out by hand from the text cited next to it and a
printed calendar, not from the engine:

* South Africa, POPIA (Act 4 of 2013) s. 22(1): "Where there are reasonable grounds to believe
  that the personal information of a data subject has been accessed or acquired by any
  unauthorised person, the responsible party must notify— (a) the Regulator; and (b) subject to
  subsection (3), the data subject, unless the identity of such data subject cannot be
  established." s. 22(2): "as soon as reasonably possible after the discovery of the
  compromise" (no fixed period: only our own 72-hour target). s. 22(3): the notice to the data
  subject may be delayed only where a public body investigating offences, or the Regulator,
  determines it will impede a criminal investigation. s. 21(2): "The operator must notify the
  responsible party immediately". s. 3(1)(b): the Act follows a responsible party domiciled in,
  or using means in, the Republic.
* Kenya, Data Protection Act 2019 s. 43(1): where personal data has been accessed or acquired by
  an unauthorised person "and there is a real risk of harm", the controller shall "(a) notify
  the Data Commissioner without delay, within seventy-two hours of becoming aware of such
  breach; and (b) ... communicate to the data subject in writing within a reasonably practical
  period"; (3) a processor notifies the controller "without delay and where reasonably
  practicable, within forty-eight hours"; (4) the communication to the data subject may be
  delayed for the investigation of an offence; (6) not required where appropriate safeguards,
  which may include encryption, were implemented. s. 4(b): established in Kenya, or processing
  data of data subjects located in Kenya.
* Nigeria, Data Protection Act 2023 s. 40(1): the processor notifies the controller "on becoming
  aware of the breach"; (2) the controller, "within 72 hours of becoming aware of a breach which
  is likely to result in a risk to the rights and freedoms of individuals, notify the
  Commission"; (3) "likely to result in a high risk ... immediately communicate the personal
  data breach to the data subject", or a public communication "in one or more widely used media
  sources" where direct communication would involve disproportionate effort or expense.
* Saudi Arabia, PDPL Implementing Regulation Art. 24(1): "The Controller shall notify the
  Competent Authority within a delay not exceeding (72) hours of becoming aware of the incident,
  if such incident potentially causes harm to the Personal Data, or to Data Subject or conflict
  with their rights or interests"; Art. 24(5): the data subjects, without undue delay, on the
  same threshold. Law Art. 2(1): processing in the Kingdom, and of individuals residing there.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.countries import at, duty, established, owed

run = partial(established, data=["contact", "official_id", "financial", "credentials", "health"])
"""Every obligation, applying or not, for a breach of every data category known at
`aware_at`, by an organisation established in `country`."""


# --------------------------------------------------------------- South Africa, POPIA s. 22

SA_DISCOVERED = "2026-03-02T09:00:00+02:00"
"""Monday 2 March 2026, 09:00 South African Standard Time (UTC+2, no daylight time)."""


def popia(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "ZA", "timezone": "Africa/Johannesburg",
                               "aware_at": SA_DISCOVERED} | changes
    return run(affected, **options)


def test_popia_s22_regulator_as_soon_as_reasonably_possible_after_discovery() -> None:
    # s. 22(2): "as soon as reasonably possible after the discovery of the compromise": no
    # legal due time; our target is 72 hours after discovery, Thursday 5 March 2026 09:00 SAST.
    results = popia({"ZA": 40}, discovered_at="2026-03-02T07:30:00+02:00")
    regulator = results["za-popia/regulator"]
    assert regulator.applies and regulator.recipient == "authority"
    assert regulator.due_at is None
    assert regulator.target_at == at("2026-03-05T07:30:00+02:00")  # from discovery, 07:30
    assert regulator.basis is not None and regulator.basis.citation == "POPIA s. 22(1)(a) and (2)"
    people = results["za-popia/data-subjects"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-03-05T07:30:00+02:00")


@pytest.mark.parametrize("risk", ["none", "risk", "high"])
def test_popia_s22_has_no_risk_or_volume_threshold(risk: str) -> None:
    # s. 22(1): "reasonable grounds to believe that the personal information of a data subject
    # has been accessed or acquired": one data subject, at any assessed risk, is enough.
    results = popia({"ZA": 1}, risk=risk)
    assert owed(results, "za-popia/regulator") and owed(results, "za-popia/data-subjects")


def test_popia_s22_has_no_encryption_exception() -> None:
    # Nothing in s. 22 excuses encrypted data: the duty turns on access or acquisition alone.
    results = popia({"ZA": 5}, encrypted=True, state_of_the_art=True)
    assert owed(results, "za-popia/regulator") and owed(results, "za-popia/data-subjects")


def test_popia_s21_2_an_operator_tells_the_responsible_party_immediately() -> None:
    # s. 21(2): "The operator must notify the responsible party immediately"; s. 22 binds "the
    # responsible party" only. "Immediately": no fixed time; our target is 24 hours.
    results = popia({"ZA": 40}, roles=["processor"], risk="none")
    party = results["za-popia/responsible-party"]
    assert party.applies and party.recipient == "counterparty" and party.due_at is None
    assert party.target_at == at("2026-03-03T09:00:00+02:00")
    assert not owed(results, "za-popia/regulator") and not owed(results, "za-popia/data-subjects")
    assert not owed(popia({"ZA": 40}), "za-popia/responsible-party")


def test_popia_s3_a_party_outside_south_africa_with_nobody_there_is_not_bound() -> None:
    # s. 3(1)(b): neither domiciled in nor (as stood for here) processing in the Republic.
    results = run({"GB": 40}, country="GB", timezone="Europe/London", aware_at=SA_DISCOVERED)
    assert not owed(results, "za-popia/regulator")
    assert owed(run({"GB": 40, "ZA": 1}, country="GB", timezone="Europe/London",
                    aware_at=SA_DISCOVERED), "za-popia/regulator")


def test_popia_s22_the_notice_addresses_every_data_subject_of_a_domiciled_party() -> None:
    protects = duty("za-popia/data-subjects").protects
    assert protects is not None
    home = audience(protects, established_in="ZA", people={"ZA": 3, "NA": 2})
    assert home.everyone and home.count == 5
    abroad = audience(protects, established_in="GB", people={"ZA": 3, "NA": 2})
    assert not abroad.everyone and abroad.jurisdictions == ("ZA",) and abroad.count == 3


def test_popia_s22_3_only_the_notice_to_data_subjects_waits_for_an_investigation() -> None:
    # s. 22(3): "may only delay notification of the data subject if a public body responsible for
    # the prevention, detection or investigation of offences or the Regulator determines that
    # notification will impede a criminal investigation"; the Regulator is still told.
    delay = {"agency": "South African Police Service", "requested_at": "2026-03-02T12:00:00+02:00"}
    results = popia({"ZA": 40}, law_enforcement_delay=delay)
    people = results["za-popia/data-subjects"]
    assert people.applies and people.target_at is None
    assert people.trigger is not None and people.trigger.waiting_for is not None
    assert "POPIA s. 22(3)" in people.trigger.waiting_for
    assert results["za-popia/regulator"].target_at == at("2026-03-05T09:00:00+02:00")


def test_popia_s22_4_and_5_content_and_ways_of_notice() -> None:
    people = duty("za-popia/data-subjects")
    assert people.letter is not None
    # s. 22(5)(a)-(c): consequences, measures, recommendation; (d) the unauthorised person's
    # identity if known is in the content list (no letter element of its own).
    assert set(people.letter.elements) == {"consequences", "measures", "advice"}
    assert any("identity of the unauthorised person" in c for c in people.content)
    notice = people.substitute_notice
    assert notice is not None and notice.citation == "POPIA s. 22(4)(c)-(e) and 22(6)"
    assert "prominent position on the responsible party's website" in notice.means[0]
    assert "news media" in notice.means[0]
    regulator = duty("za-popia/regulator")
    assert regulator.authority is not None
    assert "eservices.inforegulator.org.za" in regulator.authority.filing
    assert "SCN1" in regulator.authority.filing


# ----------------------------------------------------------------- Kenya, DPA 2019 s. 43

KE_AWARE = "2026-03-06T16:30:00+03:00"
"""Friday 6 March 2026, 16:30 East Africa Time (UTC+3, no daylight time)."""


def kenya(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "KE", "timezone": "Africa/Nairobi",
                               "aware_at": KE_AWARE} | changes
    return run(affected, **options)


def test_kenya_s43_1_a_commissioner_within_72_hours_of_becoming_aware() -> None:
    # 72 elapsed hours from Friday 16:30 EAT: Monday 9 March 2026, 16:30 EAT; the weekend counts.
    results = kenya({"KE": 12})
    commissioner = results["ke-dpa/commissioner"]
    assert commissioner.applies and commissioner.recipient == "authority"
    assert commissioner.due_at == at("2026-03-09T16:30:00+03:00")
    assert commissioner.basis is not None
    assert commissioner.basis.citation == "Data Protection Act 2019 s. 43(1)(a), (2) and (5)"
    assert any("reasons for the delay" in c for c in commissioner.content)  # s. 43(2)
    # s. 43(1)(b): "within a reasonably practical period": no legal due time.
    people = results["ke-dpa/data-subjects"]
    assert people.applies and people.due_at is None


@pytest.mark.parametrize(("risk", "notified"), [("none", False), ("risk", True)])
def test_kenya_s43_1_only_where_there_is_a_real_risk_of_harm(risk: str, notified: bool) -> None:
    results = kenya({"KE": 12}, risk=risk)
    assert owed(results, "ke-dpa/commissioner") is notified
    assert owed(results, "ke-dpa/data-subjects") is notified


def test_kenya_s43_3_a_processor_tells_the_controller_within_48_hours() -> None:
    # "without delay and where reasonably practicable, within forty-eight hours": Sunday
    # 8 March 2026, 16:30 EAT. No risk threshold for the processor.
    results = kenya({"KE": 12}, roles=["processor"], risk="none")
    controller = results["ke-dpa/controller"]
    assert controller.applies and controller.recipient == "counterparty"
    assert controller.due_at == at("2026-03-08T16:30:00+03:00")
    assert not owed(results, "ke-dpa/commissioner")
    assert not owed(kenya({"KE": 12}), "ke-dpa/controller")


def test_kenya_s43_6_encryption_spares_the_data_subjects_not_the_commissioner() -> None:
    safe = kenya({"KE": 12}, encrypted=True)
    assert not owed(safe, "ke-dpa/data-subjects") and owed(safe, "ke-dpa/commissioner")
    taken = kenya({"KE": 12}, encrypted=True, key_compromised=True)
    assert owed(taken, "ke-dpa/data-subjects")


def test_kenya_s4_a_foreign_controller_tells_only_data_subjects_located_in_kenya() -> None:
    results = run({"UG": 30, "KE": 2}, country="UG", timezone="Africa/Kampala", aware_at=KE_AWARE)
    assert owed(results, "ke-dpa/commissioner")
    assert not owed(run({"UG": 30}, country="UG", timezone="Africa/Kampala", aware_at=KE_AWARE),
                    "ke-dpa/commissioner")
    protects = duty("ke-dpa/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="UG", people={"UG": 30, "KE": 2}).count == 2
    assert audience(protects, established_in="KE", people={"UG": 30, "KE": 2}).everyone


def test_kenya_s43_5_content_of_the_communication() -> None:
    people = duty("ke-dpa/data-subjects")
    assert people.letter is not None
    assert set(people.letter.elements) == {"nature", "measures", "advice", "contact"}
    assert people.law_enforcement_delay is not None
    assert people.law_enforcement_delay.citation == "Data Protection Act 2019 s. 43(4)"
    assert people.substitute_notice is None  # s. 43(1)(b): "in writing"; no public notice


# ------------------------------------------------------------------ Nigeria, NDPA 2023 s. 40

NG_AWARE = "2026-03-31T22:00:00+01:00"
"""Tuesday 31 March 2026, 22:00 West Africa Time (UTC+1, no daylight time)."""


def nigeria(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "NG", "timezone": "Africa/Lagos",
                               "aware_at": NG_AWARE} | changes
    return run(affected, **options)


def test_nigeria_s40_2_commission_within_72_hours() -> None:
    # 72 elapsed hours from Tuesday 22:00 WAT: Friday 3 April 2026, 22:00 WAT (Good Friday, a
    # public holiday, changes nothing: the period is in hours).
    commission = nigeria({"NG": 300}, risk="risk")["ng-ndpa/commission"]
    assert commission.applies and commission.recipient == "authority"
    assert commission.due_at == at("2026-04-03T22:00:00+01:00")
    assert commission.basis is not None
    assert commission.basis.citation == "Nigeria Data Protection Act 2023 s. 40(2) and (4)"


@pytest.mark.parametrize(("risk", "commission", "people"), [
    ("none", False, False),   # s. 40(2): not "likely to result in a risk"
    ("risk", True, False),    # a risk, but not a high one: the Commission only
    ("high", True, True),     # s. 40(3): "likely to result in a high risk"
])
def test_nigeria_s40_thresholds(risk: str, commission: bool, people: bool) -> None:
    results = nigeria({"NG": 300}, risk=risk)
    assert owed(results, "ng-ndpa/commission") is commission
    assert owed(results, "ng-ndpa/data-subjects") is people


def test_nigeria_s40_3_data_subjects_immediately_or_a_public_communication() -> None:
    people = nigeria({"NG": 300})["ng-ndpa/data-subjects"]
    assert people.applies and people.due_at is None  # "immediately": no fixed period
    assert people.target_at == at("2026-04-01T22:00:00+01:00")  # our 24-hour target
    notice = duty("ng-ndpa/data-subjects").substitute_notice
    assert notice is not None and notice.citation == "Nigeria Data Protection Act 2023 s. 40(3)"
    assert "disproportionate effort or expense" in notice.conditions[0]
    assert "widely used media sources" in notice.means[0]


def test_nigeria_s40_1_a_processor_tells_the_controller_that_engaged_it() -> None:
    results = nigeria({"NG": 300}, roles=["processor"], risk="none")
    assert owed(results, "ng-ndpa/controller")
    assert not owed(results, "ng-ndpa/commission") and not owed(results, "ng-ndpa/data-subjects")
    content = " ".join(results["ng-ndpa/controller"].content)
    assert "categories and approximate numbers" in content and "information request" in content


def test_nigeria_s2_2_c_a_foreign_controller_tells_data_subjects_in_nigeria_only() -> None:
    protects = duty("ng-ndpa/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="GH", people={"GH": 8, "NG": 5}).count == 5
    assert audience(protects, established_in="NG", people={"GH": 8, "NG": 5}).everyone


# ------------------------------------------------------------- Saudi Arabia, PDPL Art. 24

SA_AWARE = "2026-03-19T23:00:00+03:00"
"""Thursday 19 March 2026, 23:00 Arabia Standard Time (UTC+3, no daylight time)."""


def saudi(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "SA", "timezone": "Asia/Riyadh",
                               "aware_at": SA_AWARE} | changes
    return run(affected, **options)


def test_saudi_art24_1_sdaia_within_72_hours() -> None:
    # 72 elapsed hours from Thursday 23:00 AST: Sunday 22 March 2026, 23:00 AST; the Friday and
    # Saturday weekend and the Eid al-Fitr holidays count.
    sdaia = saudi({"SA": 20}, risk="risk")["sa-pdpl/sdaia"]
    assert sdaia.applies and sdaia.recipient == "authority"
    assert sdaia.due_at == at("2026-03-22T23:00:00+03:00")
    authority = duty("sa-pdpl/sdaia").authority
    assert authority is not None and "National Data Governance Platform" in authority.filing


@pytest.mark.parametrize(("risk", "notified"), [("none", False), ("risk", True)])
def test_saudi_art24_the_same_harm_threshold_for_sdaia_and_data_subjects(
        risk: str, notified: bool) -> None:
    # Art. 24(1) and (5): harm to the data or the data subject, or conflict with their rights or
    # interests; there is no separate "high risk" bar for the data subjects.
    results = saudi({"SA": 20}, risk=risk)
    assert owed(results, "sa-pdpl/sdaia") is notified
    assert owed(results, "sa-pdpl/data-subjects") is notified
    if notified:
        assert results["sa-pdpl/data-subjects"].due_at is None  # "without undue delay"


def test_saudi_art24_binds_the_controller_not_a_processor() -> None:
    results = saudi({"SA": 20}, roles=["processor"])
    assert not owed(results, "sa-pdpl/sdaia") and not owed(results, "sa-pdpl/data-subjects")


def test_saudi_art2_residents_of_the_kingdom_for_a_controller_outside_it() -> None:
    results = run({"AE": 50, "SA": 1}, country="AE", timezone="Asia/Dubai", aware_at=SA_AWARE)
    assert owed(results, "sa-pdpl/sdaia")
    protects = duty("sa-pdpl/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="AE", people={"AE": 50, "SA": 1}).count == 1
    assert audience(protects, established_in="SA", people={"AE": 50, "SA": 1}).everyone


# ------------------------------------------------------------ Qatar, PDPPL Arts. 13-14

QA_AWARE = "2026-03-10T08:00:00+03:00"
"""Tuesday 10 March 2026, 08:00 Arabia Standard Time (Qatar, UTC+3, no daylight time)."""


def qatar(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "QA", "timezone": "Asia/Qatar",
                               "aware_at": QA_AWARE} | changes
    return run(affected, **options)


@pytest.mark.parametrize(("risk", "notified"), [("risk", False), ("high", True)])
def test_qatar_art14_only_a_breach_that_may_cause_serious_damage(risk: str, notified: bool) -> None:
    # Art. 14 (as summarised by Ius Laboris and Al Tamimi): the controller tells the individual
    # and the Competent Department where the breach "may cause serious damage".
    results = qatar({"QA": 9}, risk=risk)
    assert owed(results, "qa-pdppl/competent-department") is notified
    assert owed(results, "qa-pdppl/individuals") is notified


def test_qatar_the_law_fixes_no_period_72_hours_is_a_guideline_target() -> None:
    # The Law sets no period; the regulator's (non-binding) guideline asks for 72 hours, shown as
    # a target only: Friday 13 March 2026, 08:00 AST.
    department = qatar({"QA": 9})["qa-pdppl/competent-department"]
    assert department.applies and department.due_at is None
    assert department.target_at == at("2026-03-13T08:00:00+03:00")
    assert department.confidence == "low"


def test_qatar_a_processor_tells_the_controller_whatever_the_damage() -> None:
    # "Processors have an unqualified obligation to notify data controllers" (Ius Laboris).
    results = qatar({"QA": 9}, roles=["processor"], risk="none")
    assert owed(results, "qa-pdppl/controller")
    assert not owed(results, "qa-pdppl/competent-department")
