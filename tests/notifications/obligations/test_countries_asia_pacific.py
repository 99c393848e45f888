"""Asia-Pacific: Thailand, the Philippines, Indonesia, Vietnam, Malaysia, New Zealand and Taiwan,
each duty as its text words it; Hong Kong, whose Ordinance has no mandatory breach notification.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine. A period in hours is elapsed time (the trigger plus N x 3,600 s),
so a holiday inside it changes nothing; each case puts one there to show it:

* Thailand, PDPA B.E. 2562 s. 37(4): the controller notifies the Office "without delay and, where
  feasible, within 72 hours after having become aware of it, unless such Personal Data breach is
  unlikely to result in a risk to the rights and freedoms of the Persons"; if "likely to result in
  a high risk", it "shall also notify ... the data subject without delay". s. 40(2): the processor
  notifies the controller.
* Philippines, RA 10173 s. 20(f) and NPC Circular 16-03 ss. 11, 17-18: the Commission and the data
  subjects "within seventy-two (72) hours upon knowledge of or reasonable belief", when sensitive
  personal information or information enabling identity fraud may have been acquired by an
  unauthorized person and there is a real risk of serious harm. s. 18(D): alternative means of
  notification, such as public communication, with the Commission's approval.
* Indonesia, Law 27/2022 art. 46(1): written notice "paling lambat 3 x 24 (tiga kali dua puluh
  empat) jam" to the data subject and the institution, for every failure of protection; art. 74:
  two years to comply from 17 October 2022.
* Vietnam, Law 91/2025/QH15 art. 23(1) (in force 1 January 2026): notice to the specialised agency
  "chậm nhất 72 giờ kể từ khi phát hiện" where the violation may harm the data subject; the
  processor tells the controller "kịp thời". Decree 356/2025/ND-CP art. 29: the data subjects of an
  incident involving location or biometric data, within 72 hours.
* Malaysia, PDPA 2010 s. 12B (in force 1 June 2025) with the Commissioner's Guideline on Data
  Breach Notification: the Commissioner within 72 hours where significant harm is likely or more
  than 1,000 data subjects are affected; the data subjects, where significant harm is likely,
  within 7 days of the notice to the Commissioner.
* New Zealand, Privacy Act 2020 ss. 112-117: the Commissioner and the affected individuals "as soon
  as practicable" after becoming aware of a breach likely to cause serious harm; public notice
  where individual notice is not reasonably practicable (s. 115(2)).
* Taiwan, PDPA art. 12 and Enforcement Rules art. 22: the data subjects, "after the facts have been
  clarified", promptly; by the Internet or the media where individual notice costs too much.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.countries import REGIMES, at, duty, established, owed

Place = tuple[str, str]
"""Where the organisation is established: its country and time zone."""


def run(affected: dict[str, int], *, place: Place, **facts: Any) -> dict[str, ObligationResult]:
    """Every obligation (applying or not) for a breach known at `aware_at` by an organisation
    established in `place`."""
    country, timezone = place
    return established(affected, country=country, timezone=timezone, **facts)


def owed_in(results: dict[str, ObligationResult], regime: str) -> set[str]:
    return {r.obligation for r in results.values() if r.regime == regime and r.applies}


# ------------------------------------------------------------------ Thailand, PDPA s. 37(4)

TH: Place = ("TH", "Asia/Bangkok")
TH_AWARE = "2026-04-13T14:30:00+07:00"
"""Monday 13 April 2026, 14:30 in Bangkok: Songkran, a public holiday (13-15 April)."""


def test_th_s37_4_office_within_72_hours_of_awareness() -> None:
    # 72 elapsed hours from Monday 14:30 (ICT, UTC+7, no daylight time): Thursday 16 April 14:30,
    # the Songkran holidays inside the period changing nothing.
    results = run({"TH": 40}, aware_at=TH_AWARE, place=TH)
    assert results["th-pdpa/office"].due_at == at("2026-04-16T14:30:00+07:00")
    assert duty("th-pdpa/office").citation.startswith("PDPA B.E. 2562 s. 37(4)")
    # High risk: the data subjects too, "without delay": no fixed time, a target only.
    people = results["th-pdpa/data-subjects"]
    assert people.applies and people.due_at is None and people.target_at is not None
    assert owed_in(results, "th-pdpa") == {"office", "data-subjects"}


@pytest.mark.parametrize(("risk", "office", "people"), [
    ("none", False, False),   # "unlikely to result in a risk": no notice at all
    ("risk", True, False),    # a risk, not a high one: the Office only
    ("high", True, True),     # "likely to result in a high risk": the data subjects also
])
def test_th_s37_4_risk_thresholds(risk: str, office: bool, people: bool) -> None:
    results = run({"TH": 40}, aware_at=TH_AWARE, risk=risk, place=TH)
    assert owed(results, "th-pdpa/office") is office
    assert owed(results, "th-pdpa/data-subjects") is people


def test_th_s40_2_a_processor_tells_the_controller_not_the_office() -> None:
    results = run({"TH": 40}, aware_at=TH_AWARE, roles=["processor"], place=TH)
    assert owed_in(results, "th-pdpa") == {"controller"}
    assert results["th-pdpa/controller"].recipient == "counterparty"
    assert duty("th-pdpa/controller").citation == "PDPA B.E. 2562 s. 40(2)"


def test_th_the_duties_of_s37_bind_from_1_june_2022() -> None:
    # s. 2 with the Royal Decrees postponing Chapters II, III, V, VI and VII to 1 June 2022.
    assert not owed(run({"TH": 40}, aware_at="2022-05-31T12:00:00+07:00", place=TH), "th-pdpa/office")
    assert owed(run({"TH": 40}, aware_at="2022-06-01T12:00:00+07:00", place=TH), "th-pdpa/office")


def test_th_s5_a_foreign_controller_tells_only_the_people_in_thailand() -> None:
    rule = duty("th-pdpa/data-subjects").protects
    assert rule is not None
    abroad = audience(rule, established_in="SG", people={"TH": 3, "SG": 5})
    assert (abroad.everyone, abroad.count, abroad.not_protected) == (False, 3, 5)
    home = audience(rule, established_in="TH", people={"TH": 3, "SG": 5})
    assert home.everyone and home.count == 8


# ------------------------------------------------- Philippines, RA 10173 s. 20(f); NPC 16-03

PH: Place = ("PH", "Asia/Manila")
PH_AWARE = "2026-06-12T09:00:00+08:00"
"""Friday 12 June 2026, 09:00 in Manila: Independence Day, a regular holiday."""


def test_ph_commission_and_data_subjects_within_72_hours() -> None:
    # Circular 16-03 ss. 17(A) and 18(A): 72 hours upon knowledge; Friday 09:00 PHT (UTC+8) plus
    # 72 h is Monday 15 June 09:00, the holiday and the weekend counting.
    results = run({"PH": 12}, aware_at=PH_AWARE, data=["contact", "credentials"], place=PH)
    expected = at("2026-06-15T09:00:00+08:00")
    assert results["ph-dpa/commission"].due_at == expected
    assert results["ph-dpa/data-subjects"].due_at == expected
    assert "20(f)" in duty("ph-dpa/commission").citation


@pytest.mark.parametrize(("data", "risk", "owed_now"), [
    # s. 11(A): sensitive personal information or information enabling identity fraud.
    (["contact"], "high", False),                  # names and e-mail addresses only
    (["contact", "credentials"], "high", True),    # "usernames, passwords and other login data"
    (["official_id"], "high", True),               # "copies of identification documents"
    # s. 11(C): a real risk of serious harm.
    (["financial"], "risk", False),
    (["financial"], "high", True),
])
def test_ph_s11_conditions(data: list[str], risk: str, owed_now: bool) -> None:
    results = run({"PH": 12}, aware_at=PH_AWARE, data=data, risk=risk, place=PH)
    assert owed(results, "ph-dpa/commission") is owed_now
    assert owed(results, "ph-dpa/data-subjects") is owed_now


def test_ph_a_processor_reports_to_its_controller() -> None:
    # s. 15: the controller notifies even when processing is outsourced; s. 16: the processor's report.
    results = run({"PH": 12}, aware_at=PH_AWARE, roles=["processor"], place=PH)
    assert owed_in(results, "ph-dpa") == {"controller"}


def test_ph_s18_d_public_communication_only_with_the_commission_s_approval() -> None:
    notice = duty("ph-dpa/data-subjects").substitute_notice
    assert notice is not None and notice.citation == "NPC Circular 16-03 s. 18(D)"
    assert all("Commission approved" in c for c in notice.conditions)
    assert any("disproportionate effort" in c for c in notice.conditions)


# ------------------------------------------------------ Indonesia, Law 27/2022 art. 46

ID: Place = ("ID", "Asia/Jakarta")
ID_AWARE = "2026-08-17T10:00:00+07:00"
"""Monday 17 August 2026, 10:00 in Jakarta (WIB): Independence Day."""


def test_id_art46_written_notice_within_3_x_24_hours() -> None:
    # "paling lambat 3 x 24 (tiga kali dua puluh empat) jam": 72 elapsed hours, Thursday 20 August
    # 10:00 WIB (UTC+7), to the data subjects and to the institution alike.
    results = run({"ID": 7}, aware_at=ID_AWARE, place=ID)
    expected = at("2026-08-20T10:00:00+07:00")
    assert results["id-pdp/institution"].due_at == expected
    assert results["id-pdp/data-subjects"].due_at == expected
    assert duty("id-pdp/institution").citation == "UU No. 27 Tahun 2022 art. 46(1)(b) and (2)"


@pytest.mark.parametrize("risk", ["none", "risk", "high"])
def test_id_art46_every_failure_is_notified_whatever_the_risk(risk: str) -> None:
    results = run({"ID": 1}, aware_at=ID_AWARE, risk=risk, data=["contact"], place=ID)
    assert owed_in(results, "id-pdp") == {"institution", "data-subjects"}


def test_id_art46_binds_the_controller_not_the_processor() -> None:
    assert owed_in(run({"ID": 7}, aware_at=ID_AWARE, roles=["processor"], place=ID), "id-pdp") == set()


def test_id_art74_two_years_from_17_october_2022() -> None:
    assert not owed(run({"ID": 7}, aware_at="2024-10-01T10:00:00+07:00", place=ID), "id-pdp/institution")
    assert owed(run({"ID": 7}, aware_at="2024-11-01T10:00:00+07:00", place=ID), "id-pdp/institution")


def test_id_art46_2_contents_of_the_written_notice() -> None:
    letter = duty("id-pdp/data-subjects").letter
    assert letter is not None
    assert set(letter.elements) == {"data_involved", "dates", "nature", "measures"}
    rule = duty("id-pdp/data-subjects").protects
    assert rule is not None and rule.people_in == ("ID",)


# ------------------------------------------------- Vietnam, Law 91/2025/QH15 art. 23

VN: Place = ("VN", "Asia/Ho_Chi_Minh")
VN_AWARE = "2026-04-30T08:00:00+07:00"
"""Thursday 30 April 2026, 08:00 in Hanoi: Reunification Day, followed by Labour Day."""


def test_vn_art23_agency_within_72_hours_of_detection() -> None:
    # 72 elapsed hours from Thursday 08:00 (ICT, UTC+7): Sunday 3 May 08:00.
    results = run({"VN": 20}, aware_at=VN_AWARE, data=["contact"], place=VN)
    assert results["vn-pdp/agency"].due_at == at("2026-05-03T08:00:00+07:00")
    assert duty("vn-pdp/agency").citation.startswith("Law 91/2025/QH15 art. 23(1)")


@pytest.mark.parametrize(("risk", "expected"), [
    ("none", False),   # may harm nothing art. 23(1) names: no 72-hour notice
    ("risk", True),    # may infringe the data subject's rights or property
])
def test_vn_art23_harm_threshold(risk: str, expected: bool) -> None:
    results = run({"VN": 20}, aware_at=VN_AWARE, risk=risk, data=["contact"], place=VN)
    assert owed(results, "vn-pdp/agency") is expected


def test_vn_the_law_binds_from_1_january_2026() -> None:
    # Law 91/2025/QH15 took effect on 1 January 2026 (Hanoi time); Decree 13/2023 counted from the
    # violation's occurrence, which these rules cannot count from, so earlier breaches show none.
    before = run({"VN": 20}, aware_at="2025-12-31T23:00:00+07:00", place=VN)
    after = run({"VN": 20}, aware_at="2026-01-01T00:30:00+07:00", place=VN)
    assert not owed(before, "vn-pdp/agency") and owed(after, "vn-pdp/agency")
    assert after["vn-pdp/agency"].due_at == at("2026-01-04T00:30:00+07:00")


@pytest.mark.parametrize(("data", "expected"), [
    (["contact", "identity"], False),   # no location or biometric data: the Law sets no notice to people
    (["location"], True),               # Decree 356 art. 29(1): location data
])
def test_vn_decree_356_art29_data_subjects_of_location_or_biometric_incidents(
        data: list[str], expected: bool) -> None:
    results = run({"VN": 20}, aware_at=VN_AWARE, data=data, place=VN)
    assert owed(results, "vn-pdp/data-subjects") is expected
    if expected:
        assert results["vn-pdp/data-subjects"].due_at == at("2026-05-03T08:00:00+07:00")


def test_vn_art23_the_processor_tells_the_controller_promptly() -> None:
    results = run({"VN": 20}, aware_at=VN_AWARE, roles=["processor"], place=VN)
    assert owed_in(results, "vn-pdp") == {"controller"}
    assert results["vn-pdp/controller"].due_at is None  # "kịp thời": no fixed time


# ------------------------------------------------ Malaysia, PDPA 2010 s. 12B and Guideline

MY: Place = ("MY", "Asia/Kuala_Lumpur")
MY_AWARE = "2026-08-31T10:00:00+08:00"
"""Monday 31 August 2026, 10:00 in Kuala Lumpur: National Day (Hari Merdeka)."""


def test_my_s12b_commissioner_within_72_hours() -> None:
    # 72 elapsed hours from Monday 10:00 MYT (UTC+8): Thursday 3 September 10:00.
    results = run({"MY": 30}, aware_at=MY_AWARE, place=MY)
    assert results["my-pdpa/commissioner"].due_at == at("2026-09-03T10:00:00+08:00")
    # The data subjects' 7 days run from the notice to the Commissioner, not given yet.
    people = results["my-pdpa/data-subjects"]
    assert people.applies and people.due_at is None


def test_my_data_subjects_within_7_days_of_notifying_the_commissioner() -> None:
    # Commissioner notified Tuesday 1 September 16:00: day 1 is Wednesday 2 September, day 7
    # Tuesday 8 September, ending at the end of that day in Kuala Lumpur.
    results = run({"MY": 30}, aware_at=MY_AWARE,
                  met={"my-pdpa/commissioner": "2026-09-01T16:00:00+08:00"}, place=MY)
    assert results["my-pdpa/data-subjects"].due_at == at("2026-09-08T23:59:59.999999+08:00")


@pytest.mark.parametrize(("count", "risk", "data", "commissioner", "people"), [
    (1000, "risk", ["contact"], False, False),    # 1,000 people, no significant harm: nothing
    (1001, "risk", ["contact"], True, False),     # "exceeds 1,000": the Commissioner only
    (5, "risk", ["health"], True, True),          # sensitive personal data: significant harm
    (5, "high", ["contact"], True, True),         # significant harm likely
])
def test_my_guideline_significant_harm_and_scale(count: int, risk: str, data: list[str],
                                                 commissioner: bool, people: bool) -> None:
    results = run({"MY": count}, aware_at=MY_AWARE, risk=risk, data=data, place=MY)
    assert owed(results, "my-pdpa/commissioner") is commissioner
    assert owed(results, "my-pdpa/data-subjects") is people


def test_my_s12b_is_in_force_from_1_june_2025_and_binds_controllers_only() -> None:
    assert not owed(run({"MY": 30}, aware_at="2025-05-31T12:00:00+08:00", place=MY),
                    "my-pdpa/commissioner")
    assert owed(run({"MY": 30}, aware_at="2025-06-01T09:00:00+08:00", place=MY), "my-pdpa/commissioner")
    # s. 12B addresses the data controller; a processor's notice is contractual.
    assert owed_in(run({"MY": 30}, aware_at=MY_AWARE, roles=["processor"], place=MY), "my-pdpa") == set()


# --------------------------------------------- New Zealand, Privacy Act 2020 ss. 112-117

NZ: Place = ("NZ", "Pacific/Auckland")
NZ_AWARE = "2026-04-04T12:00:00+13:00"
"""Saturday 4 April 2026, 12:00 NZDT: daylight time ends at 03:00 on Sunday 5 April."""


def test_nz_ss114_115_as_soon_as_practicable_with_a_72_hour_target() -> None:
    results = run({"NZ": 4}, aware_at=NZ_AWARE, place=NZ)
    for ref in ("nz-privacy/commissioner", "nz-privacy/individuals"):
        result = results[ref]
        assert result.applies and result.due_at is None  # "as soon as practicable": no due time
        # The target is 72 elapsed hours: Tuesday 7 April 11:00 NZST (UTC+12), the clocks having
        # gone back an hour on the Sunday.
        assert result.target_at == at("2026-04-07T11:00:00+12:00")
        assert result.target_at == at(NZ_AWARE) + timedelta(hours=72)


@pytest.mark.parametrize(("risk", "expected"), [
    ("risk", False),   # harm, but not serious harm (s. 112)
    ("high", True),    # reasonable to believe it is likely to cause serious harm
])
def test_nz_s112_serious_harm(risk: str, expected: bool) -> None:
    results = run({"NZ": 4}, aware_at=NZ_AWARE, risk=risk, place=NZ)
    assert owed(results, "nz-privacy/commissioner") is expected
    assert owed(results, "nz-privacy/individuals") is expected


def test_nz_an_agent_does_not_notify_and_the_act_starts_on_1_december_2020() -> None:
    assert owed_in(run({"NZ": 4}, aware_at=NZ_AWARE, roles=["processor"], place=NZ), "nz-privacy") == set()
    assert not owed(run({"NZ": 4}, aware_at="2020-11-30T12:00:00+13:00", place=NZ),
                    "nz-privacy/commissioner")
    assert owed(run({"NZ": 4}, aware_at="2020-12-01T12:00:00+13:00", place=NZ), "nz-privacy/commissioner")


def test_nz_s117_content_and_s115_2_public_notice() -> None:
    people = duty("nz-privacy/individuals")
    assert people.letter is not None
    assert set(people.letter.elements) == {"nature", "measures", "advice", "complaint", "contact"}
    assert people.complaint is not None
    notice = people.substitute_notice
    assert notice is not None and notice.citation.startswith("Privacy Act 2020 s. 115(2)")
    assert any("not reasonably practicable" in c for c in notice.conditions)
    assert any("no affected individual is identified" in m for m in notice.means)
    # Individuals are notified wherever they are.
    assert people.protects is not None and people.protects.people_in is None


# ---------------------------------------------------- Taiwan, PDPA art. 12; Rules art. 22

TW: Place = ("TW", "Asia/Taipei")


def test_tw_art12_data_subjects_after_the_facts_are_clarified() -> None:
    # Known Friday 2 October 2026 09:00 CST, facts clarified Monday 5 October 15:00: no fixed time
    # ("in a prompt manner"), a 72-hour target from the clarification, Thursday 8 October 15:00.
    results = run({"TW": 9}, aware_at="2026-10-02T09:00:00+08:00",
                  breach_determined_at="2026-10-05T15:00:00+08:00", risk="none", place=TW)
    people = results["tw-pdpa/data-subjects"]
    assert people.applies and people.due_at is None
    assert people.target_at == at("2026-10-08T15:00:00+08:00")
    waiting = run({"TW": 9}, aware_at="2026-10-02T09:00:00+08:00", place=TW)["tw-pdpa/data-subjects"]
    assert waiting.applies and waiting.target_at is None  # the facts are not yet clarified


def test_tw_no_report_to_an_authority_binds_every_agency() -> None:
    regime = REGIMES.get("tw-pdpa")
    assert regime is not None and {o.recipient for o in regime.obligations} == {"individuals"}
    processor = run({"TW": 9}, aware_at="2026-10-02T09:00:00+08:00", roles=["processor"], place=TW)
    assert owed_in(processor, "tw-pdpa") == set()


def test_tw_rules_art22_internet_or_media_when_notice_costs_too_much() -> None:
    people = duty("tw-pdpa/data-subjects")
    notice = people.substitute_notice
    assert notice is not None and notice.confidence == "high"
    assert notice.citation == "PDPA Enforcement Rules art. 22(1), proviso"
    assert people.letter is not None and set(people.letter.elements) == {"nature", "measures"}


# ---------------------------------------------------------- Hong Kong: nothing mandatory

def test_hong_kong_pdpo_has_no_mandatory_breach_notification() -> None:
    # The PDPO (Cap. 486) has no breach notification duty; the PCPD's guidance is voluntary and the
    # 2020 amendment proposals have not been enacted, so no duty is shipped for Hong Kong.
    assert not any(r.jurisdiction == "HK" for r in REGIMES)
    results = run({"HK": 500}, place=("HK", "Asia/Hong_Kong"), aware_at="2026-07-01T10:00:00+08:00")
    assert [r.ref for r in results.values() if r.applies] == []
