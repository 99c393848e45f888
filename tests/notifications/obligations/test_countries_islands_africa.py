"""Bermuda, the Cayman Islands, Ghana, Uganda, Rwanda, Zambia and Zimbabwe: each regime's breach
duties as its law words them.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine. A period in hours is elapsed time (the trigger plus N x 3,600 s),
so a weekend or holiday inside it changes nothing; each such case puts one there to show it:

* Bermuda, Personal Information Protection Act 2016 s. 14 (in force 1 January 2025): a breach of
  security "which is likely to adversely affect an individual" is notified "without undue delay"
  to the individual concerned and to the Privacy Commissioner; the notice to the Commissioner
  describes the nature of the breach, its likely consequences and the measures taken.
* Cayman Islands, Data Protection Act (2021 Revision) s. 16(1): "without undue delay, but no
  longer than five days after the data controller should, with the exercise of reasonable
  diligence, have been aware of that breach", to the data subject concerned and to the Ombudsman;
  every personal data breach, by the data controller (s. 6: established in the Islands).
* Ghana, Data Protection Act 2012 (Act 843) s. 31: reasonable grounds to believe that personal
  data "has been accessed or acquired by an unauthorised person": "the data controller or a third
  party who processes data under the authority of the data controller shall notify (a) the
  Commission, and (b) the data subject", "as soon as reasonably practicable after the discovery"
  (31(2)); 31(4): the notice to the data subject is delayed where the security agencies or the
  Commission say it would impede a criminal investigation; 31(5): registered mail, e-mail, a
  prominent place on the website, the media, or as the Commission directs.
* Uganda, Data Protection and Privacy Act 2019 s. 23(1): the data collector, processor or
  controller "shall immediately notify the Authority"; 23(2): "The Authority shall determine ...
  whether [they] should notify the data subject" (no duty of its own until then).
* Rwanda, Law No. 058/2021 Art. 43: the data controller, "within forty-eight (48) hours after
  being aware of the incident", to the supervisory authority; the processor to the controller
  within 48 hours; Art. 44: a report "not later than seventy-two (72) hours"; Art. 45: the data
  subject where the breach "is likely to result in a high risk", not where protection measures
  make it unlikely, or where the controller informed the public as effectively. Art. 70: in force
  on publication, 15 October 2021.
* Zambia, Data Protection Act 2021 s. 49: "(1) A data controller shall notify the Data Protection
  Commissioner within twenty-four hours of any security breach ...; (2) A data processor shall
  notify the data controller, as soon as practicable ...; (3) A data controller or data processor
  shall notify the data subject, as soon as practicable".
* Zimbabwe, Cyber and Data Protection Act s. 19: "The data controller shall notify the Authority
  within twenty-four (24) hours of any security breach affecting data he or she processes".
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.countries import REGIMES, at, duty, established, owed

run = partial(established, data=["contact", "official_id", "financial", "credentials", "health"])
"""Every obligation, applying or not, for a breach of every data category known at
`aware_at`, by an organisation established in `country`."""


def refs_of(regime: str) -> set[str]:
    found = REGIMES.get(regime)
    assert found is not None, regime
    return {f"{regime}/{o.id}" for o in found.obligations}


# --------------------------------------------------------------------- Bermuda, PIPA s. 14

BM_AWARE = "2026-07-03T10:00:00-03:00"
"""Friday 3 July 2026, 10:00 Atlantic Daylight Time (Bermuda, UTC-3 in summer)."""


def bermuda(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "BM", "timezone": "Atlantic/Bermuda",
                               "aware_at": BM_AWARE} | changes
    return run(affected, **options)


def test_bermuda_s14_commissioner_and_individuals_without_undue_delay() -> None:
    # s. 14: "without undue delay": no legal due time; our target is 72 hours, Monday 6 July 2026
    # 10:00 ADT.
    results = bermuda({"BM": 30}, risk="risk")
    commissioner = results["bm-pipa/commissioner"]
    assert commissioner.applies and commissioner.recipient == "authority"
    assert commissioner.due_at is None
    assert commissioner.target_at == at("2026-07-06T10:00:00-03:00")
    assert commissioner.basis is not None
    assert commissioner.basis.citation == "Personal Information Protection Act 2016 s. 14"
    content = " ".join(commissioner.content)
    assert "nature of the breach" in content and "likely consequences" in content
    assert "measures" in content
    individuals = results["bm-pipa/individuals"]
    assert individuals.applies and individuals.recipient == "individuals"
    assert individuals.due_at is None
    authority = duty("bm-pipa/commissioner").authority
    assert authority is not None and "privacy.bm/report-a-breach" in authority.filing


@pytest.mark.parametrize(("risk", "notified"), [("none", False), ("risk", True), ("high", True)])
def test_bermuda_s14_only_a_breach_likely_to_adversely_affect_an_individual(
        risk: str, notified: bool) -> None:
    results = bermuda({"BM": 30}, risk=risk)
    assert owed(results, "bm-pipa/commissioner") is notified
    assert owed(results, "bm-pipa/individuals") is notified


@pytest.mark.parametrize(("aware_at", "notified"), [
    ("2024-12-31T23:30:00-04:00", False),   # Tuesday 31 December 2024, before PIPA's full effect
    ("2025-01-01T00:30:00-04:00", True),    # Wednesday 1 January 2025, its first day
])
def test_bermuda_s14_applies_to_breaches_from_1_january_2025(aware_at: str, notified: bool) -> None:
    results = bermuda({"BM": 30}, aware_at=aware_at)
    assert owed(results, "bm-pipa/commissioner") is notified


def test_bermuda_s14_binds_the_organisation_not_a_service_provider() -> None:
    results = bermuda({"BM": 30}, roles=["processor"])
    assert not owed(results, "bm-pipa/commissioner") and not owed(results, "bm-pipa/individuals")


def test_bermuda_an_organisation_abroad_tells_the_people_in_bermuda() -> None:
    results = run({"US-NY": 40, "BM": 2}, country="US", timezone="America/New_York",
                  aware_at=BM_AWARE)
    assert owed(results, "bm-pipa/commissioner")
    assert not owed(run({"US-NY": 40}, country="US", timezone="America/New_York",
                        aware_at=BM_AWARE), "bm-pipa/commissioner")
    protects = duty("bm-pipa/individuals").protects
    assert protects is not None
    assert audience(protects, established_in="US", people={"US-NY": 40, "BM": 2}).count == 2
    assert audience(protects, established_in="BM", people={"US-NY": 40, "BM": 2}).everyone


# ------------------------------------------------------------- Cayman Islands, DPA s. 16

KY_AWARE = "2026-04-01T15:00:00-05:00"
"""Wednesday 1 April 2026, 15:00 Eastern Standard Time (Cayman, UTC-5, no daylight time)."""


def cayman(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "KY", "timezone": "America/Cayman",
                               "aware_at": KY_AWARE} | changes
    return run(affected, **options)


def test_cayman_s16_1_ombudsman_and_data_subjects_within_five_days() -> None:
    # "No longer than five days after" awareness: the day of awareness is excluded, day 1 is
    # Thursday 2 April, day 5 is Monday 6 April 2026 (Easter Monday: no rule moves it), to its end.
    results = cayman({"KY": 12})
    ombudsman = results["ky-dpa/ombudsman"]
    assert ombudsman.applies and ombudsman.recipient == "authority"
    assert ombudsman.due_at == at("2026-04-06T23:59:59.999999-05:00")
    assert ombudsman.basis is not None
    assert ombudsman.basis.citation == "Data Protection Act (2021 Revision) s. 16(1)"
    people = results["ky-dpa/data-subjects"]
    assert people.applies and people.due_at == at("2026-04-06T23:59:59.999999-05:00")
    authority = duty("ky-dpa/ombudsman").authority
    assert authority is not None and "Personal Data Breach Notification Form" in authority.filing


@pytest.mark.parametrize("risk", ["none", "risk", "high"])
def test_cayman_s16_every_personal_data_breach_whatever_the_risk(risk: str) -> None:
    # s. 16(1): "In the case of a personal data breach": no risk or volume threshold; one data
    # subject is enough.
    results = cayman({"KY": 1}, risk=risk)
    assert owed(results, "ky-dpa/ombudsman") and owed(results, "ky-dpa/data-subjects")


def test_cayman_s16_binds_the_data_controller_not_a_processor() -> None:
    results = cayman({"KY": 12}, roles=["processor"])
    assert not owed(results, "ky-dpa/ombudsman") and not owed(results, "ky-dpa/data-subjects")
    assert refs_of("ky-dpa") == {"ky-dpa/ombudsman", "ky-dpa/data-subjects"}


def test_cayman_s6_follows_the_controller_not_where_data_subjects_live() -> None:
    # A Cayman controller tells every data subject concerned, wherever they live; a controller
    # abroad is not reached through its Cayman residents (s. 6(1)(b) turns on processing there).
    protects = duty("ky-dpa/data-subjects").protects
    assert protects is not None and protects.people_in is None
    assert audience(protects, established_in="KY", people={"KY": 2, "GB": 5}).count == 7
    results = run({"US-FL": 40, "KY": 3}, country="US", timezone="America/New_York",
                  aware_at=KY_AWARE)
    assert not owed(results, "ky-dpa/ombudsman")


# -------------------------------------------------------------- Ghana, Act 843 s. 31

GH_DISCOVERED = "2026-03-02T08:00:00+00:00"
"""Monday 2 March 2026, 08:00 Greenwich Mean Time (Ghana, UTC+0, no daylight time)."""


def ghana(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "GH", "timezone": "Africa/Accra",
                               "aware_at": "2026-03-02T16:00:00+00:00",
                               "discovered_at": GH_DISCOVERED} | changes
    return run(affected, **options)


def test_ghana_s31_2_as_soon_as_reasonably_practicable_after_discovery() -> None:
    # s. 31(2): no legal due time; our target is 72 hours after discovery (not after the later
    # awareness), Thursday 5 March 2026 08:00 GMT.
    results = ghana({"GH": 25})
    commission = results["gh-dpa/commission"]
    assert commission.applies and commission.recipient == "authority"
    assert commission.due_at is None
    assert commission.target_at == at("2026-03-05T08:00:00+00:00")
    assert commission.basis is not None
    assert commission.basis.citation == "Data Protection Act 2012 (Act 843) s. 31(1) and (2)"
    people = results["gh-dpa/data-subjects"]
    assert people.applies and people.target_at == at("2026-03-05T08:00:00+00:00")


@pytest.mark.parametrize("risk", ["none", "risk", "high"])
def test_ghana_s31_has_no_risk_threshold_and_no_encryption_exception(risk: str) -> None:
    # s. 31(1): reasonable grounds to believe the data was "accessed or acquired by an
    # unauthorised person" is enough, for one data subject.
    results = ghana({"GH": 1}, risk=risk, encrypted=True, state_of_the_art=True)
    assert owed(results, "gh-dpa/commission") and owed(results, "gh-dpa/data-subjects")


def test_ghana_s31_1_the_processor_notifies_too() -> None:
    # "the data controller or a third party who processes data under the authority of the data
    # controller shall notify": the duty is not the controller's alone.
    results = ghana({"GH": 25}, roles=["processor"])
    assert owed(results, "gh-dpa/commission") and owed(results, "gh-dpa/data-subjects")
    assert refs_of("gh-dpa") == {"gh-dpa/commission", "gh-dpa/data-subjects"}


def test_ghana_s31_4_only_the_data_subjects_wait_for_an_investigation() -> None:
    delay = {"agency": "Ghana Police Service", "requested_at": "2026-03-02T12:00:00+00:00"}
    results = ghana({"GH": 25}, law_enforcement_delay=delay)
    people = results["gh-dpa/data-subjects"]
    assert people.applies and people.target_at is None
    assert people.trigger is not None and people.trigger.waiting_for is not None
    assert "s. 31(4)" in people.trigger.waiting_for
    assert results["gh-dpa/commission"].target_at == at("2026-03-05T08:00:00+00:00")


def test_ghana_s31_5_to_7_ways_and_content_of_the_notification() -> None:
    people = duty("gh-dpa/data-subjects")
    assert people.letter is not None and set(people.letter.elements) == {"nature", "advice"}
    assert any("identity of the unauthorised person" in c for c in people.content)  # 31(7)
    notice = people.substitute_notice
    assert notice is not None
    assert notice.citation == "Data Protection Act 2012 (Act 843) s. 31(5)(c)-(e) and 31(8)"
    assert "prominent position on the website" in notice.means[0]
    assert "published in the media" in notice.means[0]


def test_ghana_s45_a_controller_abroad_with_nobody_from_ghana_is_not_bound() -> None:
    abroad: dict[str, Any] = {"country": "NG", "timezone": "Africa/Lagos",
                              "aware_at": GH_DISCOVERED, "discovered_at": GH_DISCOVERED}
    assert not owed(run({"NG": 40}, **abroad), "gh-dpa/commission")
    assert owed(run({"NG": 40, "GH": 1}, **abroad), "gh-dpa/commission")
    protects = duty("gh-dpa/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="NG", people={"NG": 40, "GH": 1}).count == 1
    assert audience(protects, established_in="GH", people={"NG": 40, "GH": 1}).everyone


# ------------------------------------------------------------------- Uganda, DPPA s. 23

UG_AWARE = "2026-10-08T17:00:00+03:00"
"""Thursday 8 October 2026, 17:00 East Africa Time (Uganda, UTC+3, no daylight time)."""


def uganda(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "UG", "timezone": "Africa/Kampala",
                               "aware_at": UG_AWARE} | changes
    return run(affected, **options)


def test_uganda_s23_1_the_authority_immediately() -> None:
    # "Shall immediately notify the Authority": no fixed time; our target is 24 hours, Friday
    # 9 October 2026 17:00 EAT (Independence Day: the target does not move).
    authority = uganda({"UG": 15}, risk="none")["ug-dppa/authority"]
    assert authority.applies and authority.recipient == "authority"
    assert authority.due_at is None
    assert authority.target_at == at("2026-10-09T17:00:00+03:00")
    assert authority.basis is not None
    assert authority.basis.citation == "Data Protection and Privacy Act 2019 s. 23(1)"
    assert any("remedial action taken" in c for c in authority.content)


@pytest.mark.parametrize("roles", [["controller"], ["processor"], ["controller", "processor"]])
def test_uganda_s23_1_collector_processor_and_controller_each_notify(roles: list[str]) -> None:
    assert owed(uganda({"UG": 15}, roles=roles), "ug-dppa/authority")


def test_uganda_s23_2_data_subjects_only_on_the_authoritys_determination() -> None:
    # The Authority decides whether the data subjects are told: no duty of its own is listed.
    assert refs_of("ug-dppa") == {"ug-dppa/authority"}
    regime = REGIMES.get("ug-dppa")
    assert regime is not None
    assert any("s. 23(2)" in note and "Authority" in note for note in regime.notes)


def test_uganda_s1_b_personal_data_of_people_in_uganda_reaches_a_controller_abroad() -> None:
    abroad: dict[str, Any] = {"country": "KE", "timezone": "Africa/Nairobi", "aware_at": UG_AWARE}
    assert owed(run({"KE": 50, "UG": 1}, **abroad), "ug-dppa/authority")
    assert not owed(run({"KE": 50}, **abroad), "ug-dppa/authority")


# ---------------------------------------------------------- Rwanda, Law 058/2021 Arts. 43-45

RW_AWARE = "2026-07-04T09:30:00+02:00"
"""Saturday 4 July 2026 (Liberation Day), 09:30 Central Africa Time (Rwanda, UTC+2)."""


def rwanda(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "RW", "timezone": "Africa/Kigali",
                               "aware_at": RW_AWARE} | changes
    return run(affected, **options)


def test_rwanda_art43_44_authority_within_48_hours_report_within_72() -> None:
    # Art. 43: 48 elapsed hours from Saturday 09:30 CAT is Monday 6 July 2026 09:30 (the weekend
    # and the holiday count). Art. 44: 72 hours, Tuesday 7 July 2026 09:30.
    results = rwanda({"RW": 20}, risk="none")
    authority = results["rw-ppdp/authority"]
    assert authority.applies and authority.recipient == "authority"
    assert authority.due_at == at("2026-07-06T09:30:00+02:00")
    assert authority.basis is not None and authority.basis.citation == "Law No. 058/2021 Art. 43"
    report = results["rw-ppdp/report"]
    assert report.applies and report.phase == "final"
    assert report.due_at == at("2026-07-07T09:30:00+02:00")
    assert any("proposal for communicating" in c for c in report.content)  # Art. 44, 5°


@pytest.mark.parametrize(("risk", "people"), [("none", False), ("risk", False), ("high", True)])
def test_rwanda_art45_data_subjects_only_for_a_likely_high_risk(risk: str, people: bool) -> None:
    results = rwanda({"RW": 20}, risk=risk)
    assert owed(results, "rw-ppdp/authority")  # Arts. 43-44 have no risk threshold
    assert owed(results, "rw-ppdp/data-subjects") is people
    if people:
        assert results["rw-ppdp/data-subjects"].due_at is None  # Art. 45 sets no period


def test_rwanda_art45_1_protection_measures_spare_the_data_subjects_not_the_authority() -> None:
    safe = rwanda({"RW": 20}, encrypted=True)
    assert not owed(safe, "rw-ppdp/data-subjects") and owed(safe, "rw-ppdp/authority")
    assert owed(rwanda({"RW": 20}, encrypted=True, key_compromised=True), "rw-ppdp/data-subjects")
    notice = duty("rw-ppdp/data-subjects").substitute_notice
    assert notice is not None and notice.citation == "Law No. 058/2021 Art. 45, 3°"
    assert "equally effective manner" in notice.means[0]


def test_rwanda_art43_the_processor_tells_the_controller_within_48_hours() -> None:
    results = rwanda({"RW": 20}, roles=["processor"], risk="none")
    controller = results["rw-ppdp/controller"]
    assert controller.applies and controller.recipient == "counterparty"
    assert controller.due_at == at("2026-07-06T09:30:00+02:00")
    for ref in ("rw-ppdp/authority", "rw-ppdp/report", "rw-ppdp/data-subjects"):
        assert not owed(results, ref), ref
    assert not owed(rwanda({"RW": 20}), "rw-ppdp/controller")


@pytest.mark.parametrize(("aware_at", "notified"), [
    ("2021-10-14T18:00:00+02:00", False),   # Thursday 14 October 2021, the day before publication
    ("2021-10-15T08:00:00+02:00", True),    # Friday 15 October 2021 (Art. 70)
])
def test_rwanda_art70_in_force_on_publication(aware_at: str, notified: bool) -> None:
    assert owed(rwanda({"RW": 20}, aware_at=aware_at), "rw-ppdp/authority") is notified


def test_rwanda_art2_data_subjects_located_in_rwanda_for_a_controller_abroad() -> None:
    protects = duty("rw-ppdp/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="UG", people={"UG": 9, "RW": 4}).count == 4
    assert audience(protects, established_in="RW", people={"UG": 9, "RW": 4}).everyone


# ------------------------------------------------------------------- Zambia, DPA 2021 s. 49

ZM_DISCOVERED = "2026-12-25T22:00:00+02:00"
"""Friday 25 December 2026 (Christmas Day), 22:00 Central Africa Time (Zambia, UTC+2)."""


def zambia(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "ZM", "timezone": "Africa/Lusaka",
                               "aware_at": "2026-12-26T08:00:00+02:00",
                               "discovered_at": ZM_DISCOVERED} | changes
    return run(affected, **options)


def test_zambia_s49_1_commissioner_within_24_hours_of_the_breach() -> None:
    # 24 elapsed hours from the discovery (the earliest recorded moment of the breach), not from
    # the later awareness: Saturday 26 December 2026, 22:00 CAT (holidays count).
    results = zambia({"ZM": 8}, risk="none")
    commissioner = results["zm-dpa/commissioner"]
    assert commissioner.applies and commissioner.recipient == "authority"
    assert commissioner.due_at == at("2026-12-26T22:00:00+02:00")
    assert commissioner.basis is not None
    assert commissioner.basis.citation == "Data Protection Act 2021 s. 49(1)"
    # s. 49(3): "as soon as practicable": no legal due time; our 72-hour target from discovery.
    people = results["zm-dpa/data-subjects"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-12-28T22:00:00+02:00")


def test_zambia_s49_2_and_3_the_processor_tells_the_controller_and_the_data_subjects() -> None:
    results = zambia({"ZM": 8}, roles=["processor"])
    controller = results["zm-dpa/controller"]
    assert controller.applies and controller.recipient == "counterparty"
    assert controller.due_at is None  # "as soon as practicable"
    assert controller.target_at == at("2026-12-26T22:00:00+02:00")  # our 24-hour target
    assert owed(results, "zm-dpa/data-subjects")  # "A data controller or data processor"
    assert not owed(results, "zm-dpa/commissioner")  # s. 49(1): "A data controller"
    assert not owed(zambia({"ZM": 8}), "zm-dpa/controller")


@pytest.mark.parametrize("affected", [{"ZM": 1}, {"ZM": 100_000}])
def test_zambia_s49_any_security_breach_whatever_its_size(affected: dict[str, int]) -> None:
    results = zambia(affected, risk="none")
    assert owed(results, "zm-dpa/commissioner") and owed(results, "zm-dpa/data-subjects")


def test_zambia_in_force_from_1_april_2021() -> None:
    before = zambia({"ZM": 8}, aware_at="2021-03-31T12:00:00+02:00",
                    discovered_at="2021-03-31T10:00:00+02:00")
    assert not owed(before, "zm-dpa/commissioner")
    after = zambia({"ZM": 8}, aware_at="2021-04-01T12:00:00+02:00",
                   discovered_at="2021-04-01T10:00:00+02:00")
    assert owed(after, "zm-dpa/commissioner")


# -------------------------------------------------------------- Zimbabwe, CDPA s. 19

ZW_DISCOVERED = "2026-04-17T12:00:00+02:00"
"""Friday 17 April 2026, 12:00 Central Africa Time (Zimbabwe, UTC+2, no daylight time)."""


def zimbabwe(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    options: dict[str, Any] = {"country": "ZW", "timezone": "Africa/Harare",
                               "aware_at": "2026-04-17T15:00:00+02:00",
                               "discovered_at": ZW_DISCOVERED} | changes
    return run(affected, **options)


def test_zimbabwe_s19_the_authority_within_24_hours() -> None:
    # 24 elapsed hours from discovery: Saturday 18 April 2026 (Independence Day), 12:00 CAT.
    authority = zimbabwe({"ZW": 3}, risk="none")["zw-cdpa/authority"]
    assert authority.applies and authority.recipient == "authority"
    assert authority.due_at == at("2026-04-18T12:00:00+02:00")
    assert authority.basis is not None
    assert authority.basis.citation == "Cyber and Data Protection Act s. 19"


def test_zimbabwe_s19_binds_the_controller_and_names_no_other_recipient() -> None:
    assert not owed(zimbabwe({"ZW": 3}, roles=["processor"]), "zw-cdpa/authority")
    assert refs_of("zw-cdpa") == {"zw-cdpa/authority"}


def test_zimbabwe_s4_a_controller_abroad_is_not_reached_through_residents() -> None:
    # s. 4(2)(b) turns on means located in Zimbabwe, not on where data subjects live.
    results = run({"ZA": 30, "ZW": 5}, country="ZA", timezone="Africa/Johannesburg",
                  aware_at="2026-04-17T15:00:00+02:00", discovered_at=ZW_DISCOVERED)
    assert not owed(results, "zw-cdpa/authority")
