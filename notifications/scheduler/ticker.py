"""The ticker: APScheduler only says "now"; the work itself lives in tables.

Every job is declared in `jobs()` and is safe to run in several processes at once:
the database decides who does what (leases on deliveries, row locks on incidents).

On SQLite one process ticks, under a short lease (15 s, renewed every 5 s by default:
BREACH_SCHEDULER_LEASE_SECONDS, BREACH_SCHEDULER_RENEW_SECONDS). A waiting process
tries every renewal interval and takes over, saying from whom, as soon as the holder
released the lease (an orderly stop), its lease ran out, or its process is known to be
gone (it ran on this machine and no longer does: a crash, seen at once). Every ticking
process keeps its presence (see notifications/delivery/presence.py) on the same rhythm,
so the deliveries of one known dead are resent without waiting out their lease.
`Ticker.stop` stops in a few seconds: no new runs, the outbox and the webhook sender
released, the other jobs given the grace period and then cancelled, the lease and the
presence released.
"""

from __future__ import annotations

import asyncio
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
from incident.inventory import service as inventory
from incident.kernel import held
from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import Settings
from incident.lifecycle.models import Incident
from notifications.bounces.imap import poller as bounce_poller
from notifications.delivery import presence
from notifications.delivery.outbox import Dispatcher, Transport, return_paths, worker_name
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
from notifications.webhooks.sender import WebhookSender

__all__ = ["Job", "Ticker", "TickerLease", "jobs", "take_ticker", "ticker_for"]

log = logging.getLogger("breachdesk.scheduler")
SQLITE_TICKER_LEASE = timedelta(seconds=15)
RENEW_EVERY = timedelta(seconds=5)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[Any]]
    description: str
    stop: Callable[[float], Awaitable[Any]] | None = None
    """How the job ends its work in progress on a stop, given the grace period (None:
    it is given the grace period, then cancelled)."""
    long: bool = False
    """A run may outlast its interval (the outbox sends while work is due): the ticks
    meanwhile return at once instead of being skipped with a warning."""






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
                Incident.id == incident_id).with_for_update(key_share=True))).one()
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


async def clear_expired(engine: AsyncEngine, clock: Clock) -> int:
    """Delete what is kept only for a while and has expired: refused forms' messages (minutes)
    and the reports of imports from the page (a day: they quote personal data); how many."""
    async with session_factory(engine)() as db:
        forms = await held.clear_expired(db, now=clock.now())
        reports = await inventory.clear_expired_import_reports(db, now=clock.now())
    return forms + reports


def jobs(engine: AsyncEngine, settings: Settings, clock: Clock, renderer: Renderer,
         transport: Transport, worker: str | None = None,
         fallback: Transport | None = None, outbox: bool = True) -> list[Job]:
    """Every job of the ticker, in one list (`breach scheduler list` prints it); without
    the outbox's when processes of their own send (see notifications/delivery/workers.py)."""
    name = worker or worker_name()
    dispatcher = Dispatcher(engine, transport, renderer, clock=clock, sender=settings.mail_from,
                            worker=name,
                            policy=Policy(batch=settings.outbox_batch,
                                          lease=timedelta(seconds=settings.outbox_lease_seconds)),
                            concurrency=settings.smtp_connections, fallback=fallback,
                            probe_every=settings.smtp_probe_seconds,
                            return_path=return_paths(settings))

    async def remind() -> int:
        await reminders.plan(engine, clock, settings.lead_hours)
        return await reminders.fire(engine, clock, worker=name,
                                    message_domain=message_domain(settings.mail_from),
                                    base_url=settings.links_to)

    async def checkpoint() -> int:
        return await checkpoint_if_due(engine, settings, clock)

    webhooks = WebhookSender(engine, clock, key=settings.secret_key)

    declared = [
        Job("checkpoint", 60, checkpoint,
            "sign every timeline's head into a checkpoint outside the database: after a send "
            "or an obligation's change, and hourly while anything changed"),
        Job("obligations", 60, lambda: recompute_open_obligations(engine, clock),
            "recompute the obligations of open incidents as their triggers arrive"),
        Job("reminders", 30, remind,
            "plan reminders and escalations, fire those due (each exactly once)"),
        Job("expired", 300, lambda: clear_expired(engine, clock),
            "delete refused forms' messages and import reports past their time"),
        Job("webhooks", 5, webhooks.run_once,
            "send due webhook deliveries in order per endpoint and incident, with retries",
            stop=webhooks.stop, long=True),
        Job("outbox", settings.outbox_tick_seconds, dispatcher.run_once,
            "send due deliveries and retries, reclaim expired leases, finish notifications",
            stop=dispatcher.stop, long=True),
    ]
    if settings.bounce_imap_url and settings.bounce_address:
        declared.append(Job("bounces", settings.bounce_imap_seconds,
                            bounce_poller(engine, settings, clock),
                            "read bounces from the mailbox BREACH_BOUNCE_IMAP_URL names and "
                            "apply each to its delivery"))
    return declared if outbox else [job for job in declared if job.name != "outbox"]




class Ticker:
    """Runs `jobs` on an AsyncIOScheduler inside the web service's event loop.

    On SQLite only one process may tick: it holds a lease, renewed every `renew`; a
    process that finds another holding it skips its jobs, says so once, and takes over
    when the holder stops (see the module's docstring). Start with `begin`, end with `stop`.
    """

    def __init__(self, declared: list[Job], *, engine: AsyncEngine | None = None,
                 clock: Clock | None = None, worker: str | None = None,
                 lease: timedelta = SQLITE_TICKER_LEASE, renew: timedelta = RENEW_EVERY) -> None:
        self.declared = declared
        self.worker = worker or worker_name()
        self.engine, self.clock = engine, clock
        self.gate = (engine, clock, self.worker) if (
            engine is not None and clock is not None
            and engine.dialect.name == "sqlite") else None
        self.lease, self.renew = lease, renew
        self.told: str | None = None
        self.held_until: datetime | None = None
        self.running: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self.scheduler = AsyncIOScheduler(job_defaults={
            # A tick missed while busy or down is simply the next one: work is in tables.
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        for job in declared:
            # The first run is at start: whatever fell due while nothing ran goes out now.
            self.scheduler.add_job(self._guarded(job), "interval", seconds=job.every_seconds,
                                   id=job.name, name=job.description,
                                   next_run_time=datetime.now(UTC),
                                   max_instances=2 if job.long else 1)
        if engine is not None and clock is not None:
            self.scheduler.add_job(self._keep, "interval", seconds=renew.total_seconds(),
                                   id="lease", name="renew this process's lease and presence")

    def _guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self.running.add(task)
            try:
                if not await self.may_tick():
                    return
                await job.run()
            except Exception:  # one failing tick must not stop the ticker
                log.exception("job %s failed", job.name)
            except asyncio.CancelledError:
                if not self.stopping:
                    raise
                # Cut short by a stop after its grace period: its work is in tables and the
                # next process takes it up (the outbox has released what it held).
                log.warning("job %s was cut short by the stop", job.name)
            finally:
                self.running.discard(task)
        return run

    async def _keep(self) -> None:
        """Every renewal interval: the presence, and the lease (held, or tried for)."""
        if self.stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            if self.engine is not None and self.clock is not None:
                await presence.announce(self.engine, self.clock, self.worker,
                                        self.lease)
            await self.may_tick(renew=True)
        except Exception:  # a busy database: the next renewal may succeed
            log.exception("renewing the scheduler's lease failed")
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            # Cut short by a stop (waiting for the write lock, say): the stop itself ends
            # the lease and the presence.
            log.info("renewing the scheduler's lease was cut short by the stop")
        finally:
            self.running.discard(task)

    async def may_tick(self, *, renew: bool = False) -> bool:
        """Whether this process ticks: it holds the lease (renewed when `renew` or when
        the last renewal is a renewal interval old), or just took it over."""
        if self.stopping:
            return False
        if self.gate is None:
            return True
        engine, clock, worker = self.gate
        now = clock.now()
        if (not renew and self.held_until is not None
                and now < self.held_until - self.lease + self.renew):
            return True  # renewed recently: nobody else can have taken it since
        taken = await take_ticker(engine, clock, worker, self.lease)
        self.held_until = taken.until if taken.held else None
        if taken.held and taken.previous is not None:
            log.warning("this process (%s) runs the scheduler now, taking over from %s (%s)",
                        worker, taken.previous, taken.why)
        elif taken.held and self.told is not None:
            log.warning("this process (%s) runs the scheduler now", worker)
        elif not taken.held and self.told != taken.holder:
            log.warning("another process (%s) runs the scheduler on this SQLite database (its "
                        "lease runs to %s unless renewed); this one serves requests and takes "
                        "over when that one stops (use PostgreSQL to share the work)",
                        taken.holder, iso(taken.until))
        self.told = None if taken.held else taken.holder
        return taken.held

    async def begin(self) -> None:
        """Say this process is alive, try for the lease, then start ticking."""
        await self._keep()  # a busy database at start: the next renewal tries again
        self.start()

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def stop(self, grace: float = 3.0) -> None:
        """Stop within about `grace` seconds: nothing new starts, the outbox releases what it
        holds, other jobs get `grace` and are then cancelled; the lease and presence end."""
        self.stopping = True
        self.shutdown()

        async def settle() -> None:  # every job run in progress, within the same time
            running = {task for task in self.running if not task.done()}
            if running:
                _, pending = await asyncio.wait(running, timeout=grace + 0.5)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=1)

        await asyncio.gather(*(job.stop(grace) for job in self.declared if job.stop), settle(),
                             return_exceptions=True)
        await self.release()

    async def release(self) -> None:
        """An orderly stop: the lease (if held) and the presence end now, so another process
        takes over at once and nobody waits for this one's deliveries."""
        if self.engine is None or self.clock is None:
            return
        try:
            if self.gate is not None and self.held_until is not None:
                await release_ticker(self.engine, self.clock, self.worker)
                self.held_until = None
            await presence.withdraw(self.engine, self.clock, self.worker)
        except Exception:
            log.exception("releasing the scheduler's lease failed; another process takes "
                          "over when it runs out")


def ticker_for(settings: Settings, declared: list[Job], *, engine: AsyncEngine,
               clock: Clock) -> Ticker:
    """The ticker of `breach serve` and `breach scheduler run`, with the configured lease."""
    return Ticker(declared, engine=engine, clock=clock,
                  lease=timedelta(seconds=settings.scheduler_lease_seconds),
                  renew=timedelta(seconds=settings.scheduler_renew_seconds))


@dataclass(frozen=True, slots=True)
class TickerLease:
    """Who ticks on SQLite after `take_ticker`: this process (`held`) or another."""

    held: bool
    holder: str
    until: datetime
    previous: str | None = None
    """Whom this process just took the lease over from."""
    why: str = ""


async def take_ticker(engine: AsyncEngine, clock: Clock, worker: str, ttl: timedelta
                      ) -> TickerLease:
    """Take, renew or take over the ticker's lease: over from a holder whose lease ended
    (released or run out) or who is known to be dead (see `presence.dead`)."""
    now = clock.now()
    async with session_factory(engine)() as db:
        current = await db.get(SchedulerLease, "ticker")
        seen = (current.holder, current.expires_at) if current is not None else None
    why = ""
    if seen is not None and seen[0] != worker:
        if seen[1] > now:
            gone = await presence.dead(engine, now, [seen[0]])
            if seen[0] not in gone:
                return TickerLease(False, seen[0], seen[1])
            why = gone[seen[0]]
        else:
            why = f"its lease ended at {iso(seen[1])}"
    async with session_factory(engine)() as db, transaction(db):
        lease = await db.get(SchedulerLease, "ticker")
        if lease is None:
            db.add(SchedulerLease(name="ticker", holder=worker, expires_at=now + ttl))
            return TickerLease(True, worker, now + ttl)
        if lease.holder != worker and (lease.holder, lease.expires_at) != seen:
            return TickerLease(False, lease.holder, lease.expires_at)  # someone was quicker
        previous = lease.holder if lease.holder != worker else None
        lease.holder, lease.expires_at = worker, now + ttl
        db.add(lease)
        return TickerLease(True, worker, now + ttl, previous, why)


async def hold_ticker(engine: AsyncEngine, clock: Clock, worker: str, ttl: timedelta) -> str | None:
    """Take or renew the ticker's lease; returns None when held, else who holds it."""
    taken = await take_ticker(engine, clock, worker, ttl)
    return None if taken.held else taken.holder


async def release_ticker(engine: AsyncEngine, clock: Clock, worker: str) -> None:
    """End the lease now, if `worker` holds it (kept as a row: who ticked, until when)."""
    async with session_factory(engine)() as db, transaction(db):
        lease = await db.get(SchedulerLease, "ticker")
        if lease is not None and lease.holder == worker:
            lease.expires_at = min(lease.expires_at, clock.now())
            db.add(lease)


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
