"""SQLite's write lock, waited for on the event loop: a write transaction that finds another
process writing waits its turn, while the loop goes on serving, and gets the lock once it
is free; after WRITE_LOCK_WAIT it fails with SQLite's own error. A bulk writer (the
outbox's processes) lets a waiting request's writer go first."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel import db as kernel_db
from incident.kernel.db import (
    WriteTurns,
    checkpoint_wal,
    create_engine,
    others_write,
    session_factory,
    transaction,
    write_in_one_go,
)


def hold_write_lock(path: Path, taken: threading.Event, release: threading.Event) -> None:
    """Another process's writer: holds the lock until told to let go."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes VALUES ('theirs')")
    taken.set()
    release.wait(30)
    other.execute("COMMIT")
    other.close()


@asynccontextmanager
async def another_writer(path: Path) -> AsyncIterator[threading.Event]:
    """A database at `path` whose write lock another connection holds until the event
    yielded is set (or the block ends)."""
    sqlite3.connect(path).executescript(
        "PRAGMA journal_mode=WAL; CREATE TABLE notes (text TEXT);")
    taken, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(path, taken, release))
    holder.start()
    try:
        await asyncio.to_thread(taken.wait, 10)
        yield release
    finally:
        release.set()
        holder.join()


async def test_a_writer_waits_for_the_lock_without_stopping_the_event_loop(
        tmp_path: Path) -> None:
    path = tmp_path / "lock.sqlite3"
    async with another_writer(path) as release:
        await waits_while_the_loop_runs(path, release)
    rows = sqlite3.connect(path).execute("SELECT text FROM notes ORDER BY rowid").fetchall()
    assert rows == [("theirs",), ("ours",)]


async def waits_while_the_loop_runs(path: Path, release: threading.Event) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    beats, beaten = 0, asyncio.Event()

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            if beats == 200:
                beaten.set()
            await asyncio.sleep(0)

    async def write() -> None:
        async with session_factory(engine)() as db, transaction(db):
            await db.exec(text("INSERT INTO notes VALUES ('ours')"))  # type: ignore[call-overload]

    beating = asyncio.ensure_future(heartbeat())
    writing = asyncio.ensure_future(write())
    try:
        await asyncio.wait_for(beaten.wait(), 10)  # the loop runs on while the writer waits
        assert not writing.done()
        release.set()
        await asyncio.wait_for(writing, 10)
    finally:
        beating.cancel()
        await engine.dispose()


async def test_a_writer_gives_up_after_the_wait_with_sqlites_error(tmp_path: Path) -> None:
    async with another_writer(tmp_path / "lock.sqlite3"):
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.sqlite3'}",
                               write_lock_wait=0.2)
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                async with session_factory(engine)() as db, transaction(db):
                    pass
        finally:
            await engine.dispose()


@pytest.mark.parametrize("round_", range(5))
@pytest.mark.parametrize("in_one_go", [False, True], ids=["session", "in-one-go"])
async def test_a_bulk_writer_lets_a_waiting_request_go_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, round_: int, in_one_go: bool) -> None:
    """Both wait for another writer's lock, the bulk one first; when it is free, the request
    writes first. Taking turns as SQLite lets them, either could win: five rounds of it
    would pass by chance once in 32 runs. The bulk writer writes through a session, or as
    the outbox does, `write_in_one_go` (in a thread of its own)."""
    monkeypatch.setattr(kernel_db, "BULK_PATIENCE", 30.0)
    looked = 0
    may_begin = WriteTurns.may_begin

    def counted(self: WriteTurns) -> bool:
        nonlocal looked
        looked += 1
        return may_begin(self)

    monkeypatch.setattr(WriteTurns, "may_begin", counted)
    path = tmp_path / "turns.sqlite3"
    request = create_engine(f"sqlite+aiosqlite:///{path}")
    bulk = create_engine(f"sqlite+aiosqlite:///{path}", bulk=True)

    async def write(engine: AsyncEngine, who: str) -> None:
        if in_one_go and engine is bulk:
            await write_in_one_go(engine, lambda connection: connection.execute(
                text(f"INSERT INTO notes VALUES ('{who}')")))
            return
        async with session_factory(engine)() as db, transaction(db):
            await db.exec(text(f"INSERT INTO notes VALUES ('{who}')"))  # type: ignore[call-overload]

    async def until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():  # noqa: ASYNC110 - a file lock and a count set no event
                await asyncio.sleep(0.001)

    try:
        async with another_writer(path) as release:
            sending = asyncio.ensure_future(write(bulk, "bulk"))
            await until(lambda: looked >= 3)  # the bulk writer is trying for the lock
            answering = asyncio.ensure_future(write(request, "request"))
            await until(lambda: someone_waits(path))
            seen = looked
            await until(lambda: looked > seen + 2)  # it has looked while the request waits
            release.set()
            await asyncio.wait_for(asyncio.gather(sending, answering), 10)
        assert others_write(bulk) and not others_write(request)  # the bulk one gave way
    finally:
        await request.dispose()
        await bulk.dispose()
    rows = sqlite3.connect(path).execute("SELECT text FROM notes ORDER BY rowid").fetchall()
    assert rows == [("theirs",), ("request",), ("bulk",)]


def someone_waits(path: Path) -> bool:
    """Whether a writer has said it waits for the lock (what a bulk writer looks at)."""
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets go of a lock taken here
    return False


async def test_without_autocheckpoints_the_log_is_copied_only_when_asked(tmp_path: Path) -> None:
    """The web process's commits never copy the write-ahead log into the file (a request
    would wait for it); its own task does, with a passive checkpoint."""
    path = tmp_path / "wal.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", wal_autocheckpoint=False)
    try:
        async with session_factory(engine)() as db, transaction(db):
            await db.exec(text("CREATE TABLE pages (body BLOB)"))  # type: ignore[call-overload]
        for _ in range(30):  # 30 x 256 KiB: far past the default threshold of 1,000 pages
            async with session_factory(engine)() as db, transaction(db):
                await db.exec(text("INSERT INTO pages VALUES (zeroblob(262144))"))  # type: ignore[call-overload]

        logged = path.with_name(path.name + "-wal").stat().st_size
        assert logged > 30 * 262144 and path.stat().st_size < 262144  # all still in the log
        await checkpoint_wal(engine)
        assert path.stat().st_size > 30 * 262144  # copied into the file
    finally:
        await engine.dispose()


async def test_in_one_go_the_work_holds_the_lock_from_its_start_while_the_loop_runs(
        tmp_path: Path) -> None:
    """The work runs in a thread: the event loop goes on meanwhile, and the write lock is
    taken at BEGIN, before the work's first statement (a read), so no other writer can
    slip in between."""
    path = tmp_path / "one-go.sqlite3"
    sqlite3.connect(path).executescript("PRAGMA journal_mode=WAL; CREATE TABLE notes (text TEXT);")
    engine = create_engine(f"sqlite+aiosqlite:///{path}", bulk=True)
    reading, go_on = threading.Event(), threading.Event()

    def work(connection: Connection) -> int:
        count = connection.execute(text("SELECT count(*) FROM notes")).scalar_one()
        reading.set()
        go_on.wait(10)
        connection.execute(text("INSERT INTO notes VALUES ('ours')"))
        return int(count)

    try:
        writing = asyncio.ensure_future(write_in_one_go(engine, work))
        await asyncio.to_thread(reading.wait, 10)
        beats = 0
        for _ in range(100):  # the loop is not held up by the work
            await asyncio.sleep(0)
            beats += 1
        assert beats == 100 and not writing.done()
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        go_on.set()
        assert await asyncio.wait_for(writing, 10) == 0
    finally:
        go_on.set()
        await engine.dispose()
    rows = sqlite3.connect(path).execute("SELECT text FROM notes").fetchall()
    assert rows == [("ours",)]
