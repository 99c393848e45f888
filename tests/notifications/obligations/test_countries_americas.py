"""Breach-notification laws of the Americas outside the United States: each duty as its text
words it.

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine:

* Quebec, CQLR c. P-39.1 s. 3.5 par. 2: "If the incident presents a risk of serious injury, the
  person carrying on an enterprise must promptly notify the Commission. It must also notify any
  person whose personal information is concerned by the incident"; par. 3: a person "need not be
  notified so long as doing so could hamper an investigation"; Regulation respecting
  confidentiality incidents (A-2.1, r. 3.1) s. 5: the notice to the persons contains (1) the
  information covered, (2) the circumstances, (3) the date or period, (4) the measures taken,
  (5) the measures suggested to the person, (6) contact information.
* Mexico, LFPDPPP (DOF 20 March 2025) art. 19 (art. 20 of the 2010 law): breaches "que afecten de
  forma significativa los derechos patrimoniales o morales de las personas titulares le seran
  informadas de forma inmediata por el responsable"; Reglamento art. 65: nature, data
  compromised, recommendations, corrective actions, where to learn more.
* Colombia, Ley 1581 de 2012 art. 17 lit. n) and 18 lit. k): inform the SIC "cuando se presenten
  violaciones a los codigos de seguridad y existan riesgos"; SIC Circular Unica, Titulo V:
  "dentro de los quince (15) dias habiles siguientes al momento en que se detecten".
* Peru, Reglamento de la Ley 29733 (DS 016-2024-JUS): the Autoridad within 48 hours of detection
  (read in secondary sources only; the regime is marked low).
* Chile, Ley 19.628 art. 14 sexies (Ley 21.719, in force 1 December 2026): report to the Agencia
  "por los medios mas expeditos posibles y sin dilaciones indebidas ... cuando exista un riesgo
  razonable"; the data subjects when the breach concerns sensitive data, data of children under
  fourteen or data on economic, financial, banking or commercial obligations.
* Ecuador, LOPDP art. 43: the Authority and ARCOTEL "a mas tardar en el termino de cinco (5)
  dias", unless a risk is improbable; the processor tells the controller "dentro del termino de
  dos (2) dias"; art. 46: the data subject "dentro del termino de tres dias" when the breach
  carries a risk. A termino counts business days from the next business day (Codigo Organico
  Administrativo arts. 158-159).
* Uruguay, Decreto 64/020 art. 3: minimise the impact "dentro de las primeras 24 horas"; art. 4:
  the URCDP "en un plazo maximo de 72 horas de conocida la vulneracion"; the encargado tells the
  responsable "de inmediato"; the data subjects "que hayan sufrido una afectacion significativa".
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult
from tests.notifications.obligations.countries import REGIMES, duty, established, owed

BOGOTA = ZoneInfo("America/Bogota")
GUAYAQUIL = ZoneInfo("America/Guayaquil")


run = partial(established, data=["contact", "identity", "official_id", "financial", "credentials",
                                "health", "special"])
"""Every obligation the facts give rise to, by reference: a breach of every data category
(unless `data_categories` says otherwise) known at `aware_at`."""


def end_of(day: str, tz: ZoneInfo) -> datetime:
    """The last instant of local `day` (23:59:59.999999), as the engine represents it."""
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


# ------------------------------------------------------------------------------- Quebec


def quebec(affected: dict[str, int], **changes: Any) -> dict[str, ObligationResult]:
    """An enterprise in Canada aware on Monday 4 May 2026, 09:00 Eastern time."""
    return run(affected, country="CA", timezone="America/Toronto",
               aware_at="2026-05-04T09:00:00-04:00", **changes)


def test_quebec_3_5_a_risk_of_serious_injury_goes_promptly_to_the_cai_and_the_persons() -> None:
    # P-39.1 s. 3.5 par. 2: "promptly" - no number of hours or days, so no legal due time.
    results = quebec({"CA-QC": 40})
    for ref in ("ca-qc/commission", "ca-qc/persons"):
        assert owed(results, ref), ref
        assert results[ref].due_at is None, ref
    assert results["ca-qc/commission"].recipient == "authority"
    assert results["ca-qc/persons"].recipient == "individuals"


@pytest.mark.parametrize(("risk", "notified"), [("risk", False), ("high", True)])
def test_quebec_only_a_risk_of_serious_injury_is_notified(risk: str, notified: bool) -> None:
    # s. 3.5 par. 2: "If the incident presents a risk of serious injury" (mapped to risk: high);
    # any other incident is only entered in the register (s. 3.8).
    results = quebec({"CA-QC": 40}, risk=risk)
    assert owed(results, "ca-qc/commission") is notified
    assert owed(results, "ca-qc/persons") is notified


def test_quebec_law_does_not_reach_an_incident_concerning_only_ontarians() -> None:
    # The Act binds enterprises in Quebec; PIPEDA (s. 10.1) still reaches every Canadian.
    results = quebec({"CA-ON": 40})
    assert not owed(results, "ca-qc/commission")
    assert owed(results, "ca-pipeda/commissioner")


def test_quebec_and_pipeda_are_both_listed_for_a_quebec_resident() -> None:
    # A Quebec resident lies in Canada too: both laws are shown, and which governs (the Quebec
    # Exemption Order, SOR/2003-374, for activity within Quebec) is judged by hand.
    results = quebec({"CA-QC": 40})
    assert owed(results, "ca-qc/commission") and owed(results, "ca-pipeda/commissioner")


def test_quebec_notice_goes_to_quebec_residents_under_our_reading() -> None:
    # s. 3.5 par. 2: "any person whose personal information is concerned"; the catalogue cannot
    # record a province of establishment, so it addresses the persons living in Quebec.
    rule = duty("ca-qc/persons").protects
    assert rule is not None and rule.confidence == "low"
    addressed = audience(rule, established_in="CA", people={"CA-QC": 7, "CA-ON": 3})
    assert addressed.jurisdictions == ("CA-QC",) and addressed.count == 7


def test_quebec_regulation_s_5_content_and_the_investigation_hold() -> None:
    obligation = duty("ca-qc/persons")
    assert obligation.letter is not None
    assert set(obligation.letter.elements) == {
        "data_involved", "nature", "dates", "measures", "advice", "contact"}
    assert obligation.letter.elements["advice"].citation.endswith("s. 5(5)")
    # s. 3.5 par. 3: held back "so long as doing so could hamper an investigation".
    delay = obligation.law_enforcement_delay
    assert delay is not None and delay.effect == "until_end"
    commission = duty("ca-qc/commission")
    assert commission.authority is not None and commission.law_enforcement_delay is None
    assert commission.authority.website == "https://www.cai.gouv.qc.ca"


def test_quebec_a_mandatary_owes_no_notice_of_its_own() -> None:
    # s. 3.5 binds the enterprise holding the information; s. 1: "whether the enterprise keeps the
    # information itself or through the agency of a third person".
    results = quebec({"CA-QC": 40}, roles=["processor"])
    assert not owed(results, "ca-qc/commission") and not owed(results, "ca-qc/persons")


def test_quebec_duties_began_on_22_september_2022() -> None:
    # 2021, c. 25, s. 103 brought ss. 3.5-3.8 into force on 22 September 2022.
    before = run({"CA-QC": 4}, country="CA", timezone="America/Toronto",
                 aware_at="2022-09-21T12:00:00-04:00")
    assert not owed(before, "ca-qc/commission")
    after = run({"CA-QC": 4}, country="CA", timezone="America/Toronto",
                aware_at="2022-09-22T12:00:00-04:00")
    assert owed(after, "ca-qc/commission")


# ------------------------------------------------------------------------------- Mexico


def mexico(aware_at: str = "2026-05-04T09:00:00-06:00", **changes: Any) -> dict[str, ObligationResult]:
    """A responsable in Mexico that confirmed the breach at `aware_at` (Mexico City time)."""
    return run({"MX": 300}, country="MX", timezone="America/Mexico_City", aware_at=aware_at,
               breach_determined_at=aware_at, **changes)


@pytest.mark.parametrize(("risk", "informed"), [("risk", False), ("high", True)])
def test_mexico_art_19_only_a_significant_effect_on_rights_is_told(risk: str, informed: bool) -> None:
    # LFPDPPP (2025) art. 19: "que afecten de forma significativa los derechos patrimoniales o
    # morales" (mapped to risk: high); "de forma inmediata": no legal due time.
    result = mexico(risk=risk)["mx-lfpdppp/data-subjects"]
    assert result.applies is informed
    if informed:
        assert result.due_at is None and result.recipient == "individuals"


def test_mexico_has_no_authority_to_tell() -> None:
    # Art. 19 names the titular only; no report to the Secretaria Anticorrupcion y Buen Gobierno.
    regime = REGIMES.get("mx-lfpdppp")
    assert regime is not None
    assert [o.recipient for o in regime.obligations] == ["individuals"]


@pytest.mark.parametrize(("aware_at", "version"), [
    # The 2010 law (art. 20) governed breaches until 20 March 2025; the 2025 law (art. 19) took
    # effect on 21 March 2025, the day after its publication.
    ("2025-03-20T12:00:00-06:00", "LFPDPPP (DOF 5 July 2010) art. 20"),
    ("2025-03-21T12:00:00-06:00", "LFPDPPP (DOF 20 March 2025) art. 19"),
])
def test_mexico_the_law_in_force_when_the_breach_was_confirmed(aware_at: str, version: str) -> None:
    assert mexico(aware_at)["mx-lfpdppp/data-subjects"].version == version


def test_mexico_reglamento_art_65_content_and_the_processor() -> None:
    letter = duty("mx-lfpdppp/data-subjects").letter
    assert letter is not None
    assert set(letter.elements) == {"nature", "data_involved", "advice", "measures", "contact"}
    # Art. 19: "por el responsable": an encargado owes nothing under it.
    assert not mexico(roles=["processor"])["mx-lfpdppp/data-subjects"].applies


# ----------------------------------------------------------------------------- Colombia


def colombia(**changes: Any) -> dict[str, ObligationResult]:
    """Detected and put in the hands of the data-protection area on Monday 2 March 2026, 09:00."""
    return run({"CO": 1500}, country="CO", timezone="America/Bogota",
               aware_at="2026-03-02T09:00:00-05:00", **({"risk": "risk"} | changes))


def test_colombia_sic_within_15_business_days_skipping_the_moved_san_jose_holiday() -> None:
    # Circular Unica: 15 dias habiles "siguientes": 2 March excluded. Business days: 3, 4, 5, 6,
    # 9, 10, 11, 12, 13, 16, 17, 18, 19, 20 March (14), then Monday 23 March is San Jose, moved
    # from Thursday 19 March by Ley 51 de 1983, so the 15th is Tuesday 24 March 2026.
    result = colombia()["co-habeas-data/sic"]
    assert result.applies and result.recipient == "authority"
    assert result.due_at == end_of("2026-03-24", BOGOTA)


@pytest.mark.parametrize(("risk", "reported"), [("none", False), ("risk", True)])
def test_colombia_reports_violations_that_put_the_information_at_risk(risk: str,
                                                                      reported: bool) -> None:
    # Art. 17 lit. n): "cuando se presenten violaciones a los codigos de seguridad y existan
    # riesgos en la administracion de la informacion de los Titulares".
    assert owed(colombia(risk=risk), "co-habeas-data/sic") is reported


def test_colombia_the_encargado_reports_to_the_sic_itself() -> None:
    # Art. 18 lit. k): the Encargado too must inform the SIC; the Circular gives it the same term.
    result = colombia(roles=["processor"])["co-habeas-data/sic"]
    assert result.applies and result.due_at == end_of("2026-03-24", BOGOTA)


def test_colombia_owes_no_notice_to_data_subjects() -> None:
    # Ley 1581 asks for no notice to the Titulares; the SIC only recommends one.
    regime = REGIMES.get("co-habeas-data")
    assert regime is not None
    assert [o.recipient for o in regime.obligations] == ["authority"]
    assert regime.obligations[0].authority is not None


# ------------------------------------------------------------------------------- Peru


def test_peru_authority_within_48_elapsed_hours_across_the_national_holidays() -> None:
    # 48 hours from detection at 10:00 on Monday 27 July 2026: 10:00 on Wednesday 29 July 2026
    # (Lima, UTC-5), though 28 and 29 July are national holidays: hours are elapsed time.
    results = run({"PE": 50}, country="PE", timezone="America/Lima",
                  aware_at="2026-07-27T10:00:00-05:00", risk="none")
    result = results["pe-lpdp/authority"]
    assert result.applies  # no risk threshold is reported for the Autoridad
    assert result.due_at == datetime.fromisoformat("2026-07-29T10:00:00-05:00")
    assert not owed(results, "pe-lpdp/data-subjects")  # no effect on the data subjects


def test_peru_reglamento_applies_from_30_march_2025_and_is_marked_low() -> None:
    before = run({"PE": 5}, country="PE", timezone="America/Lima",
                 aware_at="2025-03-29T10:00:00-05:00")
    assert not owed(before, "pe-lpdp/authority")
    after = run({"PE": 5}, country="PE", timezone="America/Lima",
                aware_at="2025-03-30T10:00:00-05:00")
    assert owed(after, "pe-lpdp/authority") and owed(after, "pe-lpdp/data-subjects")
    regime = REGIMES.get("pe-lpdp")
    assert regime is not None and regime.confidence == "low"


# ------------------------------------------------------------------------------- Chile


def chile(aware_at: str = "2026-12-02T10:00:00-03:00", **changes: Any) -> dict[str, ObligationResult]:
    return run({"CL": 800}, country="CL", timezone="America/Santiago", aware_at=aware_at,
               **changes)


def test_chile_14_sexies_reports_to_the_agency_without_undue_delay() -> None:
    # "Por los medios mas expeditos posibles y sin dilaciones indebidas": no fixed time.
    result = chile(risk="risk")["cl-lpdp/agency"]
    assert result.applies and result.due_at is None and result.recipient == "authority"


@pytest.mark.parametrize(("risk", "reported"), [("none", False), ("risk", True)])
def test_chile_only_a_reasonable_risk_is_reported(risk: str, reported: bool) -> None:
    # "Cuando exista un riesgo razonable para los derechos y libertades de los titulares".
    assert owed(chile(risk=risk), "cl-lpdp/agency") is reported


@pytest.mark.parametrize(("data", "told"), [
    (["contact", "identity", "credentials"], False),  # none of the three kinds of data
    (["contact", "financial"], True),                 # economic or financial obligations
    (["health"], True),                               # sensitive data
    (["children"], True),                             # children under fourteen
])
def test_chile_data_subjects_are_told_for_three_kinds_of_data(data: list[str], told: bool) -> None:
    result = chile(risk="risk", data_categories=data)["cl-lpdp/data-subjects"]
    assert result.applies is told


def test_chile_ley_21719_takes_effect_on_1_december_2026() -> None:
    # First day of the 24th month after publication on 13 December 2024.
    assert not owed(chile("2026-11-30T10:00:00-03:00"), "cl-lpdp/agency")
    assert owed(chile("2026-12-01T10:00:00-03:00"), "cl-lpdp/agency")


# ------------------------------------------------------------------------------ Ecuador


def ecuador(**changes: Any) -> dict[str, ObligationResult]:
    """A controller in Ecuador aware on Monday 9 February 2026, 09:00 (Guayaquil, UTC-5)."""
    return run({"EC": 200}, country="EC", timezone="America/Guayaquil",
               aware_at="2026-02-09T09:00:00-05:00", **({"risk": "risk"} | changes))


def test_ecuador_art_43_five_business_days_skipping_carnival() -> None:
    # Termino of 5 days from the next business day: Tue 10, Wed 11, Thu 12, Fri 13 February, then
    # Carnival Monday 16 and Tuesday 17 are holidays, so the 5th is Wednesday 18 February 2026.
    results = ecuador()
    for ref in ("ec-lopdp/authority", "ec-lopdp/arcotel"):
        assert owed(results, ref), ref
        assert results[ref].due_at == end_of("2026-02-18", GUAYAQUIL), ref


def test_ecuador_art_46_data_subjects_within_three_business_days() -> None:
    # "Dentro del termino de tres dias": Tue 10, Wed 11, Thu 12 February 2026.
    result = ecuador()["ec-lopdp/data-subjects"]
    assert result.applies and result.due_at == end_of("2026-02-12", GUAYAQUIL)


@pytest.mark.parametrize(("risk", "notified"), [("none", False), ("risk", True)])
def test_ecuador_no_notice_when_a_risk_is_improbable(risk: str, notified: bool) -> None:
    # Art. 43: "a menos que sea improbable que dicha violacion ... constituya un riesgo";
    # art. 46: "cuando conlleve un riesgo a sus derechos fundamentales y libertades individuales".
    results = ecuador(risk=risk)
    assert owed(results, "ec-lopdp/authority") is notified
    assert owed(results, "ec-lopdp/data-subjects") is notified


def test_ecuador_the_processor_tells_the_controller_within_two_business_days() -> None:
    # Art. 43: "el encargado ... a mas tardar dentro del termino de dos (2) dias": Tue 10 and
    # Wed 11 February 2026; any breach, whatever the risk, and nothing to the Authority itself.
    results = ecuador(roles=["processor"], risk="none")
    assert owed(results, "ec-lopdp/controller")
    assert results["ec-lopdp/controller"].due_at == end_of("2026-02-11", GUAYAQUIL)
    assert not owed(results, "ec-lopdp/authority") and not owed(results, "ec-lopdp/data-subjects")


def test_ecuador_disproportionate_effort_allows_a_public_communication() -> None:
    notice = duty("ec-lopdp/data-subjects").substitute_notice
    assert notice is not None and notice.citation == "LOPDP art. 46 num. 3"
    assert "disproportionate effort" in notice.conditions[0]


# ------------------------------------------------------------------------------ Uruguay


def uruguay(**changes: Any) -> dict[str, ObligationResult]:
    """Known on Friday 6 March 2026 at 22:30, Montevideo (UTC-3, no daylight time)."""
    return run({"UY": 120}, country="UY", timezone="America/Montevideo",
               aware_at="2026-03-06T22:30:00-03:00", **changes)


def test_uruguay_urcdp_72_hours_and_containment_24_hours() -> None:
    # Decreto 64/020 art. 4: "un plazo maximo de 72 horas de conocida la vulneracion": Monday
    # 9 March 2026 at 22:30 (UTC-3); art. 3: minimisation procedures "dentro de las primeras 24
    # horas": Saturday 7 March at 22:30. Weekends count: hours are elapsed time.
    results = uruguay()
    assert results["uy-lpdp/urcdp"].due_at == datetime.fromisoformat("2026-03-09T22:30:00-03:00")
    assert results["uy-lpdp/containment"].due_at == datetime.fromisoformat(
        "2026-03-07T22:30:00-03:00")
    assert results["uy-lpdp/urcdp"].recipient == "authority"
    assert results["uy-lpdp/final-report"].applies and results["uy-lpdp/final-report"].phase == "final"


@pytest.mark.parametrize(("risk", "told"), [("risk", False), ("high", True)])
def test_uruguay_every_breach_to_the_urcdp_the_people_only_if_significantly_affected(
        risk: str, told: bool) -> None:
    # Art. 4 par. 1: "alguna vulneracion de seguridad que incida en la proteccion de datos" (no
    # threshold); par. 4: "los titulares de los datos que hayan sufrido una afectacion
    # significativa en sus derechos" (mapped to risk: high).
    results = uruguay(risk=risk)
    assert owed(results, "uy-lpdp/urcdp")
    assert owed(results, "uy-lpdp/data-subjects") is told


def test_uruguay_the_encargado_tells_the_responsable_at_once() -> None:
    # Art. 4 par. 3: "este la comunicara de inmediato al responsable"; art. 3 binds it too.
    results = uruguay(roles=["processor"])
    assert owed(results, "uy-lpdp/controller") and results["uy-lpdp/controller"].due_at is None
    assert owed(results, "uy-lpdp/containment")
    assert not owed(results, "uy-lpdp/urcdp") and not owed(results, "uy-lpdp/data-subjects")


def test_uruguay_people_reached_by_art_37() -> None:
    # Ley 19.670 art. 37: a responsable established in Uruguay is bound whoever the people are;
    # one established elsewhere for its offer to the inhabitants of the Republic.
    rule = duty("uy-lpdp/data-subjects").protects
    assert rule is not None
    assert audience(rule, established_in="UY", people={"UY": 2, "AR": 3}).count == 5
    assert audience(rule, established_in="AR", people={"UY": 2, "AR": 3}).count == 2


def test_uruguay_and_colombia_name_their_authorities() -> None:
    for ref in ("uy-lpdp/urcdp", "uy-lpdp/final-report", "co-habeas-data/sic", "ca-qc/commission"):
        authority = duty(ref).authority
        assert authority is not None, ref
        assert authority.source.startswith("https://") and authority.filing, ref
