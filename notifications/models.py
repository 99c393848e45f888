"""Tables of the notifications side: the organisation profile, assessments and obligations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

PROFILE_ID = 1


class OrganisationProfile(SQLModel, table=True):
    """The one notifying organisation: where it is established, what it is, whom to contact.

    A single row (id 1), edited by admins; every obligation is derived from it.
    """

    __tablename__ = "organisation_profile"

    id: int = Field(default=PROFILE_ID, primary_key=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    timezone: str = Field(max_length=64)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    entity_type: str | None = Field(default=None, max_length=64)
    targets: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dpo: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    authorities: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                   sa_column=Column(JSON, nullable=False))
    updated_at: datetime
    updated_by: str = Field(max_length=300)


class IncidentAssessment(SQLModel, table=True):
    """One risk assessment of an incident (numbered), and an approver's override of it."""

    __tablename__ = "incident_assessments"
    __table_args__ = (UniqueConstraint("incident_id", "number", name="uq_assessment_number"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    number: int
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recommendation: str = Field(max_length=40)
    assessed_at: datetime
    assessed_by: str = Field(max_length=300)
    override: str | None = Field(default=None, max_length=40)
    override_justification: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    overridden_at: datetime | None = None
    overridden_by: str | None = Field(default=None, max_length=300)

    @property
    def decided(self) -> str:
        """The recommendation in force: the override when there is one."""
        return self.override or self.recommendation


class IncidentObligation(SQLModel, table=True):
    """One duty to notify for one incident, as last computed, with what was done about it.

    The computed part (applies, due and target times, basis) is replaced on every
    recomputation; the status part (met, late, waived) is what people recorded.
    """

    __tablename__ = "incident_obligations"
    __table_args__ = (UniqueConstraint("incident_id", "ref", name="uq_incident_obligation"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
    ref: str = Field(max_length=100)
    regime: str = Field(max_length=40)
    obligation: str = Field(max_length=60)
    recipient: str = Field(max_length=40)
    recipient_name: str = Field(max_length=300)
    phase: str | None = Field(default=None, max_length=20)
    applies: bool = True
    due_at: datetime | None = Field(default=None, index=True)
    target_at: datetime | None = None
    computed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    computed_at: datetime
    status: str = Field(default="pending", max_length=20, index=True)
    met_at: datetime | None = None
    how: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    late_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    waiver: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status_by: str | None = Field(default=None, max_length=300)
    status_at: datetime | None = None


class Notification(SQLModel, table=True):
    """One communication for one obligation: its drafts, the approval, then its deliveries.

    status: draft → approved → sending ⇄ paused → done. An edit makes a new version and
    voids any approval; sending needs an approval bound to the current version's hash.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("incident_id", "ref", "sequence", name="uq_notification"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True)
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
    created_at: datetime
    created_by: str = Field(max_length=300)
    sent_at: datetime | None = None
    finished_at: datetime | None = None


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
    __table_args__ = (UniqueConstraint("notification_id", "recipient_key", name="uq_delivery"),
                      Index("ix_deliveries_due", "state", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id", index=True)
    recipient_key: str = Field(max_length=254)
    address: str | None = Field(default=None, max_length=254)
    name: str = Field(default="", max_length=200)
    locale: str = Field(default="en", max_length=35)
    categories: int = 0
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


class SchedulerLease(SQLModel, table=True):
    """Who ticks on SQLite, where only one process may: renewed every tick, taken over when
    it runs out. (On PostgreSQL every process ticks and the rows decide.)"""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=100)
    expires_at: datetime
