"""`write_in_one_go`: the work's statements as one write transaction, on both databases
(on SQLite in a thread of its own, on PostgreSQL through the async engine)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from incident.kernel.db import create_engine, write_in_one_go


class Refused(Exception):
    pass


async def test_the_work_is_committed_when_it_returns_and_undone_when_it_raises(
        database_url: str) -> None:
    engine = create_engine(database_url, bulk=True)

    def lease(holder: str, fail: bool) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            connection.execute(text(
                "INSERT INTO scheduler_lease (name, holder, expires_at) "
                "VALUES (:name, :holder, '2026-12-06 10:00:00')"),
                {"name": f"lease-{holder}", "holder": holder})
            if fail:
                raise Refused(holder)
            return holder
        return work

    try:
        assert await write_in_one_go(engine, lease("kept", fail=False)) == "kept"
        with pytest.raises(Refused):
            await write_in_one_go(engine, lease("undone", fail=True))
        async with engine.connect() as connection:
            holders = (await connection.execute(text(
                "SELECT holder FROM scheduler_lease WHERE name LIKE 'lease-%'"))).scalars().all()
    finally:
        await engine.dispose()
    assert holders == ["kept"]
