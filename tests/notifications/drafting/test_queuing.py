"""A notice to many people queued a part at a time (`notifications/drafting/queuing.py`):
the send writes the first part, the outbox the rest as it needs them; every person gets
exactly one delivery, in their letter's language, and the notice is done only when all were
queued and sent. (The `engine` fixture checks at teardown that the tallies agree.)"""

from __future__ import annotations

import collections
import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from notifications.drafting import queuing
from notifications.drafting.models import Delivery, DeliveryQueue, Notification
from tests.factories import Person, dispatcher, sending

PEOPLE = 11
PART = 3


class Crash(Exception):
    pass


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queuing, "PART", PART)


async def _deliveries(engine: AsyncEngine) -> list[Delivery]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def _progress(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, int]:
    listed = await client.get(f"/api/v1/incidents/{reference}/notifications",
                              headers=person.headers)
    notice = next(n for n in listed.json() if n["kind"] == "subject_notice")
    return dict(notice["deliveries"])


async def test_the_send_queues_a_part_and_the_outbox_the_rest_each_person_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    addresses = [f"p{n}@example.com" for n in range(PEOPLE)]
    reference = await sending(client, people, addresses)
    first = await _deliveries(engine)
    assert [d.recipient_key for d in first] == ["p-0000", "p-0001", "p-0002"]
    assert await _progress(client, people["responder"], reference) == {
        "pending": PART, "queuing": PEOPLE - PART}

    outbox = dispatcher(engine, clock)
    assert await outbox.run_once() == PEOPLE
    final = await _deliveries(engine)
    assert sorted(d.address or "" for d in final) == sorted(addresses)
    assert {d.state for d in final} == {"sent"}
    assert len({d.message_id for d in final}) == PEOPLE
    assert all(d.message_id.startswith(f"<breachdesk.{d.id}.{d.notification_id}@")
               for d in final)
    async with session_factory(engine)() as db:
        assert (await db.exec(select(func.count()).select_from(DeliveryQueue))).one() == 0
        notice = (await db.exec(select(Notification).where(
            Notification.kind == "subject_notice"))).one()
    assert notice.status == "done" and notice.recipients == PEOPLE
    assert await _progress(client, people["responder"], reference) == {"sent": PEOPLE}


async def test_not_done_while_people_wait_to_be_queued_and_a_paused_notice_is_not_fed(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference = await sending(client, people, [f"p{n}@example.com" for n in range(PEOPLE)])
    url = f"/api/v1/incidents/{reference}/notifications"
    notice = next(n for n in (await client.get(url, headers=people["responder"].headers)).json()
                  if n["kind"] == "subject_notice")
    paused = await client.post(f"{url}/{notice['id']}/pause", headers=people["responder"].headers)
    assert paused.status_code == 200, paused.text
    outbox = dispatcher(engine, clock)
    assert await outbox.run_once() == 0
    assert len(await _deliveries(engine)) == PART  # nothing claimed, nothing more queued

    resumed = await client.post(f"{url}/{notice['id']}/resume",
                                headers=people["responder"].headers)
    assert resumed.status_code == 200, resumed.text
    # The parts queued so far are sent; the notice is not done while people wait.
    async with session_factory(engine)() as db, transaction(db):
        assert await queuing.queue_next_part(await db.connection()) == PART
    assert await outbox.finish_if_done(notice["id"]) is False
    assert await outbox.run_once() == PEOPLE
    assert await _progress(client, people["responder"], reference) == {"sent": PEOPLE}


async def test_a_part_rolled_back_is_queued_again_and_nobody_twice(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(PEOPLE)])
    # A process dies mid-part: its transaction never commits.
    with pytest.raises(Crash):
        async with session_factory(engine)() as db, transaction(db):
            assert await queuing.queue_next_part(await db.connection()) == PART
            raise Crash
    assert len(await _deliveries(engine)) == PART
    while True:
        async with session_factory(engine)() as db, transaction(db):
            if not await queuing.queue_next_part(await db.connection()):
                break
    keys = collections.Counter(d.recipient_key for d in await _deliveries(engine))
    assert keys == collections.Counter(f"p-{n:04d}" for n in range(PEOPLE))


async def test_a_notice_to_as_many_as_one_part_leaves_nothing_to_queue(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    reference = await sending(client, people, [f"p{n}@example.com" for n in range(PART)])
    assert await _progress(client, people["responder"], reference) == {"pending": PART}
    async with session_factory(engine)() as db:
        assert (await db.exec(select(func.count()).select_from(DeliveryQueue))).one() == 0


def test_a_plan_reads_back_as_it_was_written() -> None:
    plan = queuing.QueuePlan(
        snapshot=7, jurisdictions=("DE", "US-CA"), moved=("ja",), fallback="en",
        meets=(("gdpr/data-subjects", None), ("us-ca/individuals", ("US-CA",))),
        message_domain="example.com", due=datetime(2026, 3, 11, 7, 0, tzinfo=UTC))
    assert queuing.QueuePlan.of_json(json.loads(json.dumps(plan.as_json()))) == plan
    everyone = queuing.QueuePlan(snapshot=1, jurisdictions=None, moved=(), fallback=None,
                                 meets=(), message_domain="example.com", due=plan.due)
    assert queuing.QueuePlan.of_json(json.loads(json.dumps(everyone.as_json()))) == everyone
