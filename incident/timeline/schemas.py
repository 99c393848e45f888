"""Timeline events and chain verifications as the API and pages return them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from incident.timeline import service as journal
from incident.timeline.models import TimelineEvent


class TimelineEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationPublic(BaseModel):
    chain: str
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None


def event_public(event: TimelineEvent) -> TimelineEventPublic:
    return TimelineEventPublic(seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
                               payload=journal.payload_of(event), prev_hash=event.prev_hash,
                               hash=event.hash)
