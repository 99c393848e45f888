"""Request and response shapes of runbooks on incidents, their steps and evidence."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from incident.containment.rules import STEP_REASON_LIMIT, StepState
from incident.kernel.schemas import Input, SingleLine, Version


class RunbookAttach(Input):
    runbook: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                       SingleLine]


class StepChange(Input):
    state: StepState
    reason: str | None = Field(default=None, json_schema_extra={"maxLength": STEP_REASON_LIMIT})
    version: Version | None = Field(default=None, description="the version you read; a "
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
    assignee: str | None = Field(default=None, description="e-mail of the person it is given to")
    guidance: str = Field(default="", description="how to do it, as the pinned runbook says")


class StepAssign(Input):
    """Give a step to a person (their e-mail), or to nobody (null or blank)."""

    assignee: str | None = Field(default=None, max_length=254)


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
