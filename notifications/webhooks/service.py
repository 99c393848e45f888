"""Webhook use cases: endpoints managed by admins, and deliveries queued with their events.

`queue_for_event` is the `timeline.appended` hook: it runs inside the transaction that
appends a timeline event, so the deliveries an event owes are committed with it or not at
all. Endpoint changes are on the organisation's timeline (never with the secret).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, NotFound
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from incident.timeline.models import ORGANISATION_CHAIN, TimelineEvent
from notifications.webhooks import rules
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.sender import LEASE, WebhookSender, claimed_from

MANAGE = Permission.MANAGE_ORGANISATION
"""Only admins hold it: endpoints carry secrets and send data out of the organisation."""


# --- the hook ------------------------------------------------------------------------------


async def queue_for_event(db: AsyncSession, event: TimelineEvent) -> None:
    """One pending delivery per endpoint subscribed to the event this timeline event is."""
    payload = journal.payload_of(event)
    kind = rules.event_type(event.kind, payload)
    if kind is None:
        return
    endpoints = [e for e in (await db.exec(select(WebhookEndpoint))).all()
                 if kind.value in json.loads(e.events)]
    if not endpoints:
        return
    incident: dict[str, Any] = {"id": event.chain}
    try:
        found = await db.get(Incident, uuid.UUID(event.chain))
    except ValueError:
        found = None
    if found is not None:
        incident.update(reference=found.reference, status=found.status)
    data = rules.event_data(event.kind, payload)
    for endpoint in endpoints:
        message_id = f"msg_{uuid.uuid4().hex}"
        assert endpoint.id is not None
        db.add(WebhookDelivery(
            endpoint_id=endpoint.id, message_id=message_id, event_type=kind.value,
            chain=event.chain, seq=event.seq, state="pending", next_attempt_at=event.at,
            created_at=event.at,
            payload=rules.body(message_id=message_id, event=kind, at=event.at,
                               incident=incident, data=data, seq=event.seq)))
    await db.flush()


# --- endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str
    """Shown once: to the admin who created or rotated it."""


async def _log(db: AsyncSession, actor: Actor, now: datetime, kind: str,
               endpoint: WebhookEndpoint, **more: Any) -> None:
    # Only the host: a chat service's incoming-webhook URL is itself a secret in its path.
    await journal.append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor, kind=kind,
                               payload={"endpoint": endpoint.id,
                                        "host": urlsplit(endpoint.url).hostname, **more})


async def list_endpoints(db: AsyncSession, *, actor: Actor) -> list[WebhookEndpoint]:
    auth.require(actor, MANAGE)
    return list((await db.exec(select(WebhookEndpoint).order_by(
        col(WebhookEndpoint.id)))).all())


async def get_endpoint(db: AsyncSession, *, actor: Actor, endpoint_id: int,
                       for_update: bool = False) -> WebhookEndpoint:
    auth.require(actor, MANAGE)
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if for_update:
        query = query.with_for_update()
    found = (await db.exec(query)).one_or_none()
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return found


async def create_endpoint(db: AsyncSession, *, actor: Actor, clock: Clock, key: str, url: str,
                          events: list[str], description: str = "") -> Created:
    """A new endpoint; `key` (BREACH_SECRET_KEY) seals its secret at rest."""
    auth.require(actor, MANAGE)
    checked_url, chosen = rules.check_url(url), rules.check_events(events)
    now, secret = clock.now(), rules.new_secret()
    async with transaction(db):
        endpoint = WebhookEndpoint(url=checked_url, description=description.strip()[:200],
                                   events=json.dumps(chosen), secret=rules.seal(secret, key),
                                   created_at=now,
                                   created_by=actor.label)
        db.add(endpoint)
        await db.flush()
        await _log(db, actor, now, "webhook_endpoint_created", endpoint, events=chosen)
    return Created(endpoint, secret)


async def update_endpoint(db: AsyncSession, *, actor: Actor, clock: Clock, endpoint_id: int,
                          url: str | None = None, events: list[str] | None = None,
                          description: str | None = None) -> WebhookEndpoint:
    auth.require(actor, MANAGE)
    checked_url = rules.check_url(url) if url is not None else None
    chosen = rules.check_events(events) if events is not None else None
    now = clock.now()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id, for_update=True)
        changes: dict[str, Any] = {}
        if checked_url is not None and checked_url != endpoint.url:
            changes["host_was"] = urlsplit(endpoint.url).hostname
            endpoint.url = checked_url
        if chosen is not None and chosen != json.loads(endpoint.events):
            endpoint.events, changes["events"] = json.dumps(chosen), chosen
        if description is not None:
            endpoint.description = description.strip()[:200]
        db.add(endpoint)
        await _log(db, actor, now, "webhook_endpoint_changed", endpoint, **changes)
    return endpoint


async def rotate_secret(db: AsyncSession, *, actor: Actor, clock: Clock, key: str,
                        endpoint_id: int) -> Created:
    """A new secret; the previous one keeps signing beside it for `ROTATION_OVERLAP`."""
    auth.require(actor, MANAGE)
    now, secret = clock.now(), rules.new_secret()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id, for_update=True)
        endpoint.previous_secret, endpoint.secret = endpoint.secret, rules.seal(secret, key)
        endpoint.previous_until = now + rules.ROTATION_OVERLAP
        db.add(endpoint)
        await _log(db, actor, now, "webhook_secret_rotated", endpoint,
                   previous_until=endpoint.previous_until.isoformat())
    return Created(endpoint, secret)


async def set_paused(db: AsyncSession, *, actor: Actor, clock: Clock, endpoint_id: int,
                     paused: bool) -> WebhookEndpoint:
    """Paused: events are still queued, none sent; resumed: they go out in order."""
    auth.require(actor, MANAGE)
    now = clock.now()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id, for_update=True)
        if endpoint.paused != paused:
            endpoint.paused = paused
            db.add(endpoint)
            await _log(db, actor, now, "webhook_endpoint_paused" if paused
                       else "webhook_endpoint_resumed", endpoint)
    return endpoint


async def delete_endpoint(db: AsyncSession, *, actor: Actor, clock: Clock,
                          endpoint_id: int) -> None:
    """The endpoint and its delivery log go; the timeline keeps that it existed."""
    auth.require(actor, MANAGE)
    now = clock.now()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id, for_update=True)
        for delivery in (await db.exec(select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == endpoint_id))).all():
            await db.delete(delivery)
        await _log(db, actor, now, "webhook_endpoint_removed", endpoint)
        await db.delete(endpoint)


async def deliveries(db: AsyncSession, *, actor: Actor, endpoint_id: int, limit: int = 50,
                     offset: int = 0) -> tuple[list[WebhookDelivery], int]:
    """The endpoint's delivery log, newest first, and how many there are."""
    await get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    where = WebhookDelivery.endpoint_id == endpoint_id
    rows = (await db.exec(select(WebhookDelivery).where(where).order_by(
        col(WebhookDelivery.id).desc()).limit(limit).offset(offset))).all()
    total = (await db.exec(select(func.count()).select_from(WebhookDelivery).where(
        where))).one()
    return list(rows), int(total)


async def resend(db: AsyncSession, *, actor: Actor, clock: Clock, endpoint_id: int,
                 delivery_id: int) -> WebhookDelivery:
    """Send a delivery again: one given up goes back to the queue with a fresh retry schedule,
    one waiting on the backoff after failed attempts is due now. It keeps its `webhook-id`
    (a receiver that did get it drops the repeat) and its place: as the oldest unsent event
    of its incident, it goes before the later ones not yet sent (those sent meanwhile are
    not sent again; its `seq` tells the receiver where it belongs)."""
    auth.require(actor, MANAGE)
    now = clock.now()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                              WebhookDelivery.endpoint_id == endpoint_id)
        delivery = (await db.exec(query.with_for_update())).one_or_none()
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id} to webhook endpoint {endpoint_id}")
        in_flight = delivery.lease_until is not None and delivery.lease_until > now
        refusal = rules.resend_refusal(state=delivery.state, attempts=delivery.attempts,
                                       in_flight=in_flight, paused=endpoint.paused)
        if refusal is not None:
            raise Conflict(f"delivery {delivery_id} cannot be resent: {refusal}")
        was, attempts = delivery.state, delivery.attempts
        if was == "failed":
            delivery.state, delivery.attempts = "pending", 0
        delivery.next_attempt_at, delivery.lease_until = now, None
        db.add(delivery)
        await _log(db, actor, now, "webhook_delivery_resent", endpoint, delivery=delivery_id,
                   event=delivery.event_type, state_was=was, attempts=attempts)
    return delivery


async def ping(db: AsyncSession, *, actor: Actor, clock: Clock, key: str,
               endpoint_id: int) -> WebhookDelivery:
    """Send a test event to an endpoint now (paused or not) and wait for its answer: a
    delivery of its own in the endpoint's log, tried once. It is written, claimed, before
    it is posted, so a crash meanwhile leaves it to the sender, never lost or invented."""
    auth.require(actor, MANAGE)
    now = clock.now()
    async with transaction(db):
        endpoint = await get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        assert endpoint.id is not None
        message_id = f"msg_{uuid.uuid4().hex}"
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id, message_id=message_id, event_type=rules.PING,
            chain=rules.PING_CHAIN, seq=0, state="pending", attempts=1,
            next_attempt_at=now, lease_until=now + LEASE, created_at=now,
            payload=rules.ping_body(message_id=message_id, at=now, endpoint_id=endpoint.id))
        db.add(delivery)
        await db.flush()
        await _log(db, actor, now, "webhook_ping_sent", endpoint, delivery=delivery.id)
        claimed = claimed_from(delivery, endpoint, key=key, now=now)
    engine = db.bind
    assert isinstance(engine, AsyncEngine)
    await WebhookSender(engine, clock, key=key).send_claimed(claimed)
    answered = await db.get(WebhookDelivery, claimed.id, populate_existing=True)
    await db.commit()
    assert answered is not None
    return answered


async def pending_counts(db: AsyncSession) -> dict[int, int]:
    """Per endpoint, the deliveries not yet sent nor given up."""
    rows = (await db.exec(select(WebhookDelivery.endpoint_id, func.count()).where(
        WebhookDelivery.state == "pending").group_by(col(WebhookDelivery.endpoint_id)))).all()
    return {int(e): int(n) for e, n in rows}
