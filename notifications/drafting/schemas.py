"""Request and response shapes of notifications, their preview and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.schemas import Input, Instant
from notifications.drafting import sending
from notifications.drafting import service as drafts
from notifications.drafting.models import Notification


class DraftCreate(Input):
    obligation: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$", max_length=100)]


class DraftEdit(Input):
    fields: dict[Annotated[str, StringConstraints(max_length=40)],
                 Annotated[str, StringConstraints(max_length=20_000)]] = Field(max_length=20)
    version: Annotated[int, Field(ge=1)]


class SendOrder(Input):
    at: Instant | None = None
    """A scheduled send: nothing leaves before this instant."""


class Approval(Input):
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class NotificationPublic(BaseModel):
    id: int
    ref: str
    kind: str
    sequence: int
    status: str
    version: int
    content_hash: str
    fields: dict[str, Any]
    approved_hash: str | None
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    created_by: str
    sent_at: datetime | None
    finished_at: datetime | None
    recipients: int
    deliveries: dict[str, int]


class PreviewPublic(BaseModel):
    locale: str
    subject: str
    text: str
    html: str


async def notification_public(db: AsyncSession, notification: Notification) -> NotificationPublic:
    version = await drafts.current_version(db, notification)
    return NotificationPublic.model_validate({
        **notification.model_dump(), "fields": version.fields,
        "deliveries": await sending.state_counts(db, notification.id or 0)})


class AttemptPublic(BaseModel):
    at: datetime
    outcome: str
    reply: str | None
    worker: str


class DeliveryPublic(BaseModel):
    id: int
    recipient: str
    address: str | None
    locale: str
    message_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_reply: str | None
    log: list[AttemptPublic]
