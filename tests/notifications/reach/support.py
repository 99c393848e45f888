"""What the tests of reaching people share: a notice sent to THREE_PEOPLE (one of whom has no
e-mail address), the timeline's events of a kind, and the duty owed to the people."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.timeline.models import TimelineEvent
from tests.factories import Person, affected_incident, approved_notice, dispatcher

SUBJECTS = "gdpr/data-subjects"


async def events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with session_factory(engine)() as db:
        rows = (await db.exec(select(TimelineEvent).where(TimelineEvent.kind == kind)
                              .order_by(col(TimelineEvent.id)))).all()
    return [dict(json.loads(row.payload)) for row in rows]


async def duty(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    obligations = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                                    headers=person.headers)).json()["obligations"]
    return dict(next(o for o in obligations if o["ref"] == SUBJECTS))


async def sent_to_three(client: httpx.AsyncClient, people: dict[str, Person],
                        engine: AsyncEngine, clock: FixedClock) -> tuple[str, str]:
    """THREE_PEOPLE's notice sent: Anna and Bernd by e-mail; Carla has no address."""
    reference = await affected_incident(client, people)
    url = await approved_notice(client, people, reference)
    sent = await client.post(f"{url}/send", headers=people["responder"].headers)
    assert sent.status_code == 202, sent.text
    await dispatcher(engine, clock).run_once()
    shown = (await client.get(url, headers=people["responder"].headers)).json()
    assert shown["status"] == "done", shown
    return reference, url
