"""The ticker: APScheduler only says "now"; the work itself lives in tables.

Every job is declared in `jobs()` and is safe to run in several processes at once:
the database decides who does what (leases on deliveries, row locks on incidents).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.clock import Clock
from incident.db import session_factory, transaction
from incident.models import Incident
from incident.settings import Settings
from notifications import reminders
from notifications.mailer import pool_from_url
from notifications.outbox import CaptureTransport, Dispatcher, Policy, Transport
from notifications.render import Renderer
from notifications.services import CLOSED, get_profile, reconcile

__all__ = ["Job", "Ticker", "Transport", "close", "jobs", "transport_for", "worker_name"]

log = logging.getLogger("breachdesk.scheduler")
SQLITE_TICKER_LEASE = timedelta(seconds=90)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[Any]]
    description: str


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def transport_for(settings: Settings, engine: AsyncEngine, clock: Clock) -> Transport:
    """The real SMTP server when BREACH_SMTP_URL is set, else the embedded capture."""
    if settings.smtp_url:
        return pool_from_url(settings.smtp_url, size=settings.smtp_connections,
                             rate=settings.smtp_rate or None)
    return CaptureTransport(engine, clock)


async def recompute_open_obligations(engine: AsyncEngine, clock: Clock) -> int:
    """Bring every open incident's obligations up to date (changes made elsewhere, time)."""
    sessions = session_factory(engine)
    async with sessions() as db:
        if await get_profile(db) is None:
            return 0
        ids = (await db.exec(select(Incident.id).where(
            col(Incident.status).not_in(CLOSED)))).all()
    for incident_id in ids:
        async with sessions() as db, transaction(db):
            incident = (await db.exec(select(Incident).where(
                Incident.id == incident_id).with_for_update())).one()
            await reconcile(db, incident, now=clock.now(), cause="tick")
    return len(ids)


def jobs(engine: AsyncEngine, settings: Settings, clock: Clock, renderer: Renderer,
         transport: Transport, worker: str | None = None) -> list[Job]:
    """Every job of the ticker, in one list (`breach scheduler list` prints it)."""
    name = worker or worker_name()
    dispatcher = Dispatcher(engine, transport, renderer, clock=clock, sender=settings.mail_from,
                            worker=name,
                            policy=Policy(batch=settings.outbox_batch,
                                          lease=timedelta(seconds=settings.outbox_lease_seconds)))

    async def remind() -> int:
        await reminders.plan(engine, clock, settings.lead_hours)
        return await reminders.fire(engine, clock, worker=name,
                                    message_domain=message_domain(settings.mail_from),
                                    base_url=settings.base_url)

    return [
        Job("obligations", 60, lambda: recompute_open_obligations(engine, clock),
            "recompute the obligations of open incidents as their triggers arrive"),
        Job("reminders", 30, remind,
            "plan reminders and escalations, fire those due (each exactly once)"),
        Job("outbox", settings.outbox_tick_seconds, dispatcher.run_once,
            "send due deliveries and retries, reclaim expired leases, finish notifications"),
    ]


def message_domain(mail_from: str) -> str:
    """The domain of Message-IDs: the sender's own."""
    address = mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "localhost"


class Ticker:
    """Runs `jobs` on an AsyncIOScheduler inside the web service's event loop.

    On SQLite only one process may tick: each tick first takes or renews a lease, and a
    process that finds another holding it skips its jobs and says so once.
    """

    def __init__(self, declared: list[Job], *, engine: AsyncEngine | None = None,
                 clock: Clock | None = None, worker: str | None = None) -> None:
        self.declared = declared
        self.gate = (engine, clock, worker or worker_name()) if (
            engine is not None and clock is not None
            and engine.dialect.name == "sqlite") else None
        self.told: str | None = None
        self.held_until: datetime | None = None
        self.scheduler = AsyncIOScheduler(job_defaults={
            # A tick missed while busy or down is simply the next one: work is in tables.
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        for job in declared:
            # The first run is at start: whatever fell due while nothing ran goes out now.
            self.scheduler.add_job(self._guarded(job), "interval", seconds=job.every_seconds,
                                   id=job.name, name=job.description,
                                   next_run_time=datetime.now(UTC))

    def _guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                if not await self.may_tick():
                    return
                await job.run()
            except Exception:  # one failing tick must not stop the ticker
                log.exception("job %s failed", job.name)
        return run

    async def may_tick(self) -> bool:
        if self.gate is None:
            return True
        engine, clock, worker = self.gate
        now = clock.now()
        if self.held_until is not None and now < self.held_until - SQLITE_TICKER_LEASE / 2:
            return True  # renewed recently: nobody else can have taken it since
        holder = await reminders.hold_ticker(engine, clock, worker, SQLITE_TICKER_LEASE)
        self.held_until = now + SQLITE_TICKER_LEASE if holder is None else None
        if holder is not None and self.told != holder:
            log.warning("another process (%s) runs the scheduler on this SQLite database; this "
                        "one serves requests only (use PostgreSQL to share the work)", holder)
        self.told = holder
        return holder is None

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


async def close(transport: Transport) -> None:
    """Close the SMTP connections, if the transport holds any."""
    closing = getattr(transport, "close", None)
    if closing is not None:
        await closing()
