"""Each notification's deliveries counted by state, kept as they change.

A notification's progress (how many sent, waiting, failed...) is read on every page and API
read of it, while its deliveries are being sent: counting a hundred thousand rows each time
takes the CPU the sending needs. So `delivery_tallies` holds one row per notification and
state, changed in the same transaction as the deliveries:

- every change made through the ORM (a delivery added, its state changed, deleted) is
  counted by a flush hook, without the caller doing anything;
- the bulk statements of the outbox, which bypass the ORM, say what they moved (`shift`):
  the claim (due → sending), the recorder (sending → its outcome);
- each part of a notice's deliveries (`queuing.py`) counts what its INSERT returned; a
  report's one delivery is recounted (`recount`).

Rows are changed in the order of their keys, so two transactions moving the same states
wait for each other instead of deadlocking. `recount` is also the repair: it makes the
tallies what the deliveries say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, event, func, insert, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session, UOWTransaction

from notifications.drafting.models import Delivery, DeliveryTally

__all__ = ["Moves", "counts_of", "moved", "moves_of_flush", "recount", "shift"]

TALLIES = cast(Table, DeliveryTally.__table__)  # type: ignore[attr-defined]
DELIVERIES = cast(Table, Delivery.__table__)  # type: ignore[attr-defined]

Moves = Counter[tuple[int, str]]
"""Changes of the counts: (notification id, state) to how many more (or fewer)."""


def _upserts(dialect: str, moves: Moves) -> list[Any]:
    rows = [{"notification_id": n, "state": s, "count": c}
            for (n, s), c in sorted(moves.items()) if c]
    if not rows:
        return []
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(TALLIES)
    statement = statement.on_conflict_do_update(
        index_elements=["notification_id", "state"],
        set_={"count": TALLIES.c.count + statement.excluded.count})
    # One row a statement: PostgreSQL takes the row locks in the order given.
    return [statement.values(row) for row in rows]


async def shift(conn: AsyncConnection, moves: Moves) -> None:
    """Apply `moves` in the caller's transaction."""
    await conn.run_sync(shift_now, moves)


def shift_now(conn: Connection, moves: Moves) -> None:
    """`shift` on a synchronous connection (a `write_in_one_go` transaction)."""
    for statement in _upserts(conn.dialect.name, moves):
        conn.execute(statement)


def moved(moves: Moves, notification_id: int, before: str | None, after: str | None,
          count: int = 1) -> None:
    """Note `count` deliveries of a notification moved from `before` to `after` (None: none,
    for a delivery added or deleted)."""
    if before == after:
        return
    if before is not None:
        moves[(notification_id, before)] -= count
    if after is not None:
        moves[(notification_id, after)] += count


async def recount(conn: AsyncConnection, notification_ids: Collection[int]) -> None:
    """Make the notifications' tallies what their deliveries say (in the caller's
    transaction)."""
    ids = sorted(set(notification_ids))
    if not ids:
        return
    for statement in _recount_statements(ids):
        await conn.execute(statement)


async def counts_of(conn: AsyncConnection, notification_ids: Collection[int]
                    ) -> dict[int, dict[str, int]]:
    """How many deliveries each notification has in each state (states with none left out;
    every id asked about is in the answer)."""
    counts: dict[int, dict[str, int]] = {n: {} for n in notification_ids}
    if not counts:
        return counts
    rows = (await conn.execute(select(TALLIES.c.notification_id, TALLIES.c.state,
                                      TALLIES.c.count)
                               .where(TALLIES.c.notification_id.in_(list(counts)),
                                      TALLIES.c.count != 0))).all()
    for notification_id, state, count in rows:
        counts[notification_id][state] = int(count)
    return counts


def moves_of_flush(session: Session) -> tuple[Moves, set[int]]:
    """What a flush is about to change in the counts: deliveries added, deleted, or whose
    state changed (read before the flush's changes are forgotten); and the notifications to
    recount instead, where a delivery's state before the change was never loaded."""
    moves: Moves = Counter()
    unknown: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Delivery):
            moved(moves, obj.notification_id, None, obj.state)
    for obj in session.deleted:
        if isinstance(obj, Delivery):
            unknown.add(obj.notification_id)
    for obj in session.dirty:
        if isinstance(obj, Delivery):
            history = inspect(obj).attrs.state.history
            if history.added and history.deleted:
                moved(moves, obj.notification_id, history.deleted[0], history.added[0])
            elif history.added:
                unknown.add(obj.notification_id)
    return Counter({k: c for k, c in moves.items() if k[0] not in unknown}), unknown


def _recount_statements(ids: list[int]) -> list[Any]:
    return [delete(TALLIES).where(TALLIES.c.notification_id.in_(ids)),
            insert(TALLIES).from_select(
                ["notification_id", "state", "count"],
                select(DELIVERIES.c.notification_id, DELIVERIES.c.state, func.count())
                .where(DELIVERIES.c.notification_id.in_(ids))
                .group_by(DELIVERIES.c.notification_id, DELIVERIES.c.state))]


@event.listens_for(Session, "after_flush")
def _count_flushed(session: Session, _: UOWTransaction) -> None:
    moves, unknown = moves_of_flush(session)
    if not moves and not unknown:
        return
    connection: Connection = session.connection()
    for statement in _upserts(connection.dialect.name, moves):
        connection.execute(statement)
    if unknown:
        for statement in _recount_statements(sorted(unknown)):
            connection.execute(statement)
