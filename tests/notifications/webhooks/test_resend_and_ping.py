"""An admin resends a webhook delivery that failed or was given up, and sends a test event to
an endpoint, over the API; each on the organisation timeline. A delivery given up and resent
arrives once, with its own webhook-id, ahead of its incident's later events not yet sent."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from standardwebhooks import Webhook

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import Settings
from incident.timeline.models import ORGANISATION_CHAIN
from incident.timeline.service import events, payload_of
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.sender import WebhookSender
from tests.factories import Person, new_incident
from tests.notifications.webhooks.receiver import Receiver
from tests.notifications.webhooks.test_delivery import EVERY_EVENT, add_endpoint, move

PROBLEM = "application/problem+json"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.down()


async def rows(engine: AsyncEngine) -> list[WebhookDelivery]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(WebhookDelivery).order_by(
            WebhookDelivery.id))).all())  # type: ignore[arg-type]


async def org_events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with session_factory(engine)() as db:
        return [payload_of(e) | {"actor": e.actor} for e in await events(db, ORGANISATION_CHAIN)
                if e.kind == kind]


def types(received: list[Any]) -> list[tuple[str, int]]:
    bodies = [json.loads(r.body) for r in received]
    return [(b["type"], b["data"].get("seq", 0)) for b in bodies]


async def test_a_delivery_given_up_is_resent_once_ahead_of_its_incidents_later_events(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin, responder = people["admin"], people["responder"]
    receiver.status = 500
    receiver.up()
    endpoint = await add_endpoint(client, admin, receiver.url, EVERY_EVENT)
    reference = await new_incident(client, responder)
    await move(client, responder, reference, "assessing")
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    for _ in range(8):  # the first attempt and seven retries: then given up
        await sender.run_once()
        clock.advance(timedelta(hours=11))
    created, moved = await rows(engine)
    assert (created.state, created.attempts) == ("failed", 8)
    assert moved.state == "pending"  # the next event went once the first was given up
    receiver.status = 204
    await sender.run_once()
    assert [r.state for r in await rows(engine)] == ["failed", "sent"]
    assert types(receiver.received) == [("incident.moved", 2)]

    # The admin resends the given-up event: queued again, a fresh retry schedule, same id.
    url = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{created.id}/resend"
    resent = await client.post(url, headers=admin.headers)
    assert resent.status_code == 200, resent.text
    assert (resent.json()["state"], resent.json()["attempts"]) == ("pending", 0)
    assert resent.json()["message_id"] == created.message_id
    # A later event of the incident, queued after the resend, waits behind it.
    await move(client, responder, reference, "contained")
    assert await sender.run_once() == 2
    assert types(receiver.received) == [("incident.moved", 2), ("incident.created", 1),
                                        ("incident.moved", 3)]
    for _ in range(3):  # and nothing is ever sent twice
        clock.advance(timedelta(hours=11))
        assert await sender.run_once() == 0
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 3 and created.message_id in ids
    again = receiver.received[1]
    assert Webhook(endpoint["secret"]).verify(again.body, again.headers)["data"]["incident"][
        "reference"] == reference
    log = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                            headers=admin.headers)).json()
    assert {d["id"]: (d["state"], d["attempts"]) for d in log["items"]}[created.id] == (
        "sent", 1)

    # Delivered: a second resend is refused, and says why.
    refused = await client.post(url, headers=admin.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "delivered already" in refused.json()["detail"]
    assert [(e["delivery"], e["state_was"], e["attempts"], e["event"], e["actor"])
            for e in await org_events(engine, "webhook_delivery_resent")] == [
        (created.id, "failed", 8, "incident.created", admin.email)]


async def test_a_delivery_waiting_after_a_failed_attempt_can_be_tried_at_once(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin = people["admin"]
    endpoint = await add_endpoint(client, admin, receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    assert await sender.run_once() == 0  # down: refused, next try after the backoff
    [waiting] = await rows(engine)
    assert waiting.attempts == 1 and waiting.next_attempt_at > clock.now()
    receiver.up()
    tried = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/deliveries/{waiting.id}/resend",
        headers=admin.headers)
    assert tried.status_code == 200, tried.text
    assert tried.json()["attempts"] == 1  # the schedule goes on from where it was
    assert await sender.run_once() == 1
    [sent] = await rows(engine)
    assert (sent.state, sent.attempts, sent.message_id) == ("sent", 2, waiting.message_id)
    assert len(receiver.received) == 1


async def test_resending_what_is_not_there_or_cannot_go_is_a_clear_problem(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin = people["admin"]
    first = await add_endpoint(client, admin, receiver.url, ["incident.created"])
    other = await add_endpoint(client, admin, "https://hooks.example.com/x",
                               ["incident.moved"])
    await new_incident(client, people["responder"])
    [queued] = await rows(engine)  # never tried yet
    assert queued.id is not None
    base = f"/api/v1/webhooks/{first['id']}/deliveries"

    for path, status, said in [
            (f"{base}/{queued.id + 100}/resend", 404, f"no delivery {queued.id + 100}"),
            (f"/api/v1/webhooks/{other['id']}/deliveries/{queued.id}/resend", 404,
             f"no delivery {queued.id} to webhook endpoint {other['id']}"),
            (f"/api/v1/webhooks/9999/deliveries/{queued.id}/resend", 404,
             "no webhook endpoint 9999"),
            (f"{base}/0/resend", 400, ""),
            (f"{base}/{2**31}/resend", 400, ""),
            (f"{base}/{queued.id}/resend", 409, "not been tried yet")]:
        answer = await client.post(path, headers=admin.headers)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert said in answer.json()["detail"]
        assert answer.json()["status"] == status

    # Failed once, but the endpoint is paused: resume it first.
    assert await WebhookSender(engine, clock, key=settings.secret_key).run_once() == 0
    await client.post(f"/api/v1/webhooks/{first['id']}/pause", headers=admin.headers)
    paused = await client.post(f"{base}/{queued.id}/resend", headers=admin.headers)
    assert paused.status_code == 409 and "paused" in paused.json()["detail"]
    for role in ("responder", "approver", "auditor"):
        denied = await client.post(f"{base}/{queued.id}/resend", headers=people[role].headers)
        assert denied.status_code == 403
    assert await org_events(engine, "webhook_delivery_resent") == []  # nothing half-done
    [still] = await rows(engine)
    assert (still.state, still.attempts) == ("pending", 1)


async def test_a_test_event_is_signed_sent_at_once_and_logged_whatever_the_answer(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver,
        caplog: pytest.LogCaptureFixture) -> None:
    admin = people["admin"]
    endpoint = await add_endpoint(client, admin, receiver.url, ["incident.created"])
    url = f"/api/v1/webhooks/{endpoint['id']}/ping"

    # The receiver is down: the answer says so (and only the answer: the command line prints
    # its one line), and the test is not tried again.
    with caplog.at_level(logging.WARNING, logger="breachdesk.webhooks"):
        failed = await client.post(url, headers=admin.headers)
    assert [r.getMessage() for r in caplog.records if r.name == "breachdesk.webhooks"] == []
    assert failed.status_code == 200, failed.text
    body = failed.json()
    assert (body["state"], body["event_type"], body["incident"], body["attempts"]) == (
        "failed", "webhook.ping", None, 1)
    assert "ConnectError" in body["last_error"]

    receiver.up()
    await client.post(f"/api/v1/webhooks/{endpoint['id']}/pause", headers=admin.headers)
    sent = await client.post(url, headers=admin.headers)  # paused or not
    assert sent.status_code == 200, sent.text
    assert (sent.json()["state"], sent.json()["last_status"]) == ("sent", 204)
    [got] = receiver.received
    event = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert event["type"] == "webhook.ping"
    assert event["data"] == {"id": sent.json()["message_id"], "endpoint": endpoint["id"],
                             "test": True}
    assert got.headers["webhook-id"] == sent.json()["message_id"]

    # A test holds up no incident's events, and is never sent again by the scheduler.
    await client.post(f"/api/v1/webhooks/{endpoint['id']}/resume", headers=admin.headers)
    await new_incident(client, people["responder"])
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    assert await sender.run_once() == 1
    clock.advance(timedelta(hours=1))
    assert await sender.run_once() == 0
    assert [json.loads(r.body)["type"] for r in receiver.received] == [
        "webhook.ping", "incident.created"]
    log = (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                            headers=admin.headers)).json()
    assert [(d["event_type"], d["state"]) for d in log["items"]] == [
        ("incident.created", "sent"), ("webhook.ping", "sent"), ("webhook.ping", "failed")]
    assert [(e["endpoint"], e["host"], e["actor"])
            for e in await org_events(engine, "webhook_ping_sent")] == [
        (endpoint["id"], "127.0.0.1", admin.email)] * 2

    missing = await client.post("/api/v1/webhooks/9999/ping", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    assert missing.json()["detail"] == "no webhook endpoint 9999"
    assert (await client.post(url, headers=people["responder"].headers)).status_code == 403
