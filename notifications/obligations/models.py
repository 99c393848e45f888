"""Obligations' tables: the organisation profile, recorded assessments, and each incident's
duties to notify with their status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
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
    principal_place: str | None = Field(default=None, max_length=6)
    """Where its principal place of business is, to the subdivision (US-WI), in `country`."""
    targets: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dpo: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    authorities: dict[str, dict[str, str]] = Field(default_factory=dict,
                                                   sa_column=Column(JSON, nullable=False))
    sender: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """The name and address notices come from, and where replies go (see schemas.Sender)."""
    language: str = Field(default="en", max_length=35)
    """The organisation's own language: notices fall back to it."""
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """What the organisation usually is toward the data (controller, processor, ...); an
    incident may say otherwise (`Incident.parties`)."""
    counterparties: list[dict[str, Any]] = Field(default_factory=list,
                                                 sa_column=Column(JSON, nullable=False))
    """The parties whose data it holds or processes, each with its contractual clock (see
    schemas.Counterparty and contracts.py)."""
    updated_at: datetime
    updated_by: str = Field(max_length=300)


class IncidentAssessment(SQLModel, table=True):
    """One risk assessment of an incident (numbered), an approver's override of it, and an
    approver's confirmation when it would end a duty."""

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
    pending: bool = False
    """Awaits an approver's confirmation: it would end the duties in `ends`, which apply
    under the assessment in force; until confirmed, that one stays in force."""
    ends: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confirmed_at: datetime | None = None
    confirmed_by: str | None = Field(default=None, max_length=300)

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
    met_by: int | None = None
    """The notification whose letters met it (when the outbox found every person reached):
    a person found unreached later (a hard bounce) reopens it."""
