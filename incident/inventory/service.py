"""The data inventory's use cases: systems, and bulk import of subjects with their holdings.

An import runs in one transaction, so a crash or a refused strict import
leaves nothing half-written. The file is parsed in a worker thread, a chunk
at a time, and written with set-based upserts (executemany on SQLite, COPY
into a staging table on PostgreSQL), so memory stays flat and the event
loop stays free whatever the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.inventory.models import Holding, Subject, SubjectImport, System
from incident.inventory.rules import (
    FileError,
    Format,
    InventoryRow,
    RowChecker,
    RowError,
    categories_mask,
    read_records,
    rows,
)
from incident.inventory.rules import System as InventorySystem
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, transaction
from incident.kernel.errors import Conflict, DomainError, NotFound
from incident.timeline import service as journal
from incident.timeline.models import ORGANISATION_CHAIN

CHUNK_ROWS = 20_000
MAX_REPORTED_ERRORS = 1_000


class ImportRefused(DomainError):
    """A file that cannot be read at all, or a strict import with rejected rows: nothing was written."""

    status, slug, title = 422, "import-refused", "Import refused"


@dataclass
class ImportReport:
    format: str
    strict: bool
    rows: int = 0
    imported: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    bytes: int = 0
    sha256: str = ""
    subjects_total: int = 0
    holdings_total: int = 0

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "strict": self.strict, "rows": self.rows,
                "imported": self.imported, "rejected": self.rejected,
                "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
                "errors_truncated": self.rejected > len(self.errors), "bytes": self.bytes,
                "sha256": self.sha256, "subjects_total": self.subjects_total,
                "holdings_total": self.holdings_total}


class _Hashing(io.RawIOBase):
    """Passes a binary stream through, counting and hashing what was read."""

    def __init__(self, inner: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.count = 0
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.digest.update(data)
        self.count += size
        if self.progress is not None:
            self.progress(size)
        return size


# --- systems -------------------------------------------------------------------------------


async def save_system(db: AsyncSession, *, clock: Clock, actor: Actor, key: str, name: str,
                      data_categories: list[str], new: bool = False,
                      existing: bool = False) -> System:
    """Create or update a system of the inventory (PUT semantics). With `new`, a system that
    already has this key is refused instead of changed (a form that adds systems); with
    `existing`, a key no system has is refused instead of added (a form that changes one)."""
    auth.require(actor, Permission.MANAGE_INVENTORY)
    now = clock.now()
    async with transaction(db):
        system = (await db.exec(select(System).where(System.key == key))).first()
        created = system is None
        if new and system is not None:
            raise Conflict(f"a system with the key {key!r} exists already ({system.name}): "
                           "change it from the list instead, or choose another key")
        if existing and system is None:
            raise NotFound(f"no system with the key {key!r}")
        if system is None:
            system = System(key=key, name=name, data_categories=data_categories, created_at=now,
                            updated_at=now)
        else:
            system.name, system.data_categories, system.updated_at = name, data_categories, now
        db.add(system)
        await journal.append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                                   kind="system_created" if created else "system_updated",
                                   payload={"system": key, "name": name,
                                            "data_categories": data_categories})
    return system


async def get_system(db: AsyncSession, *, actor: Actor, key: str) -> System:
    auth.require(actor, Permission.READ_INCIDENTS)
    system = (await db.exec(select(System).where(System.key == key))).first()
    if system is None:
        raise NotFound(f"no system with the key {key!r}")
    return system


async def list_systems(db: AsyncSession, *, actor: Actor) -> list[tuple[System, int]]:
    """Every system with the number of subjects it holds."""
    auth.require(actor, Permission.READ_INCIDENTS)
    counts = dict((await db.exec(
        select(col(Holding.system_id), func.count()).group_by(col(Holding.system_id)))).all())
    systems = (await db.exec(select(System).order_by(System.key))).all()
    return [(system, counts.get(system.id or 0, 0)) for system in systems]


@dataclass(frozen=True)
class InventoryCounts:
    """How many people the inventory holds, and how they divide by system, jurisdiction and locale.

    A person's jurisdiction is their region where given (`US-CA`), else their country; a person
    with no locale is counted under `None` (the default locale applies to them when notified).
    """

    subjects: int
    holdings: int
    by_system: list[tuple[str, str, int]]
    by_jurisdiction: list[tuple[str, int]]
    by_locale: list[tuple[str | None, int]]


async def inventory_counts(db: AsyncSession, *, actor: Actor) -> InventoryCounts:
    """The inventory's counts, largest group first: no person is named, so whoever may read
    incidents may read them."""
    auth.require(actor, Permission.READ_INCIDENTS)
    subjects, holdings = await inventory_totals(db)
    systems = await list_systems(db, actor=actor)
    where = func.coalesce(col(Subject.region), col(Subject.country))
    jurisdictions = (await db.exec(select(where, func.count()).group_by(where))).all()
    locales = (await db.exec(select(col(Subject.locale), func.count())
                             .group_by(col(Subject.locale)))).all()
    return InventoryCounts(
        subjects=subjects, holdings=holdings,
        by_system=sorted(((s.key, s.name, n) for s, n in systems), key=lambda i: (-i[2], i[0])),
        by_jurisdiction=sorted(((str(j), int(n)) for j, n in jurisdictions),
                               key=lambda i: (-i[1], i[0])),
        by_locale=sorted(((lo, int(n)) for lo, n in locales),
                         key=lambda i: (-i[1], i[0] or "")))


async def inventory_totals(db: AsyncSession) -> tuple[int, int]:
    subjects = (await db.exec(select(func.count()).select_from(Subject))).one()
    holdings = (await db.exec(select(func.count()).select_from(Holding))).one()
    return int(subjects), int(holdings)


# --- import ---------------------------------------------------------------------------------


async def import_subjects(db: AsyncSession, *, clock: Clock, actor: Actor, stream: IO[bytes],
                          fmt: Format, default_system: str | None = None, strict: bool = False,
                          progress: Callable[[int], None] | None = None) -> ImportReport:
    """Upsert subjects and holdings from a CSV or JSON Lines stream; bad rows are reported by line.

    Idempotent: a subject is keyed by its external id, a holding by subject and
    system; importing a file twice leaves the inventory as after the first time.
    With `strict`, any bad row refuses the whole file.
    """
    auth.require(actor, Permission.MANAGE_INVENTORY)
    report = ImportReport(format=fmt.value, strict=strict)
    source = _Hashing(stream, progress)
    with _fewer_collections():
        return await _import(db, clock=clock, actor=actor, source=source, report=report, fmt=fmt,
                             default_system=default_system, strict=strict)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """An import allocates millions of short-lived tuples; at the default threshold the cyclic
    garbage collector would run tens of thousands of times (about a fifth of the import's time)
    for nothing, since rows hold no cycles."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 100_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


async def _import(db: AsyncSession, *, clock: Clock, actor: Actor, source: _Hashing,
                  report: ImportReport, fmt: Format, default_system: str | None,
                  strict: bool) -> ImportReport:
    async with transaction(db):
        systems = {s.key: InventorySystem(s.id or 0, categories_mask(s.data_categories))
                   for s in (await db.exec(select(System))).all()}
        if default_system is not None and default_system not in systems:
            raise ImportRefused(f"unknown system {default_system!r}; known: "
                                f"{', '.join(sorted(systems)) or 'none yet'}")
        conn = await db.connection()
        writer = _PostgresWriter(conn) if is_postgresql(db) else _SqliteWriter(conn)
        await writer.prepare()
        checked = rows(read_records(io.BufferedReader(source), fmt, default_system=default_system),
                       RowChecker(systems, default_system))
        try:
            # Parsing runs in a thread to keep the event loop free, but never while a chunk is
            # written: the driver's thread would queue for the GIL between every row.
            while chunk := await asyncio.to_thread(_next_chunk, checked):
                good = _tally(chunk, report)
                if good and not (strict and report.rejected):
                    await writer.write(good)
        except FileError as error:
            raise ImportRefused(f"{error}; nothing was imported") from None
        report.bytes, report.sha256 = source.count, source.digest.hexdigest()
        if strict and report.rejected:
            raise ImportRefused(
                f"{report.rejected} of {report.rows} rows rejected; with strict, nothing was "
                "imported", errors=report.to_json()["errors"],
                errors_truncated=report.rejected > len(report.errors))
        if report.imported == 0 and report.rows == 0:
            raise ImportRefused("the file holds no rows; nothing was imported")
        report.subjects_total, report.holdings_total = await inventory_totals(db)
        await journal.append_event(db, chain=ORGANISATION_CHAIN, at=clock.now(), actor=actor,
                                   kind="subjects_imported",
                                   payload={key: value for key, value in report.to_json().items()
                                            if key not in ("errors", "errors_truncated")})
    return report


def _next_chunk(checked: Iterator[InventoryRow | RowError]) -> list[InventoryRow | RowError]:
    return list(itertools.islice(checked, CHUNK_ROWS))


def _tally(chunk: list[InventoryRow | RowError], report: ImportReport) -> list[InventoryRow]:
    good: list[InventoryRow] = []
    for item in chunk:
        report.rows += 1
        if isinstance(item, RowError):
            report.reject(item)
        else:
            good.append(item)
    report.imported += len(good)
    return good


# --- import reports --------------------------------------------------------------------------

IMPORT_REPORT_KEPT = timedelta(days=1)
"""How long the report of an import started from the page stays readable."""


@dataclass(frozen=True, slots=True)
class ImportEnd:
    """How an import from the page ended, as its report keeps it."""

    filename: str
    system: str
    strict: bool
    phase: str  # done | refused
    report: dict[str, Any] | None = None
    refusal: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)


async def keep_import_report(db: AsyncSession, *, clock: Clock, actor: Actor, import_id: str,
                             end: ImportEnd) -> None:
    """Keep how import `import_id` ended for IMPORT_REPORT_KEPT, for those who may import
    (its rejected lines quote personal data); reports past their day are deleted here."""
    auth.require(actor, Permission.MANAGE_INVENTORY)
    now = clock.now()
    async with transaction(db):
        conn = await db.connection()
        await conn.execute(delete(SubjectImport).where(col(SubjectImport.expires_at) <= now))
        await db.merge(SubjectImport(
            id=import_id, started_by=actor.label[:300], filename=end.filename[:300],
            system=end.system[:64], strict=end.strict, phase=end.phase, report=end.report,
            refusal=end.refusal, errors=end.errors, ended_at=now,
            expires_at=now + IMPORT_REPORT_KEPT))


async def clear_expired_import_reports(db: AsyncSession, *, now: datetime) -> int:
    """Delete the import reports past their day (the scheduler's housekeeping: what they quote
    is personal data); how many."""
    async with transaction(db):
        conn = await db.connection()
        gone = await conn.execute(delete(SubjectImport).where(
            col(SubjectImport.expires_at) <= now))
    return max(int(gone.rowcount or 0), 0)


async def import_report(db: AsyncSession, *, clock: Clock, actor: Actor,
                        import_id: str) -> SubjectImport | None:
    """The report of import `import_id`, while it is kept; only for those who may import."""
    auth.require(actor, Permission.MANAGE_INVENTORY)
    return (await db.exec(select(SubjectImport).where(
        SubjectImport.id == import_id, col(SubjectImport.expires_at) > clock.now()))).first()


_UPSERT_SUBJECTS = (
    "INSERT INTO subjects (external_id, email, name, locale, country, region, postal_address) "
    "{source} ON CONFLICT (external_id) DO UPDATE SET email = excluded.email, "
    "name = excluded.name, locale = excluded.locale, country = excluded.country, "
    "region = excluded.region, postal_address = excluded.postal_address")
_UPSERT_HOLDINGS = (
    "INSERT INTO holdings (subject_id, system_id, categories, first_seen, last_seen) {source} "
    "ON CONFLICT (subject_id, system_id) DO UPDATE SET categories = excluded.categories, "
    "first_seen = excluded.first_seen, last_seen = excluded.last_seen")
# Subjects bind a whole InventoryRow by position (external_id, then fields 6 to 11).
_SQLITE_SUBJECTS = _UPSERT_SUBJECTS.replace("{source}", "VALUES (?1, ?6, ?7, ?8, ?9, ?10, ?11)")
_SQLITE_HOLDINGS = _UPSERT_HOLDINGS.replace(
    "{source}", "VALUES ((SELECT id FROM subjects WHERE external_id = ?), ?, ?, ?, ?)")
_STAGED_SUBJECTS = _UPSERT_SUBJECTS.replace(
    "{source}", "SELECT external_id, email, name, locale, country, region, postal_address "
    "FROM import_subjects")
_STAGED_HOLDINGS = _UPSERT_HOLDINGS.replace(
    "{source}", "SELECT s.id, i.system_id, i.categories, i.first_seen, i.last_seen "
    "FROM import_holdings i JOIN subjects s ON s.external_id = i.external_id")


class _SqliteWriter:
    """executemany straight on the driver, inside the session's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.raw: Any = None

    async def prepare(self) -> None:
        self.raw = (await self.conn.get_raw_connection()).driver_connection

    async def write(self, chunk: list[InventoryRow]) -> None:
        last_line_of_each = {row[0]: row for row in chunk}
        await self.raw.executemany(_SQLITE_SUBJECTS, list(last_line_of_each.values()))
        await self.raw.executemany(_SQLITE_HOLDINGS, [row[:5] for row in chunk])


class _PostgresWriter:
    """COPY each chunk into temporary staging tables, then upsert from them in two statements."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.raw: Any = None

    async def prepare(self) -> None:
        self.raw = (await self.conn.get_raw_connection()).driver_connection
        await self.raw.execute(
            "CREATE TEMPORARY TABLE import_subjects (external_id text, email text, name text, "
            "locale text, country text, region text, postal_address text) ON COMMIT DROP;"
            "CREATE TEMPORARY TABLE import_holdings (external_id text, system_id integer, "
            "categories integer, first_seen bigint, last_seen bigint) ON COMMIT DROP")

    async def write(self, chunk: list[InventoryRow]) -> None:
        # One statement cannot upsert a key twice: the last line of a subject (or holding) wins.
        subjects = {row.external_id: row.subject for row in chunk}
        holdings = {(row.external_id, row.system_id): row.holding for row in chunk}
        await self.raw.copy_records_to_table("import_subjects", records=list(subjects.values()))
        await self.raw.copy_records_to_table("import_holdings", records=list(holdings.values()))
        await self.raw.execute(_STAGED_SUBJECTS)
        await self.raw.execute(_STAGED_HOLDINGS)
        await self.raw.execute("TRUNCATE import_subjects, import_holdings")
