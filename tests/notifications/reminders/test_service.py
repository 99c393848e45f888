"""Reminders and escalations: once, whatever the number of tickers, and after downtime."""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory
from incident.kernel.settings import REPOSITORY
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.models import CapturedMessage
from notifications.delivery.outbox import CaptureTransport, Dispatcher
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from notifications.reminders import service as reminders
from notifications.reminders.models import Reminder
from notifications.scheduler import ticker
from notifications.scheduler.models import SchedulerLease
from notifications.scheduler.ticker import Ticker
from tests.factories import PROFILE, START, Person, incident_body, sending
from tests.smtp_server import SmtpServer

DUE = START - timedelta(hours=2, minutes=30) + timedelta(hours=72)  # gdpr/authority
BREACH = str(Path(sys.executable).with_name("breach"))


async def incident_with_duties(client: httpx.AsyncClient, people: dict[str, Person]) -> str:
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    reference = str((await client.post("/api/v1/incidents", json=incident_body(),
                                       headers=people["responder"].headers)).json()["reference"])
    found = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                              headers=people["responder"].headers)).json()
    assert next(o for o in found["obligations"] if o["ref"] == "gdpr/authority")["due_at"] == \
        DUE.isoformat().replace("+00:00", "Z")
    return reference


async def tick(engine: AsyncEngine, clock: FixedClock, worker: str) -> int:
    await reminders.plan(engine, clock)
    return await reminders.fire(engine, clock, worker=worker, message_domain="example.com",
                                base_url="https://breach.example.com")


async def all_reminders(engine: AsyncEngine) -> list[Reminder]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(Reminder).order_by(Reminder.id))).all())  # type: ignore[arg-type]


async def test_three_tickers_fire_a_reminder_exactly_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, clock: FixedClock) -> None:
    await incident_with_duties(client, people)
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        clock.set(DUE - timedelta(hours=48, minutes=1))
        assert sum(await asyncio.gather(*(tick(e, clock, f"w{i}")
                                          for i, e in enumerate(engines)))) == 0
        clock.set(DUE - timedelta(hours=48) + timedelta(seconds=30))
        fired = await asyncio.gather(*(tick(e, clock, f"w{i}") for i, e in enumerate(engines)))
        assert sum(fired) == 1
        fired = await asyncio.gather(*(tick(e, clock, f"w{i}") for i, e in enumerate(engines)))
        assert sum(fired) == 0
    finally:
        for extra in engines:
            await extra.dispose()
    states = collections.Counter((r.kind, r.state) for r in await all_reminders(engine))
    assert states[("obligation_due", "fired")] == 1
    done = [r for r in await all_reminders(engine) if r.state == "fired"]
    assert "reminder-48h" in done[0].key and done[0].lateness_seconds == 30

    # Its e-mails go through the outbox to the approvers and admins, in words people read.
    await Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                     clock=clock, sender="Breachdesk <breachdesk@example.com>",
                     worker="w").run_once()
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
    assert sorted(m.recipient for m in captured) == sorted(
        [people["admin"].email, people["approver"].email])
    body = message_from_bytes(captured[0].raw, policy=policy.default).get_body(("plain",))
    assert body is not None and "gdpr/authority" in body.get_content()
    assert "https://breach.example.com/incidents/BR-2026-0001" in body.get_content()


async def test_after_downtime_each_due_reminder_fires_once_with_its_lateness(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await incident_with_duties(client, people)
    clock.set(DUE + timedelta(hours=1))  # nothing ticked for three days
    fired = await tick(engine, clock, "w")
    rows = [r for r in await all_reminders(engine) if r.subject.startswith("obligation:")
            and r.detail.get("ref") == "gdpr/authority"]
    assert {r.kind for r in rows if r.state == "fired"} == {"obligation_due", "obligation_overdue"}
    assert sorted(r.lateness_seconds or 0 for r in rows if r.state == "fired") == [
        3600, 2 * 3600, 7 * 3600, 25 * 3600, 49 * 3600]
    assert fired >= 5
    assert await tick(engine, clock, "w") == 0


async def test_met_obligations_and_unknown_kinds_never_fire(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference = await incident_with_duties(client, people)
    await reminders.plan(engine, clock)
    met = await client.post(f"/api/v1/incidents/{reference}/obligations/gdpr/authority",
                            json={"status": "met", "how": "portal receipt 12"},
                            headers=people["responder"].headers)
    assert met.status_code == 200
    first = (await all_reminders(engine))[0]
    async with session_factory(engine)() as db:
        db.add(Reminder(key="old|renamed_kind|1", kind="renamed_kind", subject="obligation:0",
                        incident_id=first.incident_id, due_at=START))
        await db.commit()
    clock.set(DUE + timedelta(hours=1))
    await reminders.fire(engine, clock, worker="w", message_domain="example.com",
                         base_url="http://x")
    rows = {r.key: r for r in await all_reminders(engine)}
    parked = rows["old|renamed_kind|1"]
    assert parked.state == "parked" and "unknown kind" in (parked.note or "")
    authority = [r for r in rows.values() if r.detail.get("ref") == "gdpr/authority"]
    assert authority and {r.state for r in authority} == {"obsolete"}
    upcoming = await ticker.upcoming(engine, clock)
    assert upcoming["parked"][0]["key"] == "old|renamed_kind|1"


async def test_overdue_steps_are_reminded(client: httpx.AsyncClient, people: dict[str, Person],
                                          engine: AsyncEngine, clock: FixedClock) -> None:
    reference = await incident_with_duties(client, people)
    await client.post(f"/api/v1/incidents/{reference}/runbooks", json={"runbook": "lost-device"},
                      headers=people["responder"].headers)
    clock.advance(timedelta(hours=5))
    await tick(engine, clock, "w")
    steps = [r for r in await all_reminders(engine) if r.kind == "step_overdue"]
    assert steps and all(r.state == "fired" for r in steps)


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_on_sqlite_one_process_ticks_and_another_says_so(
        engine: AsyncEngine, clock: FixedClock) -> None:
    ttl = timedelta(seconds=90)
    assert await ticker.hold_ticker(engine, clock, "host:1", ttl) is None
    assert await ticker.hold_ticker(engine, clock, "host:2", ttl) == "host:1"
    assert (await ticker.upcoming(engine, clock))["sqlite_ticker"]["holder"] == "host:1"
    assert await ticker.hold_ticker(engine, clock, "host:1", ttl) is None
    clock.advance(timedelta(seconds=91))  # the first one died
    assert await ticker.hold_ticker(engine, clock, "host:2", ttl) is None


@pytest.mark.parametrize("lane", ["postgresql"])
async def test_two_processes_share_the_work_on_postgresql(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    """Two `breach scheduler run` processes on one database: nothing fired or sent twice."""
    await sending(client, people, [f"p{n}@example.com" for n in range(60)])
    for n in range(4):  # more incidents whose reminders are all due (aware long ago)
        created = await client.post("/api/v1/incidents", headers=people["responder"].headers,
                                    json=incident_body(title=f"Old incident {n}"))
        await client.get(f"/api/v1/incidents/{created.json()['reference']}/obligations",
                         headers=people["responder"].headers)
    env = {"PATH": str(Path(sys.executable).parent), "BREACH_DATABASE_URL": database_url,
           "BREACH_SMTP_URL": smtp_server.url, "BREACH_VAR_DIR": str(tmp_path / "var"),
           "BREACH_OUTBOX_TICK_SECONDS": "0.2", "BREACH_OUTBOX_BATCH": "10",
           "BREACH_MAIL_FROM": "Breachdesk <breachdesk@example.com>"}
    workers = [await asyncio.create_subprocess_exec(BREACH, "scheduler", "run", env=env,
                                                    stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while True:
            async with session_factory(engine)() as db:
                open_ = (await db.exec(select(Delivery).where(
                    Delivery.state != "sent"))).all()
                fired = (await db.exec(select(Reminder).where(Reminder.state == "fired"))).all()
            if len(fired) >= 25 and not open_:
                break
            assert time.monotonic() < deadline, f"{len(open_)} deliveries still open"
            assert all(w.returncode is None for w in workers), "a scheduler stopped by itself"
            # Rows change as messages go out: look again when the next one arrives (or after
            # half a second, for the commit that follows the last message).
            seen = len(smtp_server.messages)
            await asyncio.to_thread(smtp_server.wait_for_messages, seen + 1, 0.5)
    finally:
        for worker in workers:
            worker.terminate()
            await worker.wait()
    async with session_factory(engine)() as db:
        delivered = (await db.exec(select(Delivery))).all()
        fired_rows = (await db.exec(select(Reminder).where(Reminder.state == "fired"))).all()
    assert all(d.attempts == 1 for d in delivered)  # no delivery claimed twice
    per_id = collections.Counter(m.message_id for m in smtp_server.messages)
    assert per_id and max(per_id.values()) == 1  # no message sent twice
    assert len({r.key for r in fired_rows}) == len(fired_rows) >= 25
    assert len({d.message_id for d in delivered}) == len(delivered)


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_killed_during_a_tick_nothing_is_lost_or_doubled(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    for n in range(12):
        created = await client.post("/api/v1/incidents", headers=people["responder"].headers,
                                    json=incident_body(title=f"Incident {n}"))
        # Obligations computed now: the scheduler's first reminders tick finds them, whichever
        # of its jobs runs first (else the reminders wait for their next tick, 30 s on).
        await client.get(f"/api/v1/incidents/{created.json()['reference']}/obligations",
                         headers=people["responder"].headers)
    smtp_server.faults.delay = 0.02
    env = {"PATH": str(Path(sys.executable).parent), "BREACH_DATABASE_URL": database_url,
           "BREACH_SMTP_URL": smtp_server.url, "BREACH_VAR_DIR": str(tmp_path / "var"),
           "BREACH_OUTBOX_TICK_SECONDS": "0.2", "BREACH_OUTBOX_BATCH": "20",
           "BREACH_MAIL_FROM": "Breachdesk <breachdesk@example.com>"}
    worker = await asyncio.create_subprocess_exec(BREACH, "scheduler", "run", env=env,
                                                  stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL)
    try:
        await smtp_server.received_while_running(10, worker)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    async with session_factory(engine)() as db:
        in_flight = len((await db.exec(select(Delivery).where(Delivery.state == "sending"))).all())

    later = FixedClock(datetime.now(UTC) + timedelta(minutes=10))
    smtp_server.faults.delay = 0
    pool = pool_from_url(smtp_server.url, size=4, timeout=5)
    dispatcher = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=later,
                            sender="Breachdesk <breachdesk@example.com>", worker="after")
    try:
        await tick(engine, later, "after")
        while await dispatcher.run_once():
            pass
    finally:
        await pool.close()
    rows = await all_reminders(engine)
    fired = [r for r in rows if r.state == "fired"]
    assert len({r.key for r in rows}) == len(rows) and len(fired) >= 12 * 5
    async with session_factory(engine)() as db:
        delivered = (await db.exec(select(Delivery))).all()
    assert {d.state for d in delivered} == {"sent"}
    per_notification = collections.Counter(d.notification_id for d in delivered)
    assert set(per_notification) == {r.notification_id for r in fired}
    assert set(per_notification.values()) == {2}  # the admin and the approver, once each
    per_id = collections.Counter(m.message_id for m in smtp_server.messages)
    assert set(per_id) == {d.message_id for d in delivered}  # nobody missed
    assert sum(n - 1 for n in per_id.values()) <= in_flight


async def test_a_notification_whose_deliveries_keep_failing_is_escalated_once_a_day(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, ["a@example.com", "b@example.com", "c@example.com"])
    async with session_factory(engine)() as db:
        stuck = (await db.exec(select(Delivery).where(Delivery.address == "b@example.com"))).one()
        stuck.state, stuck.attempts, stuck.last_reply = "retry", 3, "451 4.3.0 mailbox busy"
        db.add(stuck)
        await db.commit()
    await reminders.plan(engine, clock)
    await reminders.plan(engine, clock)
    failing = [r for r in await all_reminders(engine) if r.kind == "delivery_failing"]
    assert len(failing) == 1
    assert failing[0].detail == {"ref": "gdpr/data-subjects", "failing": 1, "total": 3,
                                 "last_error": "451 4.3.0 mailbox busy"}


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_tickers_renew_their_lease_now_and_then_not_on_every_job(
        engine: AsyncEngine, clock: FixedClock) -> None:
    first = Ticker([], engine=engine, clock=clock, worker="host:1")
    second = Ticker([], engine=engine, clock=clock, worker="host:2")
    assert await first.may_tick() and not await second.may_tick()
    clock.advance(timedelta(seconds=30))
    assert await first.may_tick()  # still well inside its lease: no write
    async with session_factory(engine)() as db:
        lease = await db.get(SchedulerLease, "ticker")
    assert lease is not None and lease.expires_at == START + timedelta(seconds=90)
    clock.advance(timedelta(seconds=20))
    assert await first.may_tick()  # past half its lease: renewed
    clock.advance(timedelta(seconds=100))  # the first process died
    assert await second.may_tick() and not await first.may_tick()
