"""The reminders tests' scenario, shared with the scheduler's: an incident whose obligations are
computed, one tick of the reminders job, and every reminder row."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from notifications.reminders import service as reminders
from notifications.reminders.models import Reminder
from tests.factories import PROFILE, START, Person, incident_body

DUE = START - timedelta(hours=2, minutes=30) + timedelta(hours=72)  # gdpr/authority


async def incident_with_duties(client: httpx.AsyncClient, people: dict[str, Person]) -> str:
    """An incident under PROFILE whose gdpr/authority obligation is due at DUE."""
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    reference = str((await client.post("/api/v1/incidents", json=incident_body(),
                                       headers=people["responder"].headers)).json()["reference"])
    found = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                              headers=people["responder"].headers)).json()
    assert next(o for o in found["obligations"] if o["ref"] == "gdpr/authority")["due_at"] == \
        DUE.isoformat().replace("+00:00", "Z")
    return reference


async def tick(engine: AsyncEngine, clock: FixedClock, worker: str) -> int:
    """What the scheduler's reminders job does once: plan, then fire what is due."""
    await reminders.plan(engine, clock)
    return await reminders.fire(engine, clock, worker=worker, message_domain="example.com",
                                base_url="https://breach.example.com")


async def all_reminders(engine: AsyncEngine) -> list[Reminder]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(Reminder).order_by(Reminder.id))).all())  # type: ignore[arg-type]

