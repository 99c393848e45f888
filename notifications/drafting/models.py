"""Notifications' tables: each notification, its versions (with content hashes), and one
delivery per recipient with every attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Notification(SQLModel, table=True):
    """One communication for one obligation: its drafts, the approval, then its deliveries.

    status: draft → approved → sending ⇄ paused → done. An edit makes a new version and
    voids any approval; sending needs an approval bound to the current version's hash.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("incident_id", "ref", "sequence", name="uq_notification"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID | None = Field(default=None, foreign_key="incidents.id", index=True)
    ref: str = Field(max_length=100)
    kind: str = Field(max_length=40)
    sequence: int = 1
    status: str = Field(default="draft", max_length=20, index=True)
    version: int = 1
    content_hash: str = Field(max_length=64)
    approved_hash: str | None = Field(default=None, max_length=64)
    approved_by: str | None = Field(default=None, max_length=300)
    approved_at: datetime | None = None
    snapshot_id: int | None = None
    recipients: int = 0
    covers: list[str] = Field(default_factory=list,
                              sa_column=Column(JSON, nullable=False, server_default="[]"))
    """The obligations owed to people its one letter per person meets (empty: `ref` alone)."""
    created_at: datetime
    created_by: str = Field(max_length=300)
    sent_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def refs(self) -> list[str]:
        """The obligations it meets: `covers`, or its own `ref` alone."""
        return list(self.covers) or [self.ref]

    def refs_met(self, meets: str) -> list[str]:
        """The obligations one of its letters meets for its recipient: the delivery's `meets`
        (comma-separated), or every one of `refs` when it names none."""
        return meets.split(",") if meets else self.refs


class NotificationVersion(SQLModel, table=True):
    """Every version of a draft's editable fields, with the hash an approval binds to."""

    __tablename__ = "notification_versions"
    __table_args__ = (UniqueConstraint("notification_id", "version", name="uq_notification_version"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id", index=True)
    version: int
    fields: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    created_at: datetime
    created_by: str = Field(max_length=300)


class Delivery(SQLModel, table=True):
    """One message to one recipient, in the outbox until it ends (sent or failed).

    state: pending → sending (claimed, with a lease) → sent | retry (at next_attempt_at) |
    failed (the server's verbatim reply) | in_doubt (the connection dropped after the
    message was handed over; resent with the same Message-ID).
    """

    __tablename__ = "deliveries"
    # Each index is written again whenever a delivery changes state (twice per message), so
    # there are only these: a notification's deliveries are found through the first two.
    __table_args__ = (UniqueConstraint("notification_id", "recipient_key", name="uq_delivery"),
                      # a notification's deliveries by state, counted from the index alone
                      Index("ix_deliveries_progress", "notification_id", "state"),
                      # the outbox's claims, oldest due first, read off the index in order
                      Index("ix_deliveries_due", "state", "next_attempt_at", "id"))

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id")
    recipient_key: str = Field(max_length=254)
    address: str | None = Field(default=None, max_length=254)
    name: str = Field(default="", max_length=200)
    locale: str = Field(default="en", max_length=35)
    categories: int = 0
    meets: str = Field(default="", max_length=1000)
    """The obligations this letter meets for its recipient, comma-separated: the laws that
    protect them among those the notification covers (empty: the notification's `ref`)."""
    message_id: str = Field(max_length=200)
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    leased_by: str | None = Field(default=None, max_length=100)
    last_reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = None
    ended_at: datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    """The delivery log auditors read: every attempt, its outcome and the server's reply."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True)
    at: datetime
    outcome: str = Field(max_length=20)
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    worker: str = Field(max_length=100)


class DeliveryTally(SQLModel, table=True):
    """How many of a notification's deliveries are in one state, kept with every change of a
    delivery's state in the same transaction (`tallies.py`): a notification's progress is
    read from a handful of rows, not counted over its deliveries while they are sent."""

    __tablename__ = "delivery_tallies"

    notification_id: int = Field(foreign_key="notifications.id", primary_key=True)
    state: str = Field(max_length=20, primary_key=True)
    count: int = 0


from notifications.drafting import tallies as _tallies  # noqa: E402,F401  (keeps the counts)


class DeliveryQueue(SQLModel, table=True):
    """A notice to people whose deliveries are still being written, a part at a time
    (`queuing.py`): what they are made from, and how far it got."""

    __tablename__ = "delivery_queues"

    notification_id: int = Field(foreign_key="notifications.id", primary_key=True)
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    after: str = Field(default="", max_length=200)
    """The snapshot key of the last person queued ("" before the first)."""
    remaining: int
    """People not queued yet."""
    created_at: datetime
