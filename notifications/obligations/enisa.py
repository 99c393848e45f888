"""Breach severity by the ENISA method: the tables of scores and SE = DPC x EI + CB.

`score(facts)` gives ENISA's three criteria for a personal data breach — the data
processing context (DPC, per data category and moved by its context), the ease of
identification (EI) and the circumstances of the breach (CB) — the severity score
and its band, each step with a plain sentence a DPO can check.

Source: ENISA, "Recommendations for a methodology of the assessment of severity of
personal data breaches", working document v1.0, December 2013.

Separate from the recommendation (`assessment.py`) because the scores are ENISA's
numbers and change only when the method or our mapping of data categories does;
what the GDPR asks for a given score is the EDPB's matter and changes on its own.
`CATEGORY_MAP` maps our data categories onto ENISA's four DPC categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from incident.kernel.vocabulary import DataCategory
from notifications.obligations.assessment_input import (
    AssessmentInput,
    Availability,
    Confidentiality,
    Identifiability,
    Insight,
    Integrity,
    is_unintelligible,
    is_vulnerable,
)

ENISA = "ENISA 2013 severity methodology"


class EnisaCategory(StrEnum):
    SIMPLE = "simple"
    BEHAVIOURAL = "behavioural"
    FINANCIAL = "financial"
    SENSITIVE = "sensitive"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


# Our data category -> (ENISA DPC category, basic score); _CATEGORY_NOTES explains the
# three that ENISA does not score directly (official_id is our assumption).
CATEGORY_MAP: Mapping[DataCategory, tuple[EnisaCategory, int]] = {
    DataCategory.CONTACT: (EnisaCategory.SIMPLE, 1),
    DataCategory.IDENTITY: (EnisaCategory.SIMPLE, 1),
    DataCategory.OFFICIAL_ID: (EnisaCategory.SIMPLE, 2),
    DataCategory.CREDENTIALS: (EnisaCategory.SIMPLE, 1),
    DataCategory.CHILDREN: (EnisaCategory.SIMPLE, 1),
    DataCategory.LOCATION: (EnisaCategory.BEHAVIOURAL, 2),
    DataCategory.BEHAVIOURAL: (EnisaCategory.BEHAVIOURAL, 2),
    DataCategory.FINANCIAL: (EnisaCategory.FINANCIAL, 3),
    DataCategory.HEALTH: (EnisaCategory.SENSITIVE, 4),
    DataCategory.SPECIAL: (EnisaCategory.SENSITIVE, 4),
}
_INFERENCE_FLOOR = {EnisaCategory.SIMPLE: 3, EnisaCategory.BEHAVIOURAL: 4}
_CATEGORY_NOTES = {
    DataCategory.OFFICIAL_ID: "national identifiers enable identity fraud, so they weigh one step more",
    DataCategory.CREDENTIALS: "ENISA scores credentials as the data they open, so list that data too",
    DataCategory.CHILDREN: "data about children makes the subjects vulnerable",
}

# ENISA's points for EI and CB, in the order each enum lists its values.
EI_SCORE: Mapping[Identifiability, float] = dict(zip(Identifiability, (0.25, 0.5, 0.75, 1.0), strict=True))
CONFIDENTIALITY_SCORE: Mapping[Confidentiality, float] = dict(
    zip(Confidentiality, (0.0, 0.0, 0.25, 0.5), strict=True)
)
INTEGRITY_SCORE: Mapping[Integrity, float] = dict(zip(Integrity, (0.0, 0.0, 0.25, 0.5), strict=True))
AVAILABILITY_SCORE: Mapping[Availability, float] = dict(zip(Availability, (0.0, 0.0, 0.25, 0.5), strict=True))
MALICIOUS_SCORE = 0.5


@dataclass(frozen=True)
class Score:
    """ENISA's criteria for one breach, the severity score and its band, with reasons."""

    dpc: int
    ei: float
    cb: float
    score: float
    severity: Severity
    dpc_by_category: dict[DataCategory, int]
    cb_parts: dict[str, float]
    unintelligible: bool
    reasons: list[str]


def severity_for(score: float) -> Severity:
    """ENISA's bands: low < 2 <= medium < 3 <= high < 4 <= very high."""
    bands = ((2, Severity.LOW), (3, Severity.MEDIUM), (4, Severity.HIGH))
    return next((band for limit, band in bands if score < limit), Severity.VERY_HIGH)


def category_scores(facts: AssessmentInput) -> dict[DataCategory, int]:
    """ENISA DPC per listed category: basic score moved by the context, kept in 1..4.

    Vulnerable subjects add one step (assumption: ENISA's own example raises
    simple data by 3 where the data is critical to their safety; that case is
    `context.safety_critical`). Adding a category or a raising factor never lowers
    a score, which the property tests hold.
    """
    ctx, vulnerable = facts.context, is_vulnerable(facts)
    scores: dict[DataCategory, int] = {}
    for category in dict.fromkeys(facts.data_categories):
        enisa, points = CATEGORY_MAP[category]
        if ctx.insight is Insight.NEGLIGIBLE:
            points = 1
        elif ctx.insight is Insight.PARTIAL:
            points -= 1
        if ctx.profiling and enisa is not EnisaCategory.SENSITIVE:
            points += 1
        if ctx.sensitive_inference:
            points = max(points, _INFERENCE_FLOOR.get(enisa, points))
        points += int(vulnerable) - int(ctx.publicly_available) - int(ctx.outdated)
        if ctx.safety_critical:
            points = 4
        scores[category] = min(4, max(1, points))
    return scores


def score(facts: AssessmentInput) -> Score:
    """SE = DPC x EI + CB for the breach, its band, and a sentence for every step."""
    scores = category_scores(facts)
    dpc = max(scores.values())
    reasons = _dpc_reasons(facts, scores, dpc)

    unintelligible = is_unintelligible(facts)
    ei = EI_SCORE[facts.identifiability]
    reasons.append(f"Identifiability '{facts.identifiability}' gives EI {ei:g} (ENISA).")
    if unintelligible:
        ei = EI_SCORE[Identifiability.NEGLIGIBLE]
        reasons.append(
            "Encryption: state-of-the-art with an uncompromised key makes the data "
            "unintelligible (GDPR Art. 34(3)(a)), so EI drops to 0.25 and the "
            "exposure adds nothing to CB."
        )
    elif facts.encrypted is not None:
        why = "its key is compromised" if facts.encrypted.key_compromised else "it is not state of the art"
        reasons.append(f"Encryption does not protect the data because {why}: no effect.")

    confidentiality = 0.0 if unintelligible else CONFIDENTIALITY_SCORE[facts.confidentiality]
    cb_parts = {
        "confidentiality": confidentiality,
        "integrity": INTEGRITY_SCORE[facts.integrity],
        "availability": AVAILABILITY_SCORE[facts.availability],
        "malicious": MALICIOUS_SCORE if facts.malicious else 0.0,
    }
    cb = sum(cb_parts.values())
    losses = {
        "confidentiality": facts.confidentiality,
        "integrity": facts.integrity,
        "availability": facts.availability,
    }
    for name, value in losses.items():
        reasons.append(f"{name.capitalize()} '{value}' adds {cb_parts[name]:g} to CB.")
    reasons.append(
        "Malicious intent adds 0.5 to CB." if facts.malicious else "No malicious intent: adds 0 to CB."
    )
    total = dpc * ei + cb
    return Score(
        dpc=dpc,
        ei=ei,
        cb=cb,
        score=total,
        severity=severity_for(total),
        dpc_by_category=scores,
        cb_parts=cb_parts,
        unintelligible=unintelligible,
        reasons=reasons,
    )


def _dpc_reasons(facts: AssessmentInput, scores: Mapping[DataCategory, int], dpc: int) -> list[str]:
    reasons = []
    for category, points in scores.items():
        enisa, base = CATEGORY_MAP[category]
        note = f"; {_CATEGORY_NOTES[category]}" if category in _CATEGORY_NOTES else ""
        moved = f", {points} after context" if points != base else ""
        reasons.append(f"Data category '{category}' is ENISA {enisa} data, scored {base}{moved}{note}.")
    ctx = facts.context
    effects = [
        (ctx.insight is Insight.NEGLIGIBLE, "the data reveals almost nothing of its category (score 1)"),
        (ctx.insight is Insight.PARTIAL, "the data reveals only part of its category (-1)"),
        (ctx.profiling, "volume, detail or the controller allow a profile of the person (+1)"),
        (
            ctx.sensitive_inference,
            "special-category facts can be inferred (simple data 3, behavioural data 4)",
        ),
        (is_vulnerable(facts), "the subjects are vulnerable (+1)"),
        (ctx.publicly_available, "the data was already public (-1)"),
        (ctx.outdated, "the data is invalid or out of date (-1)"),
        (ctx.safety_critical, "the data is critical to the subjects' safety (4)"),
    ]
    reasons += [f"Context: {text}." for applies, text in effects if applies]
    reasons.append(f"DPC is the highest category score: {dpc}.")
    return reasons
