"""Sending processes for tests: `breach outbox run` and `breach serve` started against the
test's database and loopback SMTP server, their log lines collected as they come."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.db import session_factory
from notifications.drafting.models import Delivery
from tests.smtp_server import SmtpServer, unused_port

BREACH = str(Path(sys.executable).with_name("breach"))
SENDER = "Example GmbH <privacy@example.com>"


@dataclass
class Process:
    """A running `breach` command and what it has logged so far."""

    process: asyncio.subprocess.Process
    started: float
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def worker(self) -> str:
        """The name it leases deliveries and the scheduler under."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def children(self) -> list[int]:
        """The PIDs of its child processes (`breach serve`'s sending processes)."""
        found: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            found.extend(int(pid) for pid in task.read_text().split())
        return found

    async def stop(self, signal_number: int, *, with_children: bool = False) -> float:
        """Send `signal_number` (to its children first, with `with_children`: a crash of
        the whole service); returns how many seconds it took to exit."""
        sent = time.monotonic()
        for child in self.children() if with_children else []:
            os.kill(child, signal_number)
        self.process.send_signal(signal_number)
        await asyncio.wait_for(self.process.wait(), 30)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return time.monotonic() - sent


def environment(database_url: str, var_dir: Path, smtp_server: SmtpServer,
                **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    # One sending process unless a test asks for more: what each test counts as on the wire
    # is one process's connections (two processes are tested in test_workers.py).
    env.update(BREACH_DATABASE_URL=database_url, BREACH_SMTP_URL=smtp_server.url,
               BREACH_VAR_DIR=str(var_dir), BREACH_MAIL_FROM=SENDER, BREACH_LOG_LEVEL="INFO",
               BREACH_OUTBOX_PROCESSES="1")
    env.update({f"BREACH_{k.upper()}": v for k, v in extra.items()})
    return env


async def start(env: dict[str, str], *args: str) -> Process:
    """`breach <args>`; its stderr is read line by line into `Process.lines`."""
    if args[0] == "serve":
        args = (*args, "--port", str(unused_port()))
    process = await asyncio.create_subprocess_exec(
        BREACH, *args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    running = Process(process, time.monotonic())

    async def read() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            running.lines.append(line.decode(errors="replace"))

    running._reader = asyncio.ensure_future(read())
    _started.append(running)
    return running


_started: list[Process] = []


def kill_left_running() -> None:
    """Kill what a test started and did not stop (it failed first), its sending processes
    with it: a failed test must not leave a service sending on its own."""
    while _started:
        left = _started.pop()
        if left.process.returncode is not None:
            continue
        for pid in [*left.children(), left.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def until(condition: Callable[[], object], within: float, what: str,
                process: Process | None = None) -> float:
    """Poll `condition` (sync or async) until it holds; returns the seconds it took. Fails
    after `within` seconds, or as soon as `process` exits."""
    began = time.monotonic()
    while True:
        held = condition()
        if asyncio.iscoroutine(held):
            held = await held
        if held:
            return time.monotonic() - began
        if process is not None and process.process.returncode is not None:
            raise AssertionError(f"the process exited ({process.process.returncode}) before "
                                 f"{what}:\n{''.join(process.lines[-20:])}")
        if time.monotonic() - began > within:
            log = "".join(process.lines[-20:]) if process is not None else ""
            raise AssertionError(f"not within {within} s: {what}\n{log}")
        await asyncio.sleep(0.05)


async def all_sent(engine: AsyncEngine, process: Process, within: float = 30
                   ) -> dict[str, Delivery]:
    """Wait until `process` has sent every delivery; returns them as recorded then."""
    rows: dict[str, Delivery] = {}

    async def sent() -> bool:
        nonlocal rows
        rows = await deliveries(engine)
        return {d.state for d in rows.values()} == {"sent"}

    await until(sent, within, "every delivery sent", process)
    return rows


async def deliveries(engine: AsyncEngine) -> dict[str, Delivery]:
    """Every delivery, by Message-ID (reminders to one person are several deliveries)."""
    async with session_factory(engine)() as db:
        return {d.message_id: d for d in (await db.exec(select(Delivery))).all()}


async def states(engine: AsyncEngine) -> collections.Counter[str]:
    return collections.Counter(d.state for d in (await deliveries(engine)).values())


def nothing_lost(rows: dict[str, Delivery], smtp_server: SmtpServer) -> None:
    """No delivery is left claimed, and each message the server accepted is recorded as
    sent or is in doubt (to be resent with the same Message-ID)."""
    assert not [a for a, d in rows.items() if d.state == "sending"]
    for message in smtp_server.messages:
        delivery = rows[message.message_id or ""]
        assert delivery.state in ("sent", "in_doubt"), (message.rcpt_tos, delivery.state)
    for delivery in rows.values():
        if delivery.state == "pending":
            assert delivery.attempts == 0 and delivery.lease_until is None


def everyone_once_or_resent(rows: dict[str, Delivery], smtp_server: SmtpServer,
                            in_doubt: int) -> None:
    """Every delivery sent and received; duplicates at most the deliveries in doubt, each
    a resend with the delivery's own Message-ID."""
    assert {d.state for d in rows.values()} == {"sent"}
    received = collections.Counter(m.message_id for m in smtp_server.messages)
    assert set(received) == {d.message_id for d in rows.values()}  # nobody missed
    doubled = {ident: n for ident, n in received.items() if n > 1}
    assert sum(n - 1 for n in doubled.values()) <= in_doubt, doubled
