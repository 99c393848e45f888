"""The rate limiter on a moved clock: spacing, bursts, and no credit saved while idle."""

from __future__ import annotations

from notifications.delivery.rate_limit import RateLimiter
from tests.notifications.delivery.samples import FakeClock


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
