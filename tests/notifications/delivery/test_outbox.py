"""The outbox against a real SMTP server that misbehaves, and a dispatcher killed mid-batch."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import REPOSITORY, load_settings
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.outbox import Dispatcher, return_paths
from notifications.delivery.return_paths import delivery_of
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from tests.factories import Person, sending
from tests.smtp_server import SmtpServer

BREACH = str(Path(sys.executable).with_name("breach"))


async def deliveries(engine: AsyncEngine) -> dict[str, Delivery]:
    async with session_factory(engine)() as db:
        return {d.address or "": d for d in (await db.exec(select(Delivery))).all()}


async def test_retry_failure_and_doubt_each_handled_without_poisoning_the_batch(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(6)]
    await sending(client, people, addresses)
    smtp_server.faults.reply("rcpt", "451 4.7.1 Greylisted, try again in 120 seconds",
                             to="p1@example.com", times=1)
    smtp_server.faults.reply("rcpt", "550 5.1.1 <p2@example.com>: Recipient address rejected",
                             to="p2@example.com")
    smtp_server.faults.drop("after_data", to="p3@example.com", times=1)
    smtp_server.faults.drop("before_data", to="p4@example.com", times=1)
    pool = pool_from_url(smtp_server.url, size=2, timeout=5)
    dispatcher = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                            sender="Example GmbH <privacy@example.com>", worker="w1")
    try:
        assert await dispatcher.run_once() == 6
        first = await deliveries(engine)
        assert first["p0@example.com"].state == "sent" and first["p5@example.com"].state == "sent"
        greylisted = first["p1@example.com"]
        assert greylisted.state == "retry" and (greylisted.last_reply or "").startswith("451 4.7.1")
        assert greylisted.next_attempt_at >= clock.now() + timedelta(seconds=120)
        rejected = first["p2@example.com"]
        assert rejected.state == "failed"
        assert rejected.last_reply == "550 5.1.1 <p2@example.com>: Recipient address rejected"
        assert first["p3@example.com"].state == "in_doubt"
        assert first["p4@example.com"].state == "retry"

        # The in-doubt message is resent at once, the others when their time comes.
        assert await dispatcher.run_once() == 1
        clock.advance(timedelta(minutes=3))
        assert await dispatcher.run_once() == 2
        final = await deliveries(engine)
        assert {a: d.state for a, d in final.items()} == {
            **{a: "sent" for a in addresses}, "p2@example.com": "failed"}
        assert final["p1@example.com"].attempts == 2
    finally:
        await pool.close()
    received = collections.Counter(m.message_id for m in smtp_server.messages if m.acknowledged)
    doubted = [m for m in smtp_server.messages if m.rcpt_tos == ("p3@example.com",)]
    assert len(doubted) == 2 and doubted[0].message_id == doubted[1].message_id
    assert doubted[0].message_id == final["p3@example.com"].message_id
    assert received[final["p0@example.com"].message_id] == 1
    notification = (await client.get("/api/v1/incidents/BR-2026-0001/notifications/1",
                                     headers=people["responder"].headers)).json()
    assert notification["status"] == "done"
    assert notification["deliveries"] == {"sent": 5, "failed": 1}


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_killed_mid_batch_every_recipient_gets_the_notice_and_duplicates_are_bounded(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(120)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.02  # a slow server, so the kill lands mid-batch
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_DATABASE_URL=database_url, BREACH_SMTP_URL=smtp_server.url,
               BREACH_VAR_DIR=str(tmp_path / "var"), BREACH_OUTBOX_BATCH="50",
               BREACH_SMTP_CONNECTIONS="4", BREACH_MAIL_FROM="Example GmbH <privacy@example.com>")
    worker = await asyncio.create_subprocess_exec(BREACH, "outbox", "run", env=env,
                                                  stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL)
    try:
        await smtp_server.received_while_running(30, worker)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    at_kill = await deliveries(engine)
    in_flight = sum(1 for d in at_kill.values() if d.state == "sending")
    assert 0 < in_flight <= 50
    assert sum(1 for d in at_kill.values() if d.state == "sent") < len(addresses)

    # A new dispatcher, once the dead one's leases have run out, finishes the job.
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=6))
    pool = pool_from_url(smtp_server.url, size=4, timeout=5)
    smtp_server.faults.delay = 0
    dispatcher = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=later,
                            sender="Example GmbH <privacy@example.com>", worker="w2")
    try:
        while await dispatcher.run_once():
            pass
    finally:
        await pool.close()
    final = await deliveries(engine)
    assert {d.state for d in final.values()} == {"sent"}
    by_recipient = collections.defaultdict(list)
    for message in smtp_server.messages:
        by_recipient[message.rcpt_tos[0]].append(message.message_id)
    assert set(by_recipient) == set(addresses)  # nobody missed
    duplicates = sum(len(ids) - 1 for ids in by_recipient.values())
    assert duplicates <= in_flight
    for address, ids in by_recipient.items():
        assert set(ids) == {final[address].message_id}  # a resend carries the same Message-ID


async def test_each_delivery_goes_out_with_its_own_return_path(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    """With a bounce address, each message's envelope sender names its delivery (VERP), so
    the bounce that comes back to it says whom it is about; the From header is unchanged."""
    await sending(client, people, [f"p{n}@example.com" for n in range(4)])
    settings = load_settings(secret=False, secret_key="s" * 43,
                             bounce_address="bounces@example.com")
    paths = return_paths(settings)
    assert paths is not None
    pool = pool_from_url(smtp_server.url, size=2, timeout=5)
    dispatcher = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                            sender="Example GmbH <privacy@example.com>", worker="w1",
                            return_path=paths)
    try:
        assert await dispatcher.run_once() == 4
    finally:
        await pool.close()
    sent = await deliveries(engine)
    assert len(smtp_server.messages) == 4
    for message in smtp_server.messages:
        delivery = sent[message.rcpt_tos[0]]
        assert delivery_of(message.mail_from, bounce_address="bounces@example.com",
                           secret="s" * 43) == delivery.id
        assert message.mail_from.startswith(f"bounces+b{delivery.id}-")
        assert b"\r\nFrom: Example GmbH Privacy Team <privacy@example.com>\r\n" in message.data
    assert return_paths(load_settings(secret=False, bounce_address="")) is None
