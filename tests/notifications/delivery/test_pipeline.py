"""The outbox as a pipeline: one run sends everything due (no ceiling per tick), claims
take the oldest due first whatever their state, outcomes are committed in batches and a
delivery is let go only once its outcome is, and an outcome whose lease was lost meanwhile
is not written over the new holder's."""

from __future__ import annotations

import asyncio
import fcntl
import os
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel import db as kernel_db
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory, transaction
from incident.kernel.settings import REPOSITORY
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.models import SentMessage
from notifications.delivery.outbox import CaptureTransport, Dispatcher, Policy
from notifications.delivery.outcomes import Outcome, Status
from notifications.delivery.recorder import Finished, Recorder
from notifications.drafting import tallies
from notifications.drafting.letters import letter_for
from notifications.drafting.models import Delivery, DeliveryAttempt, Notification
from notifications.drafting.render import renderer
from tests.factories import Person, sending
from tests.notifications.delivery.processes import SENDER, deliveries, states
from tests.smtp_server import SmtpServer


def dispatcher(engine: AsyncEngine, clock: FixedClock, worker: str = "w1", batch: int = 100,
               **options: object) -> Dispatcher:
    return Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                      clock=clock, sender=SENDER, worker=worker,
                      policy=Policy(batch=batch, lease=timedelta(minutes=5)),
                      **options)  # type: ignore[arg-type]


async def test_one_run_sends_everything_due_however_small_the_batch(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(23)]
    await sending(client, people, addresses)
    pool = pool_from_url(smtp_server.url, size=3, timeout=5)
    outbox = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                        sender=SENDER, worker="w1", policy=Policy(batch=5), concurrency=3)
    try:
        assert await outbox.run_once() == 23  # five claims of five, and one of three
    finally:
        await pool.close()
    assert await states(engine) == {"sent": 23}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(addresses)
    async with session_factory(engine)() as db:
        kept = (await db.exec(select(SentMessage))).all()
    assert len(kept) == 23  # each message as it left, once
    assert not outbox._claimed and not outbox._handed  # nothing held once all is recorded


async def test_a_claim_takes_the_oldest_due_first_whatever_their_state(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(6)])
    rows = sorted((await deliveries(engine)).values(), key=lambda d: d.id or 0)
    now = clock.now()
    due = {rows[0].id: ("pending", now), rows[1].id: ("retry", now - timedelta(minutes=3)),
           rows[2].id: ("in_doubt", now - timedelta(minutes=2)),
           rows[3].id: ("retry", now + timedelta(minutes=1)),  # not due yet
           rows[4].id: ("pending", now - timedelta(minutes=1)), rows[5].id: ("failed", now)}
    async with session_factory(engine)() as db, transaction(db):
        for ident, (state, at) in due.items():
            await db.exec(update(Delivery).where(col(Delivery.id) == ident).values(
                state=state, next_attempt_at=at))
        # A bulk statement bypasses the tallies: recount them as the send does.
        await tallies.recount(await db.connection(), {rows[0].notification_id})
    outbox = dispatcher(engine, clock, batch=3)
    claimed = await outbox.claim()
    assert [c.id for c in claimed] == [rows[1].id, rows[2].id, rows[4].id]
    assert [c.attempts for c in claimed] == [1, 1, 1]
    assert [c.id for c in await outbox.claim()] == [rows[0].id]
    assert await outbox.claim() == []


async def test_outcomes_are_committed_together_and_only_then_let_go(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(5)])
    outbox = dispatcher(engine, clock)
    claimed = await outbox.claim()
    letting_go: list[list[int]] = []
    recorder = Recorder(engine, clock, worker="w1", policy=outbox.policy, every=3600,
                        on_recorded=lambda batch, _: letting_go.append(
                            [f.delivery_id for f in batch]))
    async with session_factory(engine)() as db:
        notification = await db.get(Notification, claimed[0].notification_id)
        assert notification is not None
        letter = await letter_for(db, notification)
    replies = [Outcome(Status.SENT, 250, "2.0.0 queued", "message"),
               Outcome(Status.RETRY, 451, "4.7.1 try again in 90 seconds", "rcpt", 90),
               Outcome(Status.FAILED, 550, "5.1.1 no such user", "rcpt"),
               Outcome(Status.IN_DOUBT, None, "no reply after the end of the message", "message"),
               Outcome(Status.RETRY, None, "connection refused", "connect")]
    for delivery, outcome in zip(claimed, replies, strict=True):
        recorder.add(Finished(delivery.id, delivery.attempts, outcome, letter, b"message bytes"))
    await asyncio.sleep(0)
    assert letting_go == [] and await states(engine) == {"sending": 5}  # held, not yet written
    assert await recorder.flush() == 5
    assert letting_go == [[d.id for d in claimed]]
    by_id = {d.id: d for d in (await deliveries(engine)).values()}
    sent, retry, failed, doubt, unreachable = (by_id[d.id] for d in claimed)
    assert sent.state == "sent" and sent.sent_at == clock.now() and sent.ended_at == clock.now()
    assert retry.state == "retry" and retry.next_attempt_at >= clock.now() + timedelta(seconds=90)
    assert failed.state == "failed" and failed.last_reply == "550 5.1.1 no such user"
    assert doubt.state == "in_doubt" and doubt.next_attempt_at == clock.now()
    assert unreachable.state == "retry"
    assert (unreachable.last_reply or "").startswith("relay unreachable: ")
    assert all(d.lease_until is None for d in by_id.values())
    async with session_factory(engine)() as db:
        attempts = (await db.exec(select(DeliveryAttempt))).all()
        kept = (await db.exec(select(SentMessage))).all()
    assert sorted(a.outcome for a in attempts) == ["failed", "in_doubt", "retry", "retry", "sent"]
    assert [k.delivery_id for k in kept] == [sent.id]  # only what was sent is kept
    async with engine.connect() as connection:  # times stored as every other time is
        stored = (await connection.execute(text(
            "SELECT sent_at, ended_at FROM deliveries WHERE id = :id"), {"id": sent.id})).one()
        at = (await connection.execute(text(
            "SELECT at FROM delivery_attempts WHERE delivery_id = :id"), {"id": sent.id})
              ).scalar_one()
    assert tuple(stored) == (at, at)


async def test_an_outcome_is_not_written_over_a_lease_taken_meanwhile(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, ["anna@example.com"])
    outbox = dispatcher(engine, clock)
    [claimed] = await outbox.claim()
    async with session_factory(engine)() as db, transaction(db):  # another process took it over
        await db.exec(update(Delivery).values(leased_by="w2"))
    written: list[bool] = []
    recorder = Recorder(engine, clock, worker="w1", policy=outbox.policy,
                        on_recorded=lambda _, rows: written.extend(r.recorded for r in rows))
    async with session_factory(engine)() as db:
        notification = await db.get(Notification, claimed.notification_id)
        assert notification is not None
        letter = await letter_for(db, notification)
    recorder.add(Finished(claimed.id, claimed.attempts,
                          Outcome(Status.SENT, 250, "ok", "message"), letter, b"x"))
    await recorder.drain()
    assert written == [False]
    [row] = (await deliveries(engine)).values()
    assert row.state == "sending" and row.leased_by == "w2"
    async with session_factory(engine)() as db:
        assert (await db.exec(select(DeliveryAttempt))).all() == []


async def test_a_run_resends_what_ended_in_doubt_only_in_the_next_run(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    """(A relay that loses every reply must not be hammered in a loop within one run.)"""
    await sending(client, people, ["anna@example.com", "bernd@example.com"])
    smtp_server.faults.drop("after_data", to="anna@example.com", times=3)
    pool = pool_from_url(smtp_server.url, size=2, timeout=5)
    outbox = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                        sender=SENDER, worker="w1", concurrency=2)
    try:
        for expected in (2, 1, 1, 1):
            assert await outbox.run_once() == expected
    finally:
        await pool.close()
    assert await states(engine) == {"sent": 2}
    anna = [m for m in smtp_server.messages if m.rcpt_tos == ("anna@example.com",)]
    assert len(anna) == 4 and len({m.message_id for m in anna}) == 1


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_on_sqlite_claims_take_a_quarter_batch_while_the_service_waits_to_write(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sending process's engine is `bulk`: once it has found a request waiting for the
    write lock, each claim holds the lock for a quarter of a batch; later, a whole one."""
    await sending(client, people, [f"p{n}@example.com" for n in range(30)])
    monkeypatch.setattr(kernel_db, "BULK_PATIENCE", 0.01)  # the request never comes here
    bulk = create_engine(database_url, bulk=True)
    outbox = dispatcher(bulk, clock, batch=8)
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    waiting = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert len(await outbox.claim()) == 8  # nobody waits yet
        fcntl.flock(waiting, fcntl.LOCK_SH)  # what a request waiting for the lock holds
        assert len(await outbox.claim()) == 8  # asked for before it found the request
        assert len(await outbox.claim()) == 2
        fcntl.flock(waiting, fcntl.LOCK_UN)
        assert len(await outbox.claim()) == 2  # the service wrote lately
        monkeypatch.setattr(kernel_db, "SHARING_SECONDS", 0.0)
        assert len(await outbox.claim()) == 8
    finally:
        os.close(waiting)
        await bulk.dispose()
