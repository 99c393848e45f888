"""Each notice to people goes exactly to the people its law protects, on both database lanes:
a hand-counted inventory in the EEA and outside it, for a controller in Germany and one in the
United States, through drafting, the API's audience, the draft page, sending and the timeline.

The obligations engine takes only known jurisdictions, so the notices are drafted on a first
snapshot and sent to a second one, computed after one person's country was erased."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.db import session_factory
from incident.timeline.models import TimelineEvent
from incident.timeline.service import payload_of
from notifications.drafting.models import Delivery
from tests.factories import PROFILE, SUBJECTS_HEADER, Person, incident_body
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

NOTICE_TEXT = {"consequences": "Your card number may be used to attempt payments.",
               "measures": "We blocked the stolen card numbers."}


async def exposed_incident(client: httpx.AsyncClient, people: dict[str, Person],
                           country: str) -> str:
    """An incident exposing the contact and financial data of RESIDENCES, under PROFILE with
    its country changed, its obligations computed (no assessment yet: high risk assumed)."""
    admin, responder = people["admin"], people["responder"]
    saved = await client.put("/api/v1/organisation", json={**PROFILE, "country": country},
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
    async with session_factory(engine)() as db:
        keys = set((await db.exec(select(Delivery.recipient_key).where(
            Delivery.notification_id == notification))).all())
        events = (await db.exec(select(TimelineEvent).where(
            TimelineEvent.kind == "notification_sent").order_by(col(TimelineEvent.id)))).all()
    payloads = [payload_of(e) for e in events if payload_of(e)["notification"] == notification]
    assert len(payloads) == 1
    return keys, payloads[0]


async def test_a_controller_established_in_the_eea_writes_under_the_gdpr_to_everyone(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    reference = await exposed_incident(client, people, "DE")
    url, draft = await approved(client, people, reference, "gdpr/data-subjects")
    await residence_lost(client, engine, people, reference)
    draft = (await client.get(url, headers=people["auditor"].headers)).json()
    basis = "Every affected person: the organisation is established in the EEA (GDPR Art. 3(1))"
    assert draft["audience"] == {
        "count": 17, "total": 17, "left_out": 0, "not_protected": 0, "unknown": 0,
        "everyone": True, "jurisdictions": ["", "AT", "BR", "DE", "FR", "GB", "JP", "NO", "US-CA",
                                            "US-NY"],
        "basis": basis, "citation": "GDPR Art. 3(1)", "confidence": "high"}
    keys, payload = await sent_to(client, engine, people, url)
    assert keys == EVERYONE  # the Japanese and the person of unknown residence included
    assert payload["recipients"] == 17
    assert payload["audience"]["addressed"] == 17 and payload["audience"]["basis"] == basis
    shown = (await client.get(url, headers=people["auditor"].headers)).json()
    assert shown["recipients"] == 17 and shown["audience"]["count"] == 17


async def test_a_controller_outside_the_eea_writes_under_each_law_only_to_the_people_it_protects(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        responder: Browser) -> None:
    reference = await exposed_incident(client, people, "US")
    europe_url, europe = await approved(client, people, reference, "gdpr/data-subjects")
    assert (europe["audience"]["count"], europe["audience"]["unknown"]) == (7, 0)  # snapshot 1
    california_url, california = await approved(client, people, reference, "us-ca/individuals")
    await residence_lost(client, engine, people, reference)
    europe = (await client.get(europe_url, headers=people["auditor"].headers)).json()
    basis = ("People in the EEA only, since the organisation is not established in the EEA "
             "(GDPR Art. 3(2)): 7 of 17")
    assert europe["audience"] == {
        "count": 7, "total": 17, "left_out": 10, "not_protected": 9, "unknown": 1,
        "everyone": False, "jurisdictions": ["AT", "DE", "FR", "NO"], "basis": basis,
        "citation": "GDPR Art. 3(2)", "confidence": "high"}
    draft_page = await responder.client.get(europe_url.replace("/api/v1", ""))
    assert draft_page.status_code == 200, draft_page.text
    assert (f"Addressed to 7 people: {basis}. 1 person of unknown residence is not addressed."
            in draft_page.text)

    keys, payload = await sent_to(client, engine, people, europe_url)
    assert keys == EEA  # nobody in Japan, Britain, the US or Brazil gets a letter under the GDPR
    assert payload["recipients"] == 7
    assert {name: payload["audience"][name] for name in ("addressed", "not_protected", "unknown")
            } == {"addressed": 7, "not_protected": 9, "unknown": 1}

    california = (await client.get(california_url, headers=people["auditor"].headers)).json()
    assert california["audience"]["basis"] == ("People in US-CA only (Cal. Civ. Code 1798.82(a)): "
                                               "3 of 17")
    keys, payload = await sent_to(client, engine, people, california_url)
    assert keys == CALIFORNIA
    assert payload["audience"]["jurisdictions"] == ["US-CA"]

    listed = (await client.get(f"/api/v1/incidents/{reference}/notifications",
                               headers=people["auditor"].headers)).json()
    assert [(n["ref"], n["recipients"], n["audience"]["count"]) for n in listed] == [
        ("gdpr/data-subjects", 7, 7), ("us-ca/individuals", 3, 3)]


async def test_a_notice_that_would_address_nobody_is_refused(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await exposed_incident(client, people, "US")
    url, _ = await approved(client, people, reference, "us-ca/individuals")
    # The Californians turn out not to be affected after all: a new snapshot without them.
    await residence_lost(client, engine, people, reference, {"exclude": sorted(CALIFORNIA)})
    refused = await client.post(f"{url}/send", headers=responder.headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "us-ca/individuals addresses nobody: nobody in the snapshot lives in US-CA, the only "
        "people Cal. Civ. Code 1798.82(a) protects (13 people elsewhere, 1 of unknown residence)")
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
