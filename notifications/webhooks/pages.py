"""The webhooks page (admins): endpoints, their events, pause and resume, secret rotation,
a test event, and each endpoint's delivery log, where a failed delivery can be resent.

Every change goes through the webhooks service the API uses. Every form answers with a
redirect to its page (POST, redirect, GET), to the message's anchor, so reloading never posts
it again: a refused one's message and what was typed are held for that page and shown once
(incident.kernel.pages.send_back). A new or rotated signing secret is the one exception: it is
shown in the answer to the form that made it, once, since showing it on a later page would
mean storing the secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.access import requires
from incident.kernel.auth import Actor
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Invalid, NotFound
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import held_for, refusal_sentence, render_page, send_back
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


FIELDS = ("url", "description", "events")
"""The add form's fields that show their own message; any other refusal is the form's."""
NOTICE = "/webhooks#webhooks-notice"
"""Where a refused action on an endpoint of the list (or on one gone meanwhile) is told."""


def _errors(exc: DomainError) -> dict[str, str]:
    errors = {e["field"]: e["message"] for e in exc.extensions.get("errors") or []}
    if not errors or set(errors) - set(FIELDS):
        return {"form": refusal_sentence(exc)}
    return errors


def _error_anchor(errors: dict[str, str]) -> str:
    """The add form's first message, for the address the refused form is sent back to."""
    first = next((f for f in FIELDS if f in errors), None)
    return f"#webhook-{first}-error" if first else "#new-webhook-error"


async def _page(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, actor: Actor,
                *, done: str | None = None, typed: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, notice: str | None = None) -> Template:
    endpoints = await service.list_endpoints(db, actor=actor)
    pending = await service.pending_counts(db)
    await db.commit()
    shown = [endpoint_public(e, now=clock.now(), pending=pending.get(e.id or 0, 0))
             for e in endpoints]
    return render_page(request, "webhooks.html", endpoints=shown,
                       event_types=EVENT_TYPES, event_words=EVENT_WORDS,
                       done=DONE.get(done or ""), notice=notice,
                       typed=typed or {"url": "", "description": "", "events": []},
                       errors=errors or {})


def _back(done: str, target: str = "/webhooks", anchor: str = "#webhooks-done") -> Redirect:
    return Redirect(f"{target}?{urlencode({'done': done})}{anchor}", status_code=303)


async def _refused(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                   actor: Actor, exc: DomainError, endpoint_id: int | None = None) -> Redirect:
    """Send a refused action back with its reason: to the endpoint's delivery log when
    `endpoint_id` names one that is still there, else to the list of endpoints."""
    notice = refusal_sentence(exc)
    if endpoint_id is not None:
        if db.in_transaction():
            await db.rollback()
        try:
            await service.get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        except NotFound:
            pass
        else:
            return await send_back(request, db, clock,
                                   f"/webhooks/{endpoint_id}#webhook-log-notice", notice=notice)
    return await send_back(request, db, clock, NOTICE, notice=notice)


class WebhookPages(Controller):
    path = "/webhooks"
    include_in_schema = False
    guards = [requires(service.MANAGE)]

    @get("/")
    async def webhooks_page(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                            actor: Who, done: FromQuery[str | None] = None) -> Template:
        """The endpoints and the add form; after a refusal, why (once) and what was typed."""
        held = await held_for(request, db, clock)
        return await _page(request, db, clock, actor, done=done, typed=held.get("typed"),
                           errors=held.get("errors"), notice=held.get("notice"))

    @post("/")
    async def create(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                     actor: Who, settings: Config) -> Response[Any]:
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
            errors = _errors(exc)
            return await send_back(request, db, clock, f"/webhooks{_error_anchor(errors)}",
                                   typed=typed, errors=errors)
        # Shown in this answer only: a later page could show it only if it were stored.
        return render_page(request, "webhooks_secret.html", status=201,
                           endpoint=endpoint_public(made.endpoint), secret=made.secret,
                           created=True)

    @post("/{endpoint_id:int}/rotate")
    async def rotate(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     settings: Config, endpoint_id: RowId) -> Response[Any]:
        try:
            made = await service.rotate_secret(db, actor=actor, clock=clock,
                                               key=settings.secret_key, endpoint_id=endpoint_id)
        except DomainError as exc:
            return await _refused(request, db, clock, actor, exc)
        return render_page(request, "webhooks_secret.html", status=200,
                           endpoint=endpoint_public(made.endpoint, now=clock.now()),
                           secret=made.secret, created=False)

    @post("/{endpoint_id:int}/pause")
    async def pause(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                    endpoint_id: RowId) -> Redirect:
        form = await request.form()
        wanted = str(form.get("paused", "true"))
        try:
            if wanted not in ("true", "false"):
                raise Invalid.fields([("paused", "must be true or false")])
            await service.set_paused(db, actor=actor, clock=clock, endpoint_id=endpoint_id,
                                     paused=wanted == "true")
        except DomainError as exc:
            return await _refused(request, db, clock, actor, exc)
        return _back("paused" if wanted == "true" else "resumed")

    @post("/{endpoint_id:int}/remove")
    async def remove(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     endpoint_id: RowId) -> Redirect:
        try:
            await service.delete_endpoint(db, actor=actor, clock=clock, endpoint_id=endpoint_id)
        except DomainError as exc:
            return await _refused(request, db, clock, actor, exc)
        return _back("removed")

    @post("/{endpoint_id:int}/ping")
    async def ping(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                   settings: Config, endpoint_id: RowId) -> Redirect:
        try:
            delivery = await service.ping(db, actor=actor, clock=clock,
                                          key=settings.secret_key, endpoint_id=endpoint_id)
        except DomainError as exc:
            return await _refused(request, db, clock, actor, exc, endpoint_id)
        return _back("pinged" if delivery.state == "sent" else "ping-failed",
                     f"/webhooks/{endpoint_id}", "#webhook-log-done")

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/resend")
    async def resend(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     endpoint_id: RowId, delivery_id: RowId) -> Redirect:
        try:
            await service.resend(db, actor=actor, clock=clock, endpoint_id=endpoint_id,
                                 delivery_id=delivery_id)
        except DomainError as exc:
            return await _refused(request, db, clock, actor, exc, endpoint_id)
        return _back("resent", f"/webhooks/{endpoint_id}", "#webhook-log-done")

    @get("/{endpoint_id:int}")
    async def log(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                  endpoint_id: RowId, done: FromQuery[str | None] = None) -> Template:
        """The endpoint's delivery log; after a refused test or resend, why (once)."""
        held = await held_for(request, db, clock)
        endpoint = await service.get_endpoint(db, actor=actor, endpoint_id=endpoint_id)
        rows, total = await service.deliveries(db, actor=actor, endpoint_id=endpoint_id,
                                               limit=200)
        await db.commit()
        return render_page(request, "webhooks_log.html",
                           endpoint=endpoint_public(endpoint, now=clock.now()),
                           deliveries=[delivery_public(r) for r in rows], total=total,
                           event_words=EVENT_WORDS, done=LOG_DONE.get(done or ""),
                           notice=held.get("notice"))
