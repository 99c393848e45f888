"""Sending starts as soon as a notice is sent, not at the sending processes' next tick.

A sending process with nothing to do looks again every `BREACH_OUTBOX_TICK_SECONDS` (2 s):
each look is a write transaction, so looking much more often would cost the database for
nothing. So a send (the API's, the page's, the CLI's) touches a file once it has queued
deliveries (`queuing.announce`), and an idle sending process watches that file's time
(`WakeWatch`, a `stat` every 50 ms, which costs next to nothing): a send reaches the wire
within a tenth of a second, and the tick stays for what nobody announces (a scheduled
send, a retry coming due, work queued by a process on another machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

__all__ = ["POLL_SECONDS", "WakeWatch"]

POLL_SECONDS = 0.05
"""How often an idle sending process looks at the file."""


class WakeWatch:
    """What an idle sending process waits on: the file changed, a stop, or the tick."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = self._stamp()

    def _stamp(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return 0

    async def until_woken(self, stop: asyncio.Event, at_most: float) -> bool:
        """Wait until the file changes (True), or `stop` is set or `at_most` seconds pass
        (False)."""
        deadline = time.monotonic() + at_most
        while not stop.is_set():
            stamp = self._stamp()
            if stamp != self.seen:
                self.seen = stamp
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(POLL_SECONDS, left))
        return False
