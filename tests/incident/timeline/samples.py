"""Incidents with notes, and raw SQL past the timeline's append-only guard, for the tests of
verification."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.db import is_postgresql
from tests.factories import Person, incident_body


async def incident_with_notes(client: httpx.AsyncClient, person: Person, notes: int = 4) -> str:
    created = await client.post("/api/v1/incidents", json=incident_body(), headers=person.headers)
    key = str(created.json()["id"])
    for i in range(notes):
        response = await client.post(f"/api/v1/incidents/{key}/notes", json={"text": f"note {i}"},
                                     headers=person.headers)
        assert response.status_code == 201
    return key


async def raw(engine: AsyncEngine, *statements: str, **params: object) -> None:
    async with engine.begin() as connection:
        if is_postgresql(engine):
            await connection.execute(text("ALTER TABLE timeline_events DISABLE TRIGGER USER"))
        else:
            await connection.execute(text("DROP TRIGGER IF EXISTS timeline_events_no_update"))
            await connection.execute(text("DROP TRIGGER IF EXISTS timeline_events_no_delete"))
        for statement in statements:
            await connection.execute(text(statement), params)
