"""Each notice to people goes exactly to the people its laws protect, one letter per person
meeting every law that protects them, on both database lanes: a hand-counted inventory in the
EEA and outside it, for a controller in Germany and one in the United States, through
drafting, the API's audience, the draft page, sending and the timeline.

The obligations engine takes only known jurisdictions, so the notices are drafted on a first
snapshot and sent to a second one, computed after one person's country was erased."""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from incident.timeline.models import TimelineEvent
from incident.timeline.service import payload_of
from notifications.delivery.models import CapturedMessage, SentMessage
from notifications.drafting import queuing
from notifications.drafting.models import Delivery
from tests.factories import PROFILE, SUBJECTS_HEADER, Person, dispatcher, incident_body
from tests.sessions import Browser

RESIDENCES = {"de-1": ("DE", ""), "de-2": ("DE", ""), "de-3": ("DE", ""), "at-1": ("AT", ""),
              "at-2": ("AT", ""), "fr-1": ("FR", ""), "no-1": ("NO", ""), "gb-1": ("GB", ""),
              "gb-2": ("GB", ""), "ca-1": ("US", "US-CA"), "ca-2": ("US", "US-CA"),
              "ca-3": ("US", "US-CA"), "ny-1": ("US", "US-NY"), "br-1": ("BR", ""),
              "jp-1": ("JP", ""), "jp-2": ("JP", ""), "xx-1": ("JP", "")}
"""17 people: 7 in the EEA (Norway's outside the EU), 2 in Great Britain, 3 Californians, a New
Yorker, a Brazilian, 2 in Japan, and xx-1, in Japan until `residence_lost` erases their country."""

EEA = {"de-1", "de-2", "de-3", "at-1", "at-2", "fr-1", "no-1"}
CALIFORNIA = {"ca-1", "ca-2", "ca-3"}
EVERYONE = set(RESIDENCES)

ICO = {"uk-gdpr": {"name": "Information Commissioner's Office", "website": "https://ico.org.uk"}}
"""The authority British people may complain to (UK GDPR Art. 77(1)), which their letters name."""

NOTICE_TEXT = {"consequences": "Your card number may be used to attempt payments.",
               "measures": "We blocked the stolen card numbers."}


async def exposed_incident(client: httpx.AsyncClient, people: dict[str, Person],
                           country: str) -> str:
    """An incident exposing the contact and financial data of RESIDENCES, under PROFILE with
    its country changed, its obligations computed (no assessment yet: high risk assumed)."""
    admin, responder = people["admin"], people["responder"]
    saved = await client.put("/api/v1/organisation", json={
        **PROFILE, "country": country, "authorities": {**PROFILE["authorities"], **ICO}},
        headers=admin.headers)
    assert saved.status_code == 200, saved.text
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"{key},{key}@example.com,Person {key},en,{land},{region},crm,contact;financial,,\n"
                   for key, (land, region) in RESIDENCES.items())
    imported = await client.post("/api/v1/subjects/import", content=(SUBJECTS_HEADER + rows).encode(),
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert imported.json()["imported"] == len(RESIDENCES), imported.text
    created = await client.post("/api/v1/incidents", json=incident_body(), headers=responder.headers)
    reference = str(created.json()["reference"])
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    computed = await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    assert computed.status_code == 201, computed.text
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    return reference


async def residence_lost(client: httpx.AsyncClient, engine: AsyncEngine,
                         people: dict[str, Person], reference: str,
                         scope: dict[str, Any] | None = None) -> None:
    """xx-1's country erased (an inventory row from before countries were required), and a
    new snapshot computed (of `scope`, when given)."""
    responder = people["responder"]
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE subjects SET country = '' WHERE external_id = 'xx-1'"))
    if scope is not None:
        await client.put(f"/api/v1/incidents/{reference}/scope", json=scope,
                         headers=responder.headers)
    computed = await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    assert computed.status_code == 201, computed.text
    summary = (await client.get(f"/api/v1/incidents/{reference}/affected/summary",
                                headers=responder.headers)).json()
    assert summary["snapshot"] == 2 and summary["by_jurisdiction"].get("") == 1, summary


async def approved(client: httpx.AsyncClient, people: dict[str, Person], reference: str,
                   ref: str) -> tuple[str, dict[str, Any]]:
    """The notice of `ref`, drafted, written and approved: its URL and its API shape."""
    responder, approver = people["responder"], people["approver"]
    base = f"/api/v1/incidents/{reference}/notifications"
    created = await client.post(base, json={"obligation": ref}, headers=responder.headers)
    assert created.status_code == 201, created.text
    url = f"{base}/{created.json()['id']}"
    written = await client.patch(url, json={"version": created.json()["version"],
                                            "fields": NOTICE_TEXT}, headers=responder.headers)
    assert written.status_code == 200, written.text
    approval = await client.post(f"{url}/approve", json={"content_hash": written.json()["content_hash"]},
                                 headers=approver.headers)
    assert approval.status_code == 200, approval.text
    return url, dict(approval.json())


async def sent_to(client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
                  url: str) -> tuple[set[str], dict[str, Any]]:
    """Send the notice at `url`: whom its deliveries address, and its `notification_sent` payload."""
    sent = await client.post(f"{url}/send", json={"fallback": "en"},
                             headers=people["responder"].headers)
    assert sent.status_code == 202, sent.text
    notification = int(sent.json()["id"])
    while True:  # the people the send left to the outbox, queued as the outbox does
        async with session_factory(engine)() as db, transaction(db):
            if not await queuing.queue_next_part(await db.connection()):
                break
    async with session_factory(engine)() as db:
        keys = set((await db.exec(select(Delivery.recipient_key).where(
            Delivery.notification_id == notification))).all())
        events = (await db.exec(select(TimelineEvent).where(
            TimelineEvent.kind == "notification_sent").order_by(col(TimelineEvent.id)))).all()
    payloads = [payload_of(e) for e in events if payload_of(e)["notification"] == notification]
    assert len(payloads) == 1
    return keys, payloads[0]


COVERED = ["gdpr/data-subjects", "br-lgpd/data-subjects", "uk-gdpr/data-subjects",
           "us-ca/individuals", "us-ny/individuals"]
"""The obligations owed to people that the exposure of RESIDENCES' contact and financial data
gives rise to: one letter per person meets every one of them that protects that person."""

GREAT_BRITAIN, NEW_YORK, BRAZIL = {"gb-1", "gb-2"}, {"ny-1"}, {"br-1"}


async def meets_of(engine: AsyncEngine, url: str) -> dict[str, list[str]]:
    """For each recipient of the notice at `url`: the obligations their letter meets."""
    async with session_factory(engine)() as db:
        rows = (await db.exec(select(Delivery).where(
            Delivery.notification_id == int(url.rsplit("/", 1)[1])))).all()
    return {d.recipient_key: d.meets.split(",") for d in rows}


@pytest.fixture(params=["at once", "in parts"])
def queued(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every person queued by the send, or a few at a time by the send and then the outbox:
    each is written to under the same laws, in the same language."""
    if request.param == "in parts":
        monkeypatch.setattr(queuing, "PART", 4)


@pytest.mark.usefixtures("queued")
async def test_a_controller_established_in_the_eea_writes_once_to_everyone_meeting_every_law(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    reference = await exposed_incident(client, people, "DE")
    url, draft = await approved(client, people, reference, "gdpr/data-subjects")
    assert draft["covers"] == COVERED
    await residence_lost(client, engine, people, reference)
    draft = (await client.get(url, headers=people["auditor"].headers)).json()
    gdpr = "Every affected person: the organisation is established in the EEA (GDPR Art. 3(1))"
    assert (draft["audience"]["count"], draft["audience"]["everyone"]) == (17, True)
    assert draft["audience"]["parts"]["gdpr/data-subjects"]["basis"] == gdpr
    assert {ref: part["count"] for ref, part in draft["audience"]["parts"].items()} == {
        "gdpr/data-subjects": 17, "br-lgpd/data-subjects": 1, "uk-gdpr/data-subjects": 2,
        "us-ca/individuals": 3, "us-ny/individuals": 1}
    # What the letters contain, each element traced to the laws asking for it.
    contents = {c["element"]: [s["ref"] for s in c["sources"]] for c in draft["contents"]}
    assert contents["consequences"] == ["gdpr/data-subjects", "br-lgpd/data-subjects",
                                        "uk-gdpr/data-subjects"]
    assert contents["california_format"] == ["us-ca/individuals"]
    assert contents["state_agencies"] == ["us-ny/individuals"]

    keys, payload = await sent_to(client, engine, people, url)
    assert keys == EVERYONE  # the Japanese and the person of unknown residence included
    assert payload["recipients"] == 17 and payload["covers"] == COVERED
    assert payload["audience"]["addressed"] == 17
    assert payload["audience"]["parts"]["us-ca/individuals"]["addressed"] == 3
    meets = await meets_of(engine, url)
    for key in EVERYONE:  # one letter each, meeting the GDPR and their own state's or country's law
        own = ({"br-lgpd/data-subjects"} if key in BRAZIL else
               {"uk-gdpr/data-subjects"} if key in GREAT_BRITAIN else
               {"us-ca/individuals"} if key in CALIFORNIA else
               {"us-ny/individuals"} if key in NEW_YORK else set())
        assert set(meets[key]) == {"gdpr/data-subjects", *own}, key
    shown = (await client.get(url, headers=people["auditor"].headers)).json()
    assert shown["recipients"] == 17 and shown["audience"]["count"] == 17

    # The Californians were written to under their law: no second letter can be drafted.
    again = await client.post(f"/api/v1/incidents/{reference}/notifications",
                              json={"obligation": "us-ca/individuals"},
                              headers=people["responder"].headers)
    assert again.status_code == 409, again.text
    assert f"are in notification {shown['id']} already" in again.json()["detail"]


@pytest.mark.usefixtures("queued")
async def test_a_controller_outside_the_eea_writes_to_each_person_under_the_laws_protecting_them(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        responder: Browser, clock: FixedClock) -> None:
    reference = await exposed_incident(client, people, "US")
    url, draft = await approved(client, people, reference, "us-ca/individuals")
    assert draft["covers"] == ["us-ca/individuals", "br-lgpd/data-subjects", "gdpr/data-subjects",
                               "uk-gdpr/data-subjects", "us-ny/individuals"]  # its own first
    assert (draft["audience"]["count"], draft["audience"]["unknown"]) == (14, 0)  # snapshot 1
    await residence_lost(client, engine, people, reference)
    draft = (await client.get(url, headers=people["auditor"].headers)).json()
    europe = draft["audience"]["parts"]["gdpr/data-subjects"]
    assert europe == {
        "count": 7, "total": 17, "left_out": 10, "not_protected": 9, "unknown": 1,
        "everyone": False, "jurisdictions": ["AT", "DE", "FR", "NO"],
        "basis": "People in the EEA only, since the organisation is not established in the EEA "
                 "(GDPR Art. 3(2)): 7 of 17",
        "citation": "GDPR Art. 3(2)", "confidence": "high", "parts": {}}
    assert {name: draft["audience"][name] for name in ("count", "not_protected", "unknown")} == {
        "count": 14, "not_protected": 2, "unknown": 1}
    draft_page = await responder.client.get(url.replace("/api/v1", ""))
    assert draft_page.status_code == 200, draft_page.text
    assert "Addressed to 14 people, one letter each, meeting every law below" in draft_page.text
    assert ('<tr data-ref="gdpr/data-subjects"><td><code>gdpr/data-subjects</code></td>'
            '<td class="recipients">7</td>') in draft_page.text
    assert ("<code>us-ca/individuals</code>: Cal. Civ. Code 1798.82(d)(2)(G): when a Social "
            "Security, driver&#39;s license or California identification card number was exposed "
            "(only for people whose official id data was exposed)") in draft_page.text
    shown_variants = re.findall(r'<tr data-meets="([^"]+)">.*?<td class="recipients">(\d+)</td>',
                                draft_page.text, re.S)
    assert shown_variants == [("gdpr/data-subjects", "7"), ("us-ca/individuals", "3"),
                        ("uk-gdpr/data-subjects", "2"), ("br-lgpd/data-subjects", "1"),
                        ("us-ny/individuals", "1")]
    # The reviewer reads each letter as its readers will: a Californian's, a European's.
    for laws, californian in (("us-ca/individuals", True), ("gdpr/data-subjects", False)):
        preview = await client.get(f"{url}/preview", params={"meets": laws},
                                   headers=people["auditor"].headers)
        assert preview.status_code == 200, preview.text
        assert preview.json()["text"].startswith("NOTICE OF DATA BREACH") is californian
    page = await responder.client.get(url.replace("/api/v1", ""),
                                      params={"meets": "us-ca/individuals"})
    assert "As read by someone protected by us-ca/individuals." in page.text
    assert "preview.html?locale=en&amp;meets=us-ca%2Findividuals" in page.text
    foreign = await client.get(f"{url}/preview", params={"meets": "jp-appi/final"},
                               headers=people["auditor"].headers)
    assert foreign.status_code == 422 and "does not cover jp-appi/final" in foreign.text
    assert "1 person of unknown residence is not addressed." in draft_page.text

    keys, payload = await sent_to(client, engine, people, url)
    # Nobody in Japan gets a letter: none of these laws protects them.
    assert keys == EEA | GREAT_BRITAIN | CALIFORNIA | NEW_YORK | BRAZIL
    assert payload["recipients"] == 14
    meets = await meets_of(engine, url)
    assert {key for key, laws in meets.items() if laws == ["gdpr/data-subjects"]} == EEA
    assert {key for key, laws in meets.items() if laws == ["us-ca/individuals"]} == CALIFORNIA
    assert {key for key, laws in meets.items() if laws == ["uk-gdpr/data-subjects"]} == GREAT_BRITAIN
    assert meets["br-1"] == ["br-lgpd/data-subjects"] and meets["ny-1"] == ["us-ny/individuals"]

    listed = (await client.get(f"/api/v1/incidents/{reference}/notifications",
                               headers=people["auditor"].headers)).json()
    assert [(n["ref"], n["recipients"], n["covers"]) for n in listed] == [
        ("us-ca/individuals", 14, draft["covers"])]

    # Delivered: each law's obligation is met by the letters to the people it protects.
    outbox = dispatcher(engine, clock)
    while await outbox.run_once():
        pass
    obligations = {o["ref"]: o for o in (await client.get(
        f"/api/v1/incidents/{reference}/obligations",
        headers=people["auditor"].headers)).json()["obligations"]}
    for ref, sent in (("gdpr/data-subjects", 7), ("us-ca/individuals", 3),
                      ("uk-gdpr/data-subjects", 2), ("br-lgpd/data-subjects", 1),
                      ("us-ny/individuals", 1)):
        assert obligations[ref]["status"] == "met", (ref, obligations[ref])
        assert obligations[ref]["how"].startswith(
            f"notification {listed[0]['id']}: every person reached, {sent} by e-mail "
            "(see its delivery log)"), obligations[ref]["how"]
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
        kept = (await db.exec(select(SentMessage))).all()
    # Each message sent is kept byte for byte, for the auditor's evidence pack.
    assert len(kept) == 14 and {zlib.decompress(m.raw) for m in kept} == {m.raw for m in captured}
    assert all(hashlib.sha256(zlib.decompress(m.raw)).hexdigest() == m.sha256 for m in kept)
    letters: dict[str, str] = {}
    for message in captured:
        body = message_from_bytes(message.raw, policy=default).get_body(("plain",))
        assert body is not None
        letters[message.recipient] = str(body.get_content())
    california_letter, german = letters["ca-1@example.com"], letters["de-1@example.com"]
    assert california_letter.startswith("NOTICE OF DATA BREACH") and "What Information Was Involved" in \
        california_letter
    assert "NOTICE OF DATA BREACH" not in german and "Which of your data is affected" in german
    assert "Information Commissioner's Office" in letters["gb-1@example.com"]
    assert "Berliner Beauftragte" in german and "Berliner Beauftragte" not in california_letter
    assert "New York State Attorney General" in letters["ny-1@example.com"]


async def test_a_notice_that_would_address_nobody_is_refused(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await exposed_incident(client, people, "US")
    url, _ = await approved(client, people, reference, "us-ca/individuals")
    # Only the people in Japan turn out to be affected: a new snapshot of them alone.
    await residence_lost(client, engine, people, reference,
                         {"exclude": sorted(EVERYONE - {"jp-1", "jp-2", "xx-1"})})
    refused = await client.post(f"{url}/send", headers=responder.headers)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("us-ca/individuals, br-lgpd/data-subjects, gdpr/data-subjects, "
                             "uk-gdpr/data-subjects, us-ny/individuals address nobody: ")
    assert ("nobody in the snapshot lives in US-CA, the only people Cal. Civ. Code 1798.82(a) "
            "protects (2 people elsewhere, 1 of unknown residence)") in detail
    after = (await client.get(url, headers=responder.headers)).json()
    assert after["status"] == "approved" and after["recipients"] == 0
    async with session_factory(engine)() as db:
        assert (await db.exec(select(Delivery))).all() == []


async def test_a_report_to_an_authority_has_no_audience(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    reference = await exposed_incident(client, people, "DE")
    created = await client.post(f"/api/v1/incidents/{reference}/notifications",
                                json={"obligation": "gdpr/authority"},
                                headers=people["responder"].headers)
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "authority_report" and created.json()["audience"] is None


async def test_a_late_letter_under_the_lgpd_gives_the_reasons_for_the_delay(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        clock: FixedClock) -> None:
    """Lei 13.709/2018 Art. 48 par. 1, V: a notice not made at once states why. The Brazilian's
    letter is late once the LGPD's deadline has passed, so approval asks for the reasons."""
    responder, approver = people["responder"], people["approver"]
    reference = await exposed_incident(client, people, "US")
    base = f"/api/v1/incidents/{reference}/notifications"
    created = (await client.post(base, json={"obligation": "us-ca/individuals"},
                                 headers=responder.headers)).json()
    url = f"{base}/{created['id']}"
    written = (await client.patch(url, json={"version": created["version"], "fields": NOTICE_TEXT},
                                  headers=responder.headers)).json()
    clock.advance(timedelta(days=20))
    refused = await client.post(f"{url}/approve", json={"content_hash": written["content_hash"]},
                                headers=approver.headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"] == [{
        "field": "delay_reason", "message": "is empty: the notice is late, and "
        "br-lgpd/data-subjects asks it to give the reasons (Lei 13.709/2018 Art. 48 par. 1, V)"}]
    explained = (await client.patch(url, json={
        "version": written["version"],
        "fields": {"delay_reason": "The police asked us to wait."}}, headers=responder.headers)).json()
    approved_now = await client.post(f"{url}/approve",
                                     json={"content_hash": explained["content_hash"]},
                                     headers=approver.headers)
    assert approved_now.status_code == 200, approved_now.text
