"""The webhooks page (admins): endpoints, their events, pause and resume, secret rotation,
a test event, and each endpoint's delivery log, where a failed delivery can be resent.

Every change goes through the webhooks service the API uses. A new or rotated secret is
shown in the answer to the form that made it, once; a refused form re-renders the page with
the message beside the field and what was typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.access import requires
from incident.kernel.auth import Actor
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import refusal_sentence, render_page
from incident.kernel.params import RowId
from notifications.webhooks import service
from notifications.webhooks.rules import EVENT_TYPES
from notifications.webhooks.schemas import delivery_public, endpoint_public

DONE = {
    "paused": "The endpoint is paused: events are kept and sent, in order, when it resumes.",
    "resumed": "The endpoint is resumed: the events kept meanwhile go out now, in order.",
    "removed": "The endpoint was removed.",
    "changed": "The endpoint's events were saved.",
}
LOG_DONE = {
    "pinged": ("ok", "The test event was delivered: the receiver answered 2xx (first row "
                     "below)."),
    "ping-failed": ("alert", "The test event was not delivered: the receiver's answer is in "
                             "the first row below."),
    "resent": ("ok", "The delivery is queued again: it goes out within a few seconds, with "
                     "the same webhook-id, ahead of its incident's later events not yet sent."),
}
"""What the delivery log says after a test or a resend (`?done=`), and how loudly."""
EVENT_WORDS = {
    "incident.created": "Incident created",
    "incident.moved": "Incident moved to another status",
    "obligation.due_soon": "Duty due soon",
    "obligation.overdue": "Duty overdue",
    "obligation.met": "Duty met",
    "obligation.waived": "Duty waived",
    "notification.sent": "Notification sent",
    "notification.failing": "Notification failing",
    "people.not_reached": "People not reached",
    "webhook.ping": "Test event",
}


def _errors(exc: DomainError) -> dict[str, str]:
    errors = {e["field"]: e["message"] for e in exc.extensions.get("errors") or []}
    return errors or {"form": refusal_sentence(exc)}


async def _page(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, actor: Actor,
                *, status: int = 200, done: str | None = None,
                typed: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None) -> Template:
    endpoints = await service.list_endpoints(db, actor=actor)
    pending = await service.pending_counts(db)
    await db.commit()
    shown = [endpoint_public(e, now=clock.now(), pending=pending.get(e.id or 0, 0))
             for e in endpoints]
    return render_page(request, "webhooks.html", status=status, endpoints=shown,
                       event_types=EVENT_TYPES, event_words=EVENT_WORDS,
                       done=DONE.get(done or ""),
                       typed=typed or {"url": "", "description": "", "events": []},
                       errors=errors or {})


def _back(done: str, target: str = "/webhooks") -> Redirect:
    return Redirect(f"{target}?{urlencode({'done': done})}", status_code=303)


class WebhookPages(Controller):
    path = "/webhooks"
    include_in_schema = False
    guards = [requires(service.MANAGE)]

    @get("/")
    async def webhooks_page(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                            actor: Who, done: FromQuery[str | None] = None) -> Template:
        return await _page(request, db, clock, actor, done=done)

    @post("/")
    async def create(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                     actor: Who, settings: Config) -> Template:
        form = await request.form()
        url, description = str(form.get("url", "")), str(form.get("description", ""))
        events = [str(e) for e in form.getall("events", [])]
        typed: dict[str, Any] = {"url": url, "description": description, "events": events}
        try:
            if not url.strip():
                raise Invalid.fields([("url", "is required: the receiver's https URL")])
            made = await service.create_endpoint(db, actor=actor, clock=clock,
                                                 key=settings.secret_key, url=url,
                                                 events=events, description=description)
        except DomainError as exc:
            return await _page(request, db, clock, actor, status=exc.status, typed=typed,
                               errors=_errors(exc))
        return render_page(request, "webhooks_secret.html", status=201,
                           endpoint=endpoint_public(made.endpoint), secret=made.secret,
                           created=True)

    @post("/{endpoint_id:int}/rotate")
    async def rotate(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     settings: Config, endpoint_id: RowId) -> Template:
        made = await service.rotate_secret(db, actor=actor, clock=clock,
                                           key=settings.secret_key, endpoint_id=endpoint_id)
        return render_page(request, "webhooks_secret.html", status=200,
                           endpoint=endpoint_public(made.endpoint, now=clock.now()),
                           secret=made.secret, created=False)

    @post("/{endpoint_id:int}/pause")
    async def pause(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                    endpoint_id: RowId) -> Redirect:
        form = await request.form()
        paused = str(form.get("paused", "true")) == "true"
        await service.set_paused(db, actor=actor, clock=clock, endpoint_id=endpoint_id,
                                 paused=paused)
        return _back("paused" if paused else "resumed")

    @post("/{endpoint_id:int}/remove")
    async def remove(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId) -> Redirect:
        await service.delete_endpoint(db, actor=actor, clock=clock, endpoint_id=endpoint_id)
        return _back("removed")

    @post("/{endpoint_id:int}/ping")
    async def ping(self, db: Db, clock: Now, actor: Who, settings: Config,
                   endpoint_id: RowId) -> Redirect:
        delivery = await service.ping(db, actor=actor, clock=clock, key=settings.secret_key,
                                      endpoint_id=endpoint_id)
        return _back("pinged" if delivery.state == "sent" else "ping-failed",
                     f"/webhooks/{endpoint_id}")

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/resend")
    async def resend(self, db: Db, clock: Now, actor: Who, endpoint_id: RowId,
                     delivery_id: RowId) -> Redirect:
        await service.resend(db, actor=actor, clock=clock, endpoint_id=endpoint_id,
                             delivery_id=delivery_id)
        return _back("resent", f"/webhooks/{endpoint_id}")

    @get("/{endpoint_id:int}")
    async def log(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                  endpoint_id: RowId, done: FromQuery[str | None] = None) -> Template:
        endpoint = await service.get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        rows, total = await service.deliveries(db, actor=actor, endpoint_id=endpoint_id,
                                               limit=200)
        await db.commit()
        return render_page(request, "webhooks_log.html",
                           endpoint=endpoint_public(endpoint, now=clock.now()),
                           deliveries=[delivery_public(r) for r in rows], total=total,
                           event_words=EVENT_WORDS, done=LOG_DONE.get(done or ""))
