"""One rule on every edge: a note's, a reason's and a search's limits are the service's, refused
the same way over the API (a 422 problem), on the page (a message beside the form, with what was
typed kept) and by the service itself (which the CLI calls); and a role's incident list never
offers an incident that opening then refuses."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Invalid
from incident.lifecycle import service as incident_service
from incident.lifecycle.rules import NOTE_LIMIT, REASON_LIMIT, SEARCH_LIMIT, Status
from tests.factories import Person, new_incident
from tests.sessions import Browser

NOTE = re.compile(r'<textarea id="note"[^>]*>(.*?)</textarea>', re.DOTALL)
REASON = re.compile(r'<input id="reason-dismissed"[^>]*value="([^"]*)"')
SEARCH = re.compile(r'<input id="q" name="q" value="([^"]*)"')
ALERT = re.compile(r'<p class="alert" role="alert" id="notice">([^<]*)</p>')


async def timeline_kinds(client: httpx.AsyncClient, person: Person, reference: str) -> list[str]:
    events = await client.get(f"/api/v1/incidents/{reference}/timeline", headers=person.headers)
    return [e["kind"] for e in events.json()]


async def test_a_note_over_the_limit_is_refused_alike_over_the_api_on_the_page_and_by_the_service(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        engine: AsyncEngine, clock: FixedClock) -> None:
    person = people["responder"]
    reference = await new_incident(client, person)
    typed = "Called the owner <b>twice</b>. " + "x" * NOTE_LIMIT

    async with session_factory(engine)() as db:
        with pytest.raises(Invalid) as caught:
            await incident_service.add_note(db, clock=clock, key=reference, text=typed,
                                            actor=Actor(person.email, Role.RESPONDER))
    refused = caught.value
    assert refused.extensions["errors"][0]["field"] == "text"
    assert f"longer than {NOTE_LIMIT:,} characters" in refused.detail

    api = await client.post(f"/api/v1/incidents/{reference}/notes", json={"text": typed},
                            headers=person.headers)
    assert api.status_code == 422
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["detail"] == refused.detail
    assert api.json()["errors"] == refused.extensions["errors"]

    page = await responder.sent_back(f"/incidents/{reference}/notes", {"text": typed},
                                     to=f"/incidents/{reference}#notice")
    alert = ALERT.search(page.text)
    assert alert is not None and f"longer than {NOTE_LIMIT:,} characters" in html.unescape(alert[1])
    kept = NOTE.search(page.text)
    assert kept is not None and html.unescape(kept[1]) == typed  # kept whole, escaped, not cut

    assert await timeline_kinds(client, person, reference) == ["incident_created"]


async def test_a_note_at_the_limit_is_kept_whole_on_every_edge(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    person = people["responder"]
    reference = await new_incident(client, person)
    longest = "y" * NOTE_LIMIT
    api = await client.post(f"/api/v1/incidents/{reference}/notes", json={"text": longest},
                            headers=person.headers)
    assert api.status_code == 201 and api.json()["payload"]["text"] == longest
    page = await responder.post(f"/incidents/{reference}/notes", {"text": f"  {longest}\n"})
    assert page.status_code in (302, 303)
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=person.headers)).json()
    assert [e["payload"]["text"] for e in events if e["kind"] == "note"] == [longest, longest]


async def test_an_empty_note_is_refused_alike_over_the_api_and_on_the_page(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    person = people["responder"]
    reference = await new_incident(client, person)
    api = await client.post(f"/api/v1/incidents/{reference}/notes", json={"text": "  "},
                            headers=person.headers)
    page = await responder.sent_back(f"/incidents/{reference}/notes", {"text": "  "})
    assert api.status_code == 422
    assert api.json()["errors"] == [{"field": "text", "message": "is empty"}]
    alert = ALERT.search(page.text)
    assert alert is not None and alert[1] == "The text is empty."


async def test_a_reason_over_the_limit_is_refused_alike_and_kept_on_the_page(
        client: httpx.AsyncClient, people: dict[str, Person], approver: Browser) -> None:
    reference = await new_incident(client, people["responder"])
    reason = "Only test records. " + "z" * REASON_LIMIT
    api = await client.post(f"/api/v1/incidents/{reference}/status",
                            json={"status": "dismissed", "reason": reason},
                            headers=people["approver"].headers)
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == "reason"
    page = await approver.sent_back(f"/incidents/{reference}/status",
                                    {"status": "dismissed", "reason": reason},
                                    to=f"/incidents/{reference}#notice")
    alert = ALERT.search(page.text)
    assert alert is not None and f"longer than {REASON_LIMIT:,} characters" in alert[1]
    kept = REASON.search(page.text)
    assert kept is not None and html.unescape(kept[1]) == reason
    assert await timeline_kinds(client, people["approver"], reference) == ["incident_created"]


async def test_a_search_over_the_limit_is_refused_alike_not_cut_short(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    await new_incident(client, people["responder"])
    text = "laptop " * (SEARCH_LIMIT // 7 + 1)
    api = await client.get("/api/v1/incidents", params={"q": text},
                           headers=people["responder"].headers)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "q"
    page = await responder.client.get("/incidents", params={"q": text})
    assert page.status_code == 422
    kept = SEARCH.search(page.text)
    assert kept is not None and html.unescape(kept[1]) == text
    assert ALERT.search(page.text) is not None


MOVES: dict[Status, list[Status]] = {
    Status.OPEN: [],
    Status.ASSESSING: [Status.ASSESSING],
    Status.CONTAINED: [Status.CONTAINED],
    Status.NOTIFYING: [Status.ASSESSING, Status.NOTIFYING],
    Status.RESOLVED: [Status.CONTAINED, Status.RESOLVED],
    Status.CLOSED: [Status.CONTAINED, Status.RESOLVED, Status.CLOSED],
    Status.DISMISSED: [Status.DISMISSED],
}


async def test_a_responder_can_open_every_incident_its_list_offers(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    approver, responder = people["approver"], people["responder"]
    for path in MOVES.values():
        reference = await new_incident(client, responder)
        for target in path:
            moved = await client.post(f"/api/v1/incidents/{reference}/status", headers=approver.headers,
                                      json={"status": target, "reason": "synthetic records only"})
            assert moved.status_code == 200, moved.text

    listed = (await client.get("/api/v1/incidents", params={"limit": 200},
                               headers=responder.headers)).json()
    assert {item["status"] for item in listed["items"]} == set(Status)  # every status is offered
    for status in Status:
        filtered = (await client.get("/api/v1/incidents", params={"status": status},
                                     headers=responder.headers)).json()
        assert [i["id"] for i in filtered["items"]] == [
            i["id"] for i in listed["items"] if i["status"] == status]
    for item in listed["items"]:
        for key in (item["id"], item["reference"]):
            opened = await client.get(f"/api/v1/incidents/{key}", headers=responder.headers)
            assert opened.status_code == 200, (item["status"], opened.text)
