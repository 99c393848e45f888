"""The ticker: APScheduler only says "now"; the work itself lives in tables.

Every job is declared in `jobs()` and is safe to run in several processes at once:
the database decides who does what (leases on deliveries, row locks on incidents).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select

from incident.audit.checkpoints import checkpoint_due, make_checkpoint
from incident.audit.service import checkpoint_log, keyring
from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import Settings
from incident.lifecycle.models import Incident
from notifications.delivery.outbox import Dispatcher, Transport, worker_name
from notifications.delivery.rules import Policy
from notifications.delivery.witness import queue_witness_copies
from notifications.drafting import rules as drafting
from notifications.drafting.models import Delivery
from notifications.drafting.render import Renderer
from notifications.drafting.sending import message_domain
from notifications.obligations.engine import iso
from notifications.obligations.service import UNFINISHED, get_profile, reconcile
from notifications.reminders import service as reminders
from notifications.reminders.models import Reminder
from notifications.reminders.rules import ReminderState
from notifications.scheduler.models import SchedulerLease

__all__ = ["Job", "Ticker", "jobs"]

log = logging.getLogger("breachdesk.scheduler")
SQLITE_TICKER_LEASE = timedelta(seconds=90)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[Any]]
    description: str






async def recompute_open_obligations(engine: AsyncEngine, clock: Clock) -> int:
    """Bring every open incident's obligations up to date (changes made elsewhere, time)."""
    sessions = session_factory(engine)
    async with sessions() as db:
        if await get_profile(db) is None:
            return 0
        ids = (await db.exec(select(Incident.id).where(
            col(Incident.status).in_(UNFINISHED)))).all()
    for incident_id in ids:
        async with sessions() as db, transaction(db):
            incident = (await db.exec(select(Incident).where(
                Incident.id == incident_id).with_for_update())).one()
            await reconcile(db, incident, now=clock.now(), cause="tick")
    return len(ids)


async def checkpoint_if_due(engine: AsyncEngine, settings: Settings, clock: Clock) -> int:
    """A signed checkpoint when one is due (see incident/audit/checkpoints.py); its number,
    or 0 when none was."""
    log_file = checkpoint_log(settings)
    async with session_factory(engine)() as db:
        if not await checkpoint_due(db, log=log_file, now=clock.now(),
                                    every_seconds=settings.checkpoint_every_seconds):
            await queue_witness_copies(engine, settings, clock)  # one made from the command line
            return 0
        made = await make_checkpoint(db, keys=keyring(settings), log=log_file, now=clock.now())
    if made is not None and made.suspect:
        log.error("checkpoint %s: %s chains do not hold and keep their last signed head "
                  "(run breach audit verify)", made.number, len(made.suspect))
    await queue_witness_copies(engine, settings, clock)
    return made.number if made else 0


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

    async def checkpoint() -> int:
        return await checkpoint_if_due(engine, settings, clock)

    return [
        Job("checkpoint", 60, checkpoint,
            "sign every timeline's head into a checkpoint outside the database: after a send "
            "or an obligation's change, and hourly while anything changed"),
        Job("obligations", 60, lambda: recompute_open_obligations(engine, clock),
            "recompute the obligations of open incidents as their triggers arrive"),
        Job("reminders", 30, remind,
            "plan reminders and escalations, fire those due (each exactly once)"),
        Job("outbox", settings.outbox_tick_seconds, dispatcher.run_once,
            "send due deliveries and retries, reclaim expired leases, finish notifications"),
    ]




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
        holder = await hold_ticker(engine, clock, worker, SQLITE_TICKER_LEASE)
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


async def hold_ticker(engine: AsyncEngine, clock: Clock, worker: str, ttl: timedelta) -> str | None:
    """Take or renew the ticker's lease; returns None when held, else who holds it."""
    now = clock.now()
    async with session_factory(engine)() as db, transaction(db):
        lease = await db.get(SchedulerLease, "ticker")
        if lease is None:
            db.add(SchedulerLease(name="ticker", holder=worker, expires_at=now + ttl))
            return None
        if lease.holder != worker and lease.expires_at > now:
            return lease.holder
        lease.holder, lease.expires_at = worker, now + ttl
        db.add(lease)
        return None


async def upcoming(engine: AsyncEngine, clock: Clock, limit: int = 20) -> dict[str, Any]:
    """What the ticker will do next: due reminders, parked ones, and the outbox's queue."""
    now = clock.now()
    async with session_factory(engine)() as db:
        reminders = (await db.exec(select(Reminder).where(
            Reminder.state == ReminderState.DUE.value).order_by(
            col(Reminder.due_at)).limit(limit))).all()
        parked = (await db.exec(select(Reminder).where(
            Reminder.state == ReminderState.PARKED.value))).all()
        queue = (await db.exec(select(func.count(), func.min(Delivery.next_attempt_at)).where(
            col(Delivery.state).in_([s.value for s in drafting.DUE])))).one()
        late = (await db.exec(select(func.count()).where(
            Reminder.state == ReminderState.DUE.value, col(Reminder.due_at) <= now))).one()
        lease = await db.get(SchedulerLease, "ticker")
    ticker = None
    if lease is not None and lease.expires_at > now:
        ticker = {"holder": lease.holder, "until": iso(lease.expires_at)}
    return {"reminders": [{"key": r.key, "kind": r.kind, "due_at": iso(r.due_at)} for r in reminders],
            "reminders_due_now": int(late),
            "parked": [{"key": r.key, "kind": r.kind, "note": r.note} for r in parked],
            "deliveries_queued": int(queue[0]), "next_delivery_at": iso(queue[1]),
            "sqlite_ticker": ticker}
