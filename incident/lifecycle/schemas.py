"""Request and response shapes of incidents (never table models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from incident.kernel.schemas import Count, Input, Instant, LongText, SystemKey, Title
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle.rules import BreachType, Kind, Status


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
