"""The ticker: its jobs (the obligations job brings open incidents up to date), one process
ticking on SQLite (a lease it renews now and then, not on every job), processes sharing the work
on PostgreSQL, and a process killed mid-tick losing or doubling nothing."""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import json
import logging
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.inventory import service as inventory
from incident.inventory.models import SubjectImport
from incident.kernel import held
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import REPOSITORY, Settings
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.models import CapturedMessage
from notifications.delivery.outbox import CaptureTransport, Dispatcher
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from notifications.obligations.models import IncidentObligation
from notifications.reminders.models import Reminder
from notifications.scheduler import ticker
from notifications.scheduler.models import SchedulerLease
from notifications.scheduler.ticker import Ticker
from tests.factories import PROFILE, START, Person, incident_body, sending
from tests.notifications.reminders.samples import all_reminders, tick
from tests.smtp_server import SmtpServer

BREACH = str(Path(sys.executable).with_name("breach"))


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
                waiting = (await db.exec(select(Reminder).where(Reminder.state == "due"))).all()
            if len(fired) >= 5 and not open_ and not [r for r in waiting
                                                      if r.due_at <= datetime.now(UTC)]:
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
    assert len({r.key for r in fired_rows}) == len(fired_rows) >= 5
    assert len({d.message_id for d in delivered}) == len(delivered)
    # Everything the five incidents' duties called for was long overdue: each person heard of
    # it in one digest, however the two processes shared the work.
    reminded = collections.Counter(d.address or "" for d in delivered
                                   if not (d.address or "").startswith("p"))
    assert reminded and set(reminded.values()) == {1}


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_killed_during_a_tick_nothing_is_lost_or_doubled(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(40)])
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
    # Thirteen incidents known since March: every lead-time reminder skipped, every overdue
    # duty fired once, in the digests of the admin and the approver.
    assert len({r.key for r in rows}) == len(rows) and len(fired) >= 13
    assert {r.state for r in rows if r.kind == "obligation_due"} == {"skipped"}
    async with session_factory(engine)() as db:
        delivered = (await db.exec(select(Delivery))).all()
    assert {d.state for d in delivered} == {"sent"}
    reminding = [d for d in delivered if d.notification_id in {r.notification_id for r in fired}]
    assert {d.notification_id for d in reminding} == {r.notification_id for r in fired}
    assert sorted(d.address or "" for d in reminding) == sorted(
        [people["admin"].email, people["approver"].email])  # one message each
    per_id = collections.Counter(m.message_id for m in smtp_server.messages)
    assert set(per_id) == {d.message_id for d in delivered}  # nobody missed
    assert sum(n - 1 for n in per_id.values()) <= in_flight


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_tickers_renew_their_lease_now_and_then_not_on_every_job(
        engine: AsyncEngine, clock: FixedClock) -> None:
    """The default lease is 15 s, renewed every 5 s: a waiting process takes over within one
    renewal interval of the holder's last lease running out."""
    first = Ticker([], engine=engine, clock=clock, worker="host:1")
    second = Ticker([], engine=engine, clock=clock, worker="host:2")
    assert await first.may_tick() and not await second.may_tick()
    clock.advance(timedelta(seconds=3))
    assert await first.may_tick()  # inside its renewal interval: no write
    async with session_factory(engine)() as db:
        lease = await db.get(SchedulerLease, "ticker")
    assert lease is not None and lease.expires_at == START + timedelta(seconds=15)
    clock.advance(timedelta(seconds=3))
    assert await first.may_tick()  # a renewal interval since the last: renewed
    async with session_factory(engine)() as db:
        lease = await db.get(SchedulerLease, "ticker")
    assert lease is not None and lease.expires_at == START + timedelta(seconds=21)
    clock.advance(timedelta(seconds=14))
    assert not await second.may_tick()  # 1 s of the lease left
    clock.advance(timedelta(seconds=1))  # the first process died: its lease ran out
    assert await second.may_tick() and not await first.may_tick()


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_an_orderly_stop_releases_the_lease_and_the_next_one_says_whom_it_took_over_from(
        engine: AsyncEngine, clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    first = Ticker([], engine=engine, clock=clock, worker="host:1")
    second = Ticker([], engine=engine, clock=clock, worker="host:2")
    await first.begin()
    try:
        assert not await second.may_tick()
    finally:
        await first.stop()
    assert not first.scheduler.running
    clock.advance(timedelta(seconds=1))
    with caplog.at_level(logging.WARNING, logger="breachdesk.scheduler"):
        assert await second.may_tick()  # at once, not when the 15 s would have run out
    assert "taking over from host:1 (its lease ended at 2026-03-10T12:00:00Z)" in caplog.text
    taken = await ticker.take_ticker(engine, clock, "host:3", timedelta(seconds=15))
    assert (taken.held, taken.holder) == (False, "host:2")


async def test_the_obligations_job_brings_every_open_incident_up_to_date(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        settings: Settings, clock: FixedClock) -> None:
    declared = ticker.jobs(engine, settings, clock, renderer(REPOSITORY / "templates"),
                           CaptureTransport(engine, clock), worker="w")
    assert [(job.name, job.every_seconds) for job in declared] == [
        ("checkpoint", 60), ("obligations", 60), ("reminders", 30), ("expired", 300),
        ("webhooks", 5), ("outbox", settings.outbox_tick_seconds)]
    obligations = declared[1]
    for _ in range(2):  # incidents whose obligations nobody has asked for yet
        await client.post("/api/v1/incidents", json=incident_body(),
                          headers=people["responder"].headers)
    assert await obligations.run() == 0  # no organisation profile: nothing can be derived
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    assert await obligations.run() == 2
    async with session_factory(engine)() as db:
        computed = (await db.exec(select(IncidentObligation).where(
            IncidentObligation.ref == "gdpr/authority"))).all()
    assert len(computed) == 2 and {o.computed_at for o in computed} == {clock.now()}


async def test_the_expired_job_deletes_held_forms_and_import_reports_past_their_time(
        engine: AsyncEngine, settings: Settings, clock: FixedClock,
        people: dict[str, Person]) -> None:
    declared = {job.name: job for job in ticker.jobs(
        engine, settings, clock, renderer(REPOSITORY / "templates"),
        CaptureTransport(engine, clock), worker="w")}
    admin = Actor(people["admin"].email, Role.ADMIN)
    async with session_factory(engine)() as db:
        await held.hold(db, now=clock.now(), owner="s:a", page="/setup", held={"error": "x"})
        await inventory.keep_import_report(db, clock=clock, actor=admin, import_id="b" * 32,
                                           end=inventory.ImportEnd("people.csv", "", False,
                                                                   "refused", refusal="Bad."))
    assert await declared["expired"].run() == 0  # nothing has expired yet
    clock.advance(held.HOLD_FOR)
    assert await declared["expired"].run() == 1  # the form's messages: minutes
    clock.advance(inventory.IMPORT_REPORT_KEPT - held.HOLD_FOR)
    assert await declared["expired"].run() == 1  # the report: a day
    async with session_factory(engine)() as db:
        assert (await db.exec(select(held.HeldForm))).all() == []
        assert (await db.exec(select(SubjectImport))).all() == []


async def test_checkpoints_follow_sends_and_duty_changes_at_once_and_the_rest_hourly(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        settings: Settings, clock: FixedClock) -> None:
    declared = ticker.jobs(engine, settings, clock, renderer(REPOSITORY / "templates"),
                           CaptureTransport(engine, clock), worker="w")
    checkpoint, obligations = declared[0], declared[1]
    assert await checkpoint.run() == 1  # the first: users were created
    assert await checkpoint.run() == 0  # nothing changed since
    created = await client.post("/api/v1/incidents", json=incident_body(),
                                headers=people["responder"].headers)
    await client.post(f"/api/v1/incidents/{created.json()['id']}/notes", json={"text": "n"},
                      headers=people["responder"].headers)
    assert await checkpoint.run() == 0  # a change, but neither a send nor a duty: wait
    clock.advance(timedelta(minutes=59))
    assert await checkpoint.run() == 0
    clock.advance(timedelta(minutes=1))
    assert await checkpoint.run() == 2  # an hour since the last one, with changes
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    assert await obligations.run() == 1  # the incident's duties computed: a duty changed
    assert await checkpoint.run() == 3  # at once
    log = [json.loads(line) for line in settings.checkpoint_log.read_text().splitlines()]
    assert [entry["body"]["number"] for entry in log] == [1, 2, 3]
    assert str(created.json()["id"]) in log[-1]["body"]["chains"]


async def test_each_checkpoint_reaches_its_witness_through_the_outbox(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        settings: Settings, clock: FixedClock) -> None:
    witnessed = settings.model_copy(update={"checkpoint_witness": "witness@auditors.example"})
    declared = ticker.jobs(engine, witnessed, clock, renderer(REPOSITORY / "templates"),
                           CaptureTransport(engine, clock), worker="w")
    checkpoint, outbox = declared[0], declared[-1]
    assert await checkpoint.run() == 1
    assert await checkpoint.run() == 0  # nothing new: no second copy either
    while await outbox.run():
        pass
    async with session_factory(engine)() as db:
        kept = (await db.exec(select(CapturedMessage))).all()
    assert [m.recipient for m in kept] == ["witness@auditors.example"]
    message = email.message_from_bytes(kept[0].raw, policy=email.policy.default)
    assert message["Subject"].startswith("Breachdesk checkpoint 1 of ")
    attached = next(message.iter_attachments())
    assert attached.get_filename() == "checkpoint-1.jsonl"
    line = json.loads(attached.get_content())
    assert line == json.loads(witnessed.checkpoint_log.read_text().splitlines()[0])
