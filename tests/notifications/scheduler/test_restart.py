"""`breach serve` on SQLite restarted: stopped by Ctrl-C or SIGTERM mid-batch it exits in
seconds and releases its lease, so the next process ticks from its start; killed with
kill -9 on the same machine, the next one sees the process is gone, takes over from its
start, and resends what was in flight at once (not after the 300 s delivery lease), each
message with its own Message-ID. Both say whom they took over from."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.db import session_factory
from notifications.delivery import workers
from notifications.scheduler.models import SchedulerLease
from tests.factories import Person, sending
from tests.notifications.delivery.processes import (
    Process,
    all_sent,
    deliveries,
    environment,
    everyone_once_or_resent,
    nothing_lost,
    start,
    until,
)
from tests.smtp_server import SmtpServer

STOPS_WITHIN = 6.0
"""Seconds from the signal to the exit: the grace period (3 s), closing, and a little."""
STARTS_WITHIN = 30.0
"""Seconds for a process to start at all (imports, the app): not what is measured."""
TAKES_OVER_WITHIN = 5.0
"""Seconds from the new process's first word to its taking over: one renewal interval."""


def listening_at(process: Process) -> str:
    """The address a `breach serve` said it listens on ("Breachdesk on http://…/")."""
    line = next(line for line in process.lines if "Breachdesk on http" in line)
    found = re.search(r"Breachdesk on (http://\S+?)/ ", line)
    assert found is not None, line
    return found.group(1)


async def ticker_lease(engine: AsyncEngine) -> SchedulerLease | None:
    async with session_factory(engine)() as db:
        return await db.get(SchedulerLease, "ticker")


async def takes_over(engine: AsyncEngine, smtp_server: SmtpServer, env: dict[str, str],
                     previous: Process, addresses: list[str], in_doubt: int,
                     because: str) -> None:
    """A new `breach serve` takes over from `previous` and sends the rest: all of it."""
    smtp_server.faults.delay = 0
    after = await start(env, "serve")
    try:
        await until(lambda: after.logged("Breachdesk on http"), STARTS_WITHIN, "started", after)
        said = f"taking over from {previous.worker} ({because}"
        took = await until(lambda: after.logged(said), TAKES_OVER_WITHIN, said, after)
        assert took <= TAKES_OVER_WITHIN
        lease = await ticker_lease(engine)
        assert lease is not None and lease.holder == after.worker
        rows = await all_sent(engine, after)
    finally:
        await after.stop(signal.SIGTERM)
    everyone_once_or_resent(rows, smtp_server, in_doubt)
    assert {d.address for d in rows.values()} >= set(addresses)
    # The incident is long overdue: its reminders link to where `breach serve` listened
    # (no BREACH_BASE_URL is set), whichever of the two processes sent them.
    served = {listening_at(previous), listening_at(after)}
    reminders = [m.parsed() for m in smtp_server.messages
                 if not any(to in addresses for to in m.rcpt_tos)]
    assert reminders
    for message in reminders:
        body = message.get_body(("plain",))
        assert body is not None
        text = str(body.get_content())
        assert any(f"{url}/incidents/BR-" in text for url in served), text
        assert ":8000/" not in text or any(":8000" in url for url in served)


@pytest.mark.parametrize("lane", ["sqlite"])
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM],
                         ids=["sigint", "sigterm"])
async def test_stopped_mid_batch_it_exits_in_seconds_and_the_next_ticks_at_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer,
        signal_number: int) -> None:
    addresses = [f"p{n}@example.com" for n in range(60)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.05  # a slow server: the signal lands mid-batch
    env = environment(database_url, tmp_path / "var", smtp_server, outbox_tick_seconds="0.2",
                      smtp_connections="4")
    before = await start(env, "serve")
    await until(lambda: len(smtp_server.messages) >= 10, STARTS_WITHIN, "10 messages", before)
    took = await before.stop(signal_number)
    assert took < STOPS_WITHIN, f"{took:.1f} s to stop:\n{''.join(before.lines)}"
    assert before.logged("Finished server process")

    rows = await deliveries(engine)
    nothing_lost(rows, smtp_server)
    in_doubt = sum(1 for d in rows.values() if d.state == "in_doubt")
    assert in_doubt <= 4  # at most the messages on the wire (one per connection)
    lease = await ticker_lease(engine)
    assert lease is not None and lease.holder == before.worker
    await takes_over(engine, smtp_server, env, before, addresses, in_doubt,
                     because="its lease ended at ")


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_after_kill_9_the_next_takes_over_at_once_and_resends_what_was_in_flight(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(60)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.05
    env = environment(database_url, tmp_path / "var", smtp_server, outbox_tick_seconds="0.2",
                      smtp_connections="4")
    before = await start(env, "serve")
    await until(lambda: len(smtp_server.messages) >= 10, STARTS_WITHIN, "10 messages", before)
    await before.stop(signal.SIGKILL, with_children=True)  # the service and its sender
    rows = await deliveries(engine)
    in_flight = sum(1 for d in rows.values() if d.state == "sending")
    assert 0 < in_flight <= 100  # a batch claimed, its lease running for 300 s
    await takes_over(engine, smtp_server, env, before, addresses, in_flight,
                     because="its process no longer runs on this machine")


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_a_sending_process_outlives_neither_its_service_nor_its_own_crash(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    """`breach serve` sends from a process of its own. Killed, that process is started again
    and resends what it had in flight at once; the service killed with kill -9, its sending
    process stops in order instead of sending on unwatched. It runs at a lower CPU priority
    than the service, which answers requests first."""
    addresses = [f"p{n}@example.com" for n in range(80)]
    await sending(client, people, addresses)
    smtp_server.faults.delay = 0.05
    env = environment(database_url, tmp_path / "var", smtp_server, outbox_tick_seconds="0.2",
                      smtp_connections="4")
    service = await start(env, "serve")
    await until(lambda: len(smtp_server.messages) >= 10, STARTS_WITHIN, "10 messages", service)
    [first] = service.children()
    served = os.getpriority(os.PRIO_PROCESS, service.process.pid)
    assert os.getpriority(os.PRIO_PROCESS, first) == min(19, served + workers.NICENESS)
    os.kill(first, signal.SIGKILL)
    await until(lambda: service.logged(f"(pid {first}) exited with status -9"), 5,
                "the crash noticed", service)
    await until(lambda: len(service.children()) == 1 and service.children() != [first], 10,
                "a new sending process", service)
    [second] = service.children()
    await until(lambda: len(smtp_server.messages) >= 30, 30, "30 messages", service)

    await service.stop(signal.SIGKILL)
    await until(lambda: not Path(f"/proc/{second}").exists(), 10, "the sender stopped")
    assert service.logged(f"{socket.gethostname()}:{second} released ")
    rows = await deliveries(engine)
    nothing_lost(rows, smtp_server)  # released in order: nothing left claimed

    after = await start(env, "serve")
    try:
        rows = await all_sent(engine, after, within=60)
    finally:
        await after.stop(signal.SIGTERM)
    everyone_once_or_resent(rows, smtp_server, 4 + 4)  # on the wire at the crash, the stop
