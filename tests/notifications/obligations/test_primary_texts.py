"""Duties re-read against their primary texts: China, India, Colorado, NYDFS and DORA.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine:

* China, CAC Measures for the Reporting of National Cybersecurity Incidents (in force
  1 November 2025, Art. 14) Art. 4: a network operator that "discovers or learns of" an incident
  reports one "relatively major or above" ... "其他网络运营者应当及时向属地省级网信部门报告" and
  "最迟不得超过4小时"; involving critical information infrastructure, to the protection department and public
  security "最迟不得超过1小时"; central and state organs to their own department "最迟不得超过2小时".
  Classification Guide: "泄露100万人以上公民个人信息" is relatively major, "以上" including the number.
  Art. 2: operators building or operating networks, or providing services through networks,
  within the PRC. PIPL Art. 57(1): on an actual or possible leak, tampering or loss the
  personal information handler "立即" notifies the departments and the individuals; 57(2): where
  its measures can effectively avoid harm it "may not notify the individuals". Art. 3(2): the
  law also reaches processing abroad of the personal information of natural persons in China.
* India, DPDP Rules 2025 (G.S.R. 846(E), 13 November 2025) Rule 1(4): Rule 7 in force
  "eighteen months after the date of publication" (13 May 2027); Rule 7(2)(b): to the Board
  "within seventy-two hours of becoming aware of the breach"; Rule 7(1)(a): to each Data
  Principal "a description of the breach, including its nature, extent and the timing of its
  occurrence" (the Board's description, 7(2)(a), adds "location").
* Colorado, C.R.S. 6-1-716(2)(a): residents "not later than thirty days after the date of
  determination that a security breach occurred"; (2)(f): the Attorney General where 500 or
  more Colorado residents are affected (the Attorney General's page: "if the breach affects 500
  or more Coloradans", filed on its online Data Breach Reporting Form). Periods under C.R.S.
  2-4-108 (first day excluded).
* NYDFS, 23 NYCRR 500.17(a)(1) as amended in 2023: "as promptly as possible but in no event
  later than 72 hours after determining that a cybersecurity incident has occurred"; the 2017
  wording ("72 hours from a determination that a Cybersecurity Event ... has occurred")
  governs determinations before 1 December 2023.
* DORA, Delegated Regulation (EU) 2025/301 Art. 5(1)(a): "within four hours from the
  classification ... as a major ICT-related incident, and no later than 24 hours from the
  moment the financial entity has become aware"; Art. 5(2): classified as major only after
  those 24 hours, "within four hours from the classification"; Art. 2: the initial
  notification's specific information, starting with "the incident reference code".
"""

from __future__ import annotations

from typing import Any

import pytest

from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.countries import REGIMES, at, duty, owed, results_for

# ---------------------------------------------------------------------------------- China

BEIJING_ORG = {"country": "CN", "timezone": "Asia/Shanghai"}
DISCOVERED = "2026-03-02T22:30:00+08:00"
"""Monday 2 March 2026, 22:30 Beijing time (no daylight time)."""


def china(affected: int = 1_000_000, organisation: dict[str, Any] | None = None,
          **incident: Any) -> dict[str, ObligationResult]:
    moment = incident.pop("discovered_at", DISCOVERED)
    return results_for(organisation or BEIJING_ORG, {"CN": affected},
                       aware_at=moment, discovered_at=moment, **incident)


def test_measures_art_4_four_hours_after_discovery_to_the_provincial_administration() -> None:
    # 22:30 + 4 h = 02:30 on Tuesday 3 March; nights count.
    cac = china()["cn/cac"]
    assert cac.applies and cac.due_at == at("2026-03-03T02:30:00+08:00")
    assert "属地省级网信部门" in cac.recipient_name


@pytest.mark.parametrize(("entity_type", "due"), [
    # Art. 4(1): critical information infrastructure, 1 hour: 23:30 the same evening.
    ("critical_information_infrastructure_operator", "2026-03-02T23:30:00+08:00"),
    # Art. 4: central and state organs, 2 hours: 00:30 on Tuesday.
    ("central_state_organ", "2026-03-03T00:30:00+08:00"),
])
def test_measures_art_4_shorter_limits_for_cii_and_state_organs(entity_type: str, due: str) -> None:
    cac = china(organisation={**BEIJING_ORG, "entity_type": entity_type})["cn/cac"]
    assert cac.due_at == at(due)


@pytest.mark.parametrize(("people", "reportable"), [
    (999_999, False),    # below "100万人以上"
    (1_000_000, True),   # "以上" includes the number itself
])
def test_classification_guide_one_million_people_is_relatively_major(people: int,
                                                                      reportable: bool) -> None:
    results = china(people)
    assert owed(results, "cn/cac") is reportable
    # PIPL Art. 57 has no threshold: the departments and the people are owed either way.
    assert owed(results, "cn/pipl-departments") and owed(results, "cn/individuals")


def test_measures_in_force_from_1_november_2025_pipl_before() -> None:
    # Art. 14: "本办法自2025年11月1日起施行"; PIPL in force 1 November 2021.
    earlier = china(discovered_at="2025-10-31T10:00:00+08:00")
    assert not owed(earlier, "cn/cac")
    assert owed(earlier, "cn/pipl-departments") and owed(earlier, "cn/individuals")


def test_pipl_art_3_2_reaches_an_organisation_abroad_the_measures_do_not() -> None:
    # Measures Art. 2: operators within the PRC; PIPL Art. 3(2): processing abroad of the
    # personal information of natural persons within China.
    abroad = china(organisation={"country": "US", "timezone": "America/New_York"})
    assert not owed(abroad, "cn/cac")
    assert owed(abroad, "cn/individuals") and owed(abroad, "cn/pipl-departments")


def test_pipl_art_57_is_the_handler_s_duty_an_entrusted_party_reports_incidents_only() -> None:
    # PIPL Art. 57: "个人信息处理者"; the Measures' duty is every network operator's.
    processor = china(organisation={**BEIJING_ORG, "roles": ["processor"]})
    assert not owed(processor, "cn/individuals") and not owed(processor, "cn/pipl-departments")
    assert owed(processor, "cn/cac")


def test_pipl_art_57_2_measures_avoiding_harm_spare_the_individuals_only() -> None:
    spared = china(harm_not_likely=True, harm_determined_at="2026-03-03T09:00:00+08:00")
    assert not owed(spared, "cn/individuals")
    assert owed(spared, "cn/pipl-departments") and owed(spared, "cn/cac")


def test_pipl_art_57_immediately_has_no_fixed_time_and_its_contents() -> None:
    results = china()
    assert results["cn/individuals"].due_at is None and results["cn/pipl-departments"].due_at is None
    letter = duty("cn/individuals").letter
    assert letter is not None
    assert set(letter.elements) == {"data_involved", "nature", "consequences", "measures",
                                    "advice", "contact"}
    assert letter.elements["contact"].citation == "PIPL Art. 57(1)(3)"
    protects = duty("cn/individuals").protects
    assert protects is not None and protects.people_in == ("CN",)


# ---------------------------------------------------------------------------------- India

INDIA_ORG = {"country": "IN", "timezone": "Asia/Kolkata"}


def test_rule_7_2_b_the_board_within_72_hours_of_awareness() -> None:
    # Aware Tuesday 1 June 2027, 10:00 IST: + 72 h = Friday 4 June, 10:00 IST.
    results = results_for(INDIA_ORG, {"IN": 5}, aware_at="2027-06-01T10:00:00+05:30")
    assert results["in-dpdp/board-detailed"].due_at == at("2027-06-04T10:00:00+05:30")
    # Rule 7(2)(a) and 7(1): "without delay", no fixed time.
    assert results["in-dpdp/board"].applies and results["in-dpdp/board"].due_at is None
    assert results["in-dpdp/data-principals"].applies


@pytest.mark.parametrize(("aware_at", "in_force"), [
    ("2027-05-12T23:30:00+05:30", False),   # the day before: Rule 7 not yet in force
    ("2027-05-13T00:30:00+05:30", True),    # eighteen months after 13 November 2025
])
def test_rule_1_4_rule_7_applies_from_13_may_2027(aware_at: str, in_force: bool) -> None:
    results = results_for(INDIA_ORG, {"IN": 5}, aware_at=aware_at)
    assert owed(results, "in-dpdp/board-detailed") is in_force
    assert owed(results, "in-dpdp/data-principals") is in_force


def test_rule_7_1_a_the_people_are_told_nature_extent_and_timing_the_board_also_location() -> None:
    people = " ".join(duty("in-dpdp/data-principals").content)
    board = " ".join(duty("in-dpdp/board").content)
    assert "nature, extent and the timing" in people and "location" not in people
    assert "timing and location of occurrence" in board


# ------------------------------------------------------------------------------- Colorado

DENVER_ORG = {"country": "US", "timezone": "America/Denver"}
DETERMINED = "2026-03-02T10:00:00-07:00"
"""Monday 2 March 2026, 10:00 MST; daylight time starts on 8 March."""


@pytest.mark.parametrize(("residents", "attorney_general"), [(499, False), (500, True)])
def test_6_1_716_2_f_the_attorney_general_from_500_residents(residents: int,
                                                             attorney_general: bool) -> None:
    results = results_for(DENVER_ORG, {"US-CO": residents}, aware_at=DETERMINED,
                          breach_determined_at=DETERMINED)
    # Day 1 is Tuesday 3 March; day 30 is Wednesday 1 April 2026 (no holiday), MDT.
    assert results["us-co/individuals"].due_at == at("2026-04-01T23:59:59.999999-06:00")
    assert owed(results, "us-co/attorney-general") is attorney_general
    if attorney_general:
        assert results["us-co/attorney-general"].due_at == at("2026-04-01T23:59:59.999999-06:00")


def test_the_attorney_general_is_told_on_its_online_form() -> None:
    authority = duty("us-co/attorney-general").authority
    assert authority is not None
    assert "Data Breach Reporting Form" in authority.filing
    assert authority.email == "databreach@coag.gov"
    assert authority.source == "https://coag.gov/resources/data-protection-laws/"


def test_6_1_716_2_a_2_and_a_3_the_notice_contents_and_the_credentials_direction() -> None:
    letter = duty("us-co/individuals").letter
    assert letter is not None
    assert letter.elements["dates"].citation == "C.R.S. 6-1-716(2)(a.2)(I)"
    assert letter.elements["password_change"].citation.startswith("C.R.S. 6-1-716(2)(a.3)")
    assert letter.elements["password_change"].if_exposed == ("credentials",)
    # The service provider's notice, (2)(b), was read only in summaries.
    assert duty("us-co/covered-entity").confidence == "low"


# ---------------------------------------------------------------------------------- NYDFS

NY_ORG = {"country": "US", "timezone": "America/New_York", "flags": ["nydfs_covered_entity"]}


@pytest.mark.parametrize(("determined", "due", "wording"), [
    # Tuesday 28 November 2023, 09:00 EST: the 2017 wording, + 72 h = Friday 1 December 09:00.
    ("2023-11-28T09:00:00-05:00", "2023-12-01T09:00:00-05:00", "2017"),
    # Monday 4 December 2023, 09:00 EST: the amended 500.17, + 72 h = Thursday 7 December 09:00.
    ("2023-12-04T09:00:00-05:00", "2023-12-07T09:00:00-05:00", "Second Amendment"),
])
def test_500_17_a_72_hours_after_the_determination(determined: str, due: str,
                                                    wording: str) -> None:
    superintendent = results_for(NY_ORG, {"US-NY": 3}, aware_at=determined,
                                 breach_determined_at=determined)["us-nydfs/superintendent"]
    assert superintendent.due_at == at(due)
    assert superintendent.version is not None and wording in superintendent.version


def test_500_17_the_superintendent_is_told_through_the_dfs_portal() -> None:
    superintendent = duty("us-nydfs/superintendent")
    assert superintendent.confidence == "high" and superintendent.authority is not None
    assert "DFS Portal" in superintendent.authority.filing
    assert superintendent.authority.address == "One State Street, New York, NY 10004-1511"
    # 500.17(c) runs from the extortion payment, an event no trigger records: a note, not a duty.
    regime = REGIMES.get("us-nydfs")
    assert regime is not None and any("within 24 hours of the payment" in n for n in regime.notes)


# ----------------------------------------------------------------------------------- DORA

BANK = {"country": "DE", "timezone": "Europe/Berlin", "flags": ["dora_financial_entity"],
        "entity_type": "payment_institution"}
AWARE = "2026-03-03T08:00:00+01:00"
"""Tuesday 3 March 2026, 08:00 CET."""


@pytest.mark.parametrize(("classified", "due"), [
    # 22 h after awareness: 4 h would end at 10:00 on 4 March, the 24-hour cap at 08:00 wins.
    ("2026-03-04T06:00:00+01:00", "2026-03-04T08:00:00+01:00"),
    # 30 h after awareness, so classified only after the 24 hours (Art. 5(2)): 14:00 + 4 h.
    ("2026-03-04T14:00:00+01:00", "2026-03-04T18:00:00+01:00"),
])
def test_rts_2025_301_art_5_initial_notification(classified: str, due: str) -> None:
    initial = results_for(BANK, {"DE": 10}, aware_at=AWARE,
                          classified_major_at=classified)["dora/initial"]
    assert initial.due_at == at(due)


def test_rts_2025_301_art_2_the_initial_notification_s_contents() -> None:
    initial = duty("dora/initial")
    content = " ".join(initial.content)
    assert "incident reference code" in content and "business continuity plan" in content
    assert "Implementing Regulation (EU) 2025/302" in content
    assert "Arts. 2 and 5(1)(a) and (2)" in initial.citation
