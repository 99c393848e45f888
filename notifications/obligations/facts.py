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
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    NonNegativeInt,
    PositiveFloat,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from notifications.obligations.regimes import (
    CODE_PATTERN,
    OWNER_ROLES,
    DataCategory,
    EntityType,
    Flag,
    ObligationRef,
    Risk,
    Role,
    TimeZoneName,
    same_place,
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
Place = Annotated[str, BeforeValidator(_upper), AfterValidator(_jurisdiction)]
"""A place of establishment: a jurisdiction code, upper-cased ("us-wi" is read as US-WI)."""


def place_in_country(place: str, country: str) -> bool:
    """Does `place` (US-WI, PR) lie in `country` (US)? A territory with two ISO codes counts
    as its subdivision code (`same_place`): PR lies in US, US-PR in PR."""
    return same_place(place).split("-")[0] == same_place(country).split("-")[0]


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Facts):
    """The notifying organisation: where it is established and what kind of entity it is.

    `targets` are internal targets in hours after the trigger, keyed "regime/obligation":
    they set the target of a without-undue-delay duty and pull a fixed one earlier.
    `roles` are what the organisation is toward the data in this incident (controller,
    processor, covered entity, business associate, data owner, service provider); none given
    means it decides about its own data: controller, covered entity and data owner
    (`acting_as`). `principal_place` is where its principal place of business is, to the
    subdivision (US-WI), in its `country`: where a law asks (Wis. Stat. 134.98(2)), it says
    where the organisation is established (`established`).
    """

    country: Annotated[str, AfterValidator(_country)]
    timezone: TimeZoneName
    flags: frozenset[Flag] = frozenset()
    entity_type: str | None = None
    targets: dict[ObligationRef, PositiveFloat] = {}
    roles: frozenset[Role] = frozenset()
    principal_place: Place | None = None

    @model_validator(mode="after")
    def _place_in_country(self) -> Organisation:
        if self.principal_place is not None and not place_in_country(self.principal_place,
                                                                     self.country):
            raise ValueError(f"principal_place {self.principal_place} is not in country "
                             f"{self.country}")
        return self

    @property
    def established(self) -> str:
        """Where the organisation is established, as precisely as known: its principal place of
        business (US-WI), else its country (US)."""
        return self.principal_place or self.country

    @property
    def acting_as(self) -> frozenset[Role]:
        """The roles the organisation acts in: those given, or the owner's when none are."""
        return self.roles or OWNER_ROLES


class LawEnforcementDelay(_Facts):
    """A law-enforcement agency's request to delay notice: who asked, when, whether in writing,
    the end it stated (`until`) and when it actually ended (`ended_at`: the agency said notice
    will no longer impede its investigation). With neither, the delay is open."""

    agency: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    requested_at: AwareDatetime
    written: bool = False
    until: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> LawEnforcementDelay:
        for name in ("until", "ended_at"):
            end = getattr(self, name)
            if end is not None and end < self.requested_at:
                raise ValueError(f"{name} lies before requested_at")
        return self

    @property
    def end(self) -> datetime | None:
        """When the delay ends: its actual end if known, else the end it stated, else None."""
        return self.ended_at or self.until


class Incident(_Facts):
    """The instants that start legal clocks, and the assessment that decides thresholds.

    The circumstances of the data, as recorded on the incident: `encrypted` (all affected
    data), `state_of_the_art` (the encryption met the standard the laws ask), `key_compromised`
    (the key or credentials were acquired too), `redacted`; `harm_not_likely` is a documented
    determination, made at `harm_determined_at`, that misuse or harm is not reasonably likely
    (`law_enforcement_consulted` and `inadvertent_disclosure` by authorised people, as some
    laws ask of it); `law_enforcement_delay` a request by law enforcement to delay notice;
    `owner_entity_types` what kind of entity the owners of the data are, where the organisation
    maintains it for others (O.C.G.A. 10-1-912(b)).
    """

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
    encrypted: bool = False
    state_of_the_art: bool = False
    key_compromised: bool = False
    redacted: bool = False
    harm_not_likely: bool = False
    harm_determined_at: AwareDatetime | None = None
    law_enforcement_consulted: bool = False
    inadvertent_disclosure: bool = False
    law_enforcement_delay: LawEnforcementDelay | None = None
    owner_entity_types: frozenset[EntityType] | None = None
    """The entity types of the owners on whose behalf the organisation maintains the affected
    data (an information broker, a public agency): None while not recorded."""

    @model_validator(mode="after")
    def _circumstances(self) -> Incident:
        if not self.encrypted and (self.state_of_the_art or self.key_compromised):
            raise ValueError("state_of_the_art and key_compromised describe encryption: "
                             "they need encrypted: true")
        if self.harm_not_likely and self.harm_determined_at is None:
            raise ValueError("harm_not_likely is a documented determination: give "
                             "harm_determined_at, when it was made")
        return self

    @property
    def in_clear(self) -> bool:
        """The data was intelligible to whoever took it: not encrypted, or its key was taken
        too, and not redacted."""
        return (not self.encrypted or self.key_compromised) and not self.redacted


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
