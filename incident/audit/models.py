"""The audit's table: the signed checkpoints, also kept in a log outside the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class AuditCheckpoint(SQLModel, table=True):
    """One signed checkpoint of every chain's head, as made (its body is the exact text signed).

    The copy that counts is the log outside the database; this one lets the pages list them.
    """

    __tablename__ = "audit_checkpoints"

    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    body: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)
    signature: str = Field(max_length=200)
    key: str = Field(max_length=16)
    last_event_id: int = 0
