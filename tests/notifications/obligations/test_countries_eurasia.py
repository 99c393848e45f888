"""Eurasia: Albania, Bosnia and Herzegovina and Kazakhstan.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine. Periods in hours are elapsed time (the moment of awareness plus
72 x 3600 s); a period of working days ends at the end (23:59:59.999999 local time) of its last
working day. The readings, with their confidence and what was not read, are in each regime's
notes:

* Albania, Law No. 124/2024 "On personal data protection" (Official Gazette No. 9, 17 January
  2025; in force 1 February 2025), read only in summaries and in a controller's breach procedure
  citing "nenet 29 dhe 30, Ligji Nr. 124/2024": the Commissioner is notified "pa vonese dhe jo me
  vone se 72 ore" from the moment the controller becomes aware; the data subject too where the
  risk is high; Art. 30(3): not where the data were unintelligible (encrypted). Low confidence.
* Bosnia and Herzegovina, Zakon o zastiti licnih podataka (Sl. glasnik BiH 12/25), in force
  8 March 2025, applied 210 days later, from 4 October 2025; as DLA Piper summarises it: "the
  controller must notify the Agency within 72 hours. If notification is delayed, the controller
  must explain the reasons for the delay. The processor must inform the controller without
  undue delay"; "The controller must promptly notify the data subject in writing if a personal
  data breach is likely to result in a high risk"; not required where safeguards such as
  encryption were in place.
* Kazakhstan, Law No. 94-V on Personal Data and their Protection as amended by Law No. 44-VIII
  of 11 December 2023, from 1 July 2024, and the Rules approved by Order No. 481 of 9 August
  2024: "v techenie odnogo rabochego dnya c momenta obnaruzheniya narusheniya bezopasnosti
  personalnykh dannykh sobstvennik ili operator uvedomlyayut upolnomochennyi organ" (within one
  working day of detecting the breach of personal data security, the owner or operator notifies
  the authorized body), with the responsible person's contact details, the measures taken and
  the subjects' identifying data. No risk or size threshold.

Not in the catalogue, and why: Montenegro (the Law of 2008, last amended by
77/2024, has no breach duty; the GDPR-model bill is not adopted), Sri Lanka (PDPA No. 9 of 2022
s. 23 leaves the period, threshold and form to rules still in draft, and Act No. 22 of 2025
reset the operation of its Parts to a Minister's order), Azerbaijan and Ukraine (no binding
breach-notification duty in force), Armenia and Panama (the provisions were not read in their
texts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from notifications.drafting.audience import audience
from tests.notifications.obligations.countries import PROCESSOR, REGIMES, at, controller, duty, owed

run = partial(controller, data=["contact", "official_id"])
"""Every obligation, applying or not, for a breach of contact and official-id data known at
`aware_at` by a controller (unless `roles` says otherwise) established in `country`."""


# ------------------------------------------------------------- Albania, Law No. 124/2024

TIRANA = "Europe/Tirane"
AL_AWARE = "2026-12-23T17:00:00+01:00"
"""Wednesday 23 December 2026, 17:00 CET in Tirana."""


def test_albania_the_commissioner_within_72_hours_across_christmas() -> None:
    # Art. 29: "jo me vone se 72 ore": Saturday 26 December 2026, 17:00 CET; Christmas Day (a
    # public holiday) and the Saturday count, as nothing moves a period in hours.
    results = run("AL", TIRANA, AL_AWARE, {"AL": 40}, risk="risk")
    commissioner = results["al-pdp/commissioner"]
    assert commissioner.applies and commissioner.recipient == "authority"
    assert commissioner.due_at == at("2026-12-26T17:00:00+01:00")
    assert commissioner.due_at.weekday() == 5
    assert commissioner.basis is not None
    assert commissioner.basis.citation == (
        "Law No. 124/2024 on personal data protection, Art. 29 (not read in its text)")
    # Read only in summaries: the catalogue says so.
    assert commissioner.confidence == "low"


@pytest.mark.parametrize(("risk", "commissioner", "people"), [
    ("none", False, False),   # GDPR-model Art. 29: not where the breach is unlikely to result in a risk
    ("risk", True, False),    # Art. 30: the data subject only for a high risk
    ("high", True, True),
])
def test_albania_risk_thresholds(risk: str, commissioner: bool, people: bool) -> None:
    results = run("AL", TIRANA, AL_AWARE, {"AL": 40}, risk=risk)
    assert owed(results, "al-pdp/commissioner") is commissioner
    assert owed(results, "al-pdp/data-subjects") is people


def test_albania_the_processor_tells_the_controller_and_encryption_spares_the_people() -> None:
    processor = run("AL", TIRANA, AL_AWARE, {"AL": 40}, risk="none", roles=PROCESSOR)
    controller = processor["al-pdp/controller"]
    assert controller.applies and controller.recipient == "counterparty" and controller.due_at is None
    assert controller.target_at == at("2026-12-24T17:00:00+01:00")  # our own 24-hour target
    assert not owed(processor, "al-pdp/commissioner")
    # Art. 30(3): unintelligible data spare the people, not the Commissioner.
    safe = run("AL", TIRANA, AL_AWARE, {"AL": 40}, encrypted=True, state_of_the_art=True,
               key_compromised=False)
    assert owed(safe, "al-pdp/commissioner") and not owed(safe, "al-pdp/data-subjects")


def test_albania_applies_from_1_february_2025_and_names_the_commissioner() -> None:
    # Published 17 January 2025, in force 15 days later; Law No. 9887/2008 had no breach duty.
    before = run("AL", TIRANA, "2025-01-31T23:30:00+01:00", {"AL": 40})
    after = run("AL", TIRANA, "2025-02-01T00:30:00+01:00", {"AL": 40})
    assert not owed(before, "al-pdp/commissioner") and owed(after, "al-pdp/commissioner")
    block = duty("al-pdp/commissioner").authority
    assert block is not None and block.email == "info@idp.al"
    assert block.address.startswith("Rruga e Kavajes, Ndertesa Nr. 80")
    regime = REGIMES.get("al-pdp")
    assert regime is not None and any("17 January 2027" in note for note in regime.notes)


# ------------------------------------------------ Bosnia and Herzegovina, ZZLP (12/25)

SARAJEVO = "Europe/Sarajevo"
BA_AWARE = "2026-10-23T15:00:00+02:00"
"""Friday 23 October 2026, 15:00 CEST; clocks go back to CET at 03:00 on Sunday 25 October."""


def test_bih_the_agency_within_72_hours_across_the_end_of_summer_time() -> None:
    # 13:00 UTC Friday + 72 h = 13:00 UTC Monday 26 October 2026, which is 14:00 CET.
    results = run("BA", SARAJEVO, BA_AWARE, {"BA": 25}, risk="risk")
    agency = results["ba-zzlp/agency"]
    assert agency.applies and agency.recipient == "authority"
    assert agency.due_at == at("2026-10-26T14:00:00+01:00")
    assert agency.due_at - at(BA_AWARE) == timedelta(hours=72)
    assert agency.due_at.astimezone(UTC) == datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert agency.basis is not None
    assert "notification of a personal data breach to the Agency" in agency.basis.citation


@pytest.mark.parametrize(("risk", "agency", "people"), [
    ("none", False, False),
    ("risk", True, False),   # the data subject only where a high risk is likely
    ("high", True, True),
])
def test_bih_risk_thresholds(risk: str, agency: bool, people: bool) -> None:
    results = run("BA", SARAJEVO, BA_AWARE, {"BA": 25}, risk=risk)
    assert owed(results, "ba-zzlp/agency") is agency
    assert owed(results, "ba-zzlp/data-subjects") is people


def test_bih_the_processor_informs_the_controller_without_undue_delay() -> None:
    results = run("BA", SARAJEVO, BA_AWARE, {"BA": 25}, risk="none", roles=PROCESSOR)
    controller = results["ba-zzlp/controller"]
    assert controller.applies and controller.recipient == "counterparty" and controller.due_at is None
    # 13:00 UTC Friday + 24 h = 13:00 UTC Saturday 24 October, still CEST (15:00).
    assert controller.target_at == at("2026-10-24T15:00:00+02:00")
    assert not owed(results, "ba-zzlp/agency") and not owed(results, "ba-zzlp/data-subjects")


def test_bih_applies_from_4_october_2025() -> None:
    # In force 8 March 2025, applied 210 days later: 23 days of March after the 8th, 30 + 31 +
    # 30 + 31 + 31 + 30 (April to September) = 206, and 4 days of October: 4 October 2025.
    before = run("BA", SARAJEVO, "2025-10-03T23:30:00+02:00", {"BA": 25})
    after = run("BA", SARAJEVO, "2025-10-04T00:30:00+02:00", {"BA": 25})
    assert not owed(before, "ba-zzlp/agency") and owed(after, "ba-zzlp/agency")


def test_bih_the_people_notice_its_exceptions_and_whom_it_protects() -> None:
    people = duty("ba-zzlp/data-subjects")
    assert people.letter is not None
    assert set(people.letter.elements) == {"nature", "measures", "contact", "consequences"}
    assert any("in writing" in note for note in people.notes)
    notice = people.substitute_notice
    assert notice is not None and notice.confidence == "low" and notice.note is not None
    safe = run("BA", SARAJEVO, BA_AWARE, {"BA": 25}, encrypted=True, state_of_the_art=True,
               key_compromised=False)
    assert owed(safe, "ba-zzlp/agency") and not owed(safe, "ba-zzlp/data-subjects")
    assert people.protects is not None
    assert audience(people.protects, established_in="BA", people={"BA": 2, "HR": 3}).everyone
    abroad = audience(people.protects, established_in="HR", people={"BA": 2, "HR": 3})
    assert (abroad.everyone, abroad.count, abroad.not_protected) == (False, 2, 3)


# ------------------------------------------------------ Kazakhstan, Law No. 94-V (2023)

ALMATY = "Asia/Almaty"
"""UTC+5 all year (Kazakhstan's single time zone since 1 March 2024)."""


def test_kazakhstan_one_working_day_from_detection_skips_the_weekend() -> None:
    # Detected Friday 5 June 2026, 16:00: the one working day is Monday 8 June 2026, which ends
    # at 23:59:59.999999 local time (18:59:59.999999 UTC).
    results = run("KZ", ALMATY, "2026-06-05T16:00:00+05:00", {"KZ": 3})
    body = results["kz-pd/authorized-body"]
    assert body.applies and body.recipient == "authority"
    assert body.due_at == at("2026-06-08T23:59:59.999999+05:00")
    assert body.basis is not None and body.basis.trigger == "discovered_at"
    assert "Law No. 44-VIII of 11 December 2023" in body.basis.citation


def test_kazakhstan_independence_day_is_not_a_working_day() -> None:
    # Detected Tuesday 15 December 2026: Wednesday 16 December is Independence Day, a public
    # holiday, so the working day is Thursday 17 December 2026.
    results = run("KZ", ALMATY, "2026-12-15T10:00:00+05:00", {"KZ": 3})
    assert results["kz-pd/authorized-body"].due_at == at("2026-12-17T23:59:59.999999+05:00")


def test_kazakhstan_the_clock_runs_from_detection_not_from_a_later_awareness() -> None:
    # Monitoring detects the breach at 23:50 on Monday 7 September 2026; the team learns of it on
    # Tuesday at 09:00. The period counts from detection: it ends with Tuesday 8 September.
    results = run("KZ", ALMATY, "2026-09-08T09:00:00+05:00", {"KZ": 3},
                  discovered_at="2026-09-07T23:50:00+05:00")
    assert results["kz-pd/authorized-body"].due_at == at("2026-09-08T23:59:59.999999+05:00")


@pytest.mark.parametrize(("risk", "people"), [("none", 1), ("risk", 1), ("high", 500)])
def test_kazakhstan_every_breach_is_notified_whatever_its_risk_or_size(risk: str, people: int) -> None:
    # The Law sets no risk or size threshold: one person and no assessed risk still count.
    results = run("KZ", ALMATY, "2026-06-05T16:00:00+05:00", {"KZ": people}, risk=risk)
    assert owed(results, "kz-pd/authorized-body")


def test_kazakhstan_the_operator_notifies_too() -> None:
    # "sobstvennik i (ili) operator": the operator (a processor) notifies the authorized body
    # itself; there is no separate notice to the owner in this regime.
    results = run("KZ", ALMATY, "2026-06-05T16:00:00+05:00", {"KZ": 3}, roles=PROCESSOR)
    assert owed(results, "kz-pd/authorized-body")
    regime = REGIMES.get("kz-pd")
    assert regime is not None and [o.id for o in regime.obligations] == ["authorized-body"]


def test_kazakhstan_applies_from_1_july_2024() -> None:
    before = run("KZ", ALMATY, "2024-06-30T23:00:00+05:00", {"KZ": 3})
    after = run("KZ", ALMATY, "2024-07-01T00:30:00+05:00", {"KZ": 3})
    assert not owed(before, "kz-pd/authorized-body") and owed(after, "kz-pd/authorized-body")
    # Detected Monday 1 July 2024: due at the end of Tuesday 2 July 2024.
    assert after["kz-pd/authorized-body"].due_at == at("2024-07-02T23:59:59.999999+05:00")


def test_kazakhstan_notice_content() -> None:
    content = " | ".join(duty("kz-pd/authorized-body").content)
    assert "contact details of the person responsible" in content
    assert "measures taken to eliminate the breach" in content
    assert "individual identification number" in content


# ------------------------------------------------------------------ across the three regimes

EURASIA = ("al-pdp", "ba-zzlp", "kz-pd")


@pytest.mark.parametrize("regime_id", EURASIA)
def test_each_report_to_an_authority_names_it_and_how_to_file(regime_id: str) -> None:
    regime = REGIMES.get(regime_id)
    assert regime is not None
    (report,) = [o for o in regime.obligations if o.recipient == "authority"]
    assert report.authority is not None and report.authority.filing
    assert report.authority.website.startswith(("https://", "http://"))
    assert str(report.authority.reviewed) == "2026-12-05"
    assert any(note.startswith("Day counting:") for note in report.notes)


@pytest.mark.parametrize("regime_id", EURASIA)
def test_nobody_in_the_country_and_no_establishment_there_means_no_duty(regime_id: str) -> None:
    results = run("DE", "Europe/Berlin", "2026-06-01T09:00:00+02:00", {"DE": 500})
    assert not any(r.applies for ref, r in results.items() if ref.startswith(f"{regime_id}/"))
