"""Drafts over the API: prefilled from the incident, edited in versions (a stale or unknown
edit refused), four-eyes approval of one exact hash (voided by a later edit), then sent,
delivered and recorded against the obligation, every decision and refusal on the timeline."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from notifications.delivery.models import CapturedMessage
from tests.factories import Person, affected_incident, dispatcher, incident_body, make_person


async def test_draft_approve_send_deliver_and_meet_the_obligation(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"

    media = await client.post(base, json={"obligation": "gdpr/nothing"}, headers=responder.headers)
    assert media.status_code == 404
    created = await client.post(base, json={"obligation": "gdpr/data-subjects"},
                                headers=responder.headers)
    assert created.status_code == 201, created.text
    draft: dict[str, Any] = created.json()
    url = f"{base}/{draft['id']}"
    assert draft["kind"] == "subject_notice" and draft["status"] == "draft"
    assert draft["fields"]["description"] == incident_body()["title"]

    edited = await client.patch(url, headers=responder.headers, json={
        "version": 1, "fields": {"consequences": "Phishing e-mails that use your name.",
                                 "measures": "We locked the stolen laptop remotely.\n"
                                 "We changed all passwords it held."}})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = await client.patch(url, json={"version": 1, "fields": {"consequences": "x"}},
                               headers=responder.headers)
    assert stale.status_code == 409
    unknown = await client.patch(url, json={"version": 2, "fields": {"subject": "x"}},
                                 headers=responder.headers)
    assert unknown.status_code == 422

    preview = (await client.get(f"{url}/preview", params={"locale": "de"},
                                headers=responder.headers)).json()
    assert preview["locale"] == "de" and "gestohlenen" not in preview["subject"]
    assert "We locked the stolen laptop remotely." in preview["text"]
    assert "<script" not in preview["html"]

    unapproved = await client.post(f"{url}/send", headers=responder.headers)
    assert unapproved.status_code == 409
    assert (await client.post(f"{url}/approve", json={"content_hash": edited.json()["content_hash"]},
                              headers=responder.headers)).status_code == 403
    wrong = await client.post(f"{url}/approve", json={"content_hash": "0" * 64},
                              headers=approver.headers)
    assert wrong.status_code == 409
    approved = await client.post(f"{url}/approve", json={"content_hash": edited.json()["content_hash"]},
                                 headers=approver.headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    # An edit after the approval voids it; the approver who then edits cannot approve.
    again = await client.patch(url, json={"version": 2, "fields": {"consequences": "Phishing."}},
                               headers=approver.headers)
    assert again.json()["status"] == "draft" and again.json()["approved_hash"] is None
    own = await client.post(f"{url}/approve", json={"content_hash": again.json()["content_hash"]},
                            headers=approver.headers)
    assert own.status_code == 403 and "another approver" in own.json()["detail"]
    second = await make_person(engine, clock, "approver")
    assert (await client.post(f"{url}/approve", json={"content_hash": again.json()["content_hash"]},
                              headers=second.headers)).status_code == 200

    sent = await client.post(f"{url}/send", headers=responder.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["recipients"] == 3
    assert sent.json()["deliveries"] == {"pending": 2, "failed": 1}

    claimed = await dispatcher(engine, clock).run_once()
    assert claimed == 2
    done = (await client.get(url, headers=responder.headers)).json()
    assert done["status"] == "done" and done["deliveries"] == {"sent": 2, "failed": 1}

    log = (await client.get(f"{url}/deliveries", headers=responder.headers)).json()
    by_recipient = {d["recipient"]: d for d in log}
    assert by_recipient["c-3"]["last_reply"] == "no e-mail address on record"
    assert by_recipient["c-1"]["state"] == "sent" and by_recipient["c-1"]["log"][0]["outcome"] == "sent"
    assert (await client.get(f"{url}/deliveries", headers=people["auditor"].headers)).status_code == 403

    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
    assert sorted(m.recipient for m in captured) == ["anna@example.com", "bernd@example.com"]
    for message in captured:
        parsed = message_from_bytes(message.raw, policy=policy.default)
        assert parsed["Message-ID"] == by_recipient[
            "c-1" if message.recipient.startswith("anna") else "c-2"]["message_id"]
    polish = next(m for m in captured if m.recipient.startswith("anna"))
    body = message_from_bytes(polish.raw, policy=policy.default).get_body(("plain",))
    assert body is not None and "Anna Nowak" in body.get_content()

    obligations = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                                    headers=responder.headers)).json()["obligations"]
    subjects = next(o for o in obligations if o["ref"] == "gdpr/data-subjects")
    assert subjects["status"] == "met" and "2 sent, 1 failed" in subjects["how"]
    kinds = [e["kind"] for e in (await client.get(f"/api/v1/incidents/{reference}/timeline",
                                                  headers=responder.headers)).json()]
    for kind in ("notification_drafted", "notification_edited", "notification_refused",
                 "notification_approved", "notification_sent", "notification_finished",
                 "obligation_met"):
        assert kind in kinds, kind
    assert kinds.count("notification_refused") == 3  # send unapproved, stale hash, own draft
