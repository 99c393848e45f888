"""Request and response shapes of the organisation profile, assessments and obligations, and
the converters from their rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

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
from notifications.obligations.models import IncidentAssessment, IncidentObligation, OrganisationProfile
from notifications.obligations.regimes import OBLIGATION_REF_PATTERN, Flag, ObligationRef, TimeZoneName

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
    targets: dict[str, float]
    dpo: ContactPublic
    authorities: dict[str, ContactPublic]
    sender: SenderPublic = SenderPublic()
    language: str = "en"
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


class Milestones(Input):
    """Instants, as they happen, that start the clocks of some regimes."""

    breach_determined_at: Instant | None = None
    classified_major_at: Instant | None = None
    materiality_determined_at: Instant | None = None


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
        content=list(computed.get("content") or []))


def obligations_public(rows: Sequence[IncidentObligation], assumptions: list[str],
                       problems: list[str], now: datetime) -> ObligationsPublic:
    """An incident's obligations as the API and the page's script read them."""
    return ObligationsPublic(computed_at=max((r.computed_at for r in rows), default=None),
                             assumptions=assumptions, problems=problems,
                             obligations=[obligation_public(r, now) for r in rows])
