"""Engine, sessions, one-transaction-per-use-case, and the schema-version gate."""

from __future__ import annotations

import asyncio
import math
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlmodel.ext.asyncio.session import AsyncSession

try:
    import fcntl
except ImportError:  # Windows has no flock: writers there take turns as SQLite lets them
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent.parent / "migrations"
"""One Alembic history for the whole schema, shared by every plugin (incident/migrations)."""
SCHEMA_REVISION = "0027"
"""The revision this code needs: the head of the history (a test keeps them equal).

Kept as a constant so that checking a database's schema, which every command does,
needs no import of Alembic (a tenth of a second of start-up).
"""
_WRITE = "breach_write"
T = TypeVar("T")


WRITE_LOCK_WAIT = 30.0
"""Seconds a write transaction waits for SQLite's write lock before it fails."""
BUSY_MS = 5
"""SQLite's own busy wait per statement (the rare read that meets a lock waits this long)."""


class WriteTurns:
    """Which of SQLite's writers goes first: the service's requests before bulk sending.

    SQLite has one write lock for the whole database, and the sending processes want it
    all the time (claims, outcomes, the next part of a large notice): a request that wants
    to write (a note, an approval) would queue behind a run of their transactions. So a
    writer that finds the lock taken says that it waits, by a shared `flock` on a file
    beside the database, for as long as it waits; a bulk writer (`bulk=True`: the outbox's
    processes) begins only when no such lock is held, or after `BULK_PATIENCE` seconds,
    so a request waits for one transaction at most, never for a queue of them.
    Where the file cannot be opened (a database in memory, a read-only folder, a system
    without `flock`), writers take turns as SQLite lets them.
    """

    def __init__(self, database: str | None, *, bulk: bool) -> None:
        self.bulk = bulk
        self.path = (f"{database}-writers" if database and database != ":memory:"
                     and fcntl is not None else None)
        self.fd: int | None = None
        self.waiting = 0
        self.gave_way_at = -math.inf
        """When this bulk writer last found another writer waiting (time.monotonic())."""

    def _file(self) -> int | None:
        """The shared file, opened when first needed (most engines never meet a busy lock)."""
        if self.fd is None and self.path is not None:
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self.path = None
        return self.fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def may_begin(self) -> bool:
        """For a bulk writer: whether no other writer says it waits (or none can say so)."""
        if not self.bulk or fcntl is None or (fd := self._file()) is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.gave_way_at = time.monotonic()
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True

    def wait_starts(self) -> None:
        if self.bulk or fcntl is None or (fd := self._file()) is None:
            return
        if self.waiting == 0:
            fcntl.flock(fd, fcntl.LOCK_SH)  # a bulk writer holds it only to look
        self.waiting += 1

    def wait_ends(self) -> None:
        if self.bulk or fcntl is None or self.fd is None:
            return
        self.waiting -= 1
        if self.waiting == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


SHARING_SECONDS = 5.0
"""How long a bulk writer counts the service as writing after it last found one waiting."""


def others_write(engine: AsyncEngine) -> bool:
    """For a bulk engine on SQLite: whether another writer waited for it in the last
    SHARING_SECONDS (people are using the service: take the lock in small bites)."""
    setup = _SQLITE.get(engine.sync_engine)
    return setup is not None and time.monotonic() - setup.turns.gave_way_at < SHARING_SECONDS


BULK_PATIENCE = 0.5
"""Seconds a bulk writer lets the service's waiting writers go first before it competes."""


def _begin_writing(connection: Connection, wait: float, turns: WriteTurns,
                   pause_for: Callable[[float], None]) -> None:
    """BEGIN IMMEDIATE, trying again for the write lock every millisecond or two.

    SQLite's own busy handler sleeps ever longer between tries (up to 100 ms at a time),
    so a request waiting behind another process's short transactions (the outbox commits
    a batch of outcomes every few dozen milliseconds) would wait up to a tenth of a second
    after the lock was free. So the handler gives up after BUSY_MS and the wait goes on
    here in short steps (`pause_for`: on the event loop, or in the thread of a
    `write_in_one_go`); `turns` lets the service's requests go before the sending processes.
    """
    started = time.monotonic()
    deadline = started + wait
    pause = 0.0005
    waiting = False
    try:
        while True:
            if turns.may_begin() or time.monotonic() - started > BULK_PATIENCE:
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                    return
                except OperationalError as error:
                    if "locked" not in str(error.orig) or time.monotonic() > deadline:
                        raise
                if not waiting:
                    turns.wait_starts()
                    waiting = True
            pause_for(pause)
            pause = min(pause * 2, 0.002)
    finally:
        if waiting:
            turns.wait_ends()


def create_engine(url: str, *, write_lock_wait: float = WRITE_LOCK_WAIT,
                  wal_autocheckpoint: bool = True, bulk: bool = False,
                  **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and write transactions that lock at BEGIN.

    SQLite upgrades a reading transaction to a writing one only if no other
    writer committed meanwhile, and fails at once otherwise. Taking the write
    lock at BEGIN (IMMEDIATE) makes concurrent writers wait their turn instead.
    A `bulk` engine's writers let other engines' waiting writers go first (`WriteTurns`).
    """
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    turns = WriteTurns(engine.url.database, bulk=bulk)
    weakref.finalize(engine.sync_engine, turns.close)
    setup = _SqliteSetup(turns, write_lock_wait, wal_autocheckpoint)
    _SQLITE[engine.sync_engine] = setup
    _configure_sqlite(engine.sync_engine, setup, _pause_on_loop)

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _on_dispose(_engine: Engine) -> None:
        if setup.twin is not None:
            setup.twin.dispose()

    return engine


@dataclass
class _SqliteSetup:
    """How an SQLite engine was made, and its twin for `write_in_one_go` once one is needed."""

    turns: WriteTurns
    write_lock_wait: float
    wal_autocheckpoint: bool
    twin: Engine | None = None


_SQLITE: weakref.WeakKeyDictionary[Any, _SqliteSetup] = weakref.WeakKeyDictionary()
"""Each SQLite engine's setup, by its sync engine (gone with it)."""


def _pause_on_loop(seconds: float) -> None:
    await_only(asyncio.sleep(seconds))


def _configure_sqlite(sync_engine: Engine, setup: _SqliteSetup,
                      pause_for: Callable[[float], None]) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below decide
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not setup.wal_autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE, False):
            _begin_writing(connection, setup.write_lock_wait, setup.turns, pause_for)
        else:
            connection.exec_driver_sql("BEGIN")


def _twin_of(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file, configured alike (None: not a file)."""
    setup = _SQLITE.get(engine.sync_engine)
    database = engine.url.database
    if setup is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    if setup.twin is None:
        setup.twin = create_sync_engine(engine.url.set(drivername="sqlite"),
                                        connect_args={"timeout": 30})
        _configure_sqlite(setup.twin, setup, time.sleep)
    return setup.twin


async def write_in_one_go(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """`work(connection)` as one write transaction, committed when it returns.

    On SQLite it runs in a thread, on a connection of its own: SQLite's one write lock is
    held while the statements run, not also while the event loop serves the process's
    other tasks between them (a transaction of a few statements through the async driver
    hands each one to the driver's thread and back several times). Elsewhere (PostgreSQL:
    row locks) it runs on the async engine. If the caller is cancelled meanwhile, the
    transaction still ends as `work` decides (committed when it returns); only its result
    is lost to the caller.
    """
    twin = _twin_of(engine)
    if twin is None:
        async with engine.connect() as connection:
            await connection.execution_options(**{_WRITE: True})
            async with connection.begin():
                return await connection.run_sync(work)
    return await asyncio.to_thread(_write_now, twin, work)


def _write_now(twin: Engine, work: Callable[[Connection], T]) -> T:
    with twin.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            return work(connection)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The one write transaction of a use case: commit at the end, roll back on any error.

    It must start the session's transaction itself (so SQLite takes its write
    lock at BEGIN); reading first and then writing in the same session is a bug.
    """
    if db.in_transaction():
        raise RuntimeError("transaction() must open the session's transaction; commit or "
                           "roll back earlier reads first")
    await db.connection(execution_options={_WRITE: True})
    try:
        yield db
        await db.commit()
    except BaseException:
        await db.rollback()
        raise


async def checkpoint_wal(engine: AsyncEngine) -> None:
    """Copy what SQLite's write-ahead log holds into the database, without waiting for or
    holding up anyone (a PASSIVE checkpoint). For an engine made without autocheckpoints."""
    async with engine.connect() as connection:  # outside any transaction: the driver's own
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("PRAGMA wal_checkpoint(PASSIVE)")


def is_postgresql(db: AsyncSession | AsyncEngine) -> bool:
    bind = db if isinstance(db, AsyncEngine) else db.get_bind()
    return bind.dialect.name == "postgresql"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (run in a thread of its own: env.py runs its own loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    return SCHEMA_REVISION


def migration_heads() -> list[str]:
    """The heads of the migration history as Alembic reads it from the files."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revision, None when it has no Breachdesk tables yet."""

    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table("alembic_version"):
            return None
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found is not None else None

    async with engine.connect() as connection:
        return await connection.run_sync(read)


class SchemaOutOfDate(Exception):
    pass


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to run on a database whose schema is not the one this code expects."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return
    where = "has no Breachdesk tables" if current is None else f"is at revision {current}"
    raise SchemaOutOfDate(f"the database {where}; this version needs revision {head}. "
                          "Run `breach db upgrade` (with the same BREACH_DATABASE_URL) first.")
