"""The bounce reports that came back: each one kept as evidence, with what was read in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

RAW_LIMIT = 1_048_576
"""The most bytes of a report's message kept (1 MiB): the headers and the delivery status,
which is what an auditor needs, fit many times over; the rest of a larger message (an
attachment returned in full) is cut off, and `size` says how large it was."""

DATA_LIMIT = 10 * 1_048_576
"""The largest bounce taken in, in bytes (a bounce may return the whole original message,
attachments included): the listener refuses a larger one (552), the poller reads this much."""


class BounceReport(SQLModel, table=True):
    """One bounce about one of our deliveries, as received (SMTP listener or IMAP mailbox).

    Only reports whose return path names a delivery under our key (and whose original
    Message-ID, when quoted, is that delivery's) are kept; anything else is dropped.
    kind: "hard" (undeliverable for good), "soft" (a temporary failure) or None (not
    understood: `parsed` is False and the delivery is left as it was).
    """

    __tablename__ = "bounce_reports"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime
    source: str = Field(max_length=10)
    delivery_id: int | None = Field(default=None, foreign_key="deliveries.id", index=True)
    kind: str | None = Field(default=None, max_length=10)
    status: str | None = Field(default=None, max_length=20)
    diagnostic: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parsed: bool = False
    size: int = 0
    """The message's full size in bytes (more than len(raw) when it was cut at RAW_LIMIT)."""
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
