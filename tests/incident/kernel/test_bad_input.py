"""Hostile and careless input: a 4xx problem details body, and nothing half-written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.db import session_factory
from incident.lifecycle.models import Incident
from incident.timeline.models import TimelineEvent
from tests.factories import Person, incident_body


async def rows(engine: AsyncEngine) -> tuple[int, int]:
    async with session_factory(engine)() as db:
        incidents = (await db.exec(select(func.count()).select_from(Incident))).one()
        events = (await db.exec(select(func.count()).select_from(TimelineEvent))).one()
    return int(incidents), int(events)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    return body


RAW_BODIES = [
    b"{not json", b"", b"null", b"[]", b'"a string"', b"\xff\xfe\x00", b'{"title": "x"',
]


@pytest.mark.parametrize("raw", RAW_BODIES)
async def test_malformed_json(client: httpx.AsyncClient, engine: AsyncEngine,
                              people: dict[str, Person], raw: bytes) -> None:
    before = await rows(engine)
    response = await client.post("/api/v1/incidents", content=raw, headers={
        **people["responder"].headers, "content-type": "application/json"})
    assert_problem(response, 400)
    assert await rows(engine) == before


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "alien_invasion"}, "kind"),
    ({"kind": 7}, "kind"),
    ({"breach_types": ["secrecy"]}, "breach_types"),
    ({"data_categories": "contact"}, "data_categories"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": None}, "title"),
    ({"estimated_subjects": -1}, "estimated_subjects"),
    ({"estimated_subjects": "many"}, "estimated_subjects"),
    ({"estimated_subjects": 1.5}, "estimated_subjects"),
    ({"aware_at": "2026-02-30T10:00:00Z"}, "aware_at"),
    ({"aware_at": "2026-03-10T25:00:00Z"}, "aware_at"),
    ({"aware_at": "yesterday"}, "aware_at"),
    ({"aware_at": "2026-03-10T09:30:00"}, "aware_at"),  # no offset: ambiguous
    ({"detected_at": None}, "detected_at"),
    ({"unexpected": True}, "unexpected"),
    ({"status": "closed"}, "status"),  # status is not settable at creation
    ({"systems": ["x"] * 201}, "systems"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
async def test_wrong_types_and_unknown_values_name_the_field(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        overrides: dict[str, Any], field: str) -> None:
    before = await rows(engine)
    response = await client.post("/api/v1/incidents", json=incident_body(**overrides),
                                 headers=people["responder"].headers)
    problem = assert_problem(response, 400)
    assert any(e["field"].split(".")[0] == field for e in problem["errors"]), problem
    assert await rows(engine) == before


IMPOSSIBLE_STORIES: list[tuple[dict[str, Any], str]] = [
    ({"aware_at": "2026-03-09T10:00:00Z"}, "aware_at"),       # before the breach began
    ({"detected_at": "2026-03-10T10:00:00Z"}, "aware_at"),    # aware before detected
    ({"aware_at": "2026-03-10T13:00:00Z"}, "aware_at"),       # an hour in the future
    ({"occurred_to": "2026-03-09T17:00:00Z"}, "occurred_to"),  # ends before it began
    ({"lead": "nobody@example.com"}, "lead"),
]


@pytest.mark.parametrize(("overrides", "field"), IMPOSSIBLE_STORIES)
async def test_impossible_dates_are_422_naming_the_field(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        overrides: dict[str, Any], field: str) -> None:
    before = await rows(engine)
    response = await client.post("/api/v1/incidents", json=incident_body(**overrides),
                                 headers=people["responder"].headers)
    problem = assert_problem(response, 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert await rows(engine) == before


async def test_impossible_update_changes_nothing(client: httpx.AsyncClient, engine: AsyncEngine,
                                                 people: dict[str, Person]) -> None:
    created = await client.post("/api/v1/incidents", json=incident_body(),
                                headers=people["responder"].headers)
    url = f"/api/v1/incidents/{created.json()['id']}"
    before = await rows(engine)
    response = await client.patch(url, json={"title": "renamed", "aware_at": "2020-01-01T00:00:00Z"},
                                  headers=people["responder"].headers)
    assert_problem(response, 422)
    assert await rows(engine) == before
    assert (await client.get(url, headers=people["responder"].headers)).json()["title"] == (
        incident_body()["title"])
    nulls = await client.patch(url, json={"title": None}, headers=people["responder"].headers)
    assert_problem(nulls, 422)


async def test_oversized_body_is_413(client: httpx.AsyncClient, engine: AsyncEngine,
                                     people: dict[str, Person]) -> None:
    before = await rows(engine)
    huge = incident_body(description="x" * 1_100_000)
    response = await client.post("/api/v1/incidents", json=huge,
                                 headers=people["responder"].headers)
    assert_problem(response, 413)
    assert await rows(engine) == before


async def test_long_but_allowed_text_round_trips(client: httpx.AsyncClient,
                                                 people: dict[str, Person]) -> None:
    text = "Ünïcødé ‮ <script>alert(1)</script> {{ 7*7 }}\r\nline two " + "y" * 19_000
    response = await client.post("/api/v1/incidents", json=incident_body(description=text),
                                 headers=people["responder"].headers)
    assert response.status_code == 201
    assert response.json()["description"] == text
    page = await client.get(f"/incidents/{response.json()['reference']}",
                            headers=people["responder"].headers)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "{{ 7*7 }}" in page.text


@pytest.mark.parametrize("path", ["/api/v1/incidents/not-a-thing",
                                  "/api/v1/incidents/00000000-0000-0000-0000-000000000000",
                                  "/api/v1/incidents/BR-2026-0001%27%3B--"])
async def test_unknown_incidents_are_404(client: httpx.AsyncClient, people: dict[str, Person],
                                         path: str) -> None:
    assert_problem(await client.get(path, headers=people["auditor"].headers), 404)


async def test_wrong_content_type_and_methods(client: httpx.AsyncClient,
                                              people: dict[str, Person]) -> None:
    response = await client.put("/api/v1/incidents", json={}, headers=people["admin"].headers)
    assert_problem(response, 405)
    bad_status = await client.post("/api/v1/incidents/BR-2026-0001/status",
                                   json={"status": "exploded"}, headers=people["admin"].headers)
    assert_problem(bad_status, 400)


async def test_internal_errors_reveal_nothing(client: httpx.AsyncClient,
                                              people: dict[str, Person]) -> None:
    # A query parameter the database cannot hold still ends as a clean problem, never a trace.
    response = await client.get("/api/v1/incidents?offset=99999999999999999999999",
                                headers=people["auditor"].headers)
    assert response.status_code in (400, 422)
    assert "Traceback" not in response.text
