"""Request and response shapes at the HTTP and CLI edges (never table models)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from incident.auth import Role
from incident.checklist import StepState
from incident.lifecycle import BreachType, DataCategory, Kind, Status

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
SystemKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Count = Annotated[int, Field(ge=0, le=10_000_000_000)]
Instant = Annotated[AwareDatetime, AfterValidator(lambda at: at.astimezone(UTC))]
"""A time-zone-aware instant, kept in UTC whatever offset it was sent with."""


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class IncidentCreate(Input):
    title: Title
    description: LongText = ""
    kind: Kind
    breach_types: list[BreachType] = Field(default_factory=list, max_length=3)
    data_categories: list[DataCategory] = Field(default_factory=list, max_length=20)
    systems: list[SystemKey] = Field(default_factory=list, max_length=200)
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None
    detected_at: Instant
    aware_at: Instant
    estimated_subjects: Count | None = None
    estimated_records: Count | None = None
    lead: str | None = Field(default=None, max_length=254, description="e-mail of the lead responder")


class IncidentUpdate(Input):
    """Fields to change; those left out stay as they are."""

    title: Title | None = None
    description: LongText | None = None
    kind: Kind | None = None
    breach_types: list[BreachType] | None = Field(default=None, max_length=3)
    data_categories: list[DataCategory] | None = Field(default=None, max_length=20)
    systems: list[SystemKey] | None = Field(default=None, max_length=200)
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None
    detected_at: Instant | None = None
    aware_at: Instant | None = None
    estimated_subjects: Count | None = None
    estimated_records: Count | None = None
    lead: str | None = Field(default=None, max_length=254)


class StatusChange(Input):
    status: Status
    reason: Annotated[str, StringConstraints(max_length=5_000)] | None = None


class NoteCreate(Input):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class IncidentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    title: str
    description: str
    kind: Kind
    status: Status
    allowed_transitions: list[Status] = Field(default_factory=list)
    breach_types: list[BreachType]
    data_categories: list[DataCategory]
    systems: list[str]
    occurred_from: datetime | None
    occurred_to: datetime | None
    detected_at: datetime
    aware_at: datetime
    contained_at: datetime | None
    closed_at: datetime | None
    estimated_subjects: int | None
    estimated_records: int | None
    lead: str | None = None
    milestones: dict[str, str] | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class TimelineEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationPublic(BaseModel):
    chain: str
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime


class TokenCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once; only a hash is stored")


class RunbookAttach(Input):
    runbook: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class StepChange(Input):
    state: StepState
    reason: Annotated[str, StringConstraints(max_length=5_000)] | None = None
    version: int | None = Field(default=None, ge=1, description="the version you read; a "
                                "mismatch is a 409 instead of a lost update")


class StepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    runbook_id: str
    step_id: str
    position: int
    title: str
    phase: str
    role: str
    due: str
    due_at: datetime
    evidence_required: bool
    state: StepState
    reason: str | None
    changed_by: str | None
    changed_at: datetime | None
    version: int
    overdue: bool = False
    evidence: int = 0


class AttachedRunbookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    runbook_id: str
    version: int
    digest: str
    title: str = ""
    attached_at: datetime
    attached_by: str


class ChecklistPublic(BaseModel):
    runbooks: list[AttachedRunbookPublic]
    suggested: list[str]
    steps: list[StepPublic]
    progress: dict[str, dict[str, int]]
    overdue: int
    containment_complete: bool


class OverdueStepPublic(BaseModel):
    reference: str
    incident_id: uuid.UUID
    step: StepPublic


class EvidencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sha256: str
    filename: str
    content_type: str
    size: int
    description: str
    step: str | None = None
    uploaded_by: str
    uploaded_at: datetime


# --- data inventory and affected sets --------------------------------------------------------

InventoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
ScopeEntry = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class SystemSave(Input):
    name: Title
    data_categories: list[DataCategory] = Field(default_factory=list, max_length=20)


class SystemPublic(BaseModel):
    key: str
    name: str
    data_categories: list[DataCategory]
    subjects: int
    created_at: datetime
    updated_at: datetime


class Scope(Input):
    """Which holdings an incident exposed; every part left empty means "no restriction"."""

    systems: list[InventoryKey] = Field(default_factory=list, max_length=1_000)
    exposure_from: Instant | None = None
    exposure_to: Instant | None = None
    data_categories: list[DataCategory] = Field(default_factory=list, max_length=20)
    include: list[ScopeEntry] = Field(default_factory=list, max_length=1_000_000,
                                      description="external ids or e-mails affected whatever "
                                                  "their holdings")
    exclude: list[ScopeEntry] = Field(default_factory=list, max_length=1_000_000,
                                      description="external ids or e-mails never affected")

    def model_post_init(self, context: Any) -> None:
        if (self.exposure_from is not None and self.exposure_to is not None
                and self.exposure_from > self.exposure_to):
            raise ValueError("exposure_from is after exposure_to")


class AffectedSummary(BaseModel):
    snapshot: int
    total: int
    by_jurisdiction: dict[str, int]
    by_category: dict[str, int]
    by_system: dict[str, int]
    by_locale: dict[str, int]
    by_source: dict[str, int]
    unmatched: dict[str, int]
    digest: str
    computed_at: datetime
    computed_by: str
    scope: dict[str, Any]


class AffectedComputed(AffectedSummary):
    unmatched_entries: dict[str, list[str]]


class AffectedPerson(BaseModel):
    external_id: str
    email: str | None
    name: str | None
    jurisdiction: str
    locale: str
    categories: list[str]


class AffectedPage(BaseModel):
    snapshot: int
    total: int
    items: list[AffectedPerson]
    next_after: str | None
