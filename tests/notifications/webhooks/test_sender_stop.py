"""The webhook sender stops and fails as the e-mail outbox does: an orderly stop gives back
what it holds (a delivery never posted as it was, one posted without a recorded answer in
doubt, sent again at once with the same webhook-id); a sender that dies leaves its lease
to run out, and the next one sends again with the same webhook-id."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import REPOSITORY, Settings
from notifications.delivery.outbox import CaptureTransport
from notifications.drafting.render import renderer
from notifications.scheduler.ticker import Ticker, jobs
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.sender import LEASE, WebhookSender
from tests.factories import Person, new_incident
from tests.notifications.webhooks.receiver import Receiver
from tests.notifications.webhooks.test_delivery import add_endpoint


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(gate=threading.Event())
    made.up()
    yield made
    made.down()


async def only_row(engine: AsyncEngine) -> WebhookDelivery:
    async with session_factory(engine)() as db:
        return (await db.exec(select(WebhookDelivery))).one()


async def entered(receiver: Receiver) -> None:
    """Until a request reaches the receiver (it holds it, unanswered)."""
    assert await asyncio.to_thread(receiver.entered.wait, 30)


async def test_stopped_with_a_request_on_the_wire_the_delivery_is_in_doubt_and_sent_again(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    declared = jobs(engine, settings, clock, renderer(REPOSITORY / "templates"),
                    CaptureTransport(engine, clock), worker="w")
    [webhooks] = [job for job in declared if job.name == "webhooks"]
    assert webhooks.stop is not None and webhooks.long
    ticker = Ticker([webhooks])  # the scheduler of `breach serve`, with only this job
    ticker.start()
    try:
        await entered(receiver)
    finally:
        await ticker.stop(grace=0.2)  # the receiver holds its answer past the grace period
    row = await only_row(engine)
    assert (row.state, row.attempts, row.lease_until) == ("pending", 1, None)
    assert row.next_attempt_at == clock.now()  # due at once, not after a backoff
    assert (row.last_error or "").startswith("in doubt")

    # The next sender sends it again at once, with the same webhook-id: a receiver that
    # keeps the ids it handled drops the repeat.
    held, receiver.gate = receiver.gate, None
    assert held is not None
    held.set()
    assert await WebhookSender(engine, clock, key=settings.secret_key).run_once() == 1
    sent = await only_row(engine)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 2, None)
    ids = [r.headers["webhook-id"] for r in receiver.entries]
    assert ids == [row.message_id, row.message_id]


async def test_an_answer_that_comes_within_the_grace_period_is_recorded(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    running = asyncio.ensure_future(sender.run_once())
    await entered(receiver)
    stopping = asyncio.ensure_future(sender.stop(grace=30))
    assert receiver.gate is not None
    receiver.gate.set()  # the receiver answers while the sender waits for it
    assert await stopping == 0  # nothing left to give back
    assert await running == 1
    row = await only_row(engine)
    assert (row.state, row.attempts, row.lease_until) == ("sent", 1, None)
    assert await sender.run_once() == 0  # stopped: claims nothing more


async def test_a_claim_never_posted_is_given_back_as_it_was(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    before = await only_row(engine)
    sender = WebhookSender(engine, clock, key=settings.secret_key)
    [claimed] = await sender._claim()
    assert claimed.attempts == 1
    assert await sender.stop() == 1
    row = await only_row(engine)
    assert (row.state, row.attempts, row.lease_until, row.last_error) == (
        "pending", 0, None, None)
    assert row.next_attempt_at == before.next_attempt_at
    assert receiver.entries == []


async def test_a_sender_that_died_mid_send_leaves_the_delivery_to_the_next_after_its_lease(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        settings: Settings, people: dict[str, Person], receiver: Receiver) -> None:
    await add_endpoint(client, people["admin"], receiver.url, ["incident.created"])
    await new_incident(client, people["responder"])
    dead = WebhookSender(engine, clock, key=settings.secret_key)
    [claimed] = await dead._claim()  # claimed, then the process is gone: nothing released
    receiver.gate = None
    other = WebhookSender(engine, clock, key=settings.secret_key)
    assert await other.run_once() == 0  # the lease holds: nobody sends it meanwhile
    clock.advance(LEASE - timedelta(seconds=1))
    assert await other.run_once() == 0
    clock.advance(timedelta(seconds=2))
    assert await other.run_once() == 1
    row = await only_row(engine)
    assert (row.state, row.attempts) == ("sent", 2)
    assert [r.headers["webhook-id"] for r in receiver.received] == [claimed.message_id]
    # What the dead sender would have recorded is not its to record any more.
    assert await dead.release() == 0
    assert (await only_row(engine)).state == "sent"
