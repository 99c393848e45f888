"""`breach webhooks …`: the endpoints that receive Breachdesk's signed events (admins only).

The same use cases as `/api/v1/webhooks`, with the same checks: `add` and `rotate` print the
signing secret once; `deliveries` prints an endpoint's delivery log; `ping` sends a test
event and says what the receiver answered; `resend` queues a failed delivery again; `send`
sends what is due now (the scheduler of `breach serve` does so every few seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.console import Failure, Runtime, echo, pass_runtime, print_json

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings
    from notifications.webhooks.schemas import DeliveryPublic, EndpointPublic

EVENT_TYPES = ("incident.created", "incident.moved", "obligation.due_soon",
               "obligation.overdue", "obligation.met", "obligation.waived",
               "notification.sent", "notification.failing", "people.not_reached")
"""notifications.webhooks.rules.EVENT_TYPES, written out so `--help` imports nothing heavy
(tests/notifications/webhooks/test_cli.py keeps them equal)."""

Id = click.IntRange(1, ROW_ID_MAX)
Events = click.Choice(EVENT_TYPES)


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook endpoints: signed events (Standard Webhooks) for chat and ticketing tools."""


def _line(endpoint: EndpointPublic) -> str:
    state = "paused" if endpoint.paused else "active"
    rotating = f"\trotating until {endpoint.rotating_until:%Y-%m-%d %H:%M} UTC" if (
        endpoint.rotating_until) else ""
    return (f"{endpoint.id}\t{endpoint.url}\t{state}\t{','.join(endpoint.events)}"
            f"\tpending {endpoint.pending}{rotating}")


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def webhooks_list(runtime: Runtime, as_json: bool) -> None:
    """Every endpoint: id, URL, active or paused, events, deliveries pending."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import endpoint_public

    clock = runtime.clock

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[EndpointPublic]:
        found = await service.list_endpoints(db, actor=actor)
        pending = await service.pending_counts(db)
        return [endpoint_public(e, now=clock.now(), pending=pending.get(e.id or 0, 0))
                for e in found]

    listed = runtime.run(work)
    if as_json:
        print_json([e.model_dump(mode="json") for e in listed])
        return
    if not listed:
        echo("no webhook endpoints")
    for endpoint in listed:
        echo(_line(endpoint))


@webhooks_group.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, type=Events, required=True,
              help="an event type to send (repeat for several)")
@click.option("--description", default="", help="what it feeds, e.g. '#security channel'")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def webhooks_add(runtime: Runtime, url: str, events: tuple[str, ...], description: str,
                 as_json: bool) -> None:
    """Send events to URL (https; http only to this machine). Prints the signing secret,
    once: keep it in the receiver."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import EndpointCreated, endpoint_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EndpointCreated:
        made = await service.create_endpoint(db, actor=actor, clock=runtime.clock,
                                             key=settings.secret_key, url=url,
                                             events=list(events), description=description)
        return EndpointCreated(**endpoint_public(made.endpoint).model_dump(),
                               secret=made.secret)

    _print_secret(runtime.run(work), as_json, "endpoint {id} added")


def _print_secret(made: Any, as_json: bool, said: str) -> None:
    if as_json:
        print_json(made.model_dump(mode="json"))
        return
    echo(said.format(id=made.id) + f": {made.url}")
    echo(f"signing secret (shown once): {made.secret}")


@webhooks_group.command("change")
@click.argument("endpoint_id", type=Id)
@click.option("--url", default=None)
@click.option("--event", "events", multiple=True, type=Events,
              help="the event types to send from now on (repeat; replaces the list)")
@click.option("--description", default=None)
@pass_runtime
def webhooks_change(runtime: Runtime, endpoint_id: int, url: str | None,
                    events: tuple[str, ...], description: str | None) -> None:
    """Change an endpoint's URL, events or description."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import endpoint_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EndpointPublic:
        changed = await service.update_endpoint(
            db, actor=actor, clock=runtime.clock, endpoint_id=endpoint_id, url=url,
            events=list(events) if events else None, description=description)
        return endpoint_public(changed, now=runtime.clock.now())

    echo(_line(runtime.run(work)))


@webhooks_group.command("rotate")
@click.argument("endpoint_id", type=Id)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def webhooks_rotate(runtime: Runtime, endpoint_id: int, as_json: bool) -> None:
    """A new signing secret, printed once. For 24 hours every message carries a signature
    made with the previous secret too, so the receiver can switch without losing any."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import EndpointCreated, endpoint_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EndpointCreated:
        made = await service.rotate_secret(db, actor=actor, clock=runtime.clock,
                                           key=settings.secret_key, endpoint_id=endpoint_id)
        return EndpointCreated(**endpoint_public(made.endpoint).model_dump(),
                               secret=made.secret)

    _print_secret(runtime.run(work), as_json, "endpoint {id} has a new secret")


def _pause(runtime: Runtime, endpoint_id: int, paused: bool) -> None:
    from notifications.webhooks import service
    from notifications.webhooks.schemas import endpoint_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EndpointPublic:
        changed = await service.set_paused(db, actor=actor, clock=runtime.clock,
                                           endpoint_id=endpoint_id, paused=paused)
        return endpoint_public(changed, now=runtime.clock.now())

    echo(_line(runtime.run(work)))


@webhooks_group.command("pause")
@click.argument("endpoint_id", type=Id)
@pass_runtime
def webhooks_pause(runtime: Runtime, endpoint_id: int) -> None:
    """Stop sending to an endpoint; its events are kept and go out, in order, on resume."""
    _pause(runtime, endpoint_id, True)


@webhooks_group.command("resume")
@click.argument("endpoint_id", type=Id)
@pass_runtime
def webhooks_resume(runtime: Runtime, endpoint_id: int) -> None:
    """Send to a paused endpoint again, starting with the events kept meanwhile."""
    _pause(runtime, endpoint_id, False)


@webhooks_group.command("remove")
@click.argument("endpoint_id", type=Id)
@pass_runtime
def webhooks_remove(runtime: Runtime, endpoint_id: int) -> None:
    """Remove an endpoint and its delivery log (the organisation timeline keeps that it
    existed)."""
    from notifications.webhooks import service

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> None:
        await service.delete_endpoint(db, actor=actor, clock=runtime.clock,
                                      endpoint_id=endpoint_id)

    runtime.run(work)
    echo(f"endpoint {endpoint_id} removed")


@webhooks_group.command("deliveries")
@click.argument("endpoint_id", type=Id)
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def webhooks_deliveries(runtime: Runtime, endpoint_id: int, limit: int, as_json: bool) -> None:
    """An endpoint's delivery log, newest first: event, incident, state, attempts, the
    receiver's last answer."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import delivery_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[list[DeliveryPublic], int]:
        rows, total = await service.deliveries(db, actor=actor, endpoint_id=endpoint_id,
                                               limit=limit)
        return [delivery_public(r) for r in rows], total

    rows, total = runtime.run(work)
    if as_json:
        print_json({"items": [r.model_dump(mode="json") for r in rows], "total": total})
        return
    echo(f"{total} deliveries")
    for row in rows:
        echo(f"{row.id}\t{row.event_type}\t{row.incident or 'test'}\t{row.state}\t"
             f"attempts {row.attempts}\t{_answer(row)}")


def _answer(row: DeliveryPublic) -> str:
    return row.last_error or (f"HTTP {row.last_status}" if row.last_status else "-")


@webhooks_group.command("ping")
@click.argument("endpoint_id", type=Id)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def webhooks_ping(runtime: Runtime, endpoint_id: int, as_json: bool) -> None:
    """Send a signed test event (`webhook.ping`) to an endpoint now, paused or not, and say
    what the receiver answered; exits non-zero when it was not delivered."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import delivery_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> DeliveryPublic:
        return delivery_public(await service.ping(db, actor=actor, clock=runtime.clock,
                                                  key=settings.secret_key,
                                                  endpoint_id=endpoint_id))

    row = runtime.run(work)
    if as_json:
        print_json(row.model_dump(mode="json"))
    if row.state != "sent":
        raise Failure(f"the test event to endpoint {endpoint_id} was not delivered "
                      f"(delivery {row.id}): {_answer(row)}")
    if not as_json:
        echo(f"test event delivered to endpoint {endpoint_id} (delivery {row.id}): "
             f"{_answer(row)}")


@webhooks_group.command("resend")
@click.argument("endpoint_id", type=Id)
@click.argument("delivery_id", type=Id)
@pass_runtime
def webhooks_resend(runtime: Runtime, endpoint_id: int, delivery_id: int) -> None:
    """Send a delivery again (ids from `breach webhooks deliveries`): one given up, with a
    fresh retry schedule, or one waiting after failed attempts, at once. It keeps its
    webhook-id and goes ahead of its incident's later events not yet sent."""
    from notifications.webhooks import service
    from notifications.webhooks.schemas import delivery_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> DeliveryPublic:
        return delivery_public(await service.resend(db, actor=actor, clock=runtime.clock,
                                                    endpoint_id=endpoint_id,
                                                    delivery_id=delivery_id))

    row = runtime.run(work)
    echo(f"delivery {row.id} ({row.event_type}) queued again: it goes out with the next "
         "send (`breach webhooks send`, or within seconds under `breach serve`)")


@webhooks_group.command("send")
@pass_runtime
def webhooks_send(runtime: Runtime) -> None:
    """Send the deliveries due now, in order per endpoint and incident (`breach serve`'s
    scheduler does this every few seconds)."""
    from incident.kernel import auth
    from incident.kernel.auth import Permission
    from notifications.webhooks.sender import WebhookSender

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> int:
        auth.require(actor, Permission.MANAGE_ORGANISATION)
        engine = db.bind
        sender = WebhookSender(engine, runtime.clock,  # type: ignore[arg-type]
                               key=settings.secret_key)
        return await sender.run_once()

    echo(f"{runtime.run(work)} sent")
