"""The database kernel: one transaction per use case, the dialect, and the schema-version gate
(with the revision it writes out kept equal to the head of the migration history)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import LoginThrottle
from incident.kernel.db import (
    SCHEMA_REVISION,
    SchemaOutOfDate,
    check_schema,
    create_engine,
    current_revision,
    is_postgresql,
    migration_heads,
    session_factory,
    transaction,
    upgrade,
)
from tests.factories import START


def test_the_schema_revision_is_the_head_of_the_migration_history() -> None:
    assert migration_heads() == [SCHEMA_REVISION]


async def emails(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(LoginThrottle.email))).all())


async def test_a_transaction_commits_at_its_end(engine: AsyncEngine, db: AsyncSession) -> None:
    async with transaction(db):
        db.add(LoginThrottle(email="kept@example.com", last_failure_at=START))
        assert await emails(engine) == []  # nothing visible before the commit
    assert await emails(engine) == ["kept@example.com"]


async def test_a_transaction_rolls_back_on_any_error(engine: AsyncEngine, db: AsyncSession) -> None:
    with pytest.raises(LookupError):
        async with transaction(db):
            db.add(LoginThrottle(email="lost@example.com", last_failure_at=START))
            await db.flush()
            raise LookupError("a rule broke after the row was written")
    assert await emails(engine) == []
    assert not db.in_transaction()


async def test_a_transaction_must_open_the_sessions_transaction(db: AsyncSession) -> None:
    await db.exec(select(LoginThrottle))  # a read opens the session's transaction first
    with pytest.raises(RuntimeError, match="must open the session's transaction"):
        async with transaction(db):
            pass


async def test_the_dialect_and_revision_of_the_lanes_database(engine: AsyncEngine,
                                                              lane: str) -> None:
    assert is_postgresql(engine) is (lane == "postgresql")
    assert await current_revision(engine) == SCHEMA_REVISION
    await check_schema(engine)  # a migrated database passes the gate


async def test_the_gate_refuses_an_empty_or_older_database(tmp_path: Path) -> None:
    for name, revision, message in (("empty", None, "has no Breachdesk tables"),
                                    ("older", "0005", "is at revision 0005")):
        url = f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3"
        if revision is not None:
            await asyncio.to_thread(upgrade, url, revision)  # Alembic runs its own loop
        engine = create_engine(url)
        try:
            assert await current_revision(engine) == revision
            with pytest.raises(SchemaOutOfDate, match=message) as refused:
                await check_schema(engine)
            assert f"needs revision {SCHEMA_REVISION}" in str(refused.value)
            assert "breach db upgrade" in str(refused.value)
        finally:
            await engine.dispose()
