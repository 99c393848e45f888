"""Messages the embedded mail capture kept (used when no BREACH_SMTP_URL is set)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel


class CapturedMessage(SQLModel, table=True):
    """A message kept by the embedded mail capture (no BREACH_SMTP_URL), shown in the Mailbox."""

    __tablename__ = "captured_messages"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=200, index=True)
    sender: str = Field(max_length=300)
    recipient: str = Field(max_length=300)
    subject: str = Field(default="", max_length=1000)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime
