"""The notifications list (page and API) asks the database the same number of questions for one
notification as for twenty: versions and delivery counts come in grouped queries, not one per
notification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from notifications.drafting.models import Delivery, Notification, NotificationVersion
from notifications.drafting.rules import DeliveryState, NotificationStatus, content_hash
from tests.factories import Person, new_incident
from tests.sessions import Browser

STATES = [DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.RETRY]


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def add_notifications(engine: AsyncEngine, clock: FixedClock, incident_id: uuid.UUID,
                            first: int, count: int) -> None:
    """Sent reports with three deliveries each (one sent, one failed, one to retry)."""
    now = clock.now()
    async with session_factory(engine)() as db, transaction(db):
        for sequence in range(first, first + count):
            fields = {"description": f"report {sequence}"}
            digest = content_hash("authority_report", "gdpr/authority", sequence, fields)
            notification = Notification(
                incident_id=incident_id, ref="gdpr/authority", kind="authority_report",
                sequence=sequence, status=NotificationStatus.SENDING.value, content_hash=digest,
                approved_hash=digest, recipients=len(STATES), created_at=now, created_by="tests",
                sent_at=now)
            db.add(notification)
            await db.flush()
            assert notification.id is not None
            db.add(NotificationVersion(notification_id=notification.id, version=1, fields=fields,
                                       content_hash=digest, created_at=now, created_by="tests"))
            for number, state in enumerate(STATES):
                db.add(Delivery(notification_id=notification.id, recipient_key=f"r{number}",
                                address=f"r{number}@example.org", state=state.value,
                                message_id=f"<{notification.id}.{number}@example.org>",
                                next_attempt_at=now))


async def test_the_list_asks_as_much_for_twenty_notifications_as_for_one(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        engine: AsyncEngine, clock: FixedClock) -> None:
    person = people["responder"]
    reference = await new_incident(client, person)
    incident_id = uuid.UUID((await client.get(f"/api/v1/incidents/{reference}",
                                              headers=person.headers)).json()["id"])
    page_url = f"/incidents/{reference}/notifications"
    api_url = f"/api/v1/incidents/{reference}/notifications"

    async def measure() -> tuple[int, int, httpx.Response, httpx.Response]:
        with counted(engine) as on_page:
            page = await responder.client.get(page_url)
        with counted(engine) as over_api:
            api = await client.get(api_url, headers=person.headers)
        assert page.status_code == 200 and api.status_code == 200, (page.text, api.text)
        return len(on_page), len(over_api), page, api

    await add_notifications(engine, clock, incident_id, first=1, count=1)
    page_one, api_one, _, _ = await measure()
    await add_notifications(engine, clock, incident_id, first=2, count=19)
    page_twenty, api_twenty, page, api = await measure()

    assert (page_twenty, api_twenty) == (page_one, api_one)
    listed = api.json()
    assert len(listed) == 20
    assert all(n["deliveries"] == {"sent": 1, "failed": 1, "retry": 1} for n in listed)
    assert [n["fields"]["description"] for n in listed] == [f"report {i}" for i in range(1, 21)]
    assert page.text.count('class="count count-sent">1 sent</span>') == 20
