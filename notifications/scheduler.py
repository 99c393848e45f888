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
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.clock import Clock
from incident.db import session_factory, transaction
from incident.models import Incident
from incident.settings import Settings
from notifications.mailer import pool_from_url
from notifications.outbox import CaptureTransport, Dispatcher, Policy, Transport
from notifications.render import Renderer
from notifications.services import CLOSED, get_profile, reconcile

__all__ = ["Job", "Ticker", "Transport", "close", "jobs", "transport_for", "worker_name"]

log = logging.getLogger("breachdesk.scheduler")


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
         transport: Transport) -> list[Job]:
    dispatcher = Dispatcher(engine, transport, renderer, clock=clock, sender=settings.mail_from,
                            worker=worker_name(),
                            policy=Policy(batch=settings.outbox_batch,
                                          lease=timedelta(seconds=settings.outbox_lease_seconds)))
    return [
        Job("outbox", settings.outbox_tick_seconds, dispatcher.run_once,
            "send due deliveries, reclaim expired leases, finish notifications"),
        Job("obligations", 60, lambda: recompute_open_obligations(engine, clock),
            "recompute the obligations of open incidents"),
    ]


class Ticker:
    """Runs `jobs` on an AsyncIOScheduler inside the web service's event loop."""

    def __init__(self, declared: list[Job]) -> None:
        self.declared = declared
        self.scheduler = AsyncIOScheduler(job_defaults={
            # A tick missed while busy or down is simply the next one: work is in tables.
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        for job in declared:
            self.scheduler.add_job(self._guarded(job), "interval", seconds=job.every_seconds,
                                   id=job.name, name=job.description)

    @staticmethod
    def _guarded(job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await job.run()
            except Exception:  # one failing tick must not stop the ticker
                log.exception("job %s failed", job.name)
        return run

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
