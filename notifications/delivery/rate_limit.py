"""Holding a sender to a rate: at most so many messages per second, in bursts of a few.

Separate from the connection pool because a rate is an agreement with a mail provider,
not a property of connections; the clock and the sleep are parameters so tests move time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most `rate` messages per second on average, in bursts of up to `burst`.

    The cell-rate form of a token bucket: each caller reserves the next free instant
    and sleeps until then, so callers go in arrival order and nobody re-checks the
    clock in a loop. The clock (monotonic seconds) and the sleep are parameters so
    tests can move time.
    """

    def __init__(self, rate: float, *, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._next = -float("inf")  # the instant the next message is due, were there no burst

    async def acquire(self) -> None:
        now = self._clock()
        due = max(self._next, now)
        self._next = due + self._interval
        wait = due - self._tolerance - now
        if wait > 0:
            await self._sleep(wait)
