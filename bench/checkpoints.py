"""Benchmark: does checkpointing slow an incident's write path?

    .venv/bin/python bench/checkpoints.py                    # 200 chains, 3 x 2,000 appends
    .venv/bin/python bench/checkpoints.py --chains 1000 --appends 5000

It generates its own data (a temporary SQLite database with `--chains` incident chains of
20 events each), then appends `--appends` timeline events, one transaction each as a use
case does, in two ways, alternating round after round:

- baseline: appends alone;
- with checkpoints: the same appends while a checkpoint is made every `--every` seconds in
  the same process and event loop (default 1 s; the scheduler looks once a minute, and makes
  one after a send or a duty's change, else hourly).

It prints appends per second of each (median of the rounds), their ratio, and how long one
checkpoint of every chain takes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incident.audit.checkpoints import CheckpointLog, make_checkpoint
from incident.audit.signing import KeyRing
from incident.kernel.auth import Actor, Role
from incident.kernel.db import create_engine, session_factory, transaction, upgrade
from incident.timeline import service as journal

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ACTOR = Actor(label="bench@example.com", role=Role.RESPONDER)


async def fill(url: str, chains: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    for n in range(chains):
        async with sessions() as db, transaction(db):
            for i in range(20):
                await journal.append_event(db, chain=f"bench-{n}", at=NOW, actor=ACTOR,
                                           kind="note", payload={"text": f"event {i}"})
    await engine.dispose()


async def appends(url: str, count: int, chains: int, *, checkpointing: Path | None,
                  every: float = 1.0) -> tuple[float, list[float]]:
    """(appends per second, seconds of each checkpoint made meanwhile)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    done = asyncio.Event()
    took: list[float] = []

    async def checkpoints(folder: Path) -> None:
        keys, log = KeyRing(folder / "ed25519.pem"), CheckpointLog(folder / "checkpoints.jsonl")
        at = NOW
        while not done.is_set():
            at += timedelta(seconds=1)
            started = time.perf_counter()
            async with sessions() as db:
                await make_checkpoint(db, keys=keys, log=log, now=at, force=True)
            took.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=every)

    background = asyncio.create_task(checkpoints(checkpointing)) if checkpointing else None
    started = time.perf_counter()
    for i in range(count):
        async with sessions() as db, transaction(db):
            await journal.append_event(db, chain=f"bench-{i % chains}", at=NOW, actor=ACTOR,
                                       kind="note", payload={"text": f"append {i}"})
    elapsed = time.perf_counter() - started
    done.set()
    if background:
        await background
    await engine.dispose()
    return count / elapsed, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=200)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=float, default=1.0,
                        help="seconds between checkpoints while appending")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        upgrade(url)
        asyncio.run(fill(url, options.chains))
        plain, checked, each = [], [], []
        for _ in range(options.rounds):
            plain.append(asyncio.run(appends(url, options.appends, options.chains,
                                             checkpointing=None))[0])
            rate, took = asyncio.run(appends(url, options.appends, options.chains,
                                             checkpointing=Path(folder) / "keys",
                                             every=options.every))
            checked.append(rate)
            each += took
    base, with_checkpoints = statistics.median(plain), statistics.median(checked)
    print(f"{options.chains} chains, {options.appends} appends x {options.rounds} rounds (SQLite)")
    print(f"baseline            {base:8.0f} appends/s")
    print(f"with checkpoints    {with_checkpoints:8.0f} appends/s   "
          f"ratio {with_checkpoints / base:.2f}   ({len(each)} checkpoints made meanwhile, "
          f"one every {options.every:g} s)")
    print(f"one checkpoint      {statistics.median(each) * 1000:8.1f} ms median, "
          f"{max(each) * 1000:.1f} ms worst")


if __name__ == "__main__":
    main()
