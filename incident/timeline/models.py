"""The timeline's tables: append-only, hash-linked events per chain, and each chain's head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

ORGANISATION_CHAIN = "organisation"


"""Timeline chain for events that belong to no incident (users, tokens)."""


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
