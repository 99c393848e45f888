"""ENISA's severity figures: the scores per criterion, the DPC examples and the bands."""

from __future__ import annotations

from typing import Any

import pytest

from incident.kernel.vocabulary import DataCategory
from notifications.obligations.assessment_input import parse_assessment_input
from notifications.obligations.enisa import Score, Severity, score, severity_for
from tests.notifications.obligations.samples import facts


def scored(raw: dict[str, Any]) -> Score:
    return score(parse_assessment_input(raw))


# --- ENISA's figures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifiability", "ei"),
    [("negligible", 0.25), ("limited", 0.5), ("significant", 0.75), ("maximum", 1.0)],
)
def test_ease_of_identification_scores(identifiability: str, ei: float) -> None:
    assert scored(facts(identifiability=identifiability)).ei == ei


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("confidentiality", "none", 0),
        ("confidentiality", "at_risk", 0),
        ("confidentiality", "known_recipients", 0.25),
        ("confidentiality", "unknown_recipients", 0.5),
        ("integrity", "none", 0),
        ("integrity", "altered_no_misuse", 0),
        ("integrity", "recoverable", 0.25),
        ("integrity", "unrecoverable", 0.5),
        ("availability", "none", 0),
        ("availability", "recoverable", 0),
        ("availability", "temporary", 0.25),
        ("availability", "permanent", 0.5),
        ("malicious", False, 0),
        ("malicious", True, 0.5),
    ],
)
def test_circumstances_of_the_breach_scores(field: str, value: Any, points: float) -> None:
    result = scored(facts(**{field: value}))
    assert result.cb_parts[field] == points
    assert result.cb == points


@pytest.mark.parametrize(
    ("category", "dpc"),
    [
        ("contact", 1),
        ("identity", 1),
        ("credentials", 1),
        ("children", 2),
        ("official_id", 2),
        ("location", 2),
        ("behavioural", 2),
        ("financial", 3),
        ("health", 4),
        ("special", 4),
    ],
)
def test_basic_dpc_per_category(category: str, dpc: int) -> None:
    # children: simple data (1) raised one step because the subjects are minors.
    assert scored(facts(data_categories=[category])).dpc == dpc


# The paper's Annex examples of DPC scoring, as reproduced in public summaries of the
# paper (the PDF itself was not checked): each example with the context that produces it.
ENISA_DPC_EXAMPLES = [
    pytest.param(["contact"], {}, 1, id="ENISA Annex: customer list of a supermarket -> 1"),
    pytest.param(
        ["contact"], {"profiling": True}, 2, id="ENISA Annex: customer list of a luxury-goods seller -> 2"
    ),
    pytest.param(
        ["contact"],
        {"sensitive_inference": True},
        3,
        id="ENISA Annex: delivery addresses of an adult bookshop -> 3",
    ),
    pytest.param(
        ["identity"], {"safety_critical": True}, 4, id="ENISA Annex: list of undercover officers -> 4"
    ),
    pytest.param(
        ["behavioural"],
        {"insight": "negligible"},
        1,
        id="ENISA Annex: incoming calls to an ISP helpdesk -> 1",
    ),
    pytest.param(["behavioural"], {}, 2, id="ENISA Annex: one week of call records -> 2"),
    pytest.param(["behavioural"], {"profiling": True}, 3, id="ENISA Annex: one year of call records -> 3"),
    pytest.param(
        ["behavioural"],
        {"sensitive_inference": True},
        4,
        id="ENISA Annex: calls to a psychological support line -> 4",
    ),
    pytest.param(
        ["financial"],
        {"insight": "negligible"},
        1,
        id="ENISA Annex: letter showing one is a bank's customer -> 1",
    ),
    pytest.param(
        ["financial"], {"insight": "partial"}, 2, id="ENISA Annex: bank account number without details -> 2"
    ),
    pytest.param(
        ["financial"], {"profiling": True}, 4, id="ENISA Annex: full credit card details enabling fraud -> 4"
    ),
    pytest.param(["health"], {"insight": "negligible"}, 1, id="ENISA Annex: 'took general blood tests' -> 1"),
    pytest.param(["health"], {"insight": "partial"}, 3, id="ENISA Annex: tested for a specific disease -> 3"),
    pytest.param(["health"], {}, 4, id="ENISA Annex: the test results themselves -> 4"),
]


@pytest.mark.parametrize(("categories", "context", "dpc"), ENISA_DPC_EXAMPLES)
def test_enisa_dpc_examples(categories: list[str], context: dict[str, Any], dpc: int) -> None:
    assert scored(facts(data_categories=categories, context=context)).dpc == dpc


def test_dpc_is_the_highest_category_and_stays_within_one_to_four() -> None:
    result = scored(
        facts(
            data_categories=["contact", "financial", "location"],
            vulnerable_subjects=True,
            context={"profiling": True},
        )
    )
    assert result.dpc_by_category == {
        DataCategory.CONTACT: 3,
        DataCategory.FINANCIAL: 4,
        DataCategory.LOCATION: 4,
    }
    assert result.dpc == 4
    lowered = scored(
        facts(
            data_categories=["contact"],
            context={"publicly_available": True, "outdated": True, "insight": "partial"},
        )
    )
    assert lowered.dpc == 1


# --- band boundaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.25, Severity.LOW),
        (1.75, Severity.LOW),
        (2.0, Severity.MEDIUM),
        (2.75, Severity.MEDIUM),
        (3.0, Severity.HIGH),
        (3.75, Severity.HIGH),
        (4.0, Severity.VERY_HIGH),
        (6.0, Severity.VERY_HIGH),
    ],
)
def test_severity_bands(score: float, severity: Severity) -> None:
    assert severity_for(score) is severity
