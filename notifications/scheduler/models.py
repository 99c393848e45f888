"""The lease that decides which process ticks on an SQLite database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class SchedulerLease(SQLModel, table=True):
    """Who ticks on SQLite, where only one process may: renewed every tick, taken over when
    it runs out. (On PostgreSQL every process ticks and the rows decide.)"""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=100)
    expires_at: datetime
