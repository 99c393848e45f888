"""Frozen snapshots of who an incident affected, one row per person, sealed by a digest."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class AffectedSnapshot(SQLModel, table=True):
    """One computation of an incident's affected people, numbered per incident and frozen.

    Rows may only be added while the digest is empty; sealing it (in the same
    transaction as the rows) makes the snapshot immutable, which database
    triggers enforce.
    """

    __tablename__ = "affected_snapshots"
    __table_args__ = (UniqueConstraint("incident_id", "number", name="uq_affected_snapshot_number"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    number: int
    scope: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    computed_at: datetime
    computed_by: str = Field(max_length=300)
    total: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unmatched: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digest: str = Field(default="", max_length=64)


class AffectedSubject(SQLModel, table=True):
    """One affected person in a snapshot, as they were when it was computed.

    The subject id has no foreign key on purpose: erasing a person from the
    inventory later must not be blocked by, nor rewrite, past evidence. Nor has
    the snapshot id: rows are only ever inserted by the computation that creates
    their snapshot, in its transaction, and triggers refuse any later change; a
    per-row check would double the cost of a snapshot on PostgreSQL. External
    ids use code point order ("C" collation on PostgreSQL), the digest's order.
    """

    __tablename__ = "affected_subjects"
    __table_args__ = {"sqlite_with_rowid": False}

    snapshot_id: int = Field(sa_column=Column(Integer, primary_key=True))
    external_id: str = Field(sa_column=Column(
        String(200).with_variant(String(200, collation="C"), "postgresql"), primary_key=True))
    subject_id: int
    jurisdiction: str = Field(max_length=6)
    locale: str = Field(max_length=35)
    categories: int
    # Bit (id - 1) per system holding the exposed data, for systems with ids up to 62.
    systems: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
