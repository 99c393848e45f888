"""The rate limiter on a moved clock: spacing, bursts, and no credit saved while idle."""

from __future__ import annotations

import asyncio

from notifications.delivery.rate_limit import RateLimiter


class FakeClock:
    """Monotonic seconds that move only when someone sleeps: to the latest instant a sleeper asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        until = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, until)


async def test_the_rate_limiter_spaces_acquisitions_by_the_moved_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(8):
        await limiter.acquire()
        times.append(round(clock.now, 6))
    assert times == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    clock.now += 10  # idle: the bucket refills to its burst, no more
    for _ in range(4):
        await limiter.acquire()
    assert round(clock.now, 6) == 10.6
