"""The JSON API of webhooks (admins only): endpoints, their secrets, pause and resume, and
each endpoint's delivery log."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from incident.kernel.access import requires
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers
from incident.kernel.params import Limit, Offset, RowId
from incident.kernel.schemas import Page
from notifications.webhooks import service
from notifications.webhooks.rules import EVENT_TYPES
from notifications.webhooks.schemas import (
    DeliveryPublic,
    EndpointChange,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    delivery_public,
    endpoint_public,
)

GUARD = [requires(service.MANAGE)]


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @get("/events", guards=GUARD)
    async def event_types(self) -> list[str]:
        """The event types an endpoint may subscribe to."""
        return list(EVENT_TYPES)

    @get("/", guards=GUARD)
    async def list_endpoints(self, db: Db, clock: Now, actor: Who) -> list[EndpointPublic]:
        found = await service.list_endpoints(db, actor=actor)
        pending = await service.pending_counts(db)
        return [endpoint_public(e, now=clock.now(), pending=pending.get(e.id or 0, 0))
                for e in found]

    @post("/", guards=GUARD, status_code=HTTP_201_CREATED)
    async def create_endpoint(self, db: Db, clock: Now, actor: Who, settings: Config,
                              data: JSONBody[EndpointCreate]) -> EndpointCreated:
        """A new endpoint; its signing secret is in this answer only."""
        made = await service.create_endpoint(db, actor=actor, clock=clock,
                                             key=settings.secret_key, url=data.url,
                                             events=data.events, description=data.description)
        return EndpointCreated(**endpoint_public(made.endpoint, now=clock.now()).model_dump(),
                               secret=made.secret)

    @get("/{endpoint_id:int}", guards=GUARD)
    async def get_endpoint(self, db: Db, clock: Now, actor: Who,
                           endpoint_id: RowId) -> EndpointPublic:
        endpoint = await service.get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        pending = await service.pending_counts(db)
        return endpoint_public(endpoint, now=clock.now(), pending=pending.get(endpoint_id, 0))

    @patch("/{endpoint_id:int}", guards=GUARD)
    async def change_endpoint(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId,
                              data: JSONBody[EndpointChange]) -> EndpointPublic:
        endpoint = await service.update_endpoint(db, actor=actor, clock=clock,
                                                 endpoint_id=endpoint_id, url=data.url,
                                                 events=data.events,
                                                 description=data.description)
        return endpoint_public(endpoint, now=clock.now())

    @delete("/{endpoint_id:int}", guards=GUARD, status_code=200)
    async def delete_endpoint(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId) -> None:
        await service.delete_endpoint(db, actor=actor, clock=clock, endpoint_id=endpoint_id)

    @post("/{endpoint_id:int}/rotate", guards=GUARD, status_code=200)
    async def rotate(self, db: Db, clock: Now, actor: Who, settings: Config,
                     endpoint_id: RowId) -> EndpointCreated:
        """A new secret, in this answer only; for 24 hours messages carry a signature made
        with the previous one too, so the receiver can switch over without losing any."""
        made = await service.rotate_secret(db, actor=actor, clock=clock,
                                           key=settings.secret_key, endpoint_id=endpoint_id)
        return EndpointCreated(**endpoint_public(made.endpoint, now=clock.now()).model_dump(),
                               secret=made.secret)

    @post("/{endpoint_id:int}/pause", guards=GUARD, status_code=200)
    async def pause(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId) -> EndpointPublic:
        """Stop sending; events are kept and go out, in order, on resume."""
        endpoint = await service.set_paused(db, actor=actor, clock=clock,
                                            endpoint_id=endpoint_id, paused=True)
        return endpoint_public(endpoint, now=clock.now())

    @post("/{endpoint_id:int}/resume", guards=GUARD, status_code=200)
    async def resume(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId) -> EndpointPublic:
        endpoint = await service.set_paused(db, actor=actor, clock=clock,
                                            endpoint_id=endpoint_id, paused=False)
        return endpoint_public(endpoint, now=clock.now())

    @post("/{endpoint_id:int}/ping", guards=GUARD, status_code=200)
    async def ping(self, db: Db, clock: Now, actor: Who, settings: Config,
                   endpoint_id: RowId) -> DeliveryPublic:
        """Send a signed test event (`webhook.ping`, no incident) now, paused or not, and
        answer with its delivery: `sent` when the receiver answered 2xx, else `failed` with
        its answer. Tried once; it stays in the endpoint's delivery log."""
        delivery = await service.ping(db, actor=actor, clock=clock, key=settings.secret_key,
                                      endpoint_id=endpoint_id)
        return delivery_public(delivery)

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/resend", guards=GUARD,
          status_code=200, opt=also_answers(409))
    async def resend(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId,
                     delivery_id: RowId) -> DeliveryPublic:
        """Send a delivery again: one given up (`failed`) with a fresh retry schedule, or one
        waiting after failed attempts at once; the same `webhook-id`, ahead of its incident's
        later events not yet sent. 409 for one delivered, in flight or never tried yet."""
        delivery = await service.resend(db, actor=actor, clock=clock, endpoint_id=endpoint_id,
                                        delivery_id=delivery_id)
        return delivery_public(delivery)

    @get("/{endpoint_id:int}/deliveries", guards=GUARD)
    async def deliveries(self, db: Db, actor: Who, endpoint_id: RowId, limit: Limit = 50,
                         offset: Offset = 0) -> Page[DeliveryPublic]:
        """The endpoint's delivery log, newest first: each event, its attempts and the
        receiver's last answer."""
        rows, total = await service.deliveries(db, actor=actor, endpoint_id=endpoint_id,
                                               limit=limit, offset=offset)
        return Page(items=[delivery_public(r) for r in rows], total=total, limit=limit,
                    offset=offset)
