"""Request and response shapes of the notifications side (never table models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from notifications.assessment import Recommendation
from notifications.regimes import Flag, ObligationRef, TimeZoneName

Instant = Annotated[AwareDatetime, AfterValidator(lambda at: at.astimezone(UTC))]
Justification = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=10_000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(Input):
    name: Line = ""
    email: Email | None = None
    phone: Line = ""
    address: Annotated[str, StringConstraints(max_length=1_000)] = ""


class Profile(Input):
    """The organisation profile: the facts about the notifier that decide which laws apply.

    `targets` are internal targets in hours after the trigger, keyed "regime/obligation";
    `authorities` are the addresses reports go to, keyed "regime/obligation" or a regime id.
    """

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    timezone: TimeZoneName
    flags: list[Flag] = Field(default_factory=list, max_length=20)
    entity_type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")] | None = None
    targets: dict[ObligationRef, Annotated[float, Field(gt=0, le=24 * 366)]] = Field(
        default_factory=dict, max_length=200)
    dpo: Contact = Contact()
    authorities: dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(/[a-z0-9-]+)?$")],
                      Contact] = Field(default_factory=dict, max_length=200)


class ProfilePublic(Profile):
    model_config = ConfigDict(extra="ignore")

    updated_at: datetime
    updated_by: str


class Override(Input):
    recommendation: Recommendation
    justification: Justification


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

    status: Literal["met", "waived", "pending"]
    at: Instant | None = None
    how: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000)] = ""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)] = ""


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
    status: str
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


class DraftCreate(Input):
    obligation: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$", max_length=100)]


class DraftEdit(Input):
    fields: dict[Annotated[str, StringConstraints(max_length=40)],
                 Annotated[str, StringConstraints(max_length=20_000)]] = Field(max_length=20)
    version: Annotated[int, Field(ge=1)]


class SendOrder(Input):
    at: Instant | None = None
    """A scheduled send: nothing leaves before this instant."""


class Approval(Input):
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class NotificationPublic(BaseModel):
    id: int
    ref: str
    kind: str
    sequence: int
    status: str
    version: int
    content_hash: str
    fields: dict[str, Any]
    approved_hash: str | None
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    created_by: str
    sent_at: datetime | None
    finished_at: datetime | None
    recipients: int
    deliveries: dict[str, int]


class PreviewPublic(BaseModel):
    locale: str
    subject: str
    text: str
    html: str


class AttemptPublic(BaseModel):
    at: datetime
    outcome: str
    reply: str | None
    worker: str


class DeliveryPublic(BaseModel):
    id: int
    recipient: str
    address: str | None
    locale: str
    message_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_reply: str | None
    log: list[AttemptPublic]
