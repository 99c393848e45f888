"""The facts of a breach as the assessment reads them, and their validation.

`AssessmentInput` is what the API, the CLI and the incident record hand to
`assess`: the data categories, the number of people, and ENISA's criteria (ease
of identification, loss of confidentiality, integrity and availability, malice)
with the EDPB's extra factors (exfiltration, encryption, a trusted recipient).
`parse_assessment_input` turns raw JSON into it and names every wrong field.

Separate from the scoring and the recommendation because it changes for other
reasons: a new input field, a new contradiction to refuse, a clearer error
message, without any rule of ENISA's or the EDPB's moving.
"""

from __future__ import annotations

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

from incident.kernel.bounds import COUNT_MAX
from incident.kernel.schemas import Unique
from incident.kernel.vocabulary import DataCategory


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

    data_categories: Annotated[list[DataCategory], Field(min_length=1), Unique]
    subjects: Annotated[StrictInt, Field(ge=0, le=COUNT_MAX)]
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


def is_unintelligible(facts: AssessmentInput) -> bool:
    """State-of-the-art encryption whose key is safe: GDPR Art. 34(3)(a)."""
    key = facts.encrypted
    return key is not None and key.state_of_the_art and not key.key_compromised


def is_vulnerable(facts: AssessmentInput) -> bool:
    """Vulnerable subjects, or data about children: minors count as vulnerable."""
    return facts.vulnerable_subjects or DataCategory.CHILDREN in facts.data_categories


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


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "facts"
