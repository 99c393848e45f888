"""How many sending processes `breach serve` starts, and two of them on SQLite sharing a notice
(their life is tested with real processes in tests/notifications/scheduler/test_restart.py)."""

from __future__ import annotations

import collections
import os
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.db import session_factory
from notifications.delivery.workers import how_many
from notifications.drafting.models import DeliveryAttempt
from tests.factories import Person, sending
from tests.notifications.delivery.processes import all_sent, environment, start, until
from tests.smtp_server import SmtpServer


def test_up_to_two_on_sqlite_one_per_core_up_to_four_on_postgresql_unless_set() -> None:
    assert how_many("auto", "sqlite") == min(os.cpu_count() or 1, 2)
    assert how_many("auto", "postgresql") == min(os.cpu_count() or 1, 4)
    assert how_many(0, "postgresql") == 0  # sent from the web process itself
    assert how_many(3, "sqlite") == 3


@pytest.mark.parametrize(("cores", "processes"), [(1, 1), (2, 2), (3, 3), (16, 4)])
def test_postgresql_runs_one_per_core_up_to_four(cores: int, processes: int) -> None:
    assert how_many("auto", "postgresql", cores) == processes


@pytest.mark.parametrize(("cores", "processes"), [(1, 1), (2, 2), (8, 2)])
def test_sqlite_uses_two_cores_at_most_for_its_one_writer(cores: int, processes: int) -> None:
    assert how_many("auto", "sqlite", cores) == processes


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_two_sending_processes_on_sqlite_share_a_notice_and_send_each_message_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    """SQLite's default on two cores: two processes take turns at the one write lock; both
    claim, nobody is claimed twice, nobody gets a message twice."""
    addresses = [f"p{n}@example.com" for n in range(120)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.01  # each message on the wire a while: both get to claim
    env = environment(database_url, tmp_path / "var", smtp_server, outbox_tick_seconds="0.2",
                      outbox_batch="10", smtp_connections="2", outbox_processes="2")
    service = await start(env, "serve")
    try:
        await until(lambda: len(service.children()) == 2, 30, "two sending processes", service)
        rows = await all_sent(engine, service, within=60)
    finally:
        await service.stop(signal.SIGTERM)
    assert all(d.attempts == 1 for d in rows.values())  # nobody claimed twice
    received = collections.Counter(m.message_id for m in smtp_server.messages)
    assert set(received) == set(rows) and max(received.values()) == 1
    async with session_factory(engine)() as db:
        by_worker = collections.Counter((await db.exec(select(DeliveryAttempt.worker))).all())
    assert len(by_worker) == 2 and sum(by_worker.values()) == len(rows), by_worker
