"""The obligations engine on the shipped regimes: which duties arise, when, and why."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from notifications.obligations.engine import ObligationResult, compute_obligations, results_to_json
from notifications.obligations.facts import FactsError, facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue, Regime
from tests.notifications.obligations.samples import facts_data

REGIMES: Catalogue = load_regimes()


def run(explain: bool = False, **changes: Any) -> dict[str, ObligationResult]:
    results = compute_obligations(facts_from_json(facts_data(**changes)), REGIMES, explain=explain)
    return {r.ref: r for r in results}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ------------------------------------------------------------------------- GDPR


def test_gdpr_authority_is_due_72_elapsed_hours_after_awareness_across_dst() -> None:
    result = run()["gdpr/authority"]
    assert result.due_at == at("2026-03-30T11:00:00+02:00")  # 72 h, clocks moved on Sunday
    assert result.target_at == result.due_at
    assert result.trigger is not None and result.trigger.at == at("2026-03-27T09:00:00+00:00")
    assert result.basis is not None
    assert result.basis.citation.startswith("Regulation (EU) 2016/679, Art. 33")
    assert result.rule == {"hours": 72, "without_undue_delay": True}


def test_gdpr_data_subjects_only_for_high_risk_and_without_a_legal_due_time() -> None:
    assert "gdpr/data-subjects" not in run()
    result = run(incident__risk="high")["gdpr/data-subjects"]
    assert result.due_at is None
    assert result.target_at == at("2026-03-30T09:00:00+00:00")


def test_no_risk_means_no_gdpr_notification_and_explain_says_why() -> None:
    results = run(explain=True, incident__risk="none")
    assert results["gdpr/authority"].applies is False
    assert results["gdpr/authority"].why == ("risk none is below risk",)


def test_gdpr_applies_to_a_non_eu_organisation_with_eu_data_subjects() -> None:
    org = {"country": "US", "timezone": "America/New_York"}
    assert run(organisation=org, affected={"IT": 3})["gdpr/authority"].applies
    assert "gdpr/authority" not in run(organisation=org, affected={"US-TX": 3})


# ---------------------------------------------------------------- follow-ups


def test_waiting_obligations_say_what_they_wait_for() -> None:
    results = run(organisation__flags=["nis2_essential"])
    final = results["nis2/final-report"]
    assert final.due_at is None and final.target_at is None
    assert final.trigger is not None
    assert final.trigger.waiting_for == "nis2/notification to be fulfilled (incident.met)"
    early = results["nis2/early-warning"]
    assert early.trigger is not None and early.trigger.waiting_for == "incident.classified_major_at"
    # Until classified, the clock is assumed from awareness (see test_assumed_clocks.py).
    assert early.assumed and early.basis is not None and early.basis.trigger == "aware_at"


def test_nis2_final_report_one_month_after_the_notification_clamps_at_month_end() -> None:
    results = run(
        organisation__flags=["nis2_important"],
        incident__classified_major_at="2026-01-29T08:00:00+01:00",
        incident__met={"nis2/notification": "2026-01-31T16:00:00+01:00"},
    )
    assert results["nis2/early-warning"].due_at == at("2026-01-30T08:00:00+01:00")
    assert results["nis2/notification"].met_at == at("2026-01-31T15:00:00+00:00")
    assert results["nis2/final-report"].due_at == at("2026-02-28T23:59:59.999999+01:00")


def test_follow_up_of_an_obligation_that_does_not_apply_does_not_apply() -> None:
    results = run(explain=True, affected={"US-CA": 900}, incident__data_categories=["contact"])
    assert results["us-ca/attorney-general"].why == (
        "none of the data categories official_id, financial, credentials, health, special",
    )


# ---------------------------------------------------------------------- US


def test_california_attorney_general_runs_15_days_from_the_notices() -> None:
    changes: dict[str, Any] = {
        "organisation": {"country": "US", "timezone": "America/Los_Angeles"},
        "affected": {"US-CA": 501},
        "incident__data_categories": ["official_id"],
        "incident__discovered_at": "2026-05-01T05:00:00+00:00",
    }
    results = run(**changes)
    assert results["us-ca/individuals"].due_at == at("2026-05-30T23:59:59.999999-07:00")
    assert results["us-ca/attorney-general"].due_at is None
    changes["incident__met"] = {"us-ca/individuals": "2026-05-20T10:00:00-07:00"}
    assert run(**changes)["us-ca/attorney-general"].due_at == at("2026-06-04T23:59:59.999999-07:00")
    assert "us-ca/attorney-general" not in run(**{**changes, "affected": {"US-CA": 500}})


def test_state_counts_use_the_residents_of_that_state() -> None:
    results = run(
        explain=True,
        affected={"US-TX": 249, "US-CA": 10_000},
        incident__data_categories=["financial"],
        incident__breach_determined_at="2026-04-01T09:00:00-05:00",
    )
    # 60th day Sun 31 May 2026: extended to Mon 1 June (Tex. Gov't Code 311.014(b)).
    assert results["us-tx/individuals"].due_at == at("2026-06-01T23:59:59.999999-05:00")
    assert results["us-tx/attorney-general"].why == ("249 affected in US-TX, fewer than 250",)


def test_discovery_falls_back_to_awareness_and_says_so() -> None:
    results = run(affected={"US-WA": 600}, incident__data_categories=["credentials"])
    result = results["us-wa/individuals"]
    assert result.trigger is not None and result.trigger.at == at("2026-03-27T09:00:00+00:00")
    assert result.basis is not None
    assert "discovered_at not given: aware_at used as the time of discovery" in result.basis.notes
    # RCW 19.255.010(8): 30 calendar days from Fri 27 March (Pacific) is Sun 26 April;
    # RCW 1.12.040 excludes a last day that is a Sunday: Mon 27 April.
    assert result.due_at == at("2026-04-27T23:59:59.999999-07:00")


def test_hipaa_hhs_deadline_depends_on_the_number_of_people() -> None:
    changes: dict[str, Any] = {
        "organisation": {"country": "US", "timezone": "America/New_York", "flags": ["hipaa_covered_entity"]},
        "incident__discovered_at": "2026-06-15T09:00:00-04:00",
        "incident__data_categories": ["health"],
    }
    small = run(affected={"US-NY": 499}, **changes)
    assert small["hipaa/hhs"].due_at == at("2027-03-01T23:59:59.999999-05:00")
    assert "hipaa/media" not in small
    large = run(affected={"US-NY": 300, "US-NJ": 200}, **changes)
    assert large["hipaa/hhs"].due_at == at("2026-08-14T23:59:59.999999-04:00")
    assert "hipaa/media" not in large  # more than 500 in ONE state is needed
    media = run(affected={"US-NY": 501}, **changes)["hipaa/media"]
    assert media.due_at == at("2026-08-14T23:59:59.999999-04:00")


def test_form_8k_waits_for_materiality_then_counts_business_days_to_the_edgar_cut_off() -> None:
    flags: dict[str, Any] = {"organisation__flags": ["sec_registrant"]}
    waiting = run(**flags)["sec-8k/form-8k"]
    assert waiting.trigger is not None
    assert waiting.trigger.waiting_for == "incident.materiality_determined_at"
    due = run(**flags, incident__materiality_determined_at="2026-07-02T18:00:00+02:00")
    assert due["sec-8k/form-8k"].due_at == at("2026-07-09T17:30:00-04:00")
    assert due["sec-8k/form-8k"].basis is not None
    assert due["sec-8k/form-8k"].basis.timezone == "America/New_York"


# --------------------------------------------------------------------- DORA


def dora(**changes: Any) -> dict[str, ObligationResult]:
    org = {
        "country": "DE",
        "timezone": "Europe/Berlin",
        "flags": ["dora_financial_entity"],
        "entity_type": "payment_institution",
    }
    return run(**{"organisation": org, **changes})


def test_dora_initial_is_capped_24_hours_after_awareness() -> None:
    result = dora(
        incident__aware_at="2026-03-24T10:00:00+01:00",
        incident__classified_major_at="2026-03-25T08:00:00+01:00",
    )["dora/initial"]
    assert result.due_at == at("2026-03-25T10:00:00+01:00")
    assert result.basis is not None
    assert any("capped by the outer limit" in n for n in result.basis.notes)


def test_dora_late_classification_gets_4_hours_from_classification() -> None:
    result = dora(
        incident__aware_at="2026-03-23T10:00:00+01:00",
        incident__classified_major_at="2026-03-25T08:00:00+01:00",
    )["dora/initial"]
    assert result.due_at == at("2026-03-25T12:00:00+01:00")


def test_dora_weekend_relief_and_its_exclusion() -> None:
    changes: dict[str, Any] = {"incident__classified_major_at": "2026-03-27T20:30:00+01:00"}
    relieved = dora(**changes)["dora/initial"]
    assert relieved.due_at == at("2026-03-30T12:00:00+02:00")  # Monday noon
    assert relieved.target_at == at("2026-03-28T00:30:00+01:00")  # the 4 hours themselves
    bank = {
        "country": "DE",
        "timezone": "Europe/Berlin",
        "flags": ["dora_financial_entity"],
        "entity_type": "credit_institution",
    }
    strict = run(organisation=bank, **changes)["dora/initial"]
    assert strict.due_at == at("2026-03-28T00:30:00+01:00")


def test_dora_intermediate_and_final_follow_submissions() -> None:
    results = dora(
        incident__aware_at="2026-04-01T09:00:00+02:00",
        incident__classified_major_at="2026-04-01T10:00:00+02:00",
        incident__met={
            "dora/initial": "2026-04-01T13:00:00+02:00",
            "dora/intermediate": "2026-04-03T11:00:00+02:00",
        },
    )
    # 72 h after Wednesday 13:00 is Saturday 13:00, which is Easter Saturday: relief to
    # Tuesday noon, as Easter Monday is a German public holiday.
    assert results["dora/intermediate"].due_at == at("2026-04-07T12:00:00+02:00")
    # One month after Friday 3 April is Sunday 3 May: relief to Monday noon.
    assert results["dora/final"].due_at == at("2026-05-04T12:00:00+02:00")


def test_dora_applies_only_to_financial_entities_from_january_2025() -> None:
    assert not any(ref.startswith("dora/") for ref in run())
    early = dora(incident__aware_at="2024-12-01T10:00:00+01:00")
    assert not any(ref.startswith("dora/") for ref in early)


# ------------------------------------------------------------- other regimes


def test_lgpd_small_agents_get_double_the_business_days() -> None:
    changes: dict[str, Any] = {
        "affected": {"BR": 20},
        "incident__data_categories": ["financial"],
        "incident__aware_at": "2026-04-17T11:00:00-03:00",
    }
    assert run(**changes)["br-lgpd/anpd"].due_at == at("2026-04-23T23:59:59.999999-03:00")
    small = run(organisation__flags=["lgpd_small_agent"], **changes)["br-lgpd/anpd"]
    assert small.due_at == at("2026-04-28T23:59:59.999999-03:00")
    assert small.basis is not None and any("small processing agent" in n for n in small.basis.notes)


def test_japan_final_report_is_60_days_for_a_wrongful_purpose() -> None:
    changes: dict[str, Any] = {"affected": {"JP": 5}, "incident__aware_at": "2026-04-01T09:00:00+09:00"}
    assert "jp-appi/final" not in run(**changes)  # 5 people, contact data, no attack
    attacked = run(incident__malicious=True, **changes)["jp-appi/final"]
    # Day 60 is Sat 30 May 2026: due Mon 1 June (Act on Holidays of Administrative Organs Art. 2).
    assert attacked.due_at == at("2026-06-01T23:59:59.999999+09:00")
    many = run(**{**changes, "affected": {"JP": 1001}})["jp-appi/final"]
    assert many.due_at == at("2026-04-30T23:59:59.999999+09:00")


def test_india_dpdp_applies_from_may_2027() -> None:
    assert "in-dpdp/board-detailed" not in run(affected={"IN": 3})
    later = run(affected={"IN": 3}, incident__aware_at="2027-06-01T10:00:00+05:30")
    assert later["in-dpdp/board-detailed"].due_at == at("2027-06-04T10:00:00+05:30")
    assert later["in-dpdp/board"].due_at is None


def test_singapore_commission_three_days_after_the_assessment() -> None:
    results = run(affected={"SG": 600}, incident__assessment_completed_at="2026-05-08T17:00:00+08:00")
    assert results["sg-pdpa/commission"].due_at == at("2026-05-11T23:59:59.999999+08:00")
    assert "sg-pdpa/individuals" not in results  # scale alone needs no individual notice


# ------------------------------------------------------------ targets, order


def test_internal_targets_set_by_the_organisation() -> None:
    results = run(
        incident__risk="high",
        organisation__targets={"gdpr/data-subjects": 24, "gdpr/authority": 48},
    )
    aware = at("2026-03-27T09:00:00+00:00")
    assert results["gdpr/data-subjects"].target_at == aware + timedelta(hours=24)
    assert results["gdpr/authority"].target_at == aware + timedelta(hours=48)
    assert results["gdpr/authority"].due_at == aware + timedelta(hours=72)


def test_results_are_ordered_by_due_time_with_non_applying_last() -> None:
    results = compute_obligations(
        facts_from_json(
            facts_data(affected={"DE": 5, "US-NY": 5, "KR": 5}, incident__data_categories=["official_id"])
        ),
        REGIMES,
        explain=True,
    )
    applying = [r for r in results if r.applies]
    assert results[: len(applying)] == applying
    dues = [r.due_at for r in applying if r.due_at is not None]
    assert dues == sorted(dues)
    assert len(results) == sum(len(r.obligations) for r in REGIMES)


# -------------------------------------------------------------------- JSON


def test_json_output_is_plain_data_with_utc_instants() -> None:
    facts = facts_from_json(facts_data(organisation__flags=["sec_registrant"]))
    data = results_to_json(compute_obligations(facts, REGIMES))
    json.dumps(data)
    gdpr = next(item for item in data if item["regime"] == "gdpr")
    assert gdpr["due_at"] == "2026-03-30T09:00:00Z"
    assert gdpr["trigger"] == {"name": "aware_at", "at": "2026-03-27T09:00:00Z", "waiting_for": None}
    assert gdpr["basis"]["timezone"] == "Europe/Berlin"
    assert "why" not in gdpr
    sec = next(item for item in data if item["regime"] == "sec-8k")
    assert sec["due_at"] is None and sec["trigger"]["waiting_for"]
    explained = results_to_json(compute_obligations(facts, REGIMES, explain=True), explain=True)
    assert all("why" in item for item in explained)
    assert any(item["applies"] is False for item in explained)


# ------------------------------------------------------- FACTS and the catalogue


def test_unknown_obligations_in_facts_are_refused() -> None:
    facts = facts_from_json(facts_data(incident__met={"gdpr/authorty": "2026-03-28T10:00:00+01:00"}))
    with pytest.raises(FactsError, match=r"incident\.met\.gdpr/authorty: unknown obligation"):
        compute_obligations(facts, REGIMES)


def test_facts_are_not_mutated() -> None:
    data = facts_data()
    before = copy.deepcopy(data)
    compute_obligations(facts_from_json(data), REGIMES)
    assert data == before


# ------------------------------------------------- rules of the language, on their own


def one_law(*obligations: dict[str, Any]) -> Catalogue:
    """A catalogue of one regime for people in Georgia (the state), with these duties."""
    base = {"recipient": "authority", "recipient_name": "The Attorney General",
            "trigger": "discovered_at", "deadline": {"calendar_days": 45},
            "content": ["what happened"], "citation": "Demo Act s. 1",
            "source": "https://example.org/law#s1"}
    people = {"protects": {"people_in": ["US-GA"], "citation": "Demo Act s. 2",
                           "confidence": "high"},
              "letter": {"elements": {"nature": "Demo Act s. 2"}}}
    return Catalogue((Regime.model_validate({
        "id": "demo", "name": "Demo", "jurisdiction": "US-GA",
        "sources": ["https://example.org/law"], "applies": {"affected_in": ["US-GA"]},
        "confidence": "low", "reviewed": "2026-12-05", "timezone": "America/New_York",
        "obligations": [{**base, **(people if o.get("recipient") == "individuals" else {}), **o}
                        for o in obligations],
    }),))


RESIDENTS = {"id": "individuals", "recipient": "individuals", "recipient_name": "Residents",
             "deadline": {"calendar_days": 30}}
TIED = {"no_later_than": {"met": "demo/individuals",
                          "citation": "Demo Act s. 3: at the same time as the residents' notice"}}


def in_georgia(catalogue: Catalogue, **incident: Any) -> dict[str, ObligationResult]:
    facts = facts_data(organisation={"country": "US", "timezone": "America/New_York"},
                       affected={"US-GA": 50})
    facts["incident"] = {"aware_at": "2026-05-04T09:00:00-04:00", "risk": "high", **incident}
    return {r.ref: r for r in compute_obligations(facts_from_json(facts), catalogue,
                                                  explain=True)}


def test_no_later_than_caps_a_duty_at_the_due_time_of_the_notice_it_may_not_follow() -> None:
    # 45 days from discovery on 4 May 2026 is 18 June; the residents' 30 days end on 3 June,
    # 23:59:59 New York time: the report may not come after their notice, so 3 June holds.
    results = in_georgia(one_law(RESIDENTS, {"id": "attorney-general", **TIED}))
    report = results["demo/attorney-general"]
    assert report.due_at == results["demo/individuals"].due_at
    assert report.due_at is not None and report.due_at.date().isoformat() == "2026-06-04"  # UTC
    assert report.basis is not None and any(
        "no later than demo/individuals" in note and "Demo Act s. 3" in note
        for note in report.basis.notes)


def test_once_the_notice_it_may_not_follow_is_given_the_duty_is_due_then() -> None:
    sent = "2026-05-10T15:00:00-04:00"
    results = in_georgia(one_law(RESIDENTS, {"id": "attorney-general", **TIED}),
                         met={"demo/individuals": sent})
    assert results["demo/attorney-general"].due_at == at(sent)
    # A notice given after the duty's own limit does not move it later.
    late = in_georgia(one_law(RESIDENTS, {"id": "attorney-general", **TIED,
                                          "deadline": {"calendar_days": 3}}),
                      met={"demo/individuals": sent})
    assert late["demo/attorney-general"].due_at == at("2026-05-07T23:59:59.999999-04:00")


def test_no_later_than_gives_a_duty_without_a_legal_time_the_other_notices_time() -> None:
    # "In advance of the disclosure to the customer" (N.J.S.A. 56:8-163(c)(1)): no period of
    # its own; the residents' notice sets the latest time, and its target too.
    police = {"id": "state-police", "deadline": {"without_undue_delay": True, "target_hours": 720},
              **TIED}
    results = in_georgia(one_law(RESIDENTS, police))
    assert results["demo/state-police"].due_at == results["demo/individuals"].due_at
    # Its own target (720 hours, 3 June 09:00) comes before that time and stays.
    assert results["demo/state-police"].target_at == at("2026-06-03T09:00:00-04:00")
    # Where the residents' notice has only a target, so does this duty, and never a later one.
    residents = {**RESIDENTS, "deadline": {"without_undue_delay": True, "target_hours": 240}}
    both = in_georgia(one_law(residents, police))
    assert both["demo/state-police"].due_at is None
    assert both["demo/state-police"].target_at == at("2026-05-14T09:00:00-04:00")


def test_no_later_than_a_notice_that_is_not_owed_sets_no_limit() -> None:
    residents = {**RESIDENTS, "when": {"min_affected": 1000}}
    results = in_georgia(one_law(residents, {"id": "attorney-general", **TIED}))
    assert not results["demo/individuals"].applies
    report = results["demo/attorney-general"]
    assert report.due_at == at("2026-06-18T23:59:59.999999-04:00")
    assert report.basis is not None and any("does not apply: no such limit" in note
                                            for note in report.basis.notes)


def test_consumer_reporting_agencies_are_a_recipient_of_their_own() -> None:
    # Ala. Code 8-38-7: more than 1,000 individuals notified at a single time: notify "without
    # unreasonable delay, all consumer reporting agencies that compile and maintain files on
    # consumers on a nationwide basis".
    agencies = {"id": "consumer-reporting-agencies", "recipient": "consumer_reporting_agencies",
                "recipient_name": "The nationwide consumer reporting agencies",
                "deadline": {"without_undue_delay": True, "target_hours": 720},
                "when": {"min_affected": 1001, "count_in": ["US-GA"]}}
    results = in_georgia(one_law(RESIDENTS, agencies))
    assert not results["demo/consumer-reporting-agencies"].applies
    assert results["demo/consumer-reporting-agencies"].recipient == "consumer_reporting_agencies"
    with pytest.raises(ValueError, match="authority is only for reports"):
        one_law({**agencies, "authority": {
            "name": "Equifax", "address": "Atlanta", "website": "https://www.equifax.com",
            "filing": "letter", "source": "https://www.equifax.com", "reviewed": "2026-12-05"}})


def law_enforcement(effect: str) -> Catalogue:
    rule: dict[str, Any] = {"citation": "Demo Act s. 4", "confidence": "high", "effect": effect,
                            "note": "delay", "after_end": {"business_days": 7, "calendar": "US-ME"}}
    return one_law({**RESIDENTS, "law_enforcement_delay": rule})


def test_a_delay_that_replaces_the_clock_counts_only_from_its_end_even_when_sooner() -> None:
    # 10 M.R.S. 1348(3): delayed by law enforcement, notice is due "no more than 7 business days
    # after" the agency says it no longer compromises the investigation, in place of 30 days.
    # The agency ends the delay on Tuesday 5 May 2026: 7 business days on Maine's calendar are
    # 6, 7, 8, 11, 12, 13 and 14 May, so Thursday 14 May ends it, though the original 30 days
    # (3 June) were later.
    delay = {"agency": "Maine State Police", "requested_at": "2026-05-04T12:00:00-04:00",
             "written": True, "ended_at": "2026-05-05T10:00:00-04:00"}
    replaced = in_georgia(law_enforcement("replace"), law_enforcement_delay=delay)
    assert replaced["demo/individuals"].due_at == at("2026-05-14T23:59:59.999999-04:00")
    # The same rule as a fresh clock after the end keeps the later original time.
    after = in_georgia(law_enforcement("after_end"), law_enforcement_delay=delay)
    assert after["demo/individuals"].due_at == at("2026-06-03T23:59:59.999999-04:00")


def test_a_replacing_delay_needs_its_clock() -> None:
    rule = {"citation": "Demo Act s. 4", "confidence": "high", "effect": "replace", "note": "d"}
    with pytest.raises(ValueError, match="need the deadline rule after_end"):
        one_law({**RESIDENTS, "law_enforcement_delay": rule})


def test_a_duty_that_arises_only_with_another_follows_its_conditions_and_harbours() -> None:
    # Ala. Code 8-38-7: "If a covered entity discovers circumstances requiring notice under
    # Section 8-38-5": where the residents' notice is not owed (a safe harbour holds), neither
    # is this one; where it is, this one keeps its own clock.
    harbour = {"when": {"encrypted": True, "state_of_the_art": True, "key_compromised": False},
               "citation": "Demo Act s. 1", "confidence": "high", "note": "encrypted"}
    agencies = {"id": "agencies", "recipient": "consumer_reporting_agencies",
                "recipient_name": "The agencies", "arises_with": "demo/individuals",
                "deadline": {"without_undue_delay": True, "target_hours": 720}}
    law = one_law({**RESIDENTS, "safe_harbours": [harbour]}, agencies)
    owed = in_georgia(law)["demo/agencies"]
    assert owed.applies and "arises with demo/individuals" in owed.why
    assert owed.target_at == at("2026-06-03T09:00:00-04:00")
    safe = in_georgia(law, encrypted=True, state_of_the_art=True)["demo/agencies"]
    assert not safe.applies
    assert safe.why == ("arises only with demo/individuals, which does not apply",)
