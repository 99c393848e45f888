"""The sending processes `breach serve` runs beside the web service.

Sending is CPU work (rendering, MIME, the SMTP exchange, recording outcomes); in the web
process it would compete with requests for one event loop and one core. So `breach serve`
starts `BREACH_OUTBOX_PROCESSES` processes of `breach outbox run` (by default two on
SQLite where there are two cores: one builds and sends while the other holds the single
write lock; on PostgreSQL one per core, up to four, claiming with SKIP LOCKED side by
side) and the web process keeps the other jobs.

Each child runs at the lowest CPU priority, so the web service's requests (and on the same
machine the database server) get a core first while a large notice is sent. Each child
is tied to its parent: on Linux the kernel sends it SIGTERM when the parent dies (a kill
-9 included), elsewhere it notices within a second; either way it stops in order,
releasing what it holds. A child that exits while
the service runs is started again (after a pause that grows while it keeps failing), and
the service says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from typing import Literal

log = logging.getLogger("breachdesk.outbox")

__all__ = ["SendingProcesses", "how_many", "tie_to_parent", "yield_to_service"]

_PR_SET_PDEATHSIG = 1
STARTED = "from incident.cli import main; main()"
"""How a child is started: the same `breach` command, whatever the installation's scripts."""


def how_many(setting: int | Literal["auto"], dialect: str, cores: int | None = None) -> int:
    """How many sending processes: the setting, or by default on SQLite one per core
    (`cores`, else this machine's) up to two (it has one writer at a time: a third would
    mostly wait for the lock) and on PostgreSQL one per core up to four: they run at the
    lowest CPU priority, so the web service and the database server still get the cores
    they need first."""
    if setting != "auto":
        return setting
    cores = cores or os.cpu_count() or 1
    if dialect != "postgresql":
        return max(1, min(cores, 2))
    return max(1, min(cores, 4))


class SendingProcesses:
    """`count` children running `breach outbox run`, restarted when they exit unasked."""

    def __init__(self, count: int, *, stop_within: float) -> None:
        self.count = count
        self.stop_within = stop_within
        self.children: list[asyncio.subprocess.Process] = []
        self._keepers: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        for number in range(self.count):
            self._keepers.append(asyncio.ensure_future(self._keep(number)))

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", STARTED, "outbox", "run", "--parent", str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL)

    async def _keep(self, number: int) -> None:
        pause = 1.0
        while not self._stopping:
            started = time.monotonic()
            child = await self._spawn()
            self.children.append(child)
            log.info("sending process %s started (pid %s)", number + 1, child.pid)
            code = await child.wait()
            self.children.remove(child)
            if self._stopping:
                return
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 60.0)
            log.error("sending process %s (pid %s) exited with status %s; starting it again "
                      "in %.0f s", number + 1, child.pid, code, pause)
            await asyncio.sleep(pause)

    async def stop(self) -> None:
        """SIGTERM to each child (it stops in order within its grace period), SIGKILL to
        any still running after `stop_within` seconds."""
        self._stopping = True
        running = list(self.children)
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        waits = [asyncio.ensure_future(child.wait()) for child in running]
        if waits:
            _, late = await asyncio.wait(waits, timeout=self.stop_within)
            for child in running:
                if child.returncode is None:
                    log.warning("sending process %s did not stop within %.0f s; killed",
                                child.pid, self.stop_within)
                    with contextlib.suppress(ProcessLookupError):
                        child.kill()
            if late:
                await asyncio.wait(late, timeout=2)
        for keeper in self._keepers:
            keeper.cancel()
        self._keepers.clear()
        for child in self.children:  # started while this stop began
            with contextlib.suppress(ProcessLookupError):
                child.kill()


NICENESS = 19
"""How much lower a sending process's CPU priority is than the web service's: the lowest
there is. At 10, a sending process's second thread (its transactions) still took cores from
requests: reads p99 while sending 449 ms; at 19, 28 ms."""


def yield_to_service() -> None:
    """In a child of `breach serve`: when both want a core, the web service's requests go
    first. Sending takes what is left, which on an idle service is every core it can use."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)


def tie_to_parent(parent: int, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """In a child of `breach serve`: stop in order when the parent is gone. On Linux the
    kernel signals it (SIGTERM, handled like a Ctrl-C); a watch on the parent's PID covers
    the other systems and a parent that died before the kernel was asked."""
    libc_name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and libc_name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    async def watch() -> None:
        while os.getppid() == parent:  # noqa: ASYNC110 - a parent's end sets no event here
            await asyncio.sleep(1)
        log.warning("the service that started this sending process (pid %s) is gone; "
                    "stopping", parent)
        stop.set()

    return asyncio.ensure_future(watch())
