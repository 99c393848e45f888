"""Messages as they left: those the embedded mail capture kept (used when no BREACH_SMTP_URL is
set), the exact bytes of every message sent, and how a person the message did not reach was
reached another way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
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


class OtherContact(SQLModel, table=True):
    """One attempt to reach, another way, a person a delivery did not reach (no address, a
    permanent failure, a hard bounce): a postal letter, a call, or a public communication
    where the law allows one (`basis`: the condition that held, with its citation).

    outcome "reached": the person counts as reached for every duty the delivery meets (for a
    public communication: those whose law allows it). "failed": the attempt is on record (a
    letter returned, nobody answered) and the person is still not reached.
    Rows recorded by one act (a batch of letters, one public communication) share `batch`.
    """

    __tablename__ = "other_contacts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True)
    channel: str = Field(max_length=10)
    outcome: str = Field(max_length=10)
    at: datetime
    """When it happened: the letter posted, the call made, the communication published."""
    recorded_at: datetime
    recorded_by: str = Field(max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    basis: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    batch: str = Field(max_length=40, index=True)
