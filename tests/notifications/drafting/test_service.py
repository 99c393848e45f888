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
from tests.factories import (
    PROFILE,
    Person,
    affected_incident,
    dispatcher,
    incident_body,
    make_person,
    written_report,
)


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

    # The text is English only; Anna reads Polish and Bernd German: sending is refused until
    # their text is written, or the sender chooses the language they get instead.
    refused = await client.post(f"{url}/send", headers=responder.headers)
    assert refused.status_code == 409
    assert "no text in de (1 recipient" in refused.json()["detail"]
    assert "pl (1 recipient" in refused.json()["detail"]
    sent = await client.post(f"{url}/send", json={"fallback": "en"}, headers=responder.headers)
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
    # Carla, with no address, is not reached: the duty stays open until she is reached
    # another way (tests/notifications/reach).
    subjects = next(o for o in obligations if o["ref"] == "gdpr/data-subjects")
    assert subjects["status"] == "pending" and subjects["how"] is None
    kinds = [e["kind"] for e in (await client.get(f"/api/v1/incidents/{reference}/timeline",
                                                  headers=responder.headers)).json()]
    assert "obligation_met" not in kinds
    for kind in ("notification_drafted", "notification_edited", "notification_refused",
                 "notification_approved", "notification_sent", "notification_finished",
                 "people_not_reached"):
        assert kind in kinds, kind
    # send unapproved, stale hash, own draft, languages without text
    assert kinds.count("notification_refused") == 4


async def test_a_draft_is_refused_while_the_profile_lacks_what_it_needs(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, admin = people["responder"], people["admin"]
    reference = await affected_incident(client, people)
    bare = {**PROFILE, "sender": {}, "authorities": {}}
    assert (await client.put("/api/v1/organisation", json=bare,
                             headers=admin.headers)).status_code == 200
    base = f"/api/v1/incidents/{reference}/notifications"
    refused = await client.post(base, json={"obligation": "gdpr/data-subjects"},
                                headers=responder.headers)
    assert refused.status_code == 409
    assert [e["field"] for e in refused.json()["errors"]] == ["sender.email", "authorities.gdpr.name"]
    assert (await client.get(base, headers=responder.headers)).json() == []
    assert (await client.put("/api/v1/organisation", json=PROFILE,
                             headers=admin.headers)).status_code == 200
    assert (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                              headers=responder.headers)).status_code == 201


async def test_a_report_is_prefilled_for_a_reader_and_approved_only_when_written(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await affected_incident(client, people)
    incident = f"/api/v1/incidents/{reference}"
    await client.post(f"{incident}/runbooks", json={"runbook": "lost-device"},
                      headers=responder.headers)
    steps = (await client.get(f"{incident}/steps", headers=responder.headers)).json()["steps"]
    wipe = next(s for s in steps if s["step_id"] == "remote-lock-wipe")
    done = await client.patch(f"{incident}/steps/{wipe['id']}", headers=people["admin"].headers,
                              json={"state": "done", "version": wipe["version"]})
    assert done.status_code == 409  # this step needs evidence first
    await client.post(f"{incident}/evidence", headers=responder.headers,
                      data={"step": str(wipe["id"])},
                      files={"file": ("wipe.log", b"wiped", "text/plain")})
    done = await client.patch(f"{incident}/steps/{wipe['id']}", headers=people["admin"].headers,
                              json={"state": "done", "version": wipe["version"]})
    assert done.status_code == 200, done.text
    base = f"{incident}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/authority"},
                               headers=responder.headers)).json()
    assert draft["fields"]["measures_taken"] == "The device was locked or wiped remotely."
    assert draft["fields"]["consequences"] == ""  # the organisation's to write
    refused = await client.post(f"{base}/{draft['id']}/approve", headers=approver.headers,
                                json={"content_hash": draft["content_hash"]})
    assert refused.status_code == 409
    assert [e["field"] for e in refused.json()["errors"]] == ["consequences"]
    written = await written_report(client, responder, f"{base}/{draft['id']}", draft)
    approved = await client.post(f"{base}/{draft['id']}/approve", headers=approver.headers,
                                 json={"content_hash": written["content_hash"]})
    assert approved.status_code == 200, approved.text


async def test_the_organisation_s_language_must_be_one_we_know(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    for body, field in (({**PROFILE, "language": "xx-Nope"}, "language"),
                        ({**PROFILE, "authorities": {"gdpr/authority": {
                            **PROFILE["authorities"]["gdpr/authority"], "language": "qq"}}},
                         "authorities.gdpr/authority.language")):
        refused = await client.put("/api/v1/organisation", json=body, headers=admin.headers)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    saved = await client.put("/api/v1/organisation", json={**PROFILE, "language": "pt-BR"},
                             headers=admin.headers)
    assert saved.status_code == 200 and saved.json()["language"] == "pt-BR"


async def test_each_reader_gets_the_text_of_their_own_language(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                               headers=responder.headers)).json()
    url = f"{base}/{draft['id']}"
    unknown = await client.patch(url, headers=responder.headers, json={
        "version": 1, "fields": {"description": {"xx-Nope": "?"}}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "description.xx-Nope"
    assert (await client.get(url, headers=responder.headers)).json()["version"] == 1
    texts = {"description": {"pl": "Skradziono laptopa z eksportem danych klientów.",
                             "de": "Ein Laptop mit einem Kundenexport wurde gestohlen.",
                             "es": "Robaron un portátil con datos de clientes."},
             "measures": {"en": "We locked the device remotely.",
                          "pl": "Zdalnie zablokowaliśmy urządzenie.",
                          "de": "Wir haben das Gerät aus der Ferne gesperrt.",
                          "es": "Bloqueamos el dispositivo a distancia."}}
    saved = (await client.patch(url, headers=responder.headers,
                                json={"version": 1, "fields": texts})).json()
    assert saved["fields"]["description"]["en"] == "Stolen laptop with customer export"
    assert saved["fields"]["description"]["pl"].startswith("Skradziono")
    polish = (await client.get(f"{url}/preview?locale=pl-PL", headers=responder.headers)).json()
    assert polish["locale"] == "pl" and "Skradziono laptopa" in polish["text"]
    assert "Stolen laptop" not in polish["text"]
    await client.post(f"{url}/approve", json={"content_hash": saved["content_hash"]},
                      headers=approver.headers)
    sent = await client.post(f"{url}/send", headers=responder.headers)  # every language written
    assert sent.status_code == 202, sent.text
    assert await dispatcher(engine, clock).run_once() == 2
    async with session_factory(engine)() as db:
        captured = {m.recipient: m for m in (await db.exec(select(CapturedMessage))).all()}
    german = message_from_bytes(captured["bernd@example.com"].raw, policy=policy.default)
    body = german.get_body(("plain",))
    assert body is not None and "Ein Laptop mit einem Kundenexport" in body.get_content()
    assert "Wir haben das Gerät aus der Ferne gesperrt." in body.get_content()
