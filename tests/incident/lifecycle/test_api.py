"""Incidents over the API: create, read, filter, change, move through the lifecycle."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.lifecycle.models import Incident
from incident.timeline.models import TimelineEvent
from tests.factories import Person, incident_body

Client = httpx.AsyncClient


async def create(client: Client, person: Person, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/incidents", json=incident_body(**overrides),
                                 headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with session_factory(engine)() as db:
        incidents = (await db.exec(select(func.count()).select_from(Incident))).one()
        events = (await db.exec(select(func.count()).select_from(TimelineEvent))).one()
        return int(incidents), int(events)


async def test_create_assigns_reference_and_records_event(client: Client,
                                                          people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    assert body["reference"] == "BR-2026-0001"
    assert body["status"] == "open"
    assert body["created_by"] == people["responder"].email
    assert body["aware_at"] == "2026-03-10T09:30:00Z"
    timeline = (await client.get(f"/api/v1/incidents/{body['id']}/timeline",
                                 headers=people["auditor"].headers)).json()
    assert [e["kind"] for e in timeline] == ["incident_created"]
    assert timeline[0]["payload"]["reference"] == "BR-2026-0001"
    assert timeline[0]["actor"] == people["responder"].email


async def test_references_are_unique_under_concurrent_creation(
        client: Client, people: dict[str, Person]) -> None:
    results = await asyncio.gather(*[client.post("/api/v1/incidents",
                                                 json=incident_body(title=f"t{i}"),
                                                 headers=people["responder"].headers)
                                     for i in range(12)])
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    references = sorted(r.json()["reference"] for r in results)
    assert references == [f"BR-2026-{n:04d}" for n in range(1, 13)]


async def test_reference_year_follows_the_configured_time_zone(
        client: Client, people: dict[str, Person], clock: FixedClock) -> None:
    # 23:30 UTC on New Year's Eve is already the new year in Berlin.
    from datetime import UTC, datetime

    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    body = await create(client, people["responder"], detected_at="2026-12-31T20:00:00Z",
                        aware_at="2026-12-31T21:00:00Z")
    assert body["reference"] == "BR-2027-0001"


async def test_get_by_id_or_reference(client: Client, people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    for key in (body["id"], "br-2026-0001", "BR-2026-0001"):
        response = await client.get(f"/api/v1/incidents/{key}", headers=people["auditor"].headers)
        assert response.status_code == 200
        assert response.json()["id"] == body["id"]
    missing = await client.get("/api/v1/incidents/BR-2026-9999", headers=people["auditor"].headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_list_filters_and_pages(client: Client, people: dict[str, Person]) -> None:
    for i in range(5):
        await create(client, people["responder"], title=f"Ransom {i}", kind="ransomware",
                     aware_at=f"2026-03-0{i + 1}T10:00:00Z", detected_at=f"2026-03-0{i + 1}T09:00:00Z",
                     occurred_from=None)
    await create(client, people["responder"], title="Misdirected", kind="misdirected_email")
    headers = people["auditor"].headers
    everything = (await client.get("/api/v1/incidents", headers=headers)).json()
    assert everything["total"] == 6
    ransom = (await client.get("/api/v1/incidents?kind=ransomware&limit=2&offset=1",
                               headers=headers)).json()
    assert ransom["total"] == 5
    assert [i["title"] for i in ransom["items"]] == ["Ransom 3", "Ransom 2"]
    window = (await client.get("/api/v1/incidents?aware_from=2026-03-02T00:00:00Z"
                               "&aware_to=2026-03-04T00:00:00Z", headers=headers)).json()
    assert sorted(i["title"] for i in window["items"]) == ["Ransom 1", "Ransom 2"]
    text = (await client.get("/api/v1/incidents?q=misdirect", headers=headers)).json()
    assert [i["title"] for i in text["items"]] == ["Misdirected"]
    bad = await client.get("/api/v1/incidents?status=burning", headers=headers)
    assert bad.status_code == 400
    too_many = await client.get("/api/v1/incidents?limit=100000", headers=headers)
    assert too_many.status_code == 400


async def test_lifecycle_to_closed_with_timestamps(client: Client, people: dict[str, Person],
                                                   clock: FixedClock) -> None:
    body = await create(client, people["responder"])
    url, headers = f"/api/v1/incidents/{body['id']}/status", people["responder"].headers
    for target in ("assessing", "contained", "notifying", "resolved", "closed"):
        clock.advance(timedelta(hours=1))
        response = await client.post(url, json={"status": target}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
    final = response.json()
    assert final["contained_at"] == "2026-03-10T14:00:00Z"
    assert final["closed_at"] == "2026-03-10T17:00:00Z"
    assert final["allowed_transitions"] == []
    timeline = (await client.get(f"/api/v1/incidents/{body['id']}/timeline",
                                 headers=headers)).json()
    assert [e["payload"].get("to") for e in timeline[1:]] == [
        "assessing", "contained", "notifying", "resolved", "closed"]
    edit = await client.patch(f"/api/v1/incidents/{body['id']}", json={"title": "late"},
                              headers=headers)
    assert edit.status_code == 409


async def test_illegal_transition_is_409_naming_the_allowed_ones(
        client: Client, people: dict[str, Person], engine: AsyncEngine) -> None:
    body = await create(client, people["responder"])
    before = await counts(engine)
    response = await client.post(f"/api/v1/incidents/{body['id']}/status",
                                 json={"status": "closed"}, headers=people["responder"].headers)
    assert response.status_code == 409
    problem = response.json()
    assert problem["allowed"] == ["assessing", "contained", "dismissed"]
    assert "assessing, contained, dismissed" in problem["detail"]
    assert await counts(engine) == before


async def test_dismissal_needs_reason_and_an_approver(client: Client,
                                                      people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    url = f"/api/v1/incidents/{body['id']}/status"
    by_responder = await client.post(url, json={"status": "dismissed", "reason": "test data"},
                                     headers=people["responder"].headers)
    assert by_responder.status_code == 403
    no_reason = await client.post(url, json={"status": "dismissed", "reason": "  "},
                                  headers=people["approver"].headers)
    assert no_reason.status_code == 422
    ok = await client.post(url, json={"status": "dismissed",
                                      "reason": "only synthetic test records were exposed"},
                           headers=people["approver"].headers)
    assert ok.status_code == 200
    assert ok.json()["status"] == "dismissed"
    reopened = await client.post(url, json={"status": "open"},
                                 headers=people["approver"].headers)
    assert reopened.json()["status"] == "open"


async def test_incidents_cannot_be_deleted(client: Client, people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    response = await client.delete(f"/api/v1/incidents/{body['id']}",
                                   headers=people["admin"].headers)
    assert response.status_code == 405
    assert (await client.get(f"/api/v1/incidents/{body['id']}",
                             headers=people["admin"].headers)).status_code == 200


async def test_update_records_each_change(client: Client, people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    url, headers = f"/api/v1/incidents/{body['id']}", people["responder"].headers
    response = await client.patch(url, json={"title": "Stolen laptop (encrypted)",
                                             "estimated_subjects": 900,
                                             "lead": people["approver"].email}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["lead"] == people["approver"].email
    same = await client.patch(url, json={"title": "Stolen laptop (encrypted)"}, headers=headers)
    assert same.status_code == 200
    timeline = (await client.get(f"{url}/timeline", headers=headers)).json()
    assert len(timeline) == 2  # the no-op edit recorded nothing
    changes = timeline[1]["payload"]["changes"]
    assert changes["title"] == {"from": "Stolen laptop with customer export",
                                "to": "Stolen laptop (encrypted)"}
    assert changes["estimated_subjects"] == {"from": 1200, "to": 900}
    assert "lead_id" in changes


async def test_notes_are_timeline_events(client: Client, people: dict[str, Person]) -> None:
    body = await create(client, people["responder"])
    url = f"/api/v1/incidents/{body['id']}/notes"
    response = await client.post(url, json={"text": "Called the device owner; laptop had BitLocker."},
                                 headers=people["responder"].headers)
    assert response.status_code == 201
    assert response.json()["seq"] == 2
    assert response.json()["kind"] == "note"
    empty = await client.post(url, json={"text": "   "}, headers=people["responder"].headers)
    assert empty.status_code == 422  # the service's rule, as on the page and in the CLI
    by_auditor = await client.post(url, json={"text": "I am read-only"},
                                   headers=people["auditor"].headers)
    assert by_auditor.status_code == 403


async def test_times_are_stored_in_utc_whatever_offset_is_sent(
        client: Client, people: dict[str, Person]) -> None:
    body = await create(client, people["responder"], aware_at="2026-03-10T10:30:00+01:00",
                        detected_at="2026-03-10T04:00:00-05:00")
    assert body["aware_at"] == "2026-03-10T09:30:00Z"
    assert body["detected_at"] == "2026-03-10T09:00:00Z"
