"""Filling a snapshot: the affected people of a scope, in set-based SQL, sealed by a digest.

`fill_snapshot` selects the people a scope exposes from the inventory with one
INSERT … SELECT over the holdings (the systems, data categories and exposure window of
the scope; the include and exclude lists matched through temporary tables), then seals
the rows with the SHA-256 of their sorted contents (one line per person: external id,
jurisdiction, locale, categories) and counts them by jurisdiction, category, system
and locale. PostgreSQL does the digest and the counts itself; SQLite's rows are read
through the driver in batches.

Separate from the use cases (`service.py`) because this is where the speed is: set-based
SQL tuned per database, changed when the inventory's tables or the planner's habits
change, never when who may do what does. The SQL is assembled from fixed fragments and
integer ids read from the database; every value from a request is a bound parameter
(hence the S608 exemptions).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from incident.affected.schemas import AffectedScope
from incident.inventory.rules import ALL_CATEGORIES, CATEGORY_BITS, categories_mask, category_names, epoch

READ_BATCH = 20_000
MAX_TRACKED_SYSTEM_ID = 62


@dataclass(frozen=True)
class Filled:
    """What filling a snapshot found: its counts, digest and size, and the entries that matched nobody."""

    summary: dict[str, Any]
    digest: str
    total: int
    unmatched: dict[str, list[str]]


async def fill_snapshot(conn: AsyncConnection, *, snapshot_id: int, scope: AffectedScope,
                        systems: dict[str, int | None], postgresql: bool,
                        default_locale: str) -> Filled:
    """Insert the people `scope` exposes into snapshot `snapshot_id`, then seal and count them.

    `systems` maps every system key to its id. Runs inside the caller's transaction; the
    temporary tables it makes for the include/exclude lists are dropped before it returns.
    """
    plan = _Plan(scope, [systems[name] or 0 for name in scope.systems],
                 [ident or 0 for ident in systems.values()], postgresql)
    unmatched = await _resolve_entries(conn, scope)
    params = {**plan.params, "snapshot": snapshot_id, "locale": default_locale}
    inserted = await conn.execute(text(_insert_from_holdings(plan, bool(scope.exclude))), params)
    from_scope = inserted.rowcount
    if scope.include:
        await conn.execute(text(_insert_included(plan)), {**params, "explicit": plan.explicit_mask})
    summary, digest, total = await _seal_contents(conn, snapshot_id, postgresql, systems)
    if not plan.tracks_systems:
        summary["by_system"] = await _by_system(conn, plan, bool(scope.exclude), systems)
    summary["by_source"] = {"scope": from_scope, "include": total - from_scope}
    summary["unmatched"] = {name: len(entries) for name, entries in unmatched.items()}
    if scope.include or scope.exclude:
        await conn.execute(text("DROP TABLE scope_subjects"))
    return Filled(summary, digest, total, unmatched)


def _bit_or(expression: str, postgresql: bool) -> str:
    """Aggregate OR of bit masks: PostgreSQL has bit_or; SQLite gets one MAX per category bit."""
    if postgresql:
        return f"bit_or({expression})"
    return " | ".join(f"MAX(({expression}) & {1 << bit})" for bit in range(ALL_CATEGORIES.bit_length()))


class _Plan:
    """The SQL filters of one scope, with their parameters."""

    def __init__(self, scope: AffectedScope, system_ids: list[int], all_ids: list[int],
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


async def _resolve_entries(conn: AsyncConnection, scope: AffectedScope) -> dict[str, list[str]]:
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
