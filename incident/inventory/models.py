"""The data inventory's tables: systems, subjects (the people), and who is held in which system."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    Text,
)
from sqlmodel import Field, SQLModel


class System(SQLModel, table=True):
    """A system of the data inventory (CRM, payroll…) and the categories it usually holds."""

    __tablename__ = "systems"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime


class Subject(SQLModel, table=True):
    """A person whose data the organisation holds, keyed by the organisation's own id."""

    __tablename__ = "subjects"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, unique=True, index=True)
    email: str | None = Field(default=None, max_length=254, index=True)
    name: str = Field(default="", max_length=200)
    locale: str | None = Field(default=None, max_length=35)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=6)
    postal_address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Where a letter reaches them, as lines separated by newlines (name excluded), for the
    people a notice by e-mail does not reach."""


class Holding(SQLModel, table=True):
    """What one system holds of one subject, and when.

    Categories are a bit mask (see incident.inventory.CATEGORY_BITS) and the
    times UTC epoch seconds, so the affected set is one set-based query on
    SQLite and PostgreSQL alike. A missing last_seen means still held.
    """

    __tablename__ = "holdings"
    __table_args__ = {"sqlite_with_rowid": False}

    subject_id: int = Field(sa_column=Column(Integer, ForeignKey("subjects.id"), primary_key=True))
    system_id: int = Field(sa_column=Column(Integer, ForeignKey("systems.id"), primary_key=True))
    categories: int
    first_seen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_seen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SubjectImport(SQLModel, table=True):
    """How an import started from the page ended: its counts and every rejected line with
    its reason, for the roles that may import, for a day (IMPORT_REPORT_DAYS in the service).

    The reasons may quote a rejected line's values, which are personal data: the timeline
    keeps only each import's counts, and this row goes when it expires."""

    __tablename__ = "subject_imports"

    id: str = Field(primary_key=True, max_length=32)
    """The id the import form carried (32 hex digits)."""
    started_by: str = Field(max_length=300)
    filename: str = Field(default="", max_length=300)
    system: str = Field(default="", max_length=64)
    strict: bool = False
    phase: str = Field(max_length=10)
    """done | refused"""
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The import's report (`ImportReport.to_json`), when it ran."""
    refusal: str = Field(default="", sa_column=Column(Text, nullable=False))
    errors: list[dict[str, Any]] = Field(default_factory=list,
                                         sa_column=Column(JSON, nullable=False))
    """A refused import's rejected lines (line, reason)."""
    ended_at: datetime
    expires_at: datetime = Field(index=True)
