"""Benchmark: how long `breach` takes to start, against a bare Python interpreter.

    .venv/bin/python bench/cli.py                  # 7 rounds, 200 incidents
    .venv/bin/python bench/cli.py --rounds 11
    .venv/bin/python bench/cli.py --old /tmp/old   # also a checkout of an earlier version

It generates its own data (a temporary SQLite database with one user and 200
incidents), then runs each command as a new process, alternating the commands
round after round so that a busy machine slows them all alike:

- baseline: `python -c pass`
- `breach --version`, `breach --help`, `breach incidents --help`
- `breach incidents list`, as that user (BREACH_USER)

It prints the median and the fastest run of each, in seconds and as a ratio to the
baseline. Targets on a 2-core machine: `--help` under 0.3 s, `incidents list` under 1 s.
With `--old DIR`, each command also runs from the source tree in DIR (for example
`git worktree add /tmp/old bd87861`) on the same database; an older tree that knows no
`--as` ignores BREACH_USER.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incident.accounts import service as accounts
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory, upgrade
from incident.kernel.settings import Settings
from incident.lifecycle import service as incident_service
from incident.lifecycle.schemas import IncidentCreate

ROOT = Path(__file__).resolve().parent.parent
USER = "bench@example.com"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
KINDS = ["ransomware", "lost_device", "misdirected_email", "unauthorized_access", "other"]
COMMANDS: dict[str, list[str]] = {
    "--version": ["--version"],
    "--help": ["--help"],
    "incidents --help": ["incidents", "--help"],
    "incidents list": ["incidents", "list"],
}
TARGETS = {"--help": 0.3, "incidents --help": 0.3, "incidents list": 1.0}


async def fill(url: str, incidents: int) -> None:
    """One admin (created as the first user is) and `incidents` incidents recorded by them."""
    clock = FixedClock(NOW)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rules = incident_service.Rules.from_settings(Settings(database_url=url, secret_key="bench"))
    try:
        async with sessions() as db:
            user, _ = await accounts.create_user(
                db, clock=clock, actor=Actor(label="bootstrap:bench", role=Role.ADMIN, via="cli"),
                email=USER, role="admin")
        actor = accounts.user_actor(user, "cli")
        for n in range(incidents):
            aware = NOW - timedelta(hours=incidents - n)
            data = IncidentCreate(title=f"Incident {n}", kind=KINDS[n % len(KINDS)],
                                  aware_at=aware, detected_at=aware)
            async with sessions() as db:
                await incident_service.create_incident(db, clock=clock, rules=rules, actor=actor,
                                                       data=data)
    finally:
        await engine.dispose()


def launcher(tree: Path) -> list[str]:
    """`breach` run from the source tree `tree`, as the console script runs it."""
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); from incident.cli import main; main()"
    return [sys.executable, "-c", code]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[-2:])} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--old", type=Path, help="also time the source tree in this folder")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        work = Path(folder)
        url = f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}"
        upgrade(url)
        asyncio.run(fill(url, options.incidents))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
        env.update(BREACH_VAR_DIR=str(work / "var"), BREACH_DATABASE_URL=url, BREACH_USER=USER)

        trees = {"now": launcher(ROOT)}
        if options.old:
            trees["old"] = launcher(options.old.resolve())
        runs: dict[str, list[list[str]]] = {"python -c pass": [[sys.executable, "-c", "pass"]]}
        for name, args in COMMANDS.items():
            runs[f"breach {name}"] = [prefix + args for prefix in trees.values()]
        times: dict[tuple[str, int], list[float]] = {}
        for _ in range(options.rounds):
            for name, variants in runs.items():
                for index, argv in enumerate(variants):
                    times.setdefault((name, index), []).append(timed(argv, env, work))

    baseline = statistics.median(times[("python -c pass", 0)])
    print(f"{options.rounds} rounds, {options.incidents} incidents, SQLite; median (fastest) "
          "in seconds and median / baseline")
    labels = list(trees)
    for (name, index), seconds in times.items():
        median = statistics.median(seconds)
        label = f"{name} [{labels[index]}]" if len(labels) > 1 and name != "python -c pass" else name
        target = TARGETS.get(name.removeprefix("breach "))
        verdict = "" if target is None else (f"  target {target} s: "
                                             f"{'met' if median < target else 'MISSED'}")
        print(f"  {label:34} {median:6.3f} ({min(seconds):.3f})  x{median / baseline:5.1f}"
              f"{verdict}")


if __name__ == "__main__":
    main()
