"""Each notification's deliveries counted by state (`notifications/drafting/tallies.py`):
kept with every change made through the ORM, said by the bulk statements, repaired by a
recount. (Every test using the `engine` fixture also checks, when it ends, that the tallies
say what the deliveries say: tests/conftest.py.)"""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.db import session_factory, transaction
from notifications.drafting import tallies
from notifications.drafting.models import Delivery
from tests.conftest import tallies_agree
from tests.factories import Person, sending


async def _counts(engine: AsyncEngine, notification_id: int) -> dict[str, int]:
    async with engine.connect() as conn:
        return (await tallies.counts_of(conn, [notification_id]))[notification_id]


async def _first(engine: AsyncEngine) -> list[Delivery]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def test_a_send_counts_its_deliveries_and_each_change_moves_the_count(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    await sending(client, people, ["a@example.com", "b@example.com", "c@example.com"])
    rows = await _first(engine)
    notification = rows[0].notification_id
    assert await _counts(engine, notification) == {"pending": 3}
    # A state changed on a loaded delivery: one moves.
    async with session_factory(engine)() as db, transaction(db):
        delivery = await db.get(Delivery, rows[0].id)
        assert delivery is not None
        delivery.state = "sent"
        db.add(delivery)
    assert await _counts(engine, notification) == {"pending": 2, "sent": 1}
    # A state set on a delivery whose earlier state was never loaded: the notification is
    # recounted, and comes out right.
    async with session_factory(engine)() as db, transaction(db):
        delivery = await db.get(Delivery, rows[1].id)
        assert delivery is not None
        db.expire(delivery, ["state"])
        delivery.state = "failed"
        db.add(delivery)
    assert await _counts(engine, notification) == {"pending": 1, "sent": 1, "failed": 1}
    # A delivery deleted: recounted.
    async with session_factory(engine)() as db, transaction(db):
        delivery = await db.get(Delivery, rows[2].id)
        await db.delete(delivery)
    assert await _counts(engine, notification) == {"sent": 1, "failed": 1}
    await tallies_agree(engine)


async def test_a_change_rolled_back_leaves_the_counts_as_they_were(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    await sending(client, people, ["a@example.com", "b@example.com"])
    rows = await _first(engine)
    async with session_factory(engine)() as db:
        delivery = await db.get(Delivery, rows[0].id)
        assert delivery is not None
        delivery.state = "sent"
        db.add(delivery)
        await db.flush()
        assert (await tallies.counts_of(await db.connection(), [delivery.notification_id]))[
            delivery.notification_id] == {"pending": 1, "sent": 1}
        await db.rollback()
    assert await _counts(engine, rows[0].notification_id) == {"pending": 2}


async def test_a_bulk_statement_says_what_it_moved_and_a_recount_repairs_what_it_did_not(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(4)])
    rows = await _first(engine)
    notification = rows[0].notification_id
    async with session_factory(engine)() as db, transaction(db):
        conn = await db.connection()
        await conn.execute(update(Delivery).where(col(Delivery.id).in_(
            [rows[0].id, rows[1].id])).values(state="sending"))
        moves: tallies.Moves = Counter()
        tallies.moved(moves, notification, "pending", "sending", 2)
        tallies.moved(moves, notification, "sending", "sending")  # no move at all
        await tallies.shift(conn, moves)
    assert await _counts(engine, notification) == {"pending": 2, "sending": 2}
    async with session_factory(engine)() as db, transaction(db):
        conn = await db.connection()
        await conn.execute(update(Delivery).where(col(Delivery.id) == rows[2].id).values(
            state="sent"))  # not said
        await tallies.recount(conn, [notification])
    assert await _counts(engine, notification) == {"pending": 1, "sending": 2, "sent": 1}
    await tallies_agree(engine)
