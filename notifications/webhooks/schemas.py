"""Request and response shapes of the webhook API. The secret appears only in the answers
that made it (create, rotate), never in a listing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from incident.kernel.schemas import Input, SingleLine
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.rules import PING

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SingleLine]
EventName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]


class EndpointCreate(Input):
    url: Url
    """https, or http only to this machine (localhost, 127.0.0.1, ::1)."""
    events: list[EventName] = Field(min_length=1, max_length=20)
    """Event types: see `GET /api/v1/webhooks/events`."""
    description: Description = ""


class EndpointChange(Input):
    url: Url | None = None
    events: list[EventName] | None = Field(default=None, min_length=1, max_length=20)
    description: Description | None = None


class EndpointPublic(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    paused: bool
    rotating_until: datetime | None
    """While set, messages carry a second signature made with the previous secret."""
    created_at: datetime
    created_by: str
    pending: int = 0
    """Deliveries not yet sent nor given up."""


class EndpointCreated(EndpointPublic):
    secret: str
    """The signing secret (`whsec_…`), shown this once: keep it in the receiver."""


class DeliveryPublic(BaseModel):
    id: int
    message_id: str
    event_type: str
    """An event type, or `webhook.ping` for a test an admin sent."""
    incident: str | None
    """The incident's id; None for a test ping."""
    state: str
    """pending, sent, or failed (given up after the last retry)."""
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_status: int | None
    last_error: str | None


def endpoint_public(endpoint: WebhookEndpoint, *, now: datetime | None = None,
                    pending: int = 0) -> EndpointPublic:
    assert endpoint.id is not None
    rotating = endpoint.previous_until if endpoint.previous_secret and (
        now is None or endpoint.previous_until is None or endpoint.previous_until > now
    ) else None
    return EndpointPublic(id=endpoint.id, url=endpoint.url, description=endpoint.description,
                          events=json.loads(endpoint.events), paused=endpoint.paused,
                          rotating_until=rotating, created_at=endpoint.created_at,
                          created_by=endpoint.created_by, pending=pending)


def delivery_public(delivery: WebhookDelivery) -> DeliveryPublic:
    assert delivery.id is not None
    return DeliveryPublic(
        id=delivery.id, message_id=delivery.message_id, event_type=delivery.event_type,
        incident=None if delivery.event_type == PING else delivery.chain,
        state=delivery.state, attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.state == "pending" else None,
        created_at=delivery.created_at, sent_at=delivery.sent_at,
        last_status=delivery.last_status, last_error=delivery.last_error)
