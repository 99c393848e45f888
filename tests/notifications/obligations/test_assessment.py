"""The EDPB-aligned recommendation on the ENISA score, on the sources' own examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from incident.kernel.vocabulary import DataCategory
from notifications.obligations.assessment import Assessment, Recommendation, assess, assess_raw
from notifications.obligations.assessment_input import (
    AssessmentInput,
    Availability,
    Confidentiality,
    Encryption,
    Exfiltration,
    Identifiability,
    Integrity,
    InvalidAssessmentInput,
    parse_assessment_input,
)
from notifications.obligations.enisa import Severity, severity_for
from tests.notifications.obligations.samples import SAFE_KEY, facts

DOC = Recommendation.DOCUMENT
SA = Recommendation.NOTIFY_AUTHORITY
BOTH = Recommendation.NOTIFY_AUTHORITY_AND_SUBJECTS


def rank(rec: Recommendation) -> int:
    return list(Recommendation).index(rec)


# --- the recommendation on the band boundaries ------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "score", "severity", "recommendation"),
    [
        pytest.param(
            {"data_categories": ["identity"], "confidentiality": "known_recipients", "malicious": True},
            1.75,
            Severity.LOW,
            DOC,
            id="1.75 low",
        ),
        pytest.param(
            {
                "data_categories": ["financial"],
                "context": {"insight": "partial"},
                "confidentiality": "at_risk",
            },
            2.0,
            Severity.MEDIUM,
            SA,
            id="2.0 medium",
        ),
        pytest.param(
            {
                "data_categories": ["financial"],
                "identifiability": "significant",
                "confidentiality": "unknown_recipients",
            },
            2.75,
            Severity.MEDIUM,
            SA,
            id="2.75 medium",
        ),
        pytest.param(
            {"data_categories": ["financial"], "confidentiality": "at_risk"},
            3.0,
            Severity.HIGH,
            BOTH,
            id="3.0 high",
        ),
        pytest.param(
            {
                "data_categories": ["health"],
                "identifiability": "significant",
                "confidentiality": "unknown_recipients",
                "availability": "temporary",
            },
            3.75,
            Severity.HIGH,
            BOTH,
            id="3.75 high",
        ),
        pytest.param(
            {"data_categories": ["health"], "confidentiality": "at_risk"},
            4.0,
            Severity.VERY_HIGH,
            BOTH,
            id="4.0 very high",
        ),
    ],
)
def test_scores_on_the_band_boundaries(
    overrides: dict[str, Any], score: float, severity: Severity, recommendation: Recommendation
) -> None:
    result = assess_raw(facts(**overrides))
    assert (result.score, result.severity) == (score, severity)
    assert result.band_recommendation is recommendation
    assert result.recommendation is recommendation


# --- the EDPB's worked examples ---------------------------------------------------------

EDPB_CASES = [
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            subjects=40,
            confidentiality="at_risk",
            integrity="altered_no_misuse",
            availability="recoverable",
            malicious=True,
            exfiltration="ruled_out",
            encrypted=SAFE_KEY,
        ),
        DOC,
        id="EDPB 01/2021 case 01: ransomware with proper backup and without exfiltration -> document",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            subjects=40,
            confidentiality="at_risk",
            integrity="altered_no_misuse",
            availability="temporary",
            malicious=True,
            exfiltration="ruled_out",
        ),
        SA,
        id="EDPB 01/2021 case 02: ransomware without proper backup (5 days from paper) -> notify_authority",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "health"],
            subjects=3000,
            confidentiality="at_risk",
            integrity="altered_no_misuse",
            availability="temporary",
            malicious=True,
            exfiltration="ruled_out",
        ),
        BOTH,
        id="EDPB 01/2021 case 03: ransomware with backup, no exfiltration, in a hospital "
        "-> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact", "official_id", "financial"],
            subjects=5000,
            confidentiality="unknown_recipients",
            integrity="altered_no_misuse",
            availability="permanent",
            malicious=True,
            exfiltration="confirmed",
        ),
        BOTH,
        id="EDPB 01/2021 case 04: ransomware without backup and with exfiltration "
        "-> notify_authority_and_subjects",
    ),
    # CVs give education and work history: ENISA's +1 for profiling simple data.
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            context={"profiling": True},
            subjects=213,
            confidentiality="unknown_recipients",
            malicious=True,
            exfiltration="suspected",
        ),
        BOTH,
        id="EDPB 01/2021 case 05: exfiltration of job application data from a website "
        "-> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(
            data_categories=["credentials"],
            subjects=1200,
            identifiability="limited",
            confidentiality="unknown_recipients",
            malicious=True,
            exfiltration="confirmed",
            encrypted=SAFE_KEY,
        ),
        DOC,
        id="EDPB 01/2021 case 06: exfiltration of salted, state-of-the-art password hashes -> document",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "official_id", "credentials", "financial"],
            subjects=100_000,
            confidentiality="unknown_recipients",
            malicious=True,
            exfiltration="confirmed",
        ),
        BOTH,
        id="EDPB 01/2021 case 07: credential stuffing attack on a banking website "
        "-> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            subjects=500,
            confidentiality="known_recipients",
            malicious=True,
            exfiltration="confirmed",
        ),
        SA,
        id="EDPB 01/2021 case 08: exfiltration of business data by an employee -> notify_authority",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact", "financial"],
            subjects=24,
            confidentiality="known_recipients",
            recipient_trusted=True,
        ),
        DOC,
        id="EDPB 01/2021 case 09: accidental transmission to a trusted third party -> document",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            subjects=50,
            confidentiality="at_risk",
            availability="recoverable",
            malicious=True,
            encrypted=SAFE_KEY,
        ),
        DOC,
        id="EDPB 01/2021 case 10: stolen devices storing encrypted personal data -> document",
    ),
    # An unprotected stolen notebook: readable by whoever holds it.
    pytest.param(
        dict(
            data_categories=["identity", "contact"],
            subjects=100_000,
            confidentiality="unknown_recipients",
            availability="recoverable",
            malicious=True,
        ),
        BOTH,
        id="EDPB 01/2021 case 11: stolen device storing non-encrypted personal data "
        "-> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "health"],
            subjects=100,
            vulnerable_subjects=True,
            confidentiality="unknown_recipients",
            availability="permanent",
            malicious=True,
        ),
        BOTH,
        id="EDPB 01/2021 case 12: stolen paper files with sensitive data -> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(data_categories=["identity", "contact"], subjects=2, confidentiality="known_recipients"),
        DOC,
        id="EDPB 01/2021 case 13: postal mail mistake (two packing bills swapped) -> document",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact", "official_id"],
            subjects=60_000,
            confidentiality="known_recipients",
        ),
        BOTH,
        id="EDPB 01/2021 case 14: highly confidential data (social security numbers) sent by "
        "mail by mistake -> notify_authority_and_subjects",
    ),
    # Two participants' lactose intolerance: health data that says almost nothing.
    pytest.param(
        dict(
            data_categories=["identity", "contact", "health"],
            context={"insight": "negligible"},
            subjects=15,
            confidentiality="known_recipients",
        ),
        DOC,
        id="EDPB 01/2021 case 15: personal data sent by mail by mistake -> document",
    ),
    # Date of birth, unmasked registration number, mileage and insurance class.
    pytest.param(
        dict(
            data_categories=["identity", "contact", "behavioural"],
            subjects=1,
            confidentiality="known_recipients",
        ),
        SA,
        id="EDPB 01/2021 case 16: postal mail mistake (another policyholder's letter) -> notify_authority",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact", "official_id", "financial"],
            subjects=1,
            confidentiality="unknown_recipients",
            integrity="recoverable",
            malicious=True,
            exfiltration="confirmed",
        ),
        BOTH,
        id="EDPB 01/2021 case 17: identity theft (billing e-mail changed by an impostor) "
        "-> notify_authority_and_subjects",
    ),
    pytest.param(
        dict(
            data_categories=["identity", "contact", "financial"],
            subjects=200,
            confidentiality="unknown_recipients",
            integrity="recoverable",
            malicious=True,
            exfiltration="confirmed",
        ),
        BOTH,
        id="EDPB 01/2021 case 18: e-mail exfiltration with forwarding rules -> notify_authority_and_subjects",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), EDPB_CASES)
def test_edpb_examples(overrides: dict[str, Any], expected: Recommendation) -> None:
    result = assess_raw(facts(**overrides))
    assert result.recommendation is expected, result.reasons


def test_the_band_alone_would_get_five_edpb_cases_wrong() -> None:
    """Why the recommendation is not the band: the EDPB's factors move it both ways."""
    moved = {}
    for param in EDPB_CASES:
        overrides, expected = param.values
        assert isinstance(overrides, dict)
        result = assess_raw(facts(**overrides))
        if result.band_recommendation is not expected:
            case = str(param.id).split(":")[0].removeprefix("EDPB 01/2021 case ")
            moved[case] = [adjustment.rule for adjustment in result.adjustments]
    assert moved == {
        "02": ["availability_loss"],
        "08": ["exfiltration_confirmed"],
        "09": ["contained"],
        "11": ["large_scale"],
        "14": ["large_scale"],
    }


def test_moved_recommendations_name_their_rule_and_source() -> None:
    trusted = assess_raw(
        facts(data_categories=["financial"], confidentiality="known_recipients", recipient_trusted=True)
    )
    assert trusted.band_recommendation is BOTH
    assert trusted.recommendation is DOC
    assert [(a.rule, a.source) for a in trusted.adjustments] == [
        ("contained", "EDPB Guidelines 01/2021 cases 01, 06, 09, 10")
    ]

    no_backup = assess_raw(
        facts(confidentiality="at_risk", exfiltration="ruled_out", availability="permanent")
    )
    assert no_backup.band_recommendation is DOC
    assert no_backup.recommendation is SA
    assert no_backup.adjustments[0].rule == "availability_loss"


def test_a_safe_key_does_not_hide_a_lasting_availability_loss() -> None:
    result = assess_raw(
        facts(
            data_categories=["health"],
            confidentiality="at_risk",
            availability="permanent",
            malicious=True,
            encrypted=SAFE_KEY,
        )
    )
    assert result.unintelligible
    assert result.ei == 0.25
    assert result.cb_parts["confidentiality"] == 0
    assert result.recommendation is SA


def test_vulnerable_people_raise_a_notifiable_breach_to_the_subjects() -> None:
    base = facts(
        data_categories=["contact"],
        confidentiality="known_recipients",
        malicious=True,
        exfiltration="confirmed",
    )
    assert assess_raw(base).recommendation is SA
    raised = assess_raw(base | {"vulnerable_subjects": True})
    assert raised.recommendation is BOTH
    assert raised.adjustments[-1].rule == "vulnerable_or_special"


def test_a_compromised_or_weak_key_counts_for_nothing() -> None:
    plain = assess_raw(facts(confidentiality="unknown_recipients"))
    for key in (
        {"state_of_the_art": True, "key_compromised": True},
        {"state_of_the_art": False, "key_compromised": False},
    ):
        result = assess_raw(facts(confidentiality="unknown_recipients", encrypted=key))
        assert (result.score, result.recommendation) == (plain.score, plain.recommendation)
        assert not result.unintelligible
        assert any("Encryption does not protect" in reason for reason in result.reasons)


def test_reasons_name_each_factor_and_its_effect() -> None:
    result = assess_raw(
        facts(
            data_categories=["financial", "children"],
            confidentiality="unknown_recipients",
            integrity="recoverable",
            availability="temporary",
            malicious=True,
            exfiltration="confirmed",
            subjects=20_000,
        )
    )
    text = "\n".join(result.reasons)
    for phrase in (
        "'financial' is ENISA financial data",
        "'children'",
        "vulnerable",
        "DPC is the highest category score: 4",
        "EI 1",
        "Confidentiality 'unknown_recipients' adds 0.5 to CB",
        "Integrity 'recoverable' adds 0.25 to CB",
        "Availability 'temporary' adds 0.25 to CB",
        "Malicious intent adds 0.5",
        "SE = 4 x 1 + 1.5 = 5.5, very high",
        "Recommendation: notify_authority_and_subjects.",
    ):
        assert phrase in text
    assert all(reason.endswith(".") for reason in result.reasons)


def test_assessment_serialises_to_json() -> None:
    result = assess_raw(facts(data_categories=["health"], confidentiality="at_risk"))
    data = json.loads(json.dumps(result.model_dump(mode="json")))
    assert data["recommendation"] == "notify_authority_and_subjects"
    assert data["severity"] == "very_high"
    assert data["dpc_by_category"] == {"health": 4}
    assert Assessment.model_validate(data) == result


# --- properties -------------------------------------------------------------------------

raw_facts = st.fixed_dictionaries(
    {
        "data_categories": st.lists(st.sampled_from(list(DataCategory)), min_size=1, max_size=4),
        "subjects": st.integers(min_value=0, max_value=2_000_000),
        "vulnerable_subjects": st.booleans(),
        "identifiability": st.sampled_from(list(Identifiability)),
        "confidentiality": st.sampled_from(list(Confidentiality)),
        "integrity": st.sampled_from(list(Integrity)),
        "availability": st.sampled_from(list(Availability)),
        "malicious": st.booleans(),
    },
    optional={
        "exfiltration": st.sampled_from(list(Exfiltration)),
        "encrypted": st.fixed_dictionaries(
            {"state_of_the_art": st.booleans(), "key_compromised": st.booleans()}
        ),
        "recipient_trusted": st.booleans(),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "profiling": st.booleans(),
                "sensitive_inference": st.booleans(),
                "safety_critical": st.booleans(),
                "insight": st.sampled_from(["full", "partial", "negligible"]),
                "publicly_available": st.booleans(),
                "outdated": st.booleans(),
            },
        ),
    },
)


# Timing is not what these tests check; a loaded machine must not fail them.
no_deadline = settings(deadline=None)


def valid(raw: dict[str, Any]) -> AssessmentInput:
    try:
        return parse_assessment_input(raw)
    except InvalidAssessmentInput:
        assume(False)
        raise


@no_deadline
@given(raw_facts)
def test_score_is_the_enisa_formula_and_the_band_follows_it(raw: dict[str, Any]) -> None:
    result = assess(valid(raw))
    assert result.score == result.dpc * result.ei + result.cb
    assert result.cb == sum(result.cb_parts.values())
    assert result.severity is severity_for(result.score)
    assert 1 <= result.dpc <= 4
    assert 0.25 <= result.score <= 6.0
    assert result.reasons[-1] == f"Recommendation: {result.recommendation}."


@no_deadline
@given(raw_facts, st.sampled_from(list(DataCategory)))
def test_adding_a_category_never_lowers_dpc_or_recommendation(
    raw: dict[str, Any], extra: DataCategory
) -> None:
    before = valid(raw)
    after = before.model_copy(update={"data_categories": [*before.data_categories, extra]})
    assert assess(after).dpc >= assess(before).dpc
    assert rank(assess(after).recommendation) >= rank(assess(before).recommendation)


@no_deadline
@given(raw_facts)
def test_a_safe_key_never_raises_the_score_or_the_recommendation(raw: dict[str, Any]) -> None:
    plain = valid(raw).model_copy(update={"encrypted": None})
    safe = plain.model_copy(update={"encrypted": Encryption(**SAFE_KEY)})
    assert assess(safe).score <= assess(plain).score
    assert rank(assess(safe).recommendation) <= rank(assess(plain).recommendation)


@no_deadline
@given(raw_facts)
def test_a_trusted_recipient_never_raises_the_recommendation(raw: dict[str, Any]) -> None:
    base = valid(raw | {"confidentiality": "known_recipients"})
    untrusted = base.model_copy(update={"recipient_trusted": False})
    trusted = base.model_copy(update={"recipient_trusted": True})
    assert rank(assess(trusted).recommendation) <= rank(assess(untrusted).recommendation)


@no_deadline
@given(raw_facts, st.integers(min_value=0, max_value=2_000_000))
def test_more_people_never_lower_the_recommendation(raw: dict[str, Any], more: int) -> None:
    base = valid(raw)
    bigger = base.model_copy(update={"subjects": base.subjects + more})
    assert rank(assess(bigger).recommendation) >= rank(assess(base).recommendation)


@no_deadline
@given(raw_facts)
def test_malice_and_vulnerability_never_lower_anything(raw: dict[str, Any]) -> None:
    base = valid(raw)
    for field in ("malicious", "vulnerable_subjects"):
        calm = assess(base.model_copy(update={field: False}))
        worse = assess(base.model_copy(update={field: True}))
        assert worse.score >= calm.score
        assert rank(worse.recommendation) >= rank(calm.recommendation)


@no_deadline
@given(raw_facts, st.sampled_from([Availability.TEMPORARY, Availability.PERMANENT]))
def test_lasting_loss_of_availability_is_never_document_only(
    raw: dict[str, Any], availability: Availability
) -> None:
    assert assess(valid(raw | {"availability": availability})).recommendation is not DOC
