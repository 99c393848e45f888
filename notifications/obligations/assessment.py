"""What to notify after a breach, and why: the EDPB's reading of the ENISA score.

`assess(facts)` takes ENISA's severity (`enisa.score`) and turns it into a
recommendation: `document`, `notify_authority` (GDPR Art. 33) or
`notify_authority_and_subjects` (Art. 34). The score alone does not decide: the EDPB
weighs factors outside it (a safe key, a trusted recipient, lasting loss of
availability, confirmed exfiltration, vulnerable people, volume), and so does
`_recommend`. Every step leaves a plain sentence in `reasons` so a DPO can check it,
and a structured `Adjustment` naming its rule and source.

Sources (quoted by the reasons):
- EDPB Guidelines 01/2021 on Examples regarding Personal Data Breach
  Notification, v2.0 (14 December 2021): the 18 worked cases.
- EDPB Guidelines 9/2022 on personal data breach notification under the GDPR
  (successor of WP250): the risk factors (type of breach; nature, sensitivity and
  volume of data; ease of identification; special characteristics of the
  individuals; number of individuals) and Art. 34(3)(a) (unintelligible data).

The facts and their validation live in `assessment_input.py`, the ENISA tables in
`enisa.py`; this module owns only the step from a score to a duty.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from incident.kernel.vocabulary import DataCategory
from notifications.obligations.assessment_input import (
    AssessmentInput,
    Availability,
    Confidentiality,
    Exfiltration,
    Integrity,
    is_vulnerable,
    parse_assessment_input,
)
from notifications.obligations.enisa import CATEGORY_MAP, ENISA, EnisaCategory, Severity, score

EDPB_EXAMPLES = "EDPB Guidelines 01/2021"
EDPB_NOTIFICATION = "EDPB Guidelines 9/2022"

# No guideline fixes a number; 10,000 is our line for "large scale" (assumption).
LARGE_SCALE = 10_000


class Recommendation(StrEnum):
    DOCUMENT = "document"
    NOTIFY_AUTHORITY = "notify_authority"
    NOTIFY_AUTHORITY_AND_SUBJECTS = "notify_authority_and_subjects"


class Adjustment(BaseModel):
    """One rule that moved (or confirmed) the recommendation, with its source."""

    model_config = ConfigDict(frozen=True)

    rule: str
    recommendation: Recommendation
    source: str


class Assessment(BaseModel):
    """The result: ENISA's three criteria, the score, its band and the recommendation."""

    model_config = ConfigDict(frozen=True)

    dpc: int
    ei: float
    cb: float
    score: float
    severity: Severity
    recommendation: Recommendation
    band_recommendation: Recommendation
    reasons: list[str]
    dpc_by_category: dict[DataCategory, int]
    cb_parts: dict[str, float]
    unintelligible: bool
    adjustments: list[Adjustment]
    method: str = f"SE = DPC x EI + CB ({ENISA}); recommendation per {EDPB_EXAMPLES}"


# ENISA describes the bands by their consequences: low "a few inconveniences",
# medium "significant inconveniences", high "significant consequences ... with
# serious difficulties", very high "significant, or even irreversible". Reading
# low as "unlikely to result in a risk" (Art. 33(1)) and high as "high risk"
# (Art. 34(1)) is our mapping; ENISA itself does not name the GDPR duties.
BAND_RECOMMENDATION: Mapping[Severity, Recommendation] = {
    Severity.LOW: Recommendation.DOCUMENT,
    Severity.MEDIUM: Recommendation.NOTIFY_AUTHORITY,
    Severity.HIGH: Recommendation.NOTIFY_AUTHORITY_AND_SUBJECTS,
    Severity.VERY_HIGH: Recommendation.NOTIFY_AUTHORITY_AND_SUBJECTS,
}
_RANK = {rec: rank for rank, rec in enumerate(Recommendation)}

# The EDPB's reasons for moving the band's recommendation: rule -> (source, sentence).
RULES: Mapping[str, tuple[str, str]] = {
    "contained": (
        f"{EDPB_EXAMPLES} cases 01, 06, 09, 10",
        "Contained: no one can read the data (no exposure, a safe key, a trusted recipient who "
        "deleted it, or exfiltration ruled out) and nothing was lost or altered for good, so the "
        "breach is unlikely to result in a risk: document it.",
    ),
    "availability_loss": (
        f"{EDPB_EXAMPLES} case 02",
        "Availability '{availability}': the data could not be restored without difficulty, "
        "which is a risk to the people: notify the authority.",
    ),
    "integrity_loss": (
        f"{EDPB_NOTIFICATION} (type of breach)",
        "Integrity '{integrity}': altered data may have been used against the people: notify the authority.",
    ),
    "exfiltration_confirmed": (
        f"{EDPB_EXAMPLES} case 08",
        "Exfiltration confirmed: readable data is in someone else's hands and misuse cannot "
        "be ruled out: notify the authority.",
    ),
    "vulnerable_or_special": (
        f"{EDPB_NOTIFICATION} (special characteristics of the individual)",
        "Readable, identifiable {who} exposed: the consequences weigh more, so tell the people as well.",
    ),
    "large_scale": (
        f"{EDPB_EXAMPLES} cases 11, 14",
        "Volume: {subjects} people affected (large scale from {large}): tell the people as well.",
    ),
    "large_scale_exposure": (
        f"{EDPB_EXAMPLES} case 11; {EDPB_NOTIFICATION} (number of individuals)",
        "Volume: readable, identifiable data of {subjects} people is exposed (large scale from "
        "{large}); a breach of that size is likely to result in a risk: notify the authority.",
    ),
    "malicious_exfiltration": (
        f"{EDPB_EXAMPLES} cases 04, 05, 07, 18",
        "Exfiltrated by an attacker: readable, identifiable data is in unknown, hostile hands, "
        "where misuse (fraud, phishing, identity theft) is likely: tell the people as well.",
    ),
    "misdelivered": (
        f"{EDPB_EXAMPLES} cases 13, 16",
        "Sent by mistake to known recipients, without malice, to fewer than {large} people, with "
        "no special-category data and no vulnerable people: the recipients can be asked to return "
        "or destroy it, so the risk is not high: notify the authority, not the people.",
    ),
}


def assess(facts: AssessmentInput) -> Assessment:
    """Score the breach (ENISA) and recommend what to notify (EDPB), with reasons."""
    scored = score(facts)
    reasons = list(scored.reasons)
    band = BAND_RECOMMENDATION[scored.severity]
    reasons.append(
        f"Severity: SE = {scored.dpc} x {scored.ei:g} + {scored.cb:g} = {scored.score:g}, "
        f"{scored.severity.value.replace('_', ' ')} ({ENISA}); the band alone suggests "
        f"{band}."
    )
    recommendation, adjustments = _recommend(
        facts, band, scored.dpc_by_category, scored.ei, scored.unintelligible, reasons
    )
    reasons.append(f"Recommendation: {recommendation}.")
    return Assessment(
        dpc=scored.dpc,
        ei=scored.ei,
        cb=scored.cb,
        score=scored.score,
        severity=scored.severity,
        recommendation=recommendation,
        band_recommendation=band,
        reasons=reasons,
        dpc_by_category=scored.dpc_by_category,
        cb_parts=scored.cb_parts,
        unintelligible=scored.unintelligible,
        adjustments=adjustments,
    )


def explained(result: Assessment) -> list[tuple[Adjustment, str]]:
    """Each adjustment with the sentence it added to `reasons` (in the same order, right
    after the severity line and before the final recommendation line)."""
    moves = len(result.adjustments)
    sentences = result.reasons[-1 - moves:-1] if moves else []
    if len(sentences) != moves:
        sentences = [""] * moves
    return list(zip(result.adjustments, sentences, strict=True))


def assess_raw(raw: object) -> Assessment:
    """`assess` on raw facts; raises `InvalidAssessmentInput` for bad input."""
    return assess(parse_assessment_input(raw))


def _recommend(
    facts: AssessmentInput,
    band: Recommendation,
    scores: Mapping[DataCategory, int],
    ei: float,
    unintelligible: bool,
    reasons: list[str],
) -> tuple[Recommendation, list[Adjustment]]:
    """Move the band's recommendation by the EDPB's factors; each move is recorded.

    Every rule only lowers on a protection (safe key, trusted recipient, nothing
    lasting, a known recipient who received it by mistake) and only raises on an
    aggravation (lasting loss, exfiltration, malice, volume, sensitivity), so a safe key
    or a trusted recipient never raises the result, and more people, malice or
    vulnerable people never lower it.
    """
    rec = band
    adjustments: list[Adjustment] = []
    vulnerable = is_vulnerable(facts)
    words = {
        "availability": facts.availability,
        "integrity": facts.integrity,
        "subjects": facts.subjects,
        "large": LARGE_SCALE,
        "who": "vulnerable people" if vulnerable else "special-category data",
    }

    def move(rule: str, target: Recommendation) -> None:
        nonlocal rec
        source, sentence = RULES[rule]
        rec = target
        adjustments.append(Adjustment(rule=rule, recommendation=target, source=source))
        reasons.append(sentence.format(**words))

    exposed = _exposed(facts, unintelligible)
    lasting_integrity = facts.integrity in (Integrity.RECOVERABLE, Integrity.UNRECOVERABLE)
    lasting_availability = facts.availability in (Availability.TEMPORARY, Availability.PERMANENT)
    if not exposed and not lasting_integrity and not lasting_availability:
        move("contained", Recommendation.DOCUMENT)
        return rec, adjustments

    notify, both = Recommendation.NOTIFY_AUTHORITY, Recommendation.NOTIFY_AUTHORITY_AND_SUBJECTS
    identifiable = ei >= 0.75  # ENISA: significant or maximum ease of identification
    large = facts.subjects >= LARGE_SCALE
    floors = {
        "availability_loss": lasting_availability,
        "integrity_loss": lasting_integrity,
        "exfiltration_confirmed": exposed and facts.exfiltration is Exfiltration.CONFIRMED,
        "large_scale_exposure": exposed and identifiable and large,
    }
    for rule, applies in floors.items():
        if applies and _RANK[rec] < _RANK[notify]:
            move(rule, notify)

    sensitive = any(
        points >= 3
        for category, points in scores.items()
        if CATEGORY_MAP[category][0] is EnisaCategory.SENSITIVE
    )
    # A letter or e-mail to the wrong, known person: the EDPB asks for the authority only
    # (case 16) unless the data is special, the people vulnerable or the volume large (case 14).
    misdelivered = (
        facts.confidentiality is Confidentiality.KNOWN_RECIPIENTS
        and not facts.malicious
        and not vulnerable
        and not sensitive
        and not large
    )
    if rec is both and misdelivered:
        move("misdelivered", notify)

    # Raises toward the people only once the authority is due anyway.
    if rec is notify:
        hostile = (
            facts.malicious
            and facts.confidentiality is Confidentiality.UNKNOWN_RECIPIENTS
            and facts.exfiltration is Exfiltration.CONFIRMED
        )
        if exposed and identifiable and (vulnerable or sensitive):
            move("vulnerable_or_special", both)
        elif exposed and identifiable and hostile:
            move("malicious_exfiltration", both)
        elif large:
            move("large_scale", both)
    return rec, adjustments


def _exposed(facts: AssessmentInput, unintelligible: bool) -> bool:
    """Whether someone may read the data: the confidentiality loss that still matters."""
    if facts.confidentiality is Confidentiality.NONE or unintelligible:
        return False
    if facts.confidentiality is Confidentiality.AT_RISK:
        return facts.exfiltration is not Exfiltration.RULED_OUT
    if facts.confidentiality is Confidentiality.KNOWN_RECIPIENTS:
        return not (facts.recipient_trusted and not facts.malicious)
    return True
