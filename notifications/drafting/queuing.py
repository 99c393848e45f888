"""A notice to many people queued in parts: its deliveries written a few thousand at a time.

Sending a notice to a million people writes a million deliveries. In one transaction that
holds SQLite's only write lock for as long as it takes (seconds), and every other write
waits, the incident's notes included. So `send` writes only the first part itself and
leaves the rest as a `QueuePlan` in `delivery_queues`, in the same transaction: whom it
addresses (a snapshot is never changed, so the plan names the same people whenever it is
read), the language each letter is written in and the laws each meets. The outbox writes
the next part as it runs low on what was queued (`queue_next_part`), each part in its own
short transaction, in the order of the snapshot's key, so a crash between parts loses
nothing: the plan and how far it got are committed with each part.

Until its last part is written a notification has deliveries `QUEUING` in its progress
(`waiting_of`), so it is not done while people are still to be queued.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import BindParameter, String, Table, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from notifications.drafting import tallies
from notifications.drafting.audience import Audience
from notifications.drafting.models import Delivery, DeliveryQueue, Notification
from notifications.drafting.rules import DeliveryState, NotificationStatus

__all__ = ["MESSAGE_ID_START", "PART", "QUEUING", "Meets", "QueuePlan", "meets_of", "meets_sql",
           "message_id_parts", "message_id_sql", "queue_next_part", "queue_part", "scope_sql", "waiting_of"]

PART = 2_000
"""People queued in one transaction: on SQLite a part holds the write lock for a few dozen
milliseconds, and the outbox's claims take a part in ten batches."""

QUEUING = "queuing"
"""In a notification's progress: its people not yet written as deliveries."""

QUEUES = cast(Table, DeliveryQueue.__table__)  # type: ignore[attr-defined]
NOTIFICATIONS = cast(Table, Notification.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueuePlan:
    """What the deliveries of a notice to people are made from, kept as JSON between parts.

    jurisdictions: None for everyone in the snapshot, else those addressed. moved: the
    languages whose readers get `fallback` instead. meets: per obligation covered, None when
    it protects everyone addressed, else the jurisdictions it protects.
    """

    snapshot: int
    jurisdictions: tuple[str, ...] | None
    moved: tuple[str, ...]
    fallback: str | None
    meets: Meets
    message_domain: str
    due: datetime

    def as_json(self) -> dict[str, Any]:
        return {"snapshot": self.snapshot,
                "jurisdictions": None if self.jurisdictions is None else list(self.jurisdictions),
                "moved": list(self.moved), "fallback": self.fallback,
                "meets": [[ref, None if where is None else list(where)] for ref, where in self.meets],
                "message_domain": self.message_domain, "due": self.due.isoformat()}

    @classmethod
    def of_json(cls, found: dict[str, Any]) -> QueuePlan:
        places = found["jurisdictions"]
        return cls(int(found["snapshot"]), None if places is None else tuple(places),
                   tuple(found["moved"]), found["fallback"],
                   tuple((str(ref), None if where is None else tuple(where))
                         for ref, where in found["meets"]),
                   str(found["message_domain"]), datetime.fromisoformat(found["due"]))


def scope_sql(snapshot: int, jurisdictions: Sequence[str] | None
              ) -> tuple[str, dict[str, Any], list[BindParameter[Any]]]:
    """A snapshot's people (None: all, else those in `jurisdictions`) as a WHERE over
    `affected_subjects a`, with its values bound, never written in."""
    if jurisdictions is None:
        return "a.snapshot_id = :snapshot", {"snapshot": snapshot}, []
    return ("a.snapshot_id = :snapshot AND a.jurisdiction IN :jurisdictions",
            {"snapshot": snapshot, "jurisdictions": list(jurisdictions)},
            [bindparam("jurisdictions", expanding=True)])


Meets = tuple[tuple[str, tuple[str, ...] | None], ...]
"""Per obligation a notice covers (in its order), the jurisdictions whose people its law
protects among those addressed; None when it protects them all. Those protecting nobody
are left out."""


def meets_of(each: Mapping[str, Audience]) -> Meets:
    """`Meets` from whom each covered obligation addresses."""
    return tuple((ref, None if addressed.everyone else tuple(addressed.jurisdictions))
                 for ref, addressed in each.items() if addressed.count)


def meets_sql(meets: Meets) -> tuple[str, dict[str, Any], list[BindParameter[Any]]]:
    """The SQL over `affected_subjects a` for which of the covered obligations a person's
    letter meets (those whose law protects them), comma-separated in the notice's order;
    with its values and expanding binds."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    binds: list[BindParameter[Any]] = []
    for index, (ref, where) in enumerate(meets):
        params[f"meets_{index}"] = "," + ref
        binds.append(bindparam(f"meets_{index}", type_=String))
        if where is None:
            parts.append(f":meets_{index}")
            continue
        params[f"meets_{index}_in"] = list(where)
        binds.append(bindparam(f"meets_{index}_in", expanding=True))
        parts.append(f"CASE WHEN a.jurisdiction IN :meets_{index}_in THEN :meets_{index} "
                     "ELSE '' END")
    if not parts:
        return "''", params, binds
    return f"SUBSTR({' || '.join(parts)}, 2)", params, binds


def _new_ids(conn: AsyncConnection) -> str:
    """The SQL that draws a new delivery id for each row of a SELECT: PostgreSQL's sequence;
    on SQLite, past the highest id (its writers take turns, so none draws the same)."""
    if conn.dialect.name == "postgresql":
        return "nextval(pg_get_serial_sequence('deliveries', 'id'))"
    return "(SELECT COALESCE(MAX(id), 0) FROM deliveries) + ROW_NUMBER() OVER ()"


def message_id_sql(delivery_id: str) -> str:
    """The SQL for a delivery's Message-ID, fixed for all its attempts, from its id: bound
    `:id_prefix` and `:id_suffix` (see `message_id_parts`) around `delivery_id`."""
    return f":id_prefix || CAST({delivery_id} AS VARCHAR(20)) || :id_suffix"


MESSAGE_ID_START = "breachdesk."
"""How every Message-ID this service gives begins (inside its angle brackets)."""


def message_id_parts(notification_id: int, domain: str) -> dict[str, str]:
    """`<breachdesk.{delivery id}.{notification id}@{domain}>`, around the delivery id."""
    return {"id_prefix": f"<{MESSAGE_ID_START}", "id_suffix": f".{notification_id}@{domain}>"}


async def queue_part(conn: AsyncConnection, notification_id: int, plan: QueuePlan, *,
                     after: str, most: int) -> tuple[str | None, int]:
    """Write the deliveries of the plan's next people after the key `after` ("" from the
    start), at most `most` of them, in the caller's transaction, tallied. Returns the last
    key written (None when nobody was left) and how many were written."""
    where, params, binds = scope_sql(plan.snapshot, plan.jurisdictions)
    params.update(after=after)
    where += " AND a.external_id > :after"
    upto = (await conn.execute(text(
        f"SELECT MAX(k) FROM (SELECT a.external_id AS k FROM affected_subjects a "  # noqa: S608
        f"WHERE {where} ORDER BY a.external_id LIMIT :most) part").bindparams(*binds),
        {**params, "most": most})).scalar()
    if upto is None:
        return None, 0
    where += " AND a.external_id <= :upto"
    params.update(upto=upto)
    at = bindparam("due", type_=cast(Table, Delivery.__table__).c.next_attempt_at.type)  # type: ignore[attr-defined]
    binds = [*binds, at, bindparam("pending", type_=String), bindparam("failed", type_=String)]
    params.update(n=notification_id, due=plan.due, pending=DeliveryState.PENDING.value,
                  failed=DeliveryState.FAILED.value,
                  **message_id_parts(notification_id, plan.message_domain))
    locale = "a.locale"
    if plan.moved:
        locale = "CASE WHEN a.locale IN :moved THEN :fallback ELSE a.locale END"
        params.update(moved=list(plan.moved), fallback=plan.fallback)
        binds.append(bindparam("moved", expanding=True))
    meets, meets_params, meets_binds = meets_sql(plan.meets)
    params.update(meets_params)
    binds.extend(meets_binds)
    # One statement writes each delivery whole (its id drawn here, so its Message-ID too,
    # and the laws its letter meets), and says what it wrote for the tallies.
    written = (await conn.execute(text(
        "INSERT INTO deliveries (id, notification_id, recipient_key, address, name, "  # noqa: S608
        "locale, categories, meets, message_id, state, attempts, next_attempt_at, "
        "last_reply, ended_at) "
        f"SELECT q.id, :n, q.recipient_key, q.address, q.name, q.locale, q.categories, "
        f"q.meets, {message_id_sql('q.id')}, "
        "CASE WHEN q.address IS NULL THEN :failed ELSE :pending END, 0, :due, "
        "CASE WHEN q.address IS NULL THEN 'no e-mail address on record' END, "
        "CASE WHEN q.address IS NULL THEN :due END "
        f"FROM (SELECT {_new_ids(conn)} AS id, a.external_id AS recipient_key, "
        f"s.email AS address, COALESCE(s.name, '') AS name, {locale} AS locale, "
        f"a.categories AS categories, {meets} AS meets "
        "FROM affected_subjects a LEFT JOIN subjects s ON s.id = a.subject_id "
        f"WHERE {where}) q RETURNING state").bindparams(*binds), params)).scalars().all()
    if not written:
        return None, 0
    moves: tallies.Moves = Counter()
    for state, count in Counter(written).items():
        tallies.moved(moves, notification_id, None, state, count)
    await tallies.shift(conn, moves)
    return str(upto), len(written)


async def queue_next_part(conn: AsyncConnection, *, most: int | None = None) -> int:
    """Write the next part of a notification being sent whose people are not all queued
    yet (the oldest such first; on PostgreSQL one no other dispatcher is writing), in the
    caller's transaction; `most` people (by default `PART`). Returns how many deliveries it
    wrote: 0 when none waits."""
    most = most or PART
    query = (select(QUEUES).join(NOTIFICATIONS, NOTIFICATIONS.c.id == QUEUES.c.notification_id)
             .where(NOTIFICATIONS.c.status == NotificationStatus.SENDING.value)
             .order_by(QUEUES.c.notification_id).limit(1)
             .with_for_update(of=QUEUES, skip_locked=True))
    row = (await conn.execute(query)).first()
    if row is None:
        return 0
    plan = QueuePlan.of_json(row.plan)
    upto, added = await queue_part(conn, row.notification_id, plan, after=row.after, most=most)
    if upto is None or added < most or row.remaining <= added:
        await conn.execute(delete(QUEUES).where(QUEUES.c.notification_id == row.notification_id))
    else:
        await conn.execute(update(QUEUES).where(QUEUES.c.notification_id == row.notification_id)
                           .values(after=upto, remaining=max(row.remaining - added, 0)))
    if conn.dialect.name == "postgresql":
        await _statistics_kept(conn)
    return added


GROWN = 2
"""The deliveries table is analyzed when it holds this many times what its statistics say."""


async def _statistics_kept(conn: AsyncConnection) -> None:
    """ANALYZE the deliveries when they have grown well past their statistics (PostgreSQL).

    Every statement of the outbox keeps the plan made for it early on. Made while a large
    notice's first parts were the whole table, a plan can scan where it should look up, and
    keeps doing so as the table grows: autovacuum would bring the statistics up to date
    (and the plans with them) only within its next round, a minute or more later. So each
    doubling is analyzed here, a few times over a notice of any size.
    """
    row = (await conn.execute(text(
        "SELECT c.reltuples, s.n_live_tup FROM pg_class c "
        "JOIN pg_stat_user_tables s ON s.relid = c.oid "
        "WHERE c.oid = 'deliveries'::regclass"))).first()
    if row is None:
        return
    known, live = max(float(row[0]), 0.0), float(row[1] or 0)
    if live > GROWN * known + PART:
        await conn.execute(text("ANALYZE deliveries"))


async def waiting_of(conn: AsyncConnection, notification_ids: Collection[int]) -> dict[int, int]:
    """How many people of each notification (of those asked about) are not yet queued."""
    if not notification_ids:
        return {}
    rows = (await conn.execute(select(QUEUES.c.notification_id, QUEUES.c.remaining).where(
        QUEUES.c.notification_id.in_(list(notification_ids))))).all()
    return {int(n): int(remaining) for n, remaining in rows}


def wake_file(var_dir: Path) -> Path:
    """The file that tells idle sending processes on this machine that deliveries were
    queued (`notifications/delivery/wakeup.py` watches it)."""
    return var_dir / "outbox-wake"


def announce(var_dir: Path) -> None:
    """Deliveries were queued (a send committed): idle sending processes start at once
    instead of at their next look. A file that cannot be written leaves them to it."""
    path = wake_file(var_dir)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
