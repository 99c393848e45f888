"""Database tables. Request and response shapes live in schemas.py: never expose a table model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

ORGANISATION_CHAIN = "organisation"
"""Timeline chain for events that belong to no incident (users, tokens)."""


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(default="", max_length=200)
    must_change_password: bool = True
    active: bool = True
    created_at: datetime


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie's secret is stored."""

    __tablename__ = "web_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per e-mail address, known or not, so guessing is slowed for both."""

    __tablename__ = "login_throttle"

    email: str = Field(primary_key=True, max_length=254)
    failures: int = 0
    last_failure_at: datetime
    blocked_until: datetime | None = None


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
    estimated_subjects: int | None = None
    estimated_records: int | None = None
    lead_id: int | None = Field(default=None, foreign_key="users.id")
    scope: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Instants that start some legal clocks, recorded as they happen (ISO 8601 UTC by name):
    # breach_determined_at, classified_major_at, materiality_determined_at.
    milestones: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(index=True)
    updated_at: datetime


class TimelineHead(SQLModel, table=True):
    """The last link of each chain. Appends lock this row, so links never fork.

    It also lets verification notice a chain cut short at its end, which the
    links alone cannot show.
    """

    __tablename__ = "timeline_heads"

    chain: str = Field(primary_key=True, max_length=40)
    seq: int = 0
    hash: str = Field(max_length=64)


class TimelineEvent(SQLModel, table=True):
    """One append-only, hash-linked event. The payload is stored as the exact canonical JSON hashed."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_timeline_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=40, index=True)
    seq: int
    at: datetime
    actor: str = Field(max_length=300)
    kind: str = Field(max_length=60)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)



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
