"""`breach outbox run` stopped by Ctrl-C or SIGTERM mid-batch: it exits within seconds,
every outcome on the wire is recorded or left to resend, what it had not handed over is
back in the queue untouched, and the next process finishes the job at once."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Person, sending
from tests.notifications.delivery.processes import (
    all_sent,
    deliveries,
    environment,
    everyone_once_or_resent,
    nothing_lost,
    start,
    until,
)
from tests.smtp_server import SmtpServer

STOPS_WITHIN = 5.0
"""Seconds from the signal to the exit: the grace period (3 s) and a little."""


@pytest.mark.parametrize("lane", ["sqlite"])
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM],
                         ids=["sigint", "sigterm"])
async def test_stopped_mid_batch_it_exits_in_seconds_and_loses_nothing(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer,
        signal_number: int) -> None:
    addresses = [f"p{n}@example.com" for n in range(60)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.05  # a slow server: the signal lands mid-batch
    env = environment(database_url, tmp_path / "var", smtp_server, outbox_batch="100",
                      smtp_connections="4")
    worker = await start(env, "outbox", "run")
    await until(lambda: len(smtp_server.messages) >= 10, 60, "10 messages sent", worker)
    took = await worker.stop(signal_number)
    assert took < STOPS_WITHIN, f"{took:.1f} s to stop"
    assert worker.process.returncode == 0, "".join(worker.lines)
    assert worker.logged("released")  # it said what it handed back

    at_stop = await deliveries(engine)
    nothing_lost(at_stop, smtp_server)
    in_doubt = sum(1 for d in at_stop.values() if d.state == "in_doubt")
    assert in_doubt <= 4  # at most the messages on the wire (one per connection)
    untouched = sum(1 for d in at_stop.values() if d.state == "pending")
    assert untouched > 0  # the rest of the batch went back as it was

    # The next process does not wait for any lease: it sends the rest at once.
    smtp_server.faults.delay = 0
    env.update(BREACH_SCHEDULER_LEASE_SECONDS="600", BREACH_SCHEDULER_RENEW_SECONDS="300")
    again = await start(env, "outbox", "run")
    try:
        rows = await all_sent(engine, again)
    finally:
        await again.stop(signal.SIGTERM)
    everyone_once_or_resent(rows, smtp_server, in_doubt)
    assert {d.address for d in rows.values()} == set(addresses)
