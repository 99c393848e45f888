"""The reminders table: each reminder or escalation, keyed so that it fires exactly once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class Reminder(SQLModel, table=True):
    """One reminder or escalation: fires exactly once, whichever process ticks, whenever.

    `key` (what, kind, due time) is unique, so planning it again, from any process, adds
    nothing; firing claims it in the transaction that records it and queues its messages.
    state: due → fired | obsolete (its obligation was met or moved) | parked (a kind this
    version does not know, kept for a person to look at).
    """

    __tablename__ = "reminders"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=40)
    subject: str = Field(max_length=100)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    due_at: datetime = Field(index=True)
    state: str = Field(default="due", max_length=20, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fired_at: datetime | None = None
    lateness_seconds: float | None = None
    fired_by: str | None = Field(default=None, max_length=100)
    notification_id: int | None = None
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
