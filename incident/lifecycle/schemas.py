"""Request and response shapes of incidents (never table models), and the converter from rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import User
from incident.kernel.schemas import Count, Input, Instant, LongText, SystemKey, Title, Unique
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.circumstances import Circumstances
from incident.lifecycle.models import Incident
from incident.lifecycle.rules import BreachType, Kind, Status


class IncidentCreate(Input):
    title: Title
    description: LongText = ""
    kind: Kind
    breach_types: Annotated[list[BreachType], Unique] = Field(default_factory=list, max_length=3)
    data_categories: Annotated[list[DataCategory], Unique] = Field(default_factory=list, max_length=20)
    systems: Annotated[list[SystemKey], Unique] = Field(default_factory=list, max_length=200)
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
    breach_types: Annotated[list[BreachType], Unique] | None = Field(default=None, max_length=3)
    data_categories: Annotated[list[DataCategory], Unique] | None = Field(default=None, max_length=20)
    systems: Annotated[list[SystemKey], Unique] | None = Field(default=None, max_length=200)
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None
    detected_at: Instant | None = None
    aware_at: Instant | None = None
    estimated_subjects: Count | None = None
    estimated_records: Count | None = None
    lead: str | None = Field(default=None, max_length=254)


class StatusChange(Input):
    """A move; `reason` (required to dismiss, and to resolve or close while duties to notify
    are pending) is limited by the service, to REASON_LIMIT."""

    status: Status
    reason: str | None = Field(default=None,
                               json_schema_extra={"maxLength": lifecycle.REASON_LIMIT})
    at: Instant | None = Field(default=None, description="when it happened, for a move to "
                               "contained or closed (not in the future); default: now")


class NoteCreate(Input):
    """A note; the service refuses an empty one or one over NOTE_LIMIT characters (422)."""

    text: str = Field(json_schema_extra={"maxLength": lifecycle.NOTE_LIMIT})


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
    circumstances: Circumstances | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime


async def public(db: AsyncSession, incidents: Sequence[Incident]) -> list[IncidentPublic]:
    """Response shapes, with each lead's e-mail fetched in one query."""
    lead_ids = {i.lead_id for i in incidents if i.lead_id is not None}
    emails: dict[int, str] = {}
    if lead_ids:
        rows = await db.exec(select(User.id, User.email).where(col(User.id).in_(lead_ids)))
        emails = {row[0]: row[1] for row in rows if row[0] is not None}
    return [IncidentPublic.model_validate(incident).model_copy(update={
        "lead": emails.get(incident.lead_id) if incident.lead_id else None,
        "allowed_transitions": lifecycle.allowed_targets(Status(incident.status)),
    }) for incident in incidents]
