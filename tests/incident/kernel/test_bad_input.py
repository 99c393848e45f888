"""Hostile and careless input: a 4xx problem details body, and nothing half-written."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.inventory.rules import Format, RowError, read_records
from incident.kernel.bodies import MAX_JSON_DEPTH, json_depth
from incident.kernel.db import session_factory
from incident.lifecycle.models import Incident
from incident.timeline.models import TimelineEvent
from tests.cli_support import Breach, breach, one_line_error  # noqa: F401  (fixture)
from tests.factories import LOW_RISK, PROFILE, Person, incident_body
from tests.sessions import Browser


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
    text = "Ünïcødé \u05e9\u05dc\u05d5\u05dd\t<script>alert(1)</script> {{ 7*7 }}\r\nline two " + "y" * 19_000
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


HUGE_ID = "99999999999999999999"
ID_PATHS = [
    ("GET", "/api/v1/incidents/BR-2026-0001/evidence/{id}"),
    ("GET", "/api/v1/incidents/BR-2026-0001/notifications/{id}"),
    ("GET", "/api/v1/incidents/BR-2026-0001/notifications/{id}/preview"),
    ("POST", "/api/v1/incidents/BR-2026-0001/notifications/{id}/send"),
    ("PATCH", "/api/v1/incidents/BR-2026-0001/steps/{id}"),
]


@pytest.mark.parametrize("row_id", [HUGE_ID, str(2**31), str(2**63), "0", "-1"])
@pytest.mark.parametrize(("method", "template"), ID_PATHS)
async def test_ids_beyond_the_integer_column_are_refused(
        client: httpx.AsyncClient, people: dict[str, Person], method: str, template: str,
        row_id: str) -> None:
    response = await client.request(method, template.format(id=row_id), json={},
                                    headers=people["admin"].headers)
    assert response.status_code in (400, 404), response.text
    assert_problem(response, response.status_code)


async def test_the_largest_id_is_a_plain_404(client: httpx.AsyncClient,
                                             people: dict[str, Person]) -> None:
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=people["responder"].headers)).json()["reference"]
    response = await client.get(f"/api/v1/incidents/{reference}/notifications/{2**31 - 1}",
                                headers=people["admin"].headers)
    assert_problem(response, 404)


@pytest.mark.parametrize("path", [f"/incidents/BR-2026-0001/notifications/{HUGE_ID}",
                                  f"/incidents/BR-2026-0001/notifications/{HUGE_ID}/preview.html",
                                  f"/mailbox/{HUGE_ID}", f"/mailbox?before={HUGE_ID}"])
async def test_pages_refuse_huge_ids_without_a_trace(client: httpx.AsyncClient,
                                                     people: dict[str, Person], path: str) -> None:
    response = await client.get(path, headers=people["admin"].headers)
    assert response.status_code in (400, 404), response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("step", [HUGE_ID, str(2**31), "0"])
async def test_evidence_for_a_step_id_no_column_holds_names_the_field(
        client: httpx.AsyncClient, people: dict[str, Person], step: str) -> None:
    headers = people["responder"].headers
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=headers)).json()["reference"]
    upload = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=headers,
                               data={"step": step},
                               files={"file": ("log.txt", b"log", "text/plain")})
    assert upload.status_code in (400, 422), upload.text
    assert "step" in assert_problem(upload, upload.status_code)["detail"]


def test_cli_refuses_a_notification_id_no_column_holds(breach: Breach) -> None:  # noqa: F811
    ref = breach("incidents", "create", "--title", "Lost laptop", "--kind", "lost_device"
                 ).stdout.strip()
    done = breach("notifications", "status", ref, HUGE_ID, ok=False)
    assert done.exit_code == 2 and "Traceback" not in done.stderr
    assert "NOTIFICATION_ID" in done.stderr and "2147483647" in done.stderr


def nested(depth: int) -> bytes:
    """A JSON value `depth` arrays deep inside an object field."""
    return b"[" * depth + b"]" * depth


DEEP_BODIES = [
    ("POST", "/api/v1/incidents", b'{"title": "x", "systems": %s}'),
    ("POST", "/api/v1/incidents", b'{"title": %s}'),
    ("PUT", "/api/v1/incidents/BR-2026-0001/scope", b'{"systems": %s}'),
    ("POST", "/api/v1/incidents/BR-2026-0001/assessment", b'{"categories": %s}'),
    ("PUT", "/api/v1/organisation", b'{"targets": %s}'),
    ("PATCH", "/api/v1/incidents/BR-2026-0001/steps/1", b'{"state": %s}'),
]


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize(("method", "path", "shape"), DEEP_BODIES)
async def test_deeply_nested_json_is_a_clean_400(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        method: str, path: str, shape: bytes, depth: int) -> None:
    before = await rows(engine)
    response = await client.request(method, path, content=shape % nested(depth), headers={
        **people["admin"].headers, "content-type": "application/json"})
    assert_problem(response, 400)
    assert await rows(engine) == before


async def test_deep_json_is_refused_whatever_the_content_type(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    for content_type in ("text/plain", "application/merge-patch+json"):
        response = await client.post("/api/v1/incidents", content=nested(5_000), headers={
            **people["admin"].headers, "content-type": content_type})
        assert response.status_code in (400, 415), response.text
        assert "Traceback" not in response.text


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b"") == 0 and json_depth(b"7") == 0 and json_depth(b"{}") == 1
    assert json_depth(b'{"a": [1, {"b": "[[[[\\"[ {"}]}') == 3
    assert json_depth(nested(MAX_JSON_DEPTH)) == MAX_JSON_DEPTH


async def test_nesting_at_the_limit_reaches_the_parser(client: httpx.AsyncClient,
                                                       people: dict[str, Person]) -> None:
    body = b'{"title": "x", "systems": %s}' % nested(MAX_JSON_DEPTH - 1)
    response = await client.post("/api/v1/incidents", content=body, headers={
        **people["admin"].headers, "content-type": "application/json"})
    problem = assert_problem(response, 400)
    assert "nested deeper" not in problem["detail"] and "systems" in problem["detail"]


def test_cli_refuses_deep_json_in_one_line(breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    ref = breach("incidents", "create", "--title", "Lost laptop", "--kind", "lost_device"
                 ).stdout.strip()
    deep = tmp_path / "scope.json"
    deep.write_bytes(b'{"systems": %s}' % nested(100_000))
    for args, given in (((str(deep),), None), (("-",), deep.read_text())):
        done = breach("affected", "scope", ref, *args, ok=False, input=given)
        assert done.exit_code == 1, done.stderr
        assert one_line_error(done).endswith(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def test_a_deep_jsonl_line_is_a_row_error() -> None:
    body = b'{"subject": "a@example.com"}\n' + nested(100_000) + b"\n"
    errors = [r for r in read_records(io.BytesIO(body), Format.JSONL) if isinstance(r, RowError)]
    assert [e.line for e in errors if "nested deeper" in e.reason] == [2]


BAD_INSTANTS: list[Any] = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00", 0, "0", -1, 1e12, "1e12",
    "2026-03-10", "2026-03-10T09:30:00+0100", True,
]


@pytest.mark.parametrize("value", BAD_INSTANTS)
async def test_instants_are_rfc_3339_text_within_range(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        value: Any) -> None:
    headers = people["responder"].headers
    before = await rows(engine)
    response = await client.post("/api/v1/incidents", json=incident_body(aware_at=value),
                                 headers=headers)
    assert "aware_at" in assert_problem(response, 400)["detail"]
    assert await rows(engine) == before
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=headers)).json()["reference"]
    for path, body, field in (
            (f"/api/v1/incidents/{reference}", {"occurred_from": value}, "occurred_from"),
            (f"/api/v1/incidents/{reference}/scope", {"exposure_from": value}, "exposure_from"),
            (f"/api/v1/incidents/{reference}/milestones", {"breach_determined_at": value},
             "breach_determined_at")):
        method = "PATCH" if path.endswith(reference) else "PUT"
        refused = await client.request(method, path, json=body, headers=headers)
        assert refused.status_code in (400, 422), (path, refused.text)
        assert field in assert_problem(refused, refused.status_code)["detail"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                   "0", "2026-03-10", "yesterday"])
async def test_list_filters_refuse_bad_instants_naming_the_parameter(
        client: httpx.AsyncClient, people: dict[str, Person], value: str) -> None:
    for name in ("aware_from", "aware_to"):
        response = await client.get("/api/v1/incidents", params={name: value},
                                    headers=people["auditor"].headers)
        assert response.status_code in (400, 422), response.text
        assert name in assert_problem(response, response.status_code)["detail"]


async def test_list_filters_take_any_offset(client: httpx.AsyncClient,
                                            people: dict[str, Person]) -> None:
    await client.post("/api/v1/incidents", json=incident_body(),
                      headers=people["responder"].headers)  # aware 2026-03-10T09:30Z
    found = await client.get("/api/v1/incidents", headers=people["auditor"].headers, params={
        "aware_from": "2026-03-10T10:29:00+01:00", "aware_to": "2026-03-10t09:31:00z"})
    assert found.status_code == 200 and found.json()["total"] == 1


def test_cli_refuses_times_out_of_range(breach: Breach) -> None:  # noqa: F811
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T12:00"):
        done = breach("incidents", "create", "--title", "Lost laptop", "--kind", "lost_device",
                      "--aware-at", value, ok=False)
        assert done.exit_code == 1 and "must be between 1970-01-01" in one_line_error(done)


async def test_the_incident_form_refuses_year_one_inline(responder: Browser) -> None:
    form = {"title": "Lost laptop", "kind": "lost_device", "breach_types": "confidentiality",
            "detected_at": "2026-03-10T08:00", "aware_at": "0001-01-01T00:00"}
    response = await responder.sent_back("/incidents", form, to="/incidents/new#form-errors")
    assert "Traceback" not in response.text
    assert "must be between 1970-01-01" in response.text
    assert 'value="Lost laptop"' in response.text and 'value="0001-01-01T00:00"' in response.text


async def test_an_obligation_is_not_met_before_awareness(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    assert (await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
            ).status_code == 200
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=responder.headers)).json()["reference"]
    listed = await client.get(f"/api/v1/incidents/{reference}/obligations",
                              headers=responder.headers)  # computes the duties
    assert listed.status_code == 200
    url = f"/api/v1/incidents/{reference}/obligations/gdpr/authority"
    early = await client.post(url, headers=responder.headers, json={
        "status": "met", "how": "portal", "at": "2026-03-10T09:29:59Z"})  # aware at 09:30Z
    assert "awareness" in assert_problem(early, 422)["detail"]
    on_time = await client.post(url, headers=responder.headers, json={
        "status": "met", "how": "portal", "at": "2026-03-10T09:30:00Z"})
    assert on_time.status_code == 200, on_time.text


STRICT_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"estimated_subjects": "7"}, "estimated_subjects"),
    ({"estimated_subjects": True}, "estimated_subjects"),
    ({"estimated_records": "7"}, "estimated_records"),
    ({"estimated_subjects": 99999999999999999999}, "estimated_subjects"),
    ({"estimated_records": 10_000_000_001}, "estimated_records"),
    ({"data_categories": ["contact", "financial", "contact"]}, "data_categories"),
    ({"breach_types": ["confidentiality", "confidentiality"]}, "breach_types"),
    ({"systems": ["crm", " crm "]}, "systems"),
]


@pytest.mark.parametrize(("overrides", "field"), STRICT_FIELDS)
async def test_counts_are_strict_and_lists_name_each_value_once(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        overrides: dict[str, Any], field: str) -> None:
    headers = people["responder"].headers
    before = await rows(engine)
    created = await client.post("/api/v1/incidents", json=incident_body(**overrides),
                                headers=headers)
    assert field in assert_problem(created, 400)["detail"]
    assert await rows(engine) == before
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=headers)).json()["reference"]
    patched = await client.patch(f"/api/v1/incidents/{reference}", json=overrides,
                                 headers=headers)
    assert field in assert_problem(patched, 400)["detail"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"subjects": "7"}, "subjects"), ({"subjects": True}, "subjects"),
    ({"subjects": 99999999999999999999}, "subjects"),
    ({"data_categories": ["contact", "contact"]}, "data_categories")])
async def test_assessment_facts_are_strict(client: httpx.AsyncClient, people: dict[str, Person],
                                           overrides: dict[str, Any], field: str) -> None:
    headers = people["responder"].headers
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=headers)).json()["reference"]
    response = await client.post(f"/api/v1/incidents/{reference}/assessment",
                                 json={**LOW_RISK, **overrides}, headers=headers)
    assert field in assert_problem(response, 422)["detail"]
    assert (await client.post(f"/api/v1/incidents/{reference}/assessment",
                              json={**LOW_RISK, "subjects": 10_000_000_000},
                              headers=headers)).status_code == 201


async def test_scope_lists_name_each_value_once(client: httpx.AsyncClient,
                                                people: dict[str, Person]) -> None:
    headers = people["responder"].headers
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=headers)).json()["reference"]
    for body, field in (({"systems": ["crm", "crm"]}, "systems"),
                        ({"data_categories": ["contact", "contact"]}, "data_categories"),
                        ({"include": ["c-1", "c-2", "c-1"]}, "include"),
                        ({"exclude": ["a@example.com", " a@example.com"]}, "exclude")):
        response = await client.put(f"/api/v1/incidents/{reference}/scope", json=body,
                                    headers=headers)
        assert field in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize(("typed", "message"), [("many", "must be a whole number"),
                                                ("99999999999999999999", "less than or equal")])
async def test_the_incident_form_keeps_a_bad_count_inline(responder: Browser, typed: str,
                                                          message: str) -> None:
    form = {"title": "Lost laptop", "kind": "lost_device", "breach_types": "confidentiality",
            "detected_at": "2026-03-10T08:00", "aware_at": "2026-03-10T09:30",
            "estimated_subjects": typed}
    response = await responder.sent_back("/incidents", form, to="/incidents/new#form-errors")
    assert message in response.text
    assert f'value="{typed}"' in response.text


async def test_the_incident_form_takes_a_count(responder: Browser) -> None:
    form = {"title": "Lost laptop", "kind": "lost_device", "breach_types": "confidentiality",
            "detected_at": "2026-03-10T08:00", "aware_at": "2026-03-10T09:30",
            "estimated_subjects": " 1200 "}
    response = await responder.post("/incidents", form)
    assert response.status_code in (302, 303), response.text
    page = await responder.client.get(response.headers["location"])
    assert "1,200" in page.text or "1200" in page.text


def test_cli_refuses_a_count_beyond_the_bound(breach: Breach) -> None:  # noqa: F811
    done = breach("incidents", "create", "--title", "Lost laptop", "--kind", "lost_device",
                  "--subjects", "99999999999999999999", ok=False)
    assert done.exit_code == 1 and "estimated_subjects" in one_line_error(done)


HOSTILE = {"ESC": "\x1b[31m", "LF": "\n", "CR": "\r", "TAB": "\t", "NUL": "\x00", "DEL": "\x7f",
           "C1": "\x9b", "RLO": "\u202e", "LRI": "\u2066", "ZWSP": "\u200b", "BOM": "\ufeff"}
"""One character of each class a one-line field refuses (control, bidi override, invisible)."""


def names_field(problem: dict[str, Any], field: str, char: str) -> bool:
    return any(e["field"].split(".")[-1] == field and f"U+{ord(char[0]):04X}" in e["message"]
               for e in problem["errors"])


@pytest.mark.parametrize("name", HOSTILE)
async def test_one_line_fields_refuse_control_bidi_and_invisible_characters(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person],
        name: str) -> None:
    char, headers = HOSTILE[name], people["admin"].headers
    before = await rows(engine)
    created = await client.post("/api/v1/incidents", headers=headers,
                                json=incident_body(title=f"Lost{char}laptop"))
    assert names_field(assert_problem(created, 400), "title", char)
    assert await rows(engine) == before
    incident = (await client.post("/api/v1/incidents", json=incident_body(),
                                  headers=headers)).json()
    renamed = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=headers,
                                 json={"title": f"Re{char}named"})
    assert names_field(assert_problem(renamed, 400), "title", char)
    system = await client.put("/api/v1/systems/crm", headers=headers,
                              json={"name": f"C{char}RM", "data_categories": ["contact"]})
    assert names_field(assert_problem(system, 400), "name", char)
    token = await client.post("/api/v1/tokens", headers=headers, json={"name": f"c{char}i"})
    assert names_field(assert_problem(token, 400), "name", char)
    shown = await client.get(f"/api/v1/incidents/{incident['id']}", headers=headers)
    assert shown.json()["title"] == incident_body()["title"]


@pytest.mark.parametrize("name", ["ESC", "NUL", "DEL", "C1", "RLO", "LRI"])
async def test_notes_refuse_controls_and_bidi_but_keep_line_breaks(
        client: httpx.AsyncClient, people: dict[str, Person], name: str) -> None:
    headers = people["responder"].headers
    incident = (await client.post("/api/v1/incidents", json=incident_body(),
                                  headers=headers)).json()
    url = f"/api/v1/incidents/{incident['id']}/notes"
    refused = await client.post(url, headers=headers, json={"text": f"see{HOSTILE[name]}log"})
    assert names_field(assert_problem(refused, 422), "text", HOSTILE[name])
    kept = await client.post(url, headers=headers, json={"text": "line one\r\n\tline two"})
    assert kept.status_code == 201, kept.text


def test_cli_refuses_an_escape_in_a_title_in_one_line(breach: Breach) -> None:  # noqa: F811
    done = breach("incidents", "create", "--title", "Lost \x1b[31mlaptop", "--kind",
                  "lost_device", ok=False)
    line = one_line_error(done)
    assert done.exit_code == 1 and "title" in line and "U+001B" in line
    assert "\x1b" not in done.stderr + done.stdout


def store(breach: Breach, sql: str, value: str, key: str) -> None:  # noqa: F811
    """Write `value` by raw SQL, as a row stored before the checks existed."""
    from sqlalchemy import text

    from incident.kernel.db import create_engine

    async def run() -> None:
        engine = create_engine(breach.settings.effective_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(sql), {"v": value, "k": key})
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_cli_prints_stored_control_characters_as_escapes(breach: Breach) -> None:  # noqa: F811
    ref = breach("incidents", "create", "--title", "Lost laptop", "--kind", "lost_device"
                 ).stdout.strip()
    hostile = "Lost \x1b[31mlaptop\x1b[0m\nforged line \u202eexe.pdf"

    store(breach, "UPDATE incidents SET title = :v WHERE reference = :k", hostile, ref)
    listed = breach("incidents", "list").stdout
    line = next(row for row in listed.splitlines() if row.startswith(ref))
    assert line.endswith("Lost \\x1b[31mlaptop\\x1b[0m\\x0aforged line \\u202eexe.pdf")
    assert len(listed.splitlines()) == 1
    shown = breach("incidents", "show", ref).stdout
    assert "\\x1b[31m" in shown and "\\u202e" in shown
    as_json = breach("incidents", "show", ref, "--json").stdout
    assert "\\u001b" in as_json and "\\u202e" in as_json
    assert json.loads(as_json)["title"] == hostile
    for output in (listed, shown, as_json):
        assert "\x1b" not in output and "\u202e" not in output


async def test_the_incident_form_refuses_an_override_inline(responder: Browser) -> None:
    form = {"title": "Invoice \u202efdp.exe", "kind": "lost_device",
            "breach_types": "confidentiality", "detected_at": "2026-03-10T08:00",
            "aware_at": "2026-03-10T09:30"}
    response = await responder.sent_back("/incidents", form, to="/incidents/new#form-errors")
    assert "Traceback" not in response.text
    assert "must not contain the character U+202E" in response.text
    assert 'value="Invoice \u202efdp.exe"' in response.text


def test_cli_errors_echo_what_was_typed_as_escapes(breach: Breach) -> None:  # noqa: F811
    done = breach("incidents", "show", "BR-\x1b]0;owned\x07", ok=False)
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "\\x1b]0;owned\\x07" in one_line_error(done)


async def test_pages_isolate_a_stored_override_in_its_own_span(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    from sqlalchemy import text

    headers = people["responder"].headers
    incident = (await client.post("/api/v1/incidents", json=incident_body(),
                                  headers=headers)).json()
    async with engine.begin() as connection:  # as a row written before the check existed
        await connection.execute(text("UPDATE incidents SET title = :t WHERE reference = :r"),
                                 {"t": "Invoice \u202efdp.exe", "r": incident["reference"]})
    listing = await client.get("/incidents", headers=headers)
    assert "<td><bdi>Invoice \u202efdp.exe</bdi></td>" in listing.text
    page = await client.get(f"/incidents/{incident['reference']}", headers=headers)
    assert '<bdi class="title">Invoice \u202efdp.exe</bdi></h1>' in page.text
    notices = await client.get(f"/incidents/{incident['reference']}/notifications",
                               headers=headers)
    assert '<p class="incident-title"><bdi>Invoice \u202efdp.exe</bdi></p>' in notices.text


def test_cli_keeps_a_stored_line_break_in_a_system_name_on_one_line(
        breach: Breach) -> None:  # noqa: F811
    breach("systems", "add", "crm", "--name", "CRM")
    store(breach, "UPDATE systems SET name = :v WHERE key = :k", "CRM\n\x1b[2Jforged", "crm")
    listed = breach("systems", "list").stdout
    assert len(listed.strip().splitlines()) == 1, listed
    assert "CRM\\x0a\\x1b[2Jforged" in listed and "\x1b" not in listed


async def test_the_largest_count_is_stored_and_read_back(client: httpx.AsyncClient,
                                                         people: dict[str, Person]) -> None:
    """10,000,000,000 records exceed PostgreSQL's INTEGER: the columns are BIGINT (0008)."""
    headers = people["responder"].headers
    created = await client.post("/api/v1/incidents", headers=headers, json=incident_body(
        estimated_subjects=9_999_999_999, estimated_records=10_000_000_000))
    assert created.status_code == 201, created.text
    shown = (await client.get(f"/api/v1/incidents/{created.json()['reference']}",
                              headers=headers)).json()
    assert (shown["estimated_subjects"], shown["estimated_records"]) == (9_999_999_999,
                                                                         10_000_000_000)


@pytest.mark.parametrize("version", ["1", True, 1.5, 0, 2**31])
async def test_versions_are_strict_whole_numbers(client: httpx.AsyncClient,
                                                 people: dict[str, Person], version: Any) -> None:
    responder = people["responder"].headers
    reference = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=responder)).json()["reference"]
    await client.post(f"/api/v1/incidents/{reference}/runbooks", json={"runbook": "lost-device"},
                      headers=responder)
    step = (await client.get(f"/api/v1/incidents/{reference}/steps",
                             headers=responder)).json()["steps"][0]
    changed = await client.patch(f"/api/v1/incidents/{reference}/steps/{step['id']}",
                                 json={"state": "in_progress", "version": version},
                                 headers=responder)
    detail = assert_problem(changed, 400)["detail"]
    assert "version" in detail and "Value error" not in detail
    # 1.0 is the JSON integer 1, as JSON Schema has it.
    changed = await client.patch(f"/api/v1/incidents/{reference}/steps/{step['id']}",
                                 json={"state": "in_progress", "version": 1.0}, headers=responder)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2


async def test_a_stored_profile_the_checks_would_refuse_is_still_shown(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    """Responses are not validated again: an old row must be readable, to be corrected."""
    from sqlalchemy import text

    admin = people["admin"].headers
    assert (await client.put("/api/v1/organisation", json=PROFILE, headers=admin)).status_code == 200
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE organisation_profile SET name = :n"),
                                 {"n": "Example\nGmbH"})
    shown = await client.get("/api/v1/organisation", headers=admin)
    assert shown.status_code == 200 and shown.json()["name"] == "Example\nGmbH"
