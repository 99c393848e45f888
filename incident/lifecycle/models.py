"""The incidents table, and the per-year counter their references are numbered from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Text,
)
from sqlmodel import Field, SQLModel


class ReferenceCounter(SQLModel, table=True):
    """The last incident number handed out in a year; incremented under a row lock."""

    __tablename__ = "reference_counters"

    year: int = Field(primary_key=True)
    last: int = 0


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=20, unique=True, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    kind: str = Field(max_length=40, index=True)
    breach_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    systems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True)
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    detected_at: datetime
    aware_at: datetime = Field(index=True)
    contained_at: datetime | None = None
    closed_at: datetime | None = None
    estimated_subjects: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    estimated_records: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    lead_id: int | None = Field(default=None, foreign_key="users.id")
    scope: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Instants that start some legal clocks, recorded as they happen (ISO 8601 UTC by name):
    # breach_determined_at, classified_major_at, materiality_determined_at.
    milestones: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The facts the breach laws turn on (encryption and its key, redaction, a documented
    # risk-of-harm determination, a law-enforcement delay): lifecycle/circumstances.py's shape.
    circumstances: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Who the organisation is and whom it owes notice in this incident (set with the
    # obligations): {"roles": [...] or null, "counterparties": [ids], "clocks": [...]}.
    parties: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(index=True)
    updated_at: datetime
