"""Deliveries of a dispatcher known to be dead are in doubt at once, not after their lease;
a dispatcher that stops hands back what it had not sent, untouched."""

from __future__ import annotations

import asyncio
import collections
import socket
import sys
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import REPOSITORY
from notifications.delivery import presence
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.outbox import CaptureTransport, Dispatcher, Policy
from notifications.drafting.models import DeliveryAttempt
from notifications.drafting.render import renderer
from tests.factories import Person, sending
from tests.notifications.delivery.processes import (
    SENDER,
    deliveries,
    everyone_once_or_resent,
    until,
)
from tests.smtp_server import SmtpServer

TTL = timedelta(seconds=15)


def dispatcher(engine: AsyncEngine, clock: FixedClock, worker: str, **options: object
               ) -> Dispatcher:
    return Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                      clock=clock, sender=SENDER, worker=worker,
                      policy=Policy(lease=timedelta(minutes=5)), **options)  # type: ignore[arg-type]


async def replies(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as db:
        return [a.reply or "" for a in (await db.exec(select(DeliveryAttempt))).all()]


async def test_a_dispatcher_whose_presence_ended_has_its_deliveries_resent_at_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(4)])
    crashed, survivor = dispatcher(engine, clock, "elsewhere:1"), dispatcher(engine, clock, "here:2")
    await presence.announce(engine, clock, "elsewhere:1", TTL)
    assert len(await crashed.claim()) == 4  # ... and then it died, holding them for 5 minutes
    assert await survivor.reclaim() == 0  # alive as far as anyone can tell
    clock.advance(TTL - timedelta(seconds=1))
    assert await survivor.reclaim() == 0
    clock.advance(timedelta(seconds=1))  # its presence ran out: it is dead
    assert await survivor.reclaim() == 4
    assert {d.state for d in (await deliveries(engine)).values()} == {"in_doubt"}
    assert set(await replies(engine)) == {
        "elsewhere:1 stopped: its presence ended at 12:00:15 UTC"}
    assert await survivor.run_once() == 4


async def test_without_a_presence_a_dispatcher_is_never_taken_for_dead(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    """(A version that kept none, or a dispatcher run by hand): its lease decides."""
    await sending(client, people, ["anna@example.com"])
    assert len(await dispatcher(engine, clock, "older:1").claim()) == 1
    clock.advance(timedelta(minutes=4))
    assert await dispatcher(engine, clock, "here:2").reclaim() == 0
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await dispatcher(engine, clock, "here:2").reclaim() == 1
    assert await replies(engine) == ["lease held by older:1 expired"]


async def test_a_process_gone_from_this_machine_is_dead_at_once(
        engine: AsyncEngine, clock: FixedClock) -> None:
    ended = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await ended.wait()
    gone = f"{socket.gethostname()}:{ended.pid}"
    running = await asyncio.create_subprocess_exec(sys.executable, "-c",
                                                   "import time; time.sleep(60)")
    try:
        alive = f"{socket.gethostname()}:{running.pid}"
        for worker in (gone, alive, "another-host:1"):
            await presence.announce(engine, clock, worker, TTL)
        found = await presence.dead(engine, clock.now(), [gone, alive, "another-host:1"])
    finally:
        running.kill()
        await running.wait()
    # Another machine's process cannot be looked at: only its presence's end tells.
    assert found == {gone: "its process no longer runs on this machine"}
    # Nor can one kept from another container (another PID namespace) under the same name.
    async with session_factory(engine)() as db, transaction(db):
        await db.exec(update(presence.LEASES).where(
            presence.LEASES.c.name == presence.key(gone)).values(holder=f"{gone} 0123456789ab"))
    assert await presence.dead(engine, clock.now(), [gone]) == {}
    clock.advance(TTL)
    assert set(await presence.dead(engine, clock.now(), [gone])) == {gone}
    await presence.withdraw(engine, clock, alive)  # an orderly stop: dead at once
    assert set(await presence.dead(engine, clock.now(), [alive])) == {alive}


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_a_stop_hands_back_what_was_not_sent_untouched_and_the_rest_in_doubt(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(6)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 2.0  # the relay takes its time to answer the end of DATA
    pool = pool_from_url(smtp_server.url, size=1, timeout=10)
    stopping = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                          sender=SENDER, worker="w1", concurrency=1)
    batch = asyncio.ensure_future(stopping.run_once())
    try:
        await until(lambda: smtp_server.messages or smtp_server.max_busy, 10,
                    "the first message on the wire")
        assert await stopping.stop(grace=0.2) == 6
        await asyncio.wait_for(batch, 5)
    finally:
        await pool.close()
    rows = await deliveries(engine)
    assert collections.Counter(d.state for d in rows.values()) == {"pending": 5, "in_doubt": 1}
    assert {d.attempts for d in rows.values() if d.state == "pending"} == {0}
    assert not [d for d in rows.values() if d.leased_by and d.state == "pending"]
    assert await replies(engine) == ["stopped before the relay's reply was recorded"]

    smtp_server.faults.delay = 0
    again = pool_from_url(smtp_server.url, size=2, timeout=5)
    try:
        while await Dispatcher(engine, again, renderer(REPOSITORY / "templates"), clock=clock,
                               sender=SENDER, worker="w2").run_once():
            pass
    finally:
        await again.close()
    everyone_once_or_resent(await deliveries(engine), smtp_server, in_doubt=1)
