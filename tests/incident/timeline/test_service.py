"""Tampering with stored events by raw SQL: verification names the first bad event.

The database refuses UPDATE and DELETE on the timeline; an attacker with
enough privilege drops that guard first, which is what these tests do.
"""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Person
from tests.incident.timeline.samples import incident_with_notes, raw


async def verify(client: httpx.AsyncClient, person: Person, key: str) -> dict[str, object]:
    response = await client.get(f"/api/v1/incidents/{key}/timeline/verify", headers=person.headers)
    assert response.status_code == 200
    return dict(response.json())


async def test_the_database_refuses_edits_to_the_timeline(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    await incident_with_notes(client, people["responder"], notes=1)
    for statement in ("UPDATE timeline_events SET actor = 'x'", "DELETE FROM timeline_events"):
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        except Exception as exc:  # the driver's own error type differs per database
            assert "append-only" in str(exc)
        else:
            raise AssertionError(f"{statement} was allowed")


async def test_intact(client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    assert await verify(client, people["auditor"], key) == {
        "chain": key, "ok": True, "events": 5, "head_seq": 5,
        "head_hash": (await verify(client, people["auditor"], key))["head_hash"],
        "first_bad_seq": None, "problem": None}


async def test_changed_event(client: httpx.AsyncClient, engine: AsyncEngine,
                             people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    await raw(engine, "UPDATE timeline_events SET payload = :p WHERE chain = :c AND seq = 3",
              p='{"text":"nothing happened"}', c=key)
    result = await verify(client, people["auditor"], key)
    assert (result["ok"], result["first_bad_seq"]) == (False, 3)


async def test_deleted_event(client: httpx.AsyncClient, engine: AsyncEngine,
                             people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    await raw(engine, "DELETE FROM timeline_events WHERE chain = :c AND seq = 2", c=key)
    result = await verify(client, people["auditor"], key)
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)


async def test_deleted_last_events(client: httpx.AsyncClient, engine: AsyncEngine,
                                   people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    await raw(engine, "DELETE FROM timeline_events WHERE chain = :c AND seq >= 4", c=key)
    result = await verify(client, people["auditor"], key)
    assert (result["ok"], result["first_bad_seq"]) == (False, 4)


async def test_inserted_event(client: httpx.AsyncClient, engine: AsyncEngine,
                              people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    # Make room after event 2 and slip a backdated event in, copying event 2's links.
    await raw(engine,
              "UPDATE timeline_events SET seq = seq + 100 WHERE chain = :c AND seq >= 3",
              "UPDATE timeline_events SET seq = seq - 99 WHERE chain = :c AND seq >= 103",
              "INSERT INTO timeline_events (chain, seq, at, actor, kind, payload, prev_hash, hash) "
              "SELECT chain, 3, at, 'mallory@example.com', 'note', '{\"text\":\"planted\"}', "
              "hash, hash FROM timeline_events WHERE chain = :c AND seq = 2", c=key)
    result = await verify(client, people["auditor"], key)
    assert (result["ok"], result["first_bad_seq"]) == (False, 3)


async def test_reordered_events(client: httpx.AsyncClient, engine: AsyncEngine,
                                people: dict[str, Person]) -> None:
    key = await incident_with_notes(client, people["responder"])
    await raw(engine,
              "UPDATE timeline_events SET seq = -1 WHERE chain = :c AND seq = 2",
              "UPDATE timeline_events SET seq = 2 WHERE chain = :c AND seq = 4",
              "UPDATE timeline_events SET seq = 4 WHERE chain = :c AND seq = -1", c=key)
    result = await verify(client, people["auditor"], key)
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)
