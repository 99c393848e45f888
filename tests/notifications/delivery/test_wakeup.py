"""A send wakes an idle sending process at once: it does not wait for its next tick."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from notifications.delivery.outbox import run_until_stopped
from notifications.delivery.wakeup import WakeWatch
from notifications.drafting import queuing
from tests.conftest import Lane
from tests.factories import Person, sending
from tests.notifications.delivery.processes import states
from tests.notifications.delivery.test_pipeline import dispatcher


class Watched(WakeWatch):
    """A watch that says when the process is idle (waiting on it)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.idle = asyncio.Event()

    async def until_woken(self, stop: asyncio.Event, at_most: float) -> bool:
        self.idle.set()
        try:
            return await super().until_woken(stop, at_most)
        finally:
            self.idle.clear()


async def test_a_send_wakes_an_idle_sending_process_long_before_its_tick(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, this_lane: Lane) -> None:
    watch = Watched(queuing.wake_file(this_lane.settings.var_dir))
    stop = asyncio.Event()
    running = asyncio.ensure_future(run_until_stopped(dispatcher(engine, clock), stop,
                                                      idle=3600, woken_by=watch))
    try:
        await asyncio.wait_for(watch.idle.wait(), 10)  # nothing was due: it waits
        await sending(client, people, ["a@example.com", "b@example.com"])
        async with asyncio.timeout(10):  # its tick is an hour away
            while await states(engine) != {"sent": 2}:  # noqa: ASYNC110 - rows set no event
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_the_watch_wakes_on_a_change_and_otherwise_after_at_most_its_wait(
        tmp_path: Path) -> None:
    path = queuing.wake_file(tmp_path / "var")
    watch, stop = WakeWatch(path), asyncio.Event()
    started = time.monotonic()
    assert not await watch.until_woken(stop, 0.2)  # no file yet, nothing changed
    assert time.monotonic() - started >= 0.2
    queuing.announce(tmp_path / "var")
    assert await watch.until_woken(stop, 10)
    assert not await watch.until_woken(stop, 0.1)  # the same change wakes only once
    stop.set()
    started = time.monotonic()
    assert not await watch.until_woken(stop, 10)
    assert time.monotonic() - started < 1
