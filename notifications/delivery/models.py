"""Messages as they left: those the embedded mail capture kept (used when no BREACH_SMTP_URL is
set), and the exact bytes of every message sent."""

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


class SentMessage(SQLModel, table=True):
    """The exact bytes of the message a delivery handed to the mail server when it was sent
    (zlib-compressed), with their SHA-256: what an auditor's evidence pack holds."""

    __tablename__ = "sent_messages"

    delivery_id: int = Field(primary_key=True, foreign_key="deliveries.id",
                             sa_column_kwargs={"autoincrement": False})
    at: datetime
    sha256: str = Field(max_length=64)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
