"""Sending starts as soon as a notice is sent, not at the sending processes' next tick.

A sending process with nothing to do looks again every `BREACH_OUTBOX_TICK_SECONDS` (2 s):
each look is a write transaction, so looking much more often would cost the database
for nothing. So the web service touches a file when it has queued deliveries (`wake`),
and an idle sending process watches that file's time (`WakeWatch`, a `stat` every 50 ms,
which costs next to nothing): a send reaches the wire within a tenth of a second, and
the tick stays for what nobody announces (a scheduled send, a retry coming due, work
queued by a process on another machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

__all__ = ["POLL_SECONDS", "WakeWatch", "wake", "wake_file"]

POLL_SECONDS = 0.05
"""How often an idle sending process looks at the file."""


def wake_file(var_dir: Path) -> Path:
    """The file the web service and its sending processes share (beside the database)."""
    return var_dir / "outbox-wake"


def wake(path: Path) -> None:
    """Tell the sending processes watching `path` that deliveries are due now. A file that
    cannot be written leaves them to their tick."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


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
