"""Request and response shapes of the organisation profile, assessments and obligations, and
the converters from their rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from incident.kernel.schemas import (
    Documented,
    Email,
    Input,
    Instant,
    Line,
    MultiLine,
    Title,
    Unique,
    real_number,
)
from incident.kernel.text import WHITE_SPACE_CLASS
from notifications.obligations import rules
from notifications.obligations.assessment import Recommendation
from notifications.obligations.contracts import CounterpartyRole
from notifications.obligations.facts import Place, place_in_country
from notifications.obligations.models import IncidentAssessment, IncidentObligation, OrganisationProfile
from notifications.obligations.regimes import (
    OBLIGATION_REF_PATTERN,
    Flag,
    ObligationRef,
    Role,
    TimeZoneName,
    TriggerName,
)

AUTHORITY_KEY_PATTERN = r"^[a-z0-9-]+(/[a-z0-9-]+)?$"
"""An authority's key: a regime ("gdpr") or one of its obligations ("gdpr/authority")."""


LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LanguageTag = Annotated[str, StringConstraints(max_length=35, pattern=LANGUAGE_PATTERN)]
"""A BCP 47 language tag: `de`, `de-AT`, `pt-BR`, `zh-Hans`."""

WebAddress = Annotated[str, StringConstraints(
    max_length=300, pattern=f"^https?://[^{WHITE_SPACE_CLASS}\\u0000-\\u001f\\u007f]+$")]


class Contact(Input):
    name: Line = ""
    email: Email | None = None
    phone: Line = ""
    address: Annotated[str, StringConstraints(max_length=1_000), MultiLine] = ""
    website: WebAddress | None = None
    """An authority's web address: notices to people name it as where to complain."""
    language: LanguageTag | None = None
    """An authority's language: its reports are written in it."""


class Sender(Input):
    """Who notices and reports come from: the organisation's own name and address (the
    service's address stays the envelope sender), and where replies go."""

    name: Line = ""
    """Shown as the sender; the organisation's name when empty."""
    email: Email | None = None
    reply_to: Email | None = None
    """Where a person's reply goes; the DPO's address when empty."""


COUNTERPARTY_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CounterpartyId = Annotated[str, StringConstraints(min_length=1, max_length=40,
                                                  pattern=COUNTERPARTY_ID_PATTERN)]
"""A counterparty's id: lower-case letters, digits and single hyphens (`acme-health`); its
clock is the obligation `contract/<id>`."""


def repeated_ids(items: list[Counterparty], field: str) -> list[tuple[str, str]]:
    """Each counterparty whose id an earlier one uses already, as (field, message); the
    service refuses them (ids name the duties `contract/<id>`)."""
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append((f"{field}.{i}.id", f"counterparty id {item.id!r} appears twice"))
        seen.add(item.id)
    return problems


class Counterparty(Input):
    """A party whose data the organisation holds or processes, and the contract's clock to tell
    it of a breach: `hours` elapsed hours after `trigger` (aware_at, discovered_at, ...), as
    the clause `contract` says ("DPA s. 7.2")."""

    id: CounterpartyId
    name: Title
    role: CounterpartyRole
    """What the counterparty is toward the organisation: controller, covered_entity,
    data_owner, customer, ..."""
    email: Email | None = None
    hours: Annotated[int, Field(ge=1, le=24 * 366), BeforeValidator(real_number)]
    trigger: TriggerName = "aware_at"
    contract: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=200)]
    url: WebAddress | None = None
    """Where the contract can be read (the document store); the profile otherwise."""
    note: Line = ""


Counterparties = Annotated[list[Counterparty], Field(max_length=200)]


class Profile(Input):
    """The organisation profile: the facts about the notifier that decide which laws apply.

    `targets` are internal targets in hours after the trigger, keyed "regime/obligation";
    `authorities` are the addresses reports go to, keyed "regime/obligation" or a regime id.
    """

    name: Title
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    timezone: TimeZoneName
    flags: Annotated[list[Flag], Unique] = Field(default_factory=list, max_length=20)
    entity_type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")] | None = None
    principal_place: Annotated[Place, Documented(
        {"pattern": "^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$"})] | None = None
    """Where the principal place of business is, to the subdivision (ISO 3166-2: US-WI), in
    `country`; upper-cased. Laws that bind by establishment in a subdivision read it (Wis.
    Stat. 134.98(2)(a)); none: the country alone."""
    targets: Annotated[
        dict[ObligationRef, Annotated[float, Field(gt=0, le=24 * 366), BeforeValidator(real_number)]],
        Documented({"propertyNames": {"pattern": OBLIGATION_REF_PATTERN}})] = Field(
        default_factory=dict, max_length=200)
    dpo: Contact = Contact()
    authorities: Annotated[
        dict[Annotated[str, StringConstraints(pattern=AUTHORITY_KEY_PATTERN)], Contact],
        Documented({"propertyNames": {"pattern": AUTHORITY_KEY_PATTERN}, "additionalProperties": False})
    ] = Field(default_factory=dict, max_length=200)
    sender: Sender = Sender()
    language: LanguageTag = "en"
    """The organisation's own language: what a notice falls back to for a recipient whose
    language has no template."""
    roles: Annotated[list[Role], Unique] = Field(default_factory=list, max_length=6)
    """What the organisation usually is toward the data it holds (controller, processor, ...);
    an incident may say otherwise. None: controller, covered entity and data owner."""
    counterparties: Counterparties = Field(default_factory=list)

    @field_validator("principal_place")
    @classmethod
    def _place_in_country(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if value is not None and country is not None and not place_in_country(value, country):
            raise ValueError(f"{value} is not in {country}, the profile's country: give a "
                             f"region of {country} (ISO 3166-2, as US-WI in US), or none")
        return value


class ContactPublic(BaseModel):
    name: str = ""
    email: str | None = None
    phone: str = ""
    address: str = ""
    website: str | None = None
    language: str | None = None


class SenderPublic(BaseModel):
    name: str = ""
    email: str | None = None
    reply_to: str | None = None


class ProfilePublic(BaseModel):
    """The profile as stored: shown as it is, never validated again (a row written before a
    check existed must still be readable, to be corrected)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    country: str
    timezone: str
    flags: list[str]
    entity_type: str | None
    principal_place: str | None = None
    targets: dict[str, float]
    dpo: ContactPublic
    authorities: dict[str, ContactPublic]
    sender: SenderPublic = SenderPublic()
    language: str = "en"
    roles: list[str] = []
    counterparties: list[dict[str, Any]] = []
    updated_at: datetime
    updated_by: str


class Override(Input):
    """An approver's recommendation in place of the computed one; the service checks the
    justification (JUSTIFICATION_MINIMUM to REASON_LIMIT characters)."""

    recommendation: Recommendation
    justification: str = Field(json_schema_extra={"minLength": rules.JUSTIFICATION_MINIMUM,
                                                  "maxLength": rules.REASON_LIMIT})


class AssessmentPublic(BaseModel):
    number: int
    facts: dict[str, Any]
    result: dict[str, Any]
    recommendation: str
    override: str | None
    override_justification: str | None
    decided: str
    assessed_at: datetime
    assessed_by: str
    overridden_at: datetime | None
    overridden_by: str | None
    pending: bool = False
    """Awaits an approver's confirmation: it would end the duties in `ends`; until then the
    assessment before it stays in force."""
    ends: list[str] = []
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


class Milestones(Input):
    """Instants, as they happen, that start the clocks of some regimes."""

    breach_determined_at: Instant | None = None
    classified_major_at: Instant | None = None
    materiality_determined_at: Instant | None = None


class Parties(Input):
    """Who the organisation is and whom it owes notice in one incident: `roles` in place of the
    profile's (null: the profile's), the ids of the profile's `counterparties` whose data the
    incident involves, and `clocks` of this incident only (a counterparty not in the profile)."""

    roles: Annotated[list[Role], Unique, Field(min_length=1, max_length=6)] | None = None
    counterparties: Annotated[list[CounterpartyId], Unique] = Field(default_factory=list,
                                                                    max_length=200)
    clocks: Counterparties = Field(default_factory=list)


class PartiesPublic(BaseModel):
    """An incident's parties as recorded, and the roles its obligations are computed with."""

    roles: list[str] | None
    counterparties: list[str]
    clocks: list[dict[str, Any]]
    acting_as: list[str]
    """The roles in force: the incident's, else the profile's, else the owner's."""
    assumed: bool
    """No role is recorded anywhere: the owner's roles are assumed."""


class ObligationChange(Input):
    """What people record about an obligation.

    met: fulfilled at `at` (default now) — `how` says how (portal and its receipt number,
    letter, e-mail); after the due time it is recorded as late and `reason` (the reasons
    for the delay, GDPR Art. 33(1)) is required. waived: `reason` justifies why the duty
    does not arise after all. pending: reopens a mistaken record (`reason` required).
    """

    status: Literal[rules.ObligationStatus.MET, rules.ObligationStatus.WAIVED,
                    rules.ObligationStatus.PENDING]
    at: Instant | None = None
    how: str = Field(default="", json_schema_extra={"maxLength": rules.HOW_LIMIT})
    reason: str = Field(default="", json_schema_extra={"maxLength": rules.REASON_LIMIT})


class AuthorityPublic(BaseModel):
    """Who takes a report to an authority or regulator, and how, as the regime catalogue
    states it: the body's name, postal address and website, how reports are filed (a portal,
    a form, an e-mail address), where that was read (`source`) and when (`reviewed`). The
    organisation profile's `authorities` name the contact a report is actually sent to."""

    name: str
    address: str
    website: str
    filing: str
    email: str | None = None
    phone: str | None = None
    source: str
    reviewed: date


class ObligationPublic(BaseModel):
    ref: str
    regime: str
    obligation: str
    recipient: str
    recipient_name: str
    phase: str | None
    applies: bool
    due_at: datetime | None
    target_at: datetime | None
    overdue: bool
    seconds_left: int | None
    status: rules.ObligationStatus
    met_at: datetime | None
    how: str | None
    late_reason: str | None
    waiver: str | None
    status_by: str | None
    status_at: datetime | None
    trigger: dict[str, Any] | None
    rule: dict[str, Any]
    basis: dict[str, Any] | None
    why: list[str]
    content: list[str]
    assumed: bool = False
    """The due time counts from awareness until the trigger is recorded (see `basis.notes`)."""
    confidence: str | None = None
    """How sure our reading of this duty is: high, medium or low."""
    reviewed: date | None = None
    """When this duty's sources were last checked."""
    authority: AuthorityPublic | None = None
    """For a report to an authority or regulator that applies: who takes it and how, as the
    regime catalogue states it (null where the catalogue names none)."""


class ObligationsPublic(BaseModel):
    computed_at: datetime | None
    assumptions: list[str]
    problems: list[str]
    obligations: list[ObligationPublic]


def profile_public(profile: OrganisationProfile) -> ProfilePublic:
    return ProfilePublic.model_validate(profile.model_dump())


def assessment_public(row: IncidentAssessment) -> AssessmentPublic:
    return AssessmentPublic.model_validate({**row.model_dump(), "decided": row.decided})


def obligation_public(row: IncidentObligation, now: datetime) -> ObligationPublic:
    computed, status = row.computed, rules.ObligationStatus(row.status)
    return ObligationPublic(
        ref=row.ref, regime=row.regime, obligation=row.obligation, recipient=row.recipient,
        recipient_name=row.recipient_name, phase=row.phase, applies=row.applies,
        due_at=row.due_at, target_at=row.target_at,
        overdue=rules.is_overdue(status, applies=row.applies, due_at=row.due_at, now=now),
        seconds_left=rules.seconds_left(status, row.due_at, now),
        status=status, met_at=row.met_at, how=row.how, late_reason=row.late_reason,
        waiver=row.waiver, status_by=row.status_by, status_at=row.status_at,
        trigger=computed.get("trigger"), rule=computed.get("rule") or {},
        basis=computed.get("basis"), why=list(computed.get("why") or []),
        content=list(computed.get("content") or []), assumed=bool(computed.get("assumed")),
        confidence=computed.get("confidence"), reviewed=computed.get("reviewed"),
        authority=computed.get("authority") if row.applies else None)


def obligations_public(rows: Sequence[IncidentObligation], assumptions: list[str],
                       problems: list[str], now: datetime) -> ObligationsPublic:
    """An incident's obligations as the API and the page's script read them."""
    return ObligationsPublic(computed_at=max((r.computed_at for r in rows), default=None),
                             assumptions=assumptions, problems=problems,
                             obligations=[obligation_public(r, now) for r in rows])
