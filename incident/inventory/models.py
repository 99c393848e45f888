"""The data inventory's tables: systems, subjects (the people), and who is held in which system."""

from __future__ import annotations

from datetime import datetime

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
