"""Assessment facts: what is accepted, and bad input named field by field."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.obligations.assessment_input import (
    Exfiltration,
    InvalidAssessmentInput,
    parse_assessment_input,
)
from tests.notifications.obligations.samples import SAFE_KEY, facts


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        (facts(subjects=-1), "subjects", "greater than or equal to 0"),
        (facts(subjects="12"), "subjects", "valid integer"),
        (facts(subjects=True), "subjects", "valid integer"),
        (facts(malicious="yes"), "malicious", "valid boolean"),
        (facts(data_categories=[]), "data_categories", "at least 1"),
        (facts(data_categories=["contact", "email"]), "data_categories[1]", "'contact'"),
        (facts(identifiability="high"), "identifiability", "'negligible'"),
        (facts(colour="red"), "colour", "Extra inputs are not permitted"),
        (facts(encrypted={"state_of_the_art": True}), "encrypted.key_compromised", "Field required"),
        (facts(encrypted={**SAFE_KEY, "algo": "aes"}), "encrypted.algo", "not permitted"),
        (facts(context={"volume": True}), "context.volume", "not permitted"),
        (
            facts(confidentiality="none", exfiltration="suspected"),
            "exfiltration",
            "confidentiality is 'none'",
        ),
        (
            facts(confidentiality="at_risk", exfiltration="confirmed"),
            "exfiltration",
            "known_recipients or unknown_recipients",
        ),
        (
            facts(confidentiality="unknown_recipients", recipient_trusted=True),
            "recipient_trusted",
            "not 'unknown_recipients'",
        ),
        ({k: v for k, v in facts().items() if k != "integrity"}, "integrity", "Field required"),
        (["contact"], "facts", "valid dictionary"),
    ],
)
def test_bad_input_names_the_field(raw: Any, field: str, fragment: str) -> None:
    with pytest.raises(InvalidAssessmentInput) as caught:
        parse_assessment_input(raw)
    assert caught.value.field == field
    assert fragment in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def test_every_bad_field_is_reported() -> None:
    with pytest.raises(InvalidAssessmentInput) as caught:
        parse_assessment_input(facts(subjects=-5, availability="gone"))
    assert [name for name, _ in caught.value.errors] == ["subjects", "availability"]


def test_consistent_optional_facts_are_accepted() -> None:
    parsed = parse_assessment_input(
        facts(confidentiality="known_recipients", recipient_trusted=False, exfiltration="ruled_out")
    )
    assert parsed.exfiltration is Exfiltration.RULED_OUT
    assert parsed.encrypted is None
