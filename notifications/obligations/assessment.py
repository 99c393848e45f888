"""Breach severity by the ENISA method, and what to notify, as one pure function.

`assess(facts)` scores a personal data breach with the ENISA methodology
(SE = DPC x EI + CB) and turns the score into a recommendation: `document`,
`notify_authority` (GDPR Art. 33) or `notify_authority_and_subjects` (Art. 34).
The score alone does not decide: the EDPB weighs factors outside it (a safe key,
a trusted recipient, lasting loss of availability, confirmed exfiltration,
vulnerable people, volume), and so does `_recommend`. Every step leaves a plain
sentence in `reasons` so a DPO can check it, and a structured `Adjustment`.

Sources (quoted by the reasons):
- ENISA, "Recommendations for a methodology of the assessment of severity of
  personal data breaches", working document v1.0, December 2013.
- EDPB Guidelines 01/2021 on Examples regarding Personal Data Breach
  Notification, v2.0 (14 December 2021): the 18 worked cases.
- EDPB Guidelines 9/2022 on personal data breach notification under the GDPR
  (successor of WP250): the risk factors (type of breach; nature, sensitivity and
  volume of data; ease of identification; special characteristics of the
  individuals; number of individuals) and Art. 34(3)(a) (unintelligible data).

`CATEGORY_MAP` maps our data categories onto ENISA's four DPC categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from incident.kernel.vocabulary import DataCategory

ENISA = "ENISA 2013 severity methodology"
EDPB_EXAMPLES = "EDPB Guidelines 01/2021"
EDPB_NOTIFICATION = "EDPB Guidelines 9/2022"

# No guideline fixes a number; 10,000 is our line for "large scale" (assumption).
LARGE_SCALE = 10_000


class Identifiability(StrEnum):
    NEGLIGIBLE = "negligible"
    LIMITED = "limited"
    SIGNIFICANT = "significant"
    MAXIMUM = "maximum"


class Confidentiality(StrEnum):
    NONE = "none"
    AT_RISK = "at_risk"  # exposed without evidence of access, e.g. a lost device
    KNOWN_RECIPIENTS = "known_recipients"
    UNKNOWN_RECIPIENTS = "unknown_recipients"


class Integrity(StrEnum):
    NONE = "none"
    ALTERED_NO_MISUSE = "altered_no_misuse"
    RECOVERABLE = "recoverable"
    UNRECOVERABLE = "unrecoverable"


class Availability(StrEnum):
    NONE = "none"
    RECOVERABLE = "recoverable"  # restored without difficulty
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


class Exfiltration(StrEnum):
    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"
    RULED_OUT = "ruled_out"


class Insight(StrEnum):
    """How much the data reveals within its category (ENISA's "nature of the data")."""

    FULL = "full"
    PARTIAL = "partial"  # e.g. an account number alone, the test for a given disease: -1
    NEGLIGIBLE = "negligible"  # e.g. "is a customer of bank X", a food intolerance: scores 1


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


class Recommendation(StrEnum):
    DOCUMENT = "document"
    NOTIFY_AUTHORITY = "notify_authority"
    NOTIFY_AUTHORITY_AND_SUBJECTS = "notify_authority_and_subjects"


class InvalidAssessmentInput(ValueError):
    """Assessment facts that cannot be assessed.

    `field` is the dotted path of the first bad field (`encrypted.key_compromised`,
    `data_categories[2]`), `message` says what is wrong with it, and `errors`
    lists every (field, message) pair so an API can report them all at once.
    """

    def __init__(self, field: str, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        self.field = field
        self.message = message
        self.errors = errors or [(field, message)]
        super().__init__("; ".join(f"{name}: {text}" for name, text in self.errors))


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Encryption(_Facts):
    state_of_the_art: StrictBool
    key_compromised: StrictBool  # the attacker has, or could derive, the key


class DpcContext(_Facts):
    """ENISA's context factors that move the DPC basic score (all optional).

    They apply to every listed category; ENISA sets the size of each move per
    category and the numbers below follow its examples (customer list of a
    supermarket 1, of a luxury-goods seller 2, delivery addresses of an adult
    bookshop 3, list of undercover officers 4; a year of call records 3, calls to
    a psychological support line 4; "took a general blood test" 1).
    """

    # +1: volume, detail or the controller allow a profile or status assumptions
    # (for financial data: full details that enable fraud)
    profiling: StrictBool = False
    sensitive_inference: StrictBool = False  # lets one infer special-category facts: simple 3, behavioural 4
    safety_critical: StrictBool = False  # critical to the subjects' safety: 4
    insight: Insight = Insight.FULL
    publicly_available: StrictBool = False  # already public before the breach: -1 (assumed size)
    outdated: StrictBool = False  # invalid or out of date: -1 (assumed size)


class AssessmentInput(_Facts):
    """The facts of a breach, as the API, the CLI and the incident record give them."""

    data_categories: Annotated[list[DataCategory], Field(min_length=1)]
    subjects: Annotated[StrictInt, Field(ge=0)]
    vulnerable_subjects: StrictBool
    identifiability: Identifiability
    confidentiality: Confidentiality
    integrity: Integrity
    availability: Availability
    malicious: StrictBool
    exfiltration: Exfiltration | None = None
    encrypted: Encryption | None = None
    recipient_trusted: StrictBool | None = None
    context: DpcContext = DpcContext()

    @field_validator("exfiltration")
    @classmethod
    def _exfiltration_matches_confidentiality(
        cls, value: Exfiltration | None, info: ValidationInfo
    ) -> Exfiltration | None:
        """Refuse contradictions: an exfiltration is a loss of confidentiality with a recipient."""
        confidentiality = info.data.get("confidentiality")
        if (
            value in (Exfiltration.CONFIRMED, Exfiltration.SUSPECTED)
            and confidentiality is Confidentiality.NONE
        ):
            raise PydanticCustomError(
                "inconsistent",
                "exfiltration is '{value}' but confidentiality is 'none'",
                {"value": str(value)},
            )
        if value is Exfiltration.CONFIRMED and confidentiality is Confidentiality.AT_RISK:
            raise PydanticCustomError(
                "inconsistent",
                "exfiltration is 'confirmed' but confidentiality is 'at_risk' "
                "(no evidence of access); use known_recipients or unknown_recipients",
            )
        return value

    @field_validator("recipient_trusted")
    @classmethod
    def _trust_needs_known_recipients(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        """Trust is about identified recipients; it means nothing for unknown ones."""
        confidentiality = info.data.get("confidentiality")
        if value and confidentiality is not None and confidentiality is not Confidentiality.KNOWN_RECIPIENTS:
            raise PydanticCustomError(
                "inconsistent",
                "a trusted recipient needs confidentiality 'known_recipients', not '{value}'",
                {"value": str(confidentiality)},
            )
        return value


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
}


def severity_for(score: float) -> Severity:
    """ENISA's bands: low < 2 <= medium < 3 <= high < 4 <= very high."""
    bands = ((2, Severity.LOW), (3, Severity.MEDIUM), (4, Severity.HIGH))
    return next((band for limit, band in bands if score < limit), Severity.VERY_HIGH)


def is_unintelligible(facts: AssessmentInput) -> bool:
    """State-of-the-art encryption whose key is safe: GDPR Art. 34(3)(a)."""
    key = facts.encrypted
    return key is not None and key.state_of_the_art and not key.key_compromised


def is_vulnerable(facts: AssessmentInput) -> bool:
    """Vulnerable subjects, or data about children: minors count as vulnerable."""
    return facts.vulnerable_subjects or DataCategory.CHILDREN in facts.data_categories


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
        enisa, score = CATEGORY_MAP[category]
        if ctx.insight is Insight.NEGLIGIBLE:
            score = 1
        elif ctx.insight is Insight.PARTIAL:
            score -= 1
        if ctx.profiling and enisa is not EnisaCategory.SENSITIVE:
            score += 1
        if ctx.sensitive_inference:
            score = max(score, _INFERENCE_FLOOR.get(enisa, score))
        score += int(vulnerable) - int(ctx.publicly_available) - int(ctx.outdated)
        if ctx.safety_critical:
            score = 4
        scores[category] = min(4, max(1, score))
    return scores


def assess(facts: AssessmentInput) -> Assessment:
    """Score the breach (ENISA) and recommend what to notify (EDPB), with reasons."""
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

    score = dpc * ei + cb
    severity = severity_for(score)
    band = BAND_RECOMMENDATION[severity]
    reasons.append(
        f"Severity: SE = {dpc} x {ei:g} + {cb:g} = {score:g}, "
        f"{severity.value.replace('_', ' ')} ({ENISA}); the band alone suggests "
        f"{band}."
    )
    recommendation, adjustments = _recommend(facts, band, scores, ei, unintelligible, reasons)
    reasons.append(f"Recommendation: {recommendation}.")
    return Assessment(
        dpc=dpc,
        ei=ei,
        cb=cb,
        score=score,
        severity=severity,
        recommendation=recommendation,
        band_recommendation=band,
        reasons=reasons,
        dpc_by_category=scores,
        cb_parts=cb_parts,
        unintelligible=unintelligible,
        adjustments=adjustments,
    )


def _dpc_reasons(facts: AssessmentInput, scores: Mapping[DataCategory, int], dpc: int) -> list[str]:
    reasons = []
    for category, score in scores.items():
        enisa, base = CATEGORY_MAP[category]
        note = f"; {_CATEGORY_NOTES[category]}" if category in _CATEGORY_NOTES else ""
        moved = f", {score} after context" if score != base else ""
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
    lasting) and only raises on an aggravation, so a safe key or a trusted
    recipient never raises the result and more people never lower it.
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
    floors = {
        "availability_loss": lasting_availability,
        "integrity_loss": lasting_integrity,
        "exfiltration_confirmed": exposed and facts.exfiltration is Exfiltration.CONFIRMED,
    }
    for rule, applies in floors.items():
        if applies and _RANK[rec] < _RANK[notify]:
            move(rule, notify)

    # Raises toward the people only once the authority is due anyway.
    if rec is notify:
        sensitive = any(
            score >= 3
            for category, score in scores.items()
            if CATEGORY_MAP[category][0] is EnisaCategory.SENSITIVE
        )
        if exposed and ei >= 0.75 and (vulnerable or sensitive):  # identifiable: significant or more
            move("vulnerable_or_special", both)
        elif facts.subjects >= LARGE_SCALE:
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


def parse_assessment_input(raw: object) -> AssessmentInput:
    """Validate raw facts (a dict from JSON) into `AssessmentInput`.

    Raises `InvalidAssessmentInput` naming the field, so the CLI and the API can
    say which field is wrong instead of echoing a pydantic traceback.
    """
    try:
        return AssessmentInput.model_validate(raw)
    except ValidationError as exc:
        errors = [(_field_path(error["loc"]), error["msg"]) for error in exc.errors()]
        raise InvalidAssessmentInput(errors[0][0], errors[0][1], errors) from None


def assess_raw(raw: object) -> Assessment:
    """`assess` on raw facts; raises `InvalidAssessmentInput` for bad input."""
    return assess(parse_assessment_input(raw))


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "facts"
