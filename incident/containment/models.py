"""Containment's tables: runbooks pinned to incidents, their steps' states, and evidence
stored once per SHA-256."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class IncidentRunbook(SQLModel, table=True):
    """A runbook attached to an incident, pinned: its content as it was when attached."""

    __tablename__ = "incident_runbooks"
    __table_args__ = (UniqueConstraint("incident_id", "runbook_id", name="uq_incident_runbook"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    runbook_id: str = Field(max_length=64)
    version: int
    digest: str = Field(max_length=64)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    attached_at: datetime
    attached_by: str = Field(max_length=300)


class IncidentStep(SQLModel, table=True):
    """One runbook step on one incident: its due time, state, and who changed it last."""

    __tablename__ = "incident_steps"
    __table_args__ = (UniqueConstraint("incident_runbook_id", "step_id", name="uq_incident_step"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    incident_runbook_id: int = Field(foreign_key="incident_runbooks.id")
    runbook_id: str = Field(max_length=64)
    step_id: str = Field(max_length=64)
    position: int
    title: str = Field(max_length=300)
    reported_as: str | None = Field(default=None, max_length=300)
    phase: str = Field(max_length=20)
    role: str = Field(max_length=20)
    due: str = Field(max_length=20)
    due_at: datetime = Field(index=True)
    evidence_required: bool
    state: str = Field(max_length=20, index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_by: str | None = Field(default=None, max_length=300)
    changed_at: datetime | None = None
    version: int = 1
    assignee_id: int | None = Field(default=None, foreign_key="users.id")
    """The person the step is given to, if any (any role: the step's `role` says who may
    finish it)."""


class EvidenceBlob(SQLModel, table=True):
    """File contents, stored once by their SHA-256 whatever how often they are uploaded."""

    __tablename__ = "evidence_blobs"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Evidence(SQLModel, table=True):
    """One upload of a file to an incident, or to one of its steps."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    step_row_id: int | None = Field(default=None, foreign_key="incident_steps.id", index=True)
    sha256: str = Field(foreign_key="evidence_blobs.sha256", max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int
    description: str = Field(default="", max_length=2000)
    uploaded_by: str = Field(max_length=300)
    uploaded_at: datetime
