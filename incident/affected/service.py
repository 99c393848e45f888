"""Who is affected by an incident: its scope, and frozen, numbered snapshots computed from it.

A snapshot is computed in one transaction by one INSERT … SELECT over the
inventory, sealed with the SHA-256 of its sorted contents (one line per
person: external id, jurisdiction, locale, categories), and never changed
again (database triggers refuse it). Recomputing makes a new snapshot.
Reading or exporting the people of a snapshot is personal data and goes on
the timeline.

The SQL below is assembled from fixed fragments and integer ids read from the
database; every value from a request is a bound parameter (hence the S608
exemptions).
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import select as sql_select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot, AffectedSubject
from incident.affected.schemas import AffectedComputed, AffectedPage, AffectedPerson, AffectedSummary, Scope
from incident.inventory.models import Subject, System
from incident.inventory.rules import ALL_CATEGORIES, CATEGORY_BITS, categories_mask, category_names, epoch
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, session_factory, transaction
from incident.kernel.errors import Conflict, Invalid, NotFound
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal

READ_BATCH = 20_000
MAX_TRACKED_SYSTEM_ID = 62
EXPORT_COLUMNS = ("external_id", "email", "name", "jurisdiction", "locale", "categories")


# --- scope -----------------------------------------------------------------------------------


def _lists_digest(scope: Scope) -> str:
    joined = "\n".join(["include", *scope.include, "exclude", *scope.exclude])
    return hashlib.sha256(joined.encode()).hexdigest()


async def set_scope(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                    scope: Scope) -> Incident:
    """Record what the incident exposed. The include/exclude lists stay off the timeline
    (they are personal data); their counts and digest go on it."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        known = set((await db.exec(select(System.key))).all())
        unknown = [name for name in scope.systems if name not in known]
        if unknown:
            raise Invalid.fields([("systems", f"unknown system {name!r}") for name in unknown])
        incident.scope = scope.model_dump(mode="json")
        incident.updated_at = now
        db.add(incident)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor, kind="scope_set",
                                   payload=_scope_summary(scope))
    return incident


def _scope_summary(scope: Scope) -> dict[str, Any]:
    data = scope.model_dump(mode="json", exclude={"include", "exclude"})
    data.update(include=len(scope.include), exclude=len(scope.exclude),
                lists_sha256=_lists_digest(scope))
    return data


# --- compute ---------------------------------------------------------------------------------


def _bit_or(expression: str, postgresql: bool) -> str:
    """Aggregate OR of bit masks: PostgreSQL has bit_or; SQLite gets one MAX per category bit."""
    if postgresql:
        return f"bit_or({expression})"
    return " | ".join(f"MAX(({expression}) & {1 << bit})" for bit in range(ALL_CATEGORIES.bit_length()))


class _Plan:
    """The SQL filters of one scope, with their parameters."""

    def __init__(self, scope: Scope, system_ids: list[int], all_ids: list[int],
                 postgresql: bool) -> None:
        self.postgresql = postgresql
        # Which systems held each person's exposed data, as one bit per system id, when the
        # ids fit in 62 bits; else by_system is counted by a query of its own.
        self.tracks_systems = max(system_ids or all_ids or [0]) <= MAX_TRACKED_SYSTEM_ID
        if not self.tracks_systems:
            self.systems_mask = "0"
        elif postgresql:
            self.systems_mask = "bit_or(CAST(1 AS BIGINT) << (h.system_id - 1))"
        else:
            # Within one person's group each holding is in another system: SUM is OR here.
            self.systems_mask = "SUM(1 << (h.system_id - 1))"
        self.explicit_mask = categories_mask(scope.data_categories)
        self.mask = self.explicit_mask or ALL_CATEGORIES
        # Numbers are written into the SQL (they are integers computed here, never text from a
        # request): PostgreSQL plans the statement for these very values, which a bound
        # parameter hides from it, at twice the cost here.
        self.params: dict[str, Any] = {}
        self.mask_sql = str(int(self.mask))
        self.systems = (f"h.system_id IN ({', '.join(str(int(i)) for i in system_ids)})"
                        if scope.systems else "1 = 1")
        window = [f"(h.categories & {self.mask_sql}) <> 0"]
        if scope.exposure_to is not None:
            window.append(f"(h.first_seen IS NULL OR h.first_seen <= {int(epoch(scope.exposure_to) or 0)})")
        if scope.exposure_from is not None:
            window.append(f"(h.last_seen IS NULL OR h.last_seen >= {int(epoch(scope.exposure_from) or 0)})")
        self.holding_filter = " AND ".join([self.systems, *window])


async def compute_affected(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                           default_locale: str) -> tuple[AffectedSnapshot, dict[str, list[str]]]:
    """Compute the incident's affected people from its scope into a new, sealed snapshot.

    Returns the snapshot and the include/exclude entries that matched nobody.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if incident.scope is None:
            raise Conflict(f"{incident.reference} has no scope yet: set it first "
                           "(PUT /api/v1/incidents/{id}/scope)")
        scope = Scope.model_validate(incident.scope)
        systems = dict((await db.exec(select(System.key, System.id))).all())
        missing = [name for name in scope.systems if name not in systems]
        if missing:
            raise Conflict(f"the scope names systems that no longer exist: {', '.join(missing)}")
        last = (await db.exec(select(func.max(AffectedSnapshot.number)).where(
            AffectedSnapshot.incident_id == incident.id))).one()
        snapshot = AffectedSnapshot(incident_id=incident.id, number=(last or 0) + 1,
                                    scope=incident.scope, computed_at=now,
                                    computed_by=actor.label)
        db.add(snapshot)
        await db.flush()
        assert snapshot.id is not None
        postgresql = is_postgresql(db)
        plan = _Plan(scope, [systems[name] or 0 for name in scope.systems],
                     [ident or 0 for ident in systems.values()], postgresql)
        conn = await db.connection()
        unmatched = await _resolve_entries(conn, scope)
        params = {**plan.params, "snapshot": snapshot.id, "locale": default_locale}
        inserted = await conn.execute(text(_insert_from_holdings(plan, bool(scope.exclude))),
                                      params)
        from_scope = inserted.rowcount
        if scope.include:
            await conn.execute(text(_insert_included(plan)),
                               {**params, "explicit": plan.explicit_mask})
        summary, digest, total = await _seal_contents(conn, snapshot.id, postgresql, systems)
        if not plan.tracks_systems:
            summary["by_system"] = await _by_system(conn, plan, bool(scope.exclude), systems)
        summary["by_source"] = {"scope": from_scope, "include": total - from_scope}
        summary["unmatched"] = {name: len(entries) for name, entries in unmatched.items()}
        if scope.include or scope.exclude:
            await conn.execute(text("DROP TABLE scope_subjects"))
        snapshot.total, snapshot.summary, snapshot.digest = total, summary, digest
        snapshot.unmatched = unmatched
        incident.updated_at = now
        db.add_all([snapshot, incident])
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="affected_computed",
            payload={"snapshot": snapshot.number, "total": total, "sha256": digest, **summary,
                     "scope": _scope_summary(scope)})
    return snapshot, unmatched


async def _resolve_entries(conn: AsyncConnection, scope: Scope) -> dict[str, list[str]]:
    """Match include/exclude entries (external ids or e-mails) to subjects in a temporary table."""
    if not scope.include and not scope.exclude:
        return {"include": [], "exclude": []}
    await conn.execute(text("CREATE TEMPORARY TABLE scope_entries (entry VARCHAR(254), "
                            "list VARCHAR(10))"))
    await conn.execute(text("CREATE TEMPORARY TABLE scope_subjects (subject_id INTEGER, "
                            "list VARCHAR(10), PRIMARY KEY (subject_id, list))"))
    entries = [{"entry": e, "list": "include"} for e in dict.fromkeys(scope.include)]
    entries += [{"entry": e, "list": "exclude"} for e in dict.fromkeys(scope.exclude)]
    await conn.execute(text("INSERT INTO scope_entries (entry, list) VALUES (:entry, :list)"), entries)
    matched = (await conn.execute(text(
        "SELECT e.list, e.entry, s.id FROM scope_entries e JOIN subjects s ON s.external_id = e.entry "
        "UNION SELECT e.list, e.entry, s.id FROM scope_entries e "
        "JOIN subjects s ON s.email = LOWER(e.entry)"))).all()
    pairs = {(row[0], row[2]) for row in matched}
    if pairs:
        await conn.execute(text("INSERT INTO scope_subjects (subject_id, list) VALUES (:id, :list)"),
                           [{"id": ident, "list": name} for name, ident in pairs])
    await conn.execute(text("DROP TABLE scope_entries"))
    found = {(row[0], row[1]) for row in matched}
    return {name: [e for e in dict.fromkeys(getattr(scope, name)) if (name, e) not in found]
            for name in ("include", "exclude")}


_COLUMNS = "snapshot_id, external_id, subject_id, jurisdiction, locale, categories, systems"
_EXCLUDED = "h.subject_id NOT IN (SELECT subject_id FROM scope_subjects WHERE list = 'exclude')"


def _insert_from_holdings(plan: _Plan, excluding: bool) -> str:
    where = plan.holding_filter + (f" AND {_EXCLUDED}" if excluding else "")
    return (f"INSERT INTO affected_subjects ({_COLUMNS}) "  # noqa: S608
            "SELECT :snapshot, s.external_id, s.id, COALESCE(s.region, s.country), "
            f"COALESCE(s.locale, :locale), {_bit_or(f'h.categories & {plan.mask_sql}', plan.postgresql)}, "
            f"{plan.systems_mask} "
            f"FROM holdings h JOIN subjects s ON s.id = h.subject_id WHERE {where} GROUP BY s.id")


def _insert_included(plan: _Plan) -> str:
    """People listed in `include` who are not in yet: their categories are those their holdings
    in the scoped systems carry (window ignored), else the scope's explicit categories."""
    exposed = (f"(SELECT {_bit_or(f'h.categories & {plan.mask_sql}', plan.postgresql)} FROM holdings h "  # noqa: S608
               f"WHERE h.subject_id = s.id AND {plan.systems})")
    return (f"INSERT INTO affected_subjects ({_COLUMNS}) "  # noqa: S608
            "SELECT :snapshot, s.external_id, s.id, COALESCE(s.region, s.country), "
            f"COALESCE(s.locale, :locale), COALESCE(NULLIF({exposed}, 0), :explicit), 0 "
            "FROM scope_subjects i JOIN subjects s ON s.id = i.subject_id "
            f"WHERE i.list = 'include' AND {_EXCLUDED.replace('h.subject_id', 's.id')} "
            "AND NOT EXISTS (SELECT 1 FROM affected_subjects a WHERE a.snapshot_id = :snapshot "
            "AND a.external_id = s.external_id)")


async def _seal_contents(conn: AsyncConnection, snapshot_id: int, postgresql: bool,
                         systems: dict[str, int | None]) -> tuple[dict[str, Any], str, int]:
    """The snapshot's digest (its lines in external-id order) and its counts.

    This is most of what a snapshot costs beyond its INSERT. PostgreSQL builds the
    lines and the groups itself; SQLite's rows are read through the driver, in
    batches, without building result objects.
    """
    if postgresql:
        return await _seal_in_postgresql(conn, snapshot_id, systems)
    raw: Any = (await conn.get_raw_connection()).driver_connection
    digest = hashlib.sha256()
    groups: Counter[tuple[str, str, int, int]] = Counter()
    total = 0
    cursor = await raw.execute("SELECT external_id, jurisdiction, locale, categories, systems "
                               "FROM affected_subjects WHERE snapshot_id = ? ORDER BY external_id",
                               (snapshot_id,))
    while batch := await cursor.fetchmany(READ_BATCH):
        digest.update("".join([f"{e}\t{j}\t{lo}\t{_CATEGORY_TEXT[m]}\n"
                               for e, j, lo, m, _ in batch]).encode())
        groups.update(map(_GROUP_KEY, batch))
        total += len(batch)
    await cursor.close()
    return _counts(groups, systems), digest.hexdigest(), total


_NAMES_SQL = "concat_ws(';', {})".format(", ".join(
    f"CASE WHEN categories & {bit} <> 0 THEN '{category.value}' END"
    for category, bit in CATEGORY_BITS.items()))


async def _seal_in_postgresql(conn: AsyncConnection, snapshot_id: int,
                              systems: dict[str, int | None]) -> tuple[dict[str, Any], str, int]:
    raw: Any = (await conn.get_raw_connection()).driver_connection
    digest = await raw.fetchval(
        "SELECT encode(sha256(convert_to(coalesce(string_agg(external_id || chr(9) || "  # noqa: S608
        f"jurisdiction || chr(9) || locale || chr(9) || {_NAMES_SQL} || chr(10), '' "
        "ORDER BY external_id), ''), 'UTF8')), 'hex') FROM affected_subjects "
        "WHERE snapshot_id = $1", snapshot_id)
    groups: Counter[tuple[str, str, int, int]] = Counter()
    for where, locale, mask, held_in, count in await raw.fetch(
            "SELECT jurisdiction, locale, categories, systems, COUNT(*) FROM affected_subjects "
            "WHERE snapshot_id = $1 GROUP BY 1, 2, 3, 4", snapshot_id):
        groups[(where, locale, mask, held_in)] = count
    return _counts(groups, systems), str(digest), sum(groups.values())


_CATEGORY_TEXT = {mask: ";".join(category_names(mask)) for mask in range(ALL_CATEGORIES + 1)}
_GROUP_KEY = itemgetter(1, 2, 3, 4)


def _counts(groups: Counter[tuple[str, str, int, int]], systems: dict[str, int | None]
            ) -> dict[str, dict[str, int]]:
    """Counts by jurisdiction, category, system and locale from counts of (those four) groups."""
    jurisdictions: Counter[str] = Counter()
    locales: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    by_system: Counter[str] = Counter()
    tracked = {key: 1 << (ident - 1) for key, ident in systems.items()
               if ident is not None and ident <= MAX_TRACKED_SYSTEM_ID}
    for (where, locale, mask, held_in), count in groups.items():
        jurisdictions[where] += count
        locales[locale] += count
        for name in category_names(mask):
            categories[name] += count
        for key, bit in tracked.items():
            if held_in & bit:
                by_system[key] += count
    return {"by_jurisdiction": _sorted(jurisdictions), "by_category": _sorted(categories),
            "by_system": _sorted(by_system), "by_locale": _sorted(locales)}


async def _by_system(conn: AsyncConnection, plan: _Plan, excluding: bool,
                     systems: dict[str, int | None]) -> dict[str, int]:
    where = plan.holding_filter + (f" AND {_EXCLUDED}" if excluding else "")
    result = await conn.execute(text(
        f"SELECT h.system_id, COUNT(*) FROM holdings h WHERE {where} GROUP BY h.system_id"),  # noqa: S608
        plan.params)
    keys = {ident: name for name, ident in systems.items()}
    return _sorted(Counter({keys[ident]: int(count) for ident, count in result.all()}))


def _sorted(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# --- reading -----------------------------------------------------------------------------------


async def get_snapshot(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       number: int | None = None) -> tuple[Incident, AffectedSnapshot]:
    """A snapshot by number, or the latest one."""
    incident = await get_incident(db, actor=actor, key=key)
    query = select(AffectedSnapshot).where(AffectedSnapshot.incident_id == incident.id)
    if number is None:
        query = query.order_by(AffectedSnapshot.number.desc())  # type: ignore[attr-defined]
    else:
        query = query.where(AffectedSnapshot.number == number)
    snapshot = (await db.exec(query.limit(1))).first()
    if snapshot is None:
        raise NotFound(f"{incident.reference} has no affected snapshot"
                       + (f" number {number}" if number is not None else " yet"))
    return incident, snapshot


async def list_snapshots(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                         ) -> list[AffectedSnapshot]:
    incident = await get_incident(db, actor=actor, key=key)
    return list((await db.exec(select(AffectedSnapshot).where(
        AffectedSnapshot.incident_id == incident.id).order_by(
        AffectedSnapshot.number))).all())  # type: ignore[arg-type]


def summary_of(snapshot: AffectedSnapshot) -> AffectedSummary:
    return AffectedSummary(snapshot=snapshot.number, total=snapshot.total, digest=snapshot.digest,
                           computed_at=snapshot.computed_at, computed_by=snapshot.computed_by,
                           scope=_public_scope(snapshot.scope), **_summary_parts(snapshot))


def computed_of(snapshot: AffectedSnapshot, unmatched: dict[str, list[str]]) -> AffectedComputed:
    return AffectedComputed(**summary_of(snapshot).model_dump(), unmatched_entries=unmatched)


def _summary_parts(snapshot: AffectedSnapshot) -> dict[str, Any]:
    parts = ("by_jurisdiction", "by_category", "by_system", "by_locale", "by_source", "unmatched")
    return {name: snapshot.summary.get(name, {}) for name in parts}


def _public_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope without its lists of people (personal data), replaced by their sizes."""
    return {**scope, "include": len(scope.get("include", [])),
            "exclude": len(scope.get("exclude", []))}


async def read_affected(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                        number: int | None, after: str | None, limit: int) -> AffectedPage:
    """One page of a snapshot's people, in external-id order; the read goes on the timeline."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    async with transaction(db):
        incident, snapshot = await get_snapshot(db, actor=actor, key=key, number=number)
        query = (select(AffectedSubject, Subject.email, Subject.name)
                 .join(Subject, Subject.id == AffectedSubject.subject_id, isouter=True)  # type: ignore[arg-type]
                 .where(AffectedSubject.snapshot_id == snapshot.id))
        if after is not None:
            query = query.where(AffectedSubject.external_id > after)
        found = (await db.exec(query.order_by(AffectedSubject.external_id).limit(limit + 1))).all()
        items = [_person(row, email, name) for row, email, name in found[:limit]]
        await journal.append_event(db, chain=str(incident.id), at=clock.now(), actor=actor,
                                   kind="affected_read",
                                   payload={"snapshot": snapshot.number, "after": after,
                                            "returned": len(items)})
    next_after = items[-1].external_id if len(found) > limit and items else None
    return AffectedPage(snapshot=snapshot.number, total=snapshot.total, items=items,
                        next_after=next_after)


def _person(row: AffectedSubject, email: str | None, name: str | None) -> AffectedPerson:
    return AffectedPerson(external_id=row.external_id, email=email, name=name,
                          jurisdiction=row.jurisdiction, locale=row.locale,
                          categories=category_names(row.categories))


async def start_export(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                       number: int | None) -> tuple[Incident, AffectedSnapshot]:
    """Record the export of a snapshot's people on the timeline before any of it is sent."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    async with transaction(db):
        incident, snapshot = await get_snapshot(db, actor=actor, key=key, number=number)
        await journal.append_event(db, chain=str(incident.id), at=clock.now(), actor=actor,
                                   kind="affected_exported",
                                   payload={"snapshot": snapshot.number, "total": snapshot.total,
                                            "format": "csv"})
    return incident, snapshot


async def export_csv(engine: AsyncEngine, snapshot_id: int) -> AsyncIterator[bytes]:
    """The snapshot as CSV, streamed in batches from a session of its own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode()
    async with session_factory(engine)() as db:
        result = await db.stream(
            sql_select(col(AffectedSubject.external_id), col(Subject.email), col(Subject.name),
                       col(AffectedSubject.jurisdiction), col(AffectedSubject.locale),
                       col(AffectedSubject.categories))
            .join(Subject, col(Subject.id) == col(AffectedSubject.subject_id), isouter=True)
            .where(col(AffectedSubject.snapshot_id) == snapshot_id)
            .order_by(col(AffectedSubject.external_id)))
        async for batch in result.partitions(READ_BATCH):
            yield _csv_lines(batch)


def _cell(value: str | None) -> str:
    """Free text that a spreadsheet would run as a formula is quoted (OWASP CSV injection)."""
    if not value:
        return ""
    return "'" + value if value[0] in "=+-@\t\r" else value


def _csv_lines(batch: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for external_id, email, name, where, locale, mask in batch:
        writer.writerow([external_id, _cell(email), _cell(name), where, locale,
                         ";".join(category_names(mask))])
    return buffer.getvalue().encode()
