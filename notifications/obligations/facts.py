"""FACTS: what the obligations engine is told about one incident, and its validation.

`Facts` holds the notifying organisation (where it is established, its time zone,
flags, entity type and internal targets), the incident's instants that start legal
clocks with its assessed risk and data categories, and the affected people counted
by jurisdiction. `facts_from_json` validates parsed FACTS.json (the CLI's input, and
what the service assembles from the database) and names every wrong field.

Separate from the engine because the input changes for its own reasons (a new
instant, a new flag, a friendlier error) while the rules that read it stay put.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    NonNegativeInt,
    PositiveFloat,
    ValidationError,
    field_validator,
)

from notifications.obligations.regimes import (
    CODE_PATTERN,
    DataCategory,
    Flag,
    ObligationRef,
    Risk,
    TimeZoneName,
)


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as DE")
    return value


def _jurisdiction(value: str) -> str:
    if not CODE_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a jurisdiction: use ISO 3166-1 alpha-2 (DE) or ISO 3166-2 (US-CA)"
        )
    return value


def _upper(value: Any) -> Any:
    # Accept "us-ca" for "US-CA", but leave anything else as written for the error message.
    if isinstance(value, str) and CODE_PATTERN.fullmatch(value.upper()):
        return value.upper()
    return value


Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Facts):
    """The notifying organisation: where it is established and what kind of entity it is.

    `targets` are internal targets in hours after the trigger, keyed "regime/obligation":
    they set the target of a without-undue-delay duty and pull a fixed one earlier.
    """

    country: Annotated[str, AfterValidator(_country)]
    timezone: TimeZoneName
    flags: frozenset[Flag] = frozenset()
    entity_type: str | None = None
    targets: dict[ObligationRef, PositiveFloat] = {}


class Incident(_Facts):
    """The instants that start legal clocks, and the assessment that decides thresholds."""

    aware_at: AwareDatetime
    discovered_at: AwareDatetime | None = None
    breach_determined_at: AwareDatetime | None = None
    classified_major_at: AwareDatetime | None = None
    materiality_determined_at: AwareDatetime | None = None
    assessment_completed_at: AwareDatetime | None = None
    risk: Risk
    data_categories: frozenset[DataCategory] = frozenset()
    malicious: bool = False
    met: dict[ObligationRef, AwareDatetime] = {}


class Facts(_Facts):
    """Everything the engine needs to know about one incident."""

    organisation: Organisation
    incident: Incident
    affected: dict[Jurisdiction, NonNegativeInt] = {}

    @field_validator("affected", mode="before")
    @classmethod
    def _upper_codes(cls, value: Any) -> Any:
        return {_upper(k): v for k, v in value.items()} if isinstance(value, dict) else value


@dataclass(frozen=True)
class FactsProblem:
    """One wrong field in FACTS."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FactsError(ValueError):
    """FACTS are invalid; `problems` names every wrong field."""

    def __init__(self, problems: list[FactsProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid FACTS:\n" + "\n".join(f"  {p}" for p in self.problems))


def facts_from_json(data: Any) -> Facts:
    """Validate parsed FACTS.json; raise FactsError naming each wrong field."""
    try:
        return Facts.model_validate(data)
    except ValidationError as exc:
        raise FactsError(
            [
                FactsProblem(
                    ".".join(str(part) for part in err["loc"] if part != "[key]") or "(root)",
                    err["msg"],
                )
                for err in exc.errors(include_url=False)
            ]
        ) from None
