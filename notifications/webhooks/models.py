"""The webhook tables: endpoints an admin registered, and one delivery per event per endpoint.

A delivery is written in the transaction of the timeline event that caused it, so an event
is either committed together with every delivery it owes or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class WebhookEndpoint(SQLModel, table=True):
    """Where events go: a URL, the events it wants, its signing secret(s), paused or not.

    During a rotation the previous secret keeps signing beside the new one (Standard
    Webhooks: several space-separated signatures) until `previous_until`.
    """

    __tablename__ = "webhook_endpoints"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    events: str = Field(sa_column=Column(Text, nullable=False))
    """The event types subscribed, as a JSON list."""
    secret: str = Field(max_length=300)
    """Sealed under BREACH_SECRET_KEY (see rules.seal)."""
    previous_secret: str | None = Field(default=None, max_length=300)
    previous_until: datetime | None = None
    paused: bool = False
    created_at: datetime
    created_by: str = Field(max_length=300)


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint: pending → sent | failed (given up), with its attempts.

    Sent in order per endpoint and incident (`chain`): a delivery waits while an earlier
    one of the same endpoint and chain is still pending.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
                      Index("ix_webhook_deliveries_order", "endpoint_id", "chain", "id"))

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id", index=True)
    message_id: str = Field(max_length=60, unique=True)
    """The `webhook-id` header: the same on every attempt, so a receiver can drop repeats."""
    event_type: str = Field(max_length=60)
    chain: str = Field(max_length=40)
    seq: int
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """The body exactly as signed and sent (JSON)."""
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
