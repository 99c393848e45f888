"""Which sending processes are alive: a presence per worker, renewed every few seconds.

A dispatcher's deliveries in flight are leased in its name (`host:pid`). When it stops
in order it releases what it holds itself; when it dies, its deliveries wait for their
lease (minutes: a long batch on a slow server must not be taken from a live worker).
A worker *known* to be dead needs no such wait: its in-flight deliveries are in doubt
at once and resent with the same Message-ID. A worker is known dead when

- its presence ran out (it stopped renewing it) or it released it on an orderly stop, or
- it ran on this machine, under this boot and process namespace, and its process is gone
  (a kill -9 or a crash, seen at once instead of after the presence's time to live).

A worker with no presence at all (a version that kept none) is never taken for dead.

Presences are rows `worker:<digest of the name>` of the `scheduler_lease` table (defined
with the ticker's lease in notifications/scheduler/models.py; named here as a plain table
so the outbox needs nothing from the scheduler). The row's holder is the worker's name and
a tag of its machine's boot and its PID namespace: only a process with the same tag may
look for the worker's process; any other judges it by its presence's end alone.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import Column, String, column, delete, select, table, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.sql.sqltypes import UTCDateTime

from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction

__all__ = ["announce", "dead", "gone", "key", "withdraw"]

LEASES = table("scheduler_lease", Column("name", String(40)), Column("holder", String(100)),
               column("expires_at", UTCDateTime()))
KEPT_AFTER_EXPIRY = timedelta(hours=1)
"""How long an ended presence is kept: long enough for every delivery it leased to be
reclaimed by its own lease, whatever that lease's length."""


@cache
def _namespace() -> str:
    """This machine's boot and this process's PID namespace (empty where unknown)."""
    parts: list[str] = []
    for read in (_boot_id, _pid_namespace):
        try:
            parts.append(read())
        except OSError:
            parts.append("")
    return "|".join(parts)


def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def _pid_namespace() -> str:
    return os.readlink("/proc/self/ns/pid")


def key(worker: str) -> str:
    """The presence row's name for `worker` (at most 40 characters)."""
    return f"worker:{hashlib.sha256(worker.encode()).hexdigest()[:32]}"


def _holder(worker: str) -> str:
    """The row's holder: the name, and where its PID means something."""
    tag = hashlib.sha256(_namespace().encode()).hexdigest()[:12]
    return f"{worker[:80]} {tag}"


def gone(worker: str) -> bool:
    """True when `worker` (`host:pid`) named a process of this machine that no longer runs.

    Only meaningful for a worker whose presence was kept under this boot and PID
    namespace (see `dead`): the name alone could be another container's. A PID reused
    since reads as alive (then the presence's end decides).
    """
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


async def announce(engine: AsyncEngine, clock: Clock, worker: str, ttl: timedelta) -> None:
    """Say that `worker` is alive for `ttl` more; ended presences long past are cleared."""
    now = clock.now()
    name = key(worker)
    async with session_factory(engine)() as db, transaction(db):
        conn = await db.connection()
        renewed = await conn.execute(update(LEASES).where(LEASES.c.name == name).values(
            holder=_holder(worker), expires_at=now + ttl))
        if renewed.rowcount == 0:
            await conn.execute(LEASES.insert().values(name=name, holder=_holder(worker),
                                                      expires_at=now + ttl))
        await conn.execute(delete(LEASES).where(LEASES.c.name.like("worker:%"),
                                                LEASES.c.expires_at < now - KEPT_AFTER_EXPIRY))


async def withdraw(engine: AsyncEngine, clock: Clock, worker: str) -> None:
    """An orderly stop: `worker` holds nothing any more and is known to have ended."""
    async with session_factory(engine)() as db, transaction(db):
        conn = await db.connection()
        await conn.execute(update(LEASES).where(LEASES.c.name == key(worker)).values(
            expires_at=clock.now()))


async def dead(engine: AsyncEngine, now: datetime, workers: Collection[str]) -> dict[str, str]:
    """Of `workers`, those known to be dead, each with how that is known ("its process no
    longer runs on this machine")."""
    if not workers:
        return {}
    names = {key(worker): worker for worker in workers}
    async with session_factory(engine)() as db:
        conn = await db.connection()
        rows = (await conn.execute(select(LEASES.c.name, LEASES.c.holder, LEASES.c.expires_at)
                                   .where(LEASES.c.name.in_(list(names))))).all()
    found: dict[str, str] = {}
    for name, holder, expires_at in rows:
        worker = names[name]
        if expires_at <= now:
            found[worker] = f"its presence ended at {expires_at:%H:%M:%S} UTC"
        elif holder == _holder(worker) and gone(worker):
            found[worker] = "its process no longer runs on this machine"
    return found
