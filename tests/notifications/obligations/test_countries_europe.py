"""European countries outside the EEA: Turkey, Serbia, North Macedonia, Georgia, Moldova, and the
Crown Dependencies Jersey, Guernsey and the Isle of Man.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine. Periods in hours are elapsed time: the moment of awareness plus
72 x 3600 s, so a change of clocks in between shifts the local hour of the due time (worked out
in each case). The readings, with their confidence, are in each regime's notes:

* Turkey, KVKK Art. 12(5): "In case the processed data are obtained by others by unlawful means,
  the data controller shall communicate this to the data subject and the Board within the
  shortest time." Board decision 2019/10: the Board is notified "without delay and at the latest
  within 72 hours" of the controller learning of the breach; the people "within the shortest
  reasonable time", "directly if the contact address ... can be reached, if not, by appropriate
  methods such as publication on the data controller's own website". Decision 2019/271: the
  notice states when, which data (special categories apart), consequences, measures, contacts.
* Serbia, Zakon o zastiti podataka o licnosti cl. 52(1): the controller notifies the Poverenik
  of a breach that may produce a risk "bez nepotrebnog odlaganja, ili, ako je to moguce, u roku
  od 72 casa od saznanja"; cl. 52(3): the processor tells the controller without undue delay;
  cl. 53: a high risk is communicated to the person, not where the data are encrypted, and by a
  public announcement where that would take disproportionate effort.
* North Macedonia, Law on Personal Data Protection (2020), as the Agency states it: notify the
  Agency "immediately, and no later than 72 hours", at incident@privacy.mk or the e-prijavi portal.
* Georgia, Law on Personal Data Protection (2023) Art. 29(1): the Service is notified "not later
  than 72 hours after the identification of the incident", except where significant damage or a
  significant threat is least expected; Art. 29(2): "A processor is obliged to notify a
  controller immediately"; in force 1 March 2024.
* Jersey, Data Protection (Jersey) Law 2018 Arts. 20-21 (as the Information Commissioner states
  them): "within 72 hours of becoming aware of the breach, where feasible"; a high risk: "inform
  those individuals without undue delay".
* Guernsey, Data Protection (Bailiwick of Guernsey) Law, 2017 s. 42: written notice "as soon as
  practicable and in any event no later than 72 hours after becoming aware"; s. 42(5): not where
  the breach is "unlikely to result in any risk to the significant interests of the data
  subject"; s. 42(1): the processor tells the controller; s. 43: a high risk, the data subjects.
* Isle of Man, Applied GDPR Arts. 33-34 (as the Information Commissioner's breach form states
  them): "not later than 72 hours after having become aware of it ... unless the PDB is unlikely
  to result in a risk"; a high risk: the individuals are informed.
* Moldova, Law No. 195/2024 (as a law firm's summary reproduces it; its own text was not read):
  "without undue delay, and, where feasible, not later than 72 hours after having become aware
  of it ... unless the personal data breach is unlikely to result in a risk"; in force
  23 August 2026, 24 months after its publication on 23 August 2024.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from notifications.drafting.audience import audience
from tests.notifications.obligations.countries import PROCESSOR, REGIMES, at, controller, duty, owed

run = partial(controller, data=["contact", "financial"])
"""Every obligation, applying or not, for a breach of contact and financial data known at
`aware_at` by a controller (unless `roles` says otherwise) established in `country`."""


# --------------------------------------------------------------------- Turkey, KVKK Art. 12(5)

ISTANBUL = "Europe/Istanbul"
TR_AWARE = "2026-03-06T16:30:00+03:00"
"""Friday 6 March 2026, 16:30 in Istanbul (UTC+3 all year)."""


def test_kvkk_the_board_within_72_hours_across_a_weekend() -> None:
    # Decision 2019/10: at the latest 72 hours after learning of the breach. Friday 16:30 + 72 h
    # is Monday 9 March 2026, 16:30; the weekend counts.
    results = run("TR", ISTANBUL, TR_AWARE, {"TR": 3})
    board = results["tr-kvkk/board"]
    assert board.applies and board.recipient == "authority"
    assert board.due_at == at("2026-03-09T16:30:00+03:00")
    assert board.basis is not None
    assert board.basis.citation == "KVKK Art. 12(5); Board decision 2019/10 (24.01.2019)"
    # "within the shortest reasonable time": no legal due time, our 72-hour target only.
    people = results["tr-kvkk/data-subjects"]
    assert people.applies and people.recipient == "individuals" and people.due_at is None
    assert people.target_at == at("2026-03-09T16:30:00+03:00")


def test_kvkk_art_12_5_has_no_risk_threshold() -> None:
    # Art. 12(5): every case of data "obtained by others by unlawful means", for one person too.
    results = run("TR", ISTANBUL, TR_AWARE, {"TR": 1}, risk="none")
    assert owed(results, "tr-kvkk/board") and owed(results, "tr-kvkk/data-subjects")


def test_kvkk_is_the_controller_s_duty() -> None:
    # Art. 12(5): "veri sorumlusu" (the data controller) notifies; the processor owes no notice.
    results = run("TR", ISTANBUL, TR_AWARE, {"TR": 3}, roles=PROCESSOR)
    assert not owed(results, "tr-kvkk/board") and not owed(results, "tr-kvkk/data-subjects")
    assert "tr-kvkk/controller" not in results


def test_kvkk_needs_a_link_to_turkey() -> None:
    assert not owed(run("DE", "Europe/Berlin", TR_AWARE, {"DE": 40}), "tr-kvkk/board")
    assert owed(run("DE", "Europe/Berlin", TR_AWARE, {"DE": 40, "TR": 1}), "tr-kvkk/board")
    # A controller in Turkey tells everyone concerned; a foreign one, the people in Turkey.
    protects = duty("tr-kvkk/data-subjects").protects
    assert protects is not None
    assert audience(protects, established_in="TR", people={"TR": 2, "DE": 5}).everyone
    abroad = audience(protects, established_in="DE", people={"TR": 2, "DE": 5})
    assert (abroad.everyone, abroad.count, abroad.not_protected) == (False, 2, 5)


def test_kvkk_notice_content_and_website_publication() -> None:
    people = duty("tr-kvkk/data-subjects")
    assert people.letter is not None
    # Decision 2019/271: when, which data, consequences, measures, contacts.
    assert set(people.letter.elements) == {"dates", "data_involved", "consequences", "measures",
                                           "contact"}
    notice = people.substitute_notice
    assert notice is not None and notice.citation == "Board decision 2019/10 (24.01.2019)"
    assert "contact address" in notice.conditions[0]
    assert "own website" in notice.means[0]
    board = duty("tr-kvkk/board")
    assert board.authority is not None and "Notification Form" in board.authority.filing


# -------------------------------------------------------------------- Serbia, ZZPL cl. 52-53

BELGRADE = "Europe/Belgrade"
RS_AWARE = "2026-03-28T10:00:00+01:00"
"""Saturday 28 March 2026, 10:00 CET; clocks go forward to CEST at 02:00 on Sunday 29 March."""


def test_zzpl_72_hours_are_elapsed_time_across_the_change_to_summer_time() -> None:
    # cl. 52(1): 72 hours after learning of the breach. 09:00 UTC Saturday + 72 h = 09:00 UTC
    # Tuesday 31 March 2026, which is 11:00 CEST (UTC+2) in Belgrade.
    results = run("RS", BELGRADE, RS_AWARE, {"RS": 30}, risk="risk")
    poverenik = results["rs-zzpl/poverenik"]
    assert poverenik.applies and poverenik.recipient == "authority"
    assert poverenik.due_at == at("2026-03-31T11:00:00+02:00")
    assert poverenik.due_at - at(RS_AWARE) == timedelta(hours=72)
    assert poverenik.basis is not None
    assert poverenik.basis.citation == "Zakon o zastiti podataka o licnosti, cl. 52(1)-(4)"


@pytest.mark.parametrize(("risk", "poverenik", "people"), [
    ("none", False, False),   # cl. 52(1): only a breach that may produce a risk
    ("risk", True, False),    # cl. 53(1): the person only for a high risk
    ("high", True, True),
])
def test_zzpl_risk_thresholds(risk: str, poverenik: bool, people: bool) -> None:
    results = run("RS", BELGRADE, RS_AWARE, {"RS": 30}, risk=risk)
    assert owed(results, "rs-zzpl/poverenik") is poverenik
    assert owed(results, "rs-zzpl/data-subjects") is people


def test_zzpl_the_processor_tells_the_controller_of_every_breach() -> None:
    # cl. 52(3): "bez nepotrebnog odlaganja"; no risk test, no fixed time (our 24-hour target).
    results = run("RS", BELGRADE, RS_AWARE, {"RS": 30}, risk="none", roles=PROCESSOR)
    controller = results["rs-zzpl/controller"]
    assert controller.applies and controller.recipient == "counterparty"
    assert controller.due_at is None
    assert controller.target_at == at("2026-03-29T11:00:00+02:00")  # 24 h later, now in CEST
    assert not owed(results, "rs-zzpl/poverenik")


def test_zzpl_encrypted_data_spare_the_person_not_the_poverenik() -> None:
    # cl. 53(3)(1): data made unintelligible (kriptozastita); cl. 52 is unaffected.
    results = run("RS", BELGRADE, RS_AWARE, {"RS": 30}, encrypted=True, state_of_the_art=True,
                  key_compromised=False)
    assert owed(results, "rs-zzpl/poverenik") and not owed(results, "rs-zzpl/data-subjects")
    notice = duty("rs-zzpl/data-subjects").substitute_notice
    assert notice is not None and notice.citation == "Zakon o zastiti podataka o licnosti, cl. 53(3)(3)"
    assert "public announcement" in notice.means[0]


def test_zzpl_applies_from_21_august_2019() -> None:
    before = run("RS", BELGRADE, "2019-08-20T10:00:00+02:00", {"RS": 30})
    after = run("RS", BELGRADE, "2019-08-21T10:00:00+02:00", {"RS": 30})
    assert not owed(before, "rs-zzpl/poverenik") and owed(after, "rs-zzpl/poverenik")


# ------------------------------------------------------------------------- North Macedonia

SKOPJE = "Europe/Skopje"
MK_AWARE = "2026-11-02T08:00:00+01:00"
"""Monday 2 November 2026, 08:00 CET (summer time ended on 25 October)."""


def test_lpdp_the_agency_within_72_hours_by_e_mail_or_portal() -> None:
    # The Agency: "immediately, and no later than 72 hours": Thursday 5 November 2026, 08:00.
    results = run("MK", SKOPJE, MK_AWARE, {"MK": 12}, risk="risk")
    agency = results["mk-zzlp/agency"]
    assert agency.applies and agency.due_at == at("2026-11-05T08:00:00+01:00")
    assert not owed(results, "mk-zzlp/data-subjects")  # only a high risk reaches the people
    authority = duty("mk-zzlp/agency").authority
    assert authority is not None and authority.email == "incident@privacy.mk"
    assert "eprijavi.privacy.mk" in authority.filing


def test_lpdp_a_breach_without_risk_is_documented_not_notified() -> None:
    # The Agency's own cc/bcc example: no risk, so no notification.
    assert not owed(run("MK", SKOPJE, MK_AWARE, {"MK": 12}, risk="none"), "mk-zzlp/agency")
    processor = run("MK", SKOPJE, MK_AWARE, {"MK": 12}, risk="none", roles=PROCESSOR)
    assert owed(processor, "mk-zzlp/controller") and not owed(processor, "mk-zzlp/agency")


# --------------------------------------------------------------------------------- Georgia

TBILISI = "Asia/Tbilisi"
GE_AWARE = "2026-05-08T18:00:00+04:00"
"""Friday 8 May 2026, 18:00 in Tbilisi (UTC+4, no summer time)."""


def test_georgia_the_service_within_72_hours_of_identification() -> None:
    # Art. 29(1): "not later than 72 hours": Monday 11 May 2026, 18:00.
    results = run("GE", TBILISI, GE_AWARE, {"GE": 200})
    service = results["ge-pdp/service"]
    assert service.applies and service.recipient == "authority"
    assert service.due_at == at("2026-05-11T18:00:00+04:00")
    assert service.basis is not None
    assert service.basis.citation == "Law of Georgia on Personal Data Protection (2023), Art. 29(1) and (3)"


@pytest.mark.parametrize(("risk", "notified"), [
    ("risk", False),  # significant damage or a significant threat is not expected
    ("high", True),
])
def test_georgia_significant_damage_or_threat(risk: str, notified: bool) -> None:
    results = run("GE", TBILISI, GE_AWARE, {"GE": 200}, risk=risk)
    assert owed(results, "ge-pdp/service") is notified
    assert owed(results, "ge-pdp/data-subjects") is notified


def test_georgia_the_processor_notifies_the_controller_immediately() -> None:
    # Art. 29(2), whatever the risk.
    results = run("GE", TBILISI, GE_AWARE, {"GE": 200}, risk="none", roles=PROCESSOR)
    assert owed(results, "ge-pdp/controller") and not owed(results, "ge-pdp/service")


def test_georgia_the_duty_starts_on_1_march_2024() -> None:
    # The 2011 Law had no incident notification; the 2023 Law entered into force on 1 March 2024.
    before = run("GE", TBILISI, "2024-02-29T23:00:00+04:00", {"GE": 200})
    after = run("GE", TBILISI, "2024-03-01T00:30:00+04:00", {"GE": 200})
    assert not owed(before, "ge-pdp/service") and owed(after, "ge-pdp/service")


# ---------------------------------------------------------------------------------- Jersey

JE_AWARE = "2026-03-27T10:00:00+00:00"
"""Friday 27 March 2026, 10:00 GMT; British Summer Time starts at 01:00 GMT on Sunday 29 March."""


def test_jersey_72_hours_run_across_the_change_to_summer_time() -> None:
    # Art. 20: 10:00 GMT Friday + 72 h = 10:00 GMT Monday 30 March 2026 = 11:00 BST.
    results = run("JE", "Europe/Jersey", JE_AWARE, {"JE": 50}, risk="risk")
    authority = results["je-dpjl/authority"]
    assert authority.applies and authority.due_at == at("2026-03-30T11:00:00+01:00")
    assert not owed(results, "je-dpjl/data-subjects")
    block = duty("je-dpjl/authority").authority
    assert block is not None and block.address.endswith("JE2 3BT")


@pytest.mark.parametrize(("risk", "authority", "people"), [
    ("none", False, False),
    ("risk", True, False),
    ("high", True, True),
])
def test_jersey_risk_thresholds(risk: str, authority: bool, people: bool) -> None:
    results = run("JE", "Europe/Jersey", JE_AWARE, {"JE": 50}, risk=risk)
    assert owed(results, "je-dpjl/authority") is authority
    assert owed(results, "je-dpjl/data-subjects") is people


def test_jersey_complaint_goes_to_the_authority() -> None:
    # Data Protection Authority (Jersey) Law 2018 Art. 19: "Right to make a complaint".
    assert duty("je-dpjl/data-subjects").complaint == (
        "Data Protection Authority (Jersey) Law 2018, Art. 19")
    processor = run("JE", "Europe/Jersey", JE_AWARE, {"JE": 50}, roles=PROCESSOR)
    assert owed(processor, "je-dpjl/controller") and not owed(processor, "je-dpjl/authority")


# -------------------------------------------------------------------------------- Guernsey

GG_AWARE = "2026-10-23T15:00:00+01:00"
"""Friday 23 October 2026, 15:00 BST; clocks go back to GMT at 02:00 BST on Sunday 25 October."""


def test_guernsey_72_hours_run_across_the_end_of_summer_time() -> None:
    # s. 42: 14:00 UTC Friday + 72 h = 14:00 UTC Monday 26 October 2026 = 14:00 GMT.
    results = run("GG", "Europe/Guernsey", GG_AWARE, {"GG": 8}, risk="risk")
    authority = results["gg-dpl/authority"]
    assert authority.applies and authority.due_at == at("2026-10-26T14:00:00+00:00")
    assert authority.due_at.astimezone(UTC) == datetime(2026, 10, 26, 14, tzinfo=UTC)


@pytest.mark.parametrize(("risk", "authority", "people"), [
    ("none", False, False),  # s. 42(5): "unlikely to result in any risk to the significant interests"
    ("risk", True, False),
    ("high", True, True),    # s. 43: a high risk to the significant interests of a data subject
])
def test_guernsey_significant_interests(risk: str, authority: bool, people: bool) -> None:
    results = run("GG", "Europe/Guernsey", GG_AWARE, {"GG": 8}, risk=risk)
    assert owed(results, "gg-dpl/authority") is authority
    assert owed(results, "gg-dpl/data-subjects") is people


def test_guernsey_the_processor_gives_the_controller_notice() -> None:
    # s. 42(1), whatever the risk.
    results = run("GG", "Europe/Guernsey", GG_AWARE, {"GG": 8}, risk="none", roles=PROCESSOR)
    controller = results["gg-dpl/controller"]
    assert controller.applies and controller.recipient == "counterparty"
    assert controller.basis is not None
    assert controller.basis.citation == "Data Protection (Bailiwick of Guernsey) Law, 2017, s. 42(1)"


# ---------------------------------------------------------------------------- Isle of Man

IM_AWARE = "2026-07-01T09:00:00+01:00"
"""Wednesday 1 July 2026, 09:00 BST."""


def test_isle_of_man_72_hours_keep_a_saturday() -> None:
    # Art. 33(1) Applied GDPR: Saturday 4 July 2026, 09:00 BST; no rule moves a period in hours.
    results = run("IM", "Europe/Isle_of_Man", IM_AWARE, {"IM": 70}, risk="risk")
    commissioner = results["im-gdpr/commissioner"]
    assert commissioner.applies and commissioner.due_at == at("2026-07-04T09:00:00+01:00")
    assert commissioner.due_at.weekday() == 5
    assert not owed(results, "im-gdpr/data-subjects")


def test_isle_of_man_thresholds_encryption_and_processor() -> None:
    assert not owed(run("IM", "Europe/Isle_of_Man", IM_AWARE, {"IM": 70}, risk="none"),
                    "im-gdpr/commissioner")
    high = run("IM", "Europe/Isle_of_Man", IM_AWARE, {"IM": 70})
    assert owed(high, "im-gdpr/data-subjects")
    # Art. 34(3)(a): unintelligible data spare the people, not the Commissioner.
    safe = run("IM", "Europe/Isle_of_Man", IM_AWARE, {"IM": 70}, encrypted=True,
               state_of_the_art=True, key_compromised=False)
    assert owed(safe, "im-gdpr/commissioner") and not owed(safe, "im-gdpr/data-subjects")
    processor = run("IM", "Europe/Isle_of_Man", IM_AWARE, {"IM": 70}, roles=PROCESSOR)
    assert owed(processor, "im-gdpr/controller") and not owed(processor, "im-gdpr/commissioner")
    assert duty("im-gdpr/data-subjects").complaint == "Applied GDPR (Isle of Man), Art. 77(1)"


# --------------------------------------------------------------------------------- Moldova

CHISINAU = "Europe/Chisinau"


def test_moldova_law_195_2024_applies_from_23_august_2026() -> None:
    # In force 24 months after publication on 23 August 2024. Aware Saturday 22 August 2026,
    # 23:30 EEST: Law No. 133/2011 had no such duty; Sunday 23 August, 00:30: the new Law.
    before = run("MD", CHISINAU, "2026-08-22T23:30:00+03:00", {"MD": 40}, risk="risk")
    after = run("MD", CHISINAU, "2026-08-23T00:30:00+03:00", {"MD": 40}, risk="risk")
    assert not owed(before, "md-pdp/centre")
    centre = after["md-pdp/centre"]
    # 21:30 UTC Saturday + 72 h = 21:30 UTC Tuesday 25 August 2026 = 00:30 EEST Wednesday 26.
    assert centre.applies and centre.due_at == at("2026-08-26T00:30:00+03:00")
    assert centre.confidence == "medium" and REGIMES.get("md-pdp") is not None


@pytest.mark.parametrize(("risk", "centre", "people"), [
    ("none", False, False),
    ("risk", True, False),
    ("high", True, True),
])
def test_moldova_gdpr_thresholds(risk: str, centre: bool, people: bool) -> None:
    results = run("MD", CHISINAU, "2026-09-10T10:00:00+03:00", {"MD": 40}, risk=risk)
    assert owed(results, "md-pdp/centre") is centre
    assert owed(results, "md-pdp/data-subjects") is people


# ------------------------------------------------------------------ across the eight regimes

EUROPE = ("tr-kvkk", "rs-zzpl", "mk-zzlp", "ge-pdp", "je-dpjl", "gg-dpl", "im-gdpr", "md-pdp")


@pytest.mark.parametrize("regime_id", EUROPE)
def test_each_report_to_an_authority_names_it_and_how_to_file(regime_id: str) -> None:
    regime = REGIMES.get(regime_id)
    assert regime is not None
    reports = [o for o in regime.obligations if o.recipient == "authority"]
    assert len(reports) == 1
    (report,) = reports
    assert report.authority is not None and report.authority.filing
    assert report.authority.website.startswith("https://")
    assert str(report.authority.reviewed) == "2026-12-05"


@pytest.mark.parametrize("regime_id", EUROPE)
def test_nobody_in_the_country_and_no_establishment_there_means_no_duty(regime_id: str) -> None:
    results = run("US", "America/New_York", "2026-06-01T09:00:00-04:00", {"US-NY": 500})
    assert not any(r.applies for ref, r in results.items() if ref.startswith(f"{regime_id}/"))
