"""Signed webhooks delivered durably to a receiver that is down for a while, then up.

Signatures follow the Standard Webhooks specification (https://www.standardwebhooks.com,
"Signature scheme": HMAC-SHA256 over `msg_id.timestamp.body`, `v1,` prefix, several
space-separated signatures during a key rotation; receivers reject timestamps outside a
tolerance to stop replays) and are checked with the `standardwebhooks` package's own
`Webhook.verify`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import Settings
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.sender import WebhookSender, sign_headers
from tests.factories import PROFILE, Person, new_incident
from tests.notifications.webhooks.receiver import Receiver

EVERY_EVENT = ["incident.created", "incident.moved", "obligation.due_soon",
               "obligation.overdue", "obligation.met", "obligation.waived",
               "notification.sent", "notification.failing", "people.not_reached"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.down()


async def add_endpoint(client: httpx.AsyncClient, admin: Person, url: str,
                       events: list[str] | None = None) -> dict[str, Any]:
    made = await client.post("/api/v1/webhooks", json={
        "url": url, "events": events or EVERY_EVENT, "description": "#security"},
        headers=admin.headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def move(client: httpx.AsyncClient, person: Person, reference: str, status: str) -> None:
    moved = await client.post(f"/api/v1/incidents/{reference}/status",
                              json={"status": status}, headers=person.headers)
    assert moved.status_code in (200, 201), moved.text


async def states(engine: AsyncEngine) -> list[WebhookDelivery]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(WebhookDelivery))).all())


async def test_a_receiver_down_for_a_while_gets_every_event_once_in_order(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin, responder = people["admin"], people["responder"]
    endpoint = await add_endpoint(client, admin, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    first = await new_incident(client, responder)
    second = await new_incident(client, responder, title="Misdirected e-mail to Jane Doe")
    await move(client, responder, first, "assessing")
    await move(client, responder, second, "assessing")
    await move(client, responder, first, "contained")
    sender = WebhookSender(engine, clock, key=settings.secret_key)

    # Down: every attempt is refused; each incident's first event waits on the backoff,
    # the later ones behind it.
    assert await sender.run_once() == 0
    clock.advance(timedelta(seconds=6))
    assert await sender.run_once() == 0
    pending = await states(engine)
    assert {d.state for d in pending} == {"pending"}
    assert sorted(d.attempts for d in pending) == [0, 0, 0, 2, 2]
    assert all(d.last_error for d in pending if d.attempts)

    # Up again: after the next backoff step everything arrives, in order per incident.
    receiver.up()
    clock.advance(timedelta(minutes=6))
    assert await sender.run_once() == 5
    assert {d.state for d in await states(engine)} == {"sent"}
    assert len(receiver.received) == 5
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(set(ids)) == 5
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    by_incident: dict[str, list[tuple[int, str]]] = {}
    for body in bodies:
        data = body["data"]
        by_incident.setdefault(data["incident"]["reference"], []).append(
            (data["seq"], body["type"]))
    assert [t for _, t in by_incident[first]] == ["incident.created", "incident.moved",
                                                  "incident.moved"]
    assert [t for _, t in by_incident[second]] == ["incident.created", "incident.moved"]
    for events in by_incident.values():
        assert [s for s, _ in events] == sorted(s for s, _ in events)
    # Nothing more goes out: each event arrived exactly once.
    clock.advance(timedelta(hours=1))
    assert await sender.run_once() == 0
    assert len(receiver.received) == 5

    # No personal data: no title (free text), no names, no addresses, no actor.
    raw = b"".join(r.body for r in receiver.received).decode()
    for word in ("Jane Doe", "Stolen laptop", "@example.com", responder.email):
        assert word not in raw

    # The delivery log of the endpoint.
    log = await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                           headers=admin.headers)
    assert log.status_code == 200
    assert log.json()["total"] == 5
    assert {d["state"] for d in log.json()["items"]} == {"sent"}
    assert max(d["attempts"] for d in log.json()["items"]) == 3


async def test_a_forged_or_replayed_delivery_fails_verification(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    receiver.up()
    endpoint = await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    assert await WebhookSender(engine, clock, key=settings.secret_key).run_once() == 1
    [got] = receiver.received
    webhook = Webhook(endpoint["secret"])
    assert webhook.verify(got.body, got.headers)["type"] == "incident.created"

    forged = got.body.replace(b"incident.created", b"incident.closed")
    with pytest.raises(WebhookVerificationError):
        webhook.verify(forged, got.headers)
    with pytest.raises(WebhookVerificationError):  # signed with another secret
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    # A replay: the same message, correctly signed, but ten minutes old (outside the
    # five-minute tolerance of the specification's verifier).
    old = sign_headers(got.headers["webhook-id"], got.body.decode(), [endpoint["secret"]],
                       datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhook.verify(got.body, old)


async def test_during_a_rotation_both_secrets_verify_then_only_the_new_one(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin = people["admin"]
    receiver.up()
    endpoint = await add_endpoint(client, admin, receiver.url, ["incident.created"])
    rotated = await client.post(f"/api/v1/webhooks/{endpoint['id']}/rotate",
                                headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    listed = await client.get("/api/v1/webhooks", headers=admin.headers)
    assert "secret" not in listed.json()[0]  # shown once only
    assert listed.json()[0]["rotating_until"] is not None

    await new_incident(client, people["responder"])
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    assert await sender.run_once() == 1
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint["secret"]).verify(got.body, got.headers)
    Webhook(new_secret).verify(got.body, got.headers)

    clock.advance(timedelta(hours=25))  # the overlap is over
    await new_incident(client, people["responder"])
    assert await sender.run_once() == 1
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(got.body, got.headers)


async def test_a_paused_endpoint_keeps_its_events_and_sends_them_on_resume(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    admin = people["admin"]
    receiver.up()
    endpoint = await add_endpoint(client, admin, receiver.url)
    paused = await client.post(f"/api/v1/webhooks/{endpoint['id']}/pause", headers=admin.headers)
    assert paused.json()["paused"] is True
    await new_incident(client, people["responder"])
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    assert await sender.run_once() == 0
    assert receiver.received == []
    await client.post(f"/api/v1/webhooks/{endpoint['id']}/resume", headers=admin.headers)
    assert await sender.run_once() == 1
    assert len(receiver.received) == 1


async def test_a_receiver_that_keeps_failing_is_given_up_and_the_next_event_goes(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    receiver.status = 500
    receiver.up()
    await add_endpoint(client, people["admin"], receiver.url)
    reference = await new_incident(client, people["responder"])
    await move(client, people["responder"], reference, "assessing")
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    for _ in range(8):  # the first attempt and seven retries (rules.BACKOFF)
        assert await sender.run_once() == 0 or True
        clock.advance(timedelta(hours=11))
    rows = sorted(await states(engine), key=lambda d: d.id or 0)
    assert rows[0].state == "failed" and rows[0].attempts == 8
    assert rows[0].last_status == 500
    receiver.status = 204
    clock.advance(timedelta(hours=11))
    await sender.run_once()
    rows = sorted(await states(engine), key=lambda d: d.id or 0)
    assert rows[1].state == "sent"
    assert json.loads(receiver.received[-1].body)["type"] == "incident.moved"


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "ftp://127.0.0.1/x",
                                 "https://user:pw@example.com/x", "not a url"])
async def test_urls_must_be_https_or_loopback(client: httpx.AsyncClient,
                                              people: dict[str, Person], url: str) -> None:
    refused = await client.post("/api/v1/webhooks", json={
        "url": url, "events": ["incident.created"]}, headers=people["admin"].headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "url" in refused.text


async def test_unknown_events_are_refused(client: httpx.AsyncClient,
                                          people: dict[str, Person]) -> None:
    refused = await client.post("/api/v1/webhooks", json={
        "url": "https://hooks.example.com/x", "events": ["incident.exploded"]},
        headers=people["admin"].headers)
    assert refused.status_code == 422
    assert "incident.exploded" in refused.text


@pytest.mark.parametrize("role", ["responder", "approver", "auditor"])
async def test_only_admins_manage_webhooks(client: httpx.AsyncClient,
                                           people: dict[str, Person], role: str) -> None:
    made = await add_endpoint(client, people["admin"], "https://hooks.example.com/x")
    person = people[role]
    for method, path in [("GET", "/api/v1/webhooks"), ("POST", "/api/v1/webhooks"),
                         ("GET", f"/api/v1/webhooks/{made['id']}"),
                         ("POST", f"/api/v1/webhooks/{made['id']}/rotate"),
                         ("POST", f"/api/v1/webhooks/{made['id']}/pause"),
                         ("DELETE", f"/api/v1/webhooks/{made['id']}"),
                         ("GET", f"/api/v1/webhooks/{made['id']}/deliveries")]:
        answer = await client.request(method, path, headers=person.headers, json=(
            {"url": "https://x.example.com", "events": ["incident.created"]}
            if method == "POST" and path == "/api/v1/webhooks" else None))
        assert answer.status_code == 403, (method, path, answer.text)
    assert (await client.get("/api/v1/webhooks")).status_code == 401


async def test_the_secret_is_sealed_at_rest_and_never_sent_unsigned(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    receiver.up()
    endpoint = await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    async with session_factory(engine)() as db:
        stored = (await db.exec(select(WebhookEndpoint))).one()
    assert endpoint["secret"] not in stored.secret
    # Under another BREACH_SECRET_KEY the secret cannot be opened: nothing goes out unsigned.
    await new_incident(client, people["responder"])
    assert await WebhookSender(engine, clock, key="another key").run_once() == 0
    assert receiver.received == []
    [row] = await states(engine)
    assert row.state == "pending" and "rotate" in (row.last_error or "")


async def test_a_duty_met_then_waived_reaches_the_receiver_without_its_free_text(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    receiver.up()
    endpoint = await add_endpoint(client, people["admin"], receiver.url,
                                  ["obligation.met", "obligation.waived"])
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    reference = await new_incident(client, people["responder"])
    listed = await client.get(f"/api/v1/incidents/{reference}/obligations",
                              headers=people["responder"].headers)
    assert listed.status_code == 200, listed.text
    url = f"/api/v1/incidents/{reference}/obligations/gdpr/authority"
    met = await client.post(url, headers=people["responder"].headers, json={
        "status": "met", "how": "Phoned Jane Doe at the authority, +49 30 1234"})
    assert met.status_code == 200, met.text
    reopened = await client.post(url, headers=people["approver"].headers,
                                 json={"status": "pending", "reason": "wrong receipt"})
    assert reopened.status_code == 200, reopened.text
    waived = await client.post(url, headers=people["approver"].headers, json={
        "status": "waived", "reason": "Bob Smith at the authority said no report is needed."})
    assert waived.status_code == 200, waived.text
    assert await WebhookSender(engine, clock, key=settings.secret_key).run_once() == 2
    bodies = [Webhook(endpoint["secret"]).verify(r.body, r.headers) for r in receiver.received]
    assert [(b["type"], b["data"]["ref"]) for b in bodies] == [
        ("obligation.met", "gdpr/authority"), ("obligation.waived", "gdpr/authority")]
    assert bodies[0]["data"]["late"] is False
    raw = b"".join(r.body for r in receiver.received).decode()
    for word in ("Jane", "Bob", "1234", "Phoned"):
        assert word not in raw
