"""Sending an approved notification over the API: the recipients it needs, pausing and resuming,
and a send scheduled for later."""

from __future__ import annotations

import asyncio
import collections
from datetime import timedelta
from email import message_from_bytes, policy

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import Settings
from notifications.delivery.models import CapturedMessage
from notifications.drafting.models import Delivery
from notifications.drafting.sending import message_domain
from tests.factories import (
    PROFILE,
    Person,
    affected_incident,
    approved_notice,
    dispatcher,
    sending,
    written_report,
)


async def test_authority_report_needs_an_address_and_can_be_paused(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver, admin = people["responder"], people["approver"], people["admin"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/authority"},
                               headers=responder.headers)).json()
    url = f"{base}/{draft['id']}"
    assert draft["kind"] == "authority_report"
    draft = await written_report(client, responder, url, draft)
    await client.post(f"{url}/approve", json={"content_hash": draft["content_hash"]},
                      headers=approver.headers)
    await client.put("/api/v1/organisation", headers=admin.headers,
                     json={**PROFILE, "authorities": {}})
    missing = await client.post(f"{url}/send", headers=responder.headers)
    assert missing.status_code == 409 and "authorities.gdpr/authority.email" in missing.text
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    assert (await client.post(f"{url}/send", headers=responder.headers)).status_code == 202
    assert (await client.post(f"{url}/pause", headers=responder.headers)).json()["status"] == "paused"
    assert await dispatcher(engine, clock).run_once() == 0
    assert (await client.post(f"{url}/resume", headers=responder.headers)).json()["status"] == "sending"
    assert await dispatcher(engine, clock).run_once() == 1
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
    assert [m.recipient for m in captured] == ["mailbox@datenschutz-berlin.de"]
    report = message_from_bytes(captured[0].raw, policy=policy.default).get_body(("plain",))
    assert report is not None and reference in report.get_content()


async def test_a_scheduled_send_waits_for_its_time(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/authority"},
                               headers=responder.headers)).json()
    url = f"{base}/{draft['id']}"
    draft = await written_report(client, responder, url, draft)
    await client.post(f"{url}/approve", json={"content_hash": draft["content_hash"]},
                      headers=approver.headers)
    past = await client.post(f"{url}/send", json={"at": "2026-03-10T11:00:00Z"},
                             headers=responder.headers)
    assert past.status_code == 422
    later = await client.post(f"{url}/send", json={"at": "2026-03-10T13:00:00Z"},
                              headers=responder.headers)
    assert later.status_code == 202 and later.json()["deliveries"] == {"pending": 1}
    assert await dispatcher(engine, clock).run_once() == 0
    clock.advance(timedelta(hours=1))
    assert await dispatcher(engine, clock).run_once() == 1


async def test_each_delivery_gets_its_own_message_id_from_its_id(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        settings: Settings) -> None:
    await sending(client, people, [f"p{n}@example.com" for n in range(5)])
    await sending(client, people, [f"q{n}@example.com" for n in range(3)])
    async with session_factory(engine)() as db:
        deliveries = (await db.exec(select(Delivery))).all()
    # The second incident's people are all five: the import updated three of them.
    assert sorted(collections.Counter(d.notification_id for d in deliveries).values()) == [5, 5]
    domain = message_domain(settings.mail_from)  # the app's own sender's
    for delivery in deliveries:
        assert delivery.message_id == (
            f"<breachdesk.{delivery.id}.{delivery.notification_id}@{domain}>")


async def test_notes_are_taken_while_a_send_is_being_queued(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    """Queueing a million deliveries takes seconds; the incident's notes do not wait for it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take turns for the whole database")
    responder = people["responder"]
    reference = await affected_incident(client, people)
    url = await approved_notice(client, people, reference)
    waiting = text("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    async with engine.connect() as holder, engine.connect() as watcher:
        # A transaction sees one snapshot of pg_stat_activity: the watcher reads outside any.
        await watcher.execution_options(isolation_level="AUTOCOMMIT")
        # The send stops at its INSERT, holding whatever locks it took before.
        await holder.execute(text("LOCK TABLE deliveries IN SHARE MODE"))
        send = asyncio.create_task(client.post(f"{url}/send", headers=responder.headers))
        while not (sender := set((await watcher.execute(waiting)).scalars())):
            assert not send.done(), (await send).text
            await asyncio.sleep(0.01)
        note = asyncio.create_task(client.post(
            f"/api/v1/incidents/{reference}/notes", json={"text": "Call centre briefed."},
            headers=responder.headers))
        blocked: set[int] = set()
        while not note.done() and not blocked:
            blocked = set((await watcher.execute(waiting)).scalars()) - sender
            await asyncio.sleep(0.01)
        assert not send.done()
        await holder.commit()
    sent, noted = await send, await note
    assert not blocked, f"the note waited for the send: {blocked}"
    assert sent.status_code == 202 and noted.status_code == 201, (sent.text, noted.text)
    kinds = [e["kind"] for e in (await client.get(f"/api/v1/incidents/{reference}/timeline",
                                                  headers=responder.headers)).json()]
    assert kinds.index("note") < kinds.index("notification_sent")
