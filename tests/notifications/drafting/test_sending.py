"""Sending an approved notification over the API: the recipients it needs, pausing and resuming,
and a send scheduled for later."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from notifications.delivery.models import CapturedMessage
from tests.factories import PROFILE, Person, affected_incident, dispatcher, written_report


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
