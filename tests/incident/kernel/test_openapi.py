"""The published OpenAPI document tells what the server enforces (kernel/openapi.py); the
fuzzing in test_api_fuzzing.py holds the server to it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import yaml

from incident.kernel.bounds import COUNT_MAX
from incident.kernel.text import NON_BLANK_LINE_PATTERN
from tests.factories import Person, new_incident

API = "/api/v1/"


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/schema/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


async def test_every_guarded_operation_declares_its_problems_as_problem_json(
        client: httpx.AsyncClient) -> None:
    document = await _document(client)
    missing = []
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        expected = {"401", "403"} if path.startswith(API) else set()
        if "{" in path:
            expected |= {"400", "404"}
        if method in ("post", "put", "patch", "delete"):
            expected |= {"400", "413"}
        for status in sorted(expected):
            content = responses.get(status, {}).get("content", {})
            if content.get("application/problem+json", {}).get("schema") != {
                    "$ref": "#/components/schemas/Problem"}:
                missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    assert len(_operations(document)) >= 50


async def test_public_operations_need_no_token(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    for path in ("/health", "/ready"):
        operation = document["paths"][path]["get"]
        assert operation["security"] == []
        assert "401" not in operation["responses"]
    assert document["paths"]["/api/v1/me"]["get"].get("security") is None  # the default: bearer
    assert document["security"] == [{"bearer": []}]


async def test_bodies_are_described_as_validated(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    schemas = document["components"]["schemas"]
    created = document["paths"]["/api/v1/incidents"]["post"]["requestBody"]["content"]
    assert created["application/json"]["schema"] == {"$ref": "#/components/schemas/IncidentCreate"}
    incident = schemas["IncidentCreate"]
    assert incident["additionalProperties"] is False
    assert incident["properties"]["title"]["pattern"] == NON_BLANK_LINE_PATTERN
    assert {"type": "integer", "minimum": 0, "maximum": COUNT_MAX}.items() <= (
        incident["properties"]["estimated_subjects"]["anyOf"][0].items())
    assert incident["properties"]["data_categories"]["uniqueItems"] is True
    assert "pattern" in incident["properties"]["aware_at"]

    # The assessment's body is read by the service, which reports every wrong field at once;
    # the document still names its fields.
    assessed = document["paths"]["/api/v1/incidents/{key}/assessment"]["post"]["requestBody"]
    facts = schemas[assessed["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"data_categories", "subjects", "malicious"} <= set(facts["required"])

    profile = schemas["Profile"]["properties"]
    assert profile["targets"]["type"] == profile["authorities"]["type"] == "object"
    assert profile["authorities"]["additionalProperties"] is False
    assert "Europe/Berlin" in profile["timezone"]["enum"]
    text, per_locale = schemas["DraftEdit"]["properties"]["fields"]["additionalProperties"]["anyOf"]
    assert text["maxLength"] == 20_000 and per_locale["additionalProperties"] is False
    assert next(iter(per_locale["patternProperties"].values()))["maxLength"] == 20_000
    assert schemas["Profile"]["properties"]["flags"]["uniqueItems"] is True


async def test_address_patterns_mean_the_same_to_every_reader(client: httpx.AsyncClient) -> None:
    """The server (Unicode classes) and a client reading patterns as ASCII agree on spaces."""
    contact = (await _document(client))["components"]["schemas"]["Contact"]["properties"]
    for name in ("email", "website"):
        pattern = contact[name]["anyOf"][0]["pattern"]
        for flags in (0, re.ASCII):
            assert re.fullmatch(pattern, "a\u00a0@b.c" if name == "email"
                                else "https://a\u2003b.example", flags) is None
            assert re.fullmatch(pattern, "a@b.c" if name == "email"
                                else "https://b.example/x", flags) is not None


async def test_files_are_declared_in_their_media_types(client: httpx.AsyncClient) -> None:
    paths = (await _document(client))["paths"]
    export = paths["/api/v1/incidents/{key}/timeline/export"]["get"]["responses"]["200"]
    assert set(export["content"]) == {"application/x-ndjson", "text/csv; charset=utf-8"}
    download = paths["/api/v1/incidents/{key}/evidence/{evidence_id}"]["get"]["responses"]["200"]
    assert set(download["content"]) == {"application/octet-stream"}
    upload = paths["/api/v1/subjects/import"]["post"]["requestBody"]["content"]
    assert set(upload) == {"text/csv", "application/x-ndjson"}


async def test_every_reference_resolves_and_the_yaml_says_the_same(
        client: httpx.AsyncClient) -> None:
    document = await _document(client)
    names = set(document["components"]["schemas"])
    dangling = {ref for ref in _references(document)
                if ref.rsplit("/", 1)[1] not in names}
    assert dangling == set()
    as_yaml = await client.get("/schema/openapi.yaml")
    assert yaml.safe_load(as_yaml.text) == document


async def test_options_and_405_name_every_method_of_the_route(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    headers = people["responder"].headers
    options = await client.options("/api/v1/incidents", headers=headers)
    assert options.headers["allow"] == "GET, OPTIONS, POST"
    reference = await new_incident(client, people["responder"])
    options = await client.options(f"/api/v1/incidents/{reference}", headers=headers)
    assert options.headers["allow"] == "GET, OPTIONS, PATCH"
    refused = await client.put(f"/api/v1/incidents/{reference}", headers=headers, json={})
    assert refused.status_code == 405
    assert set(refused.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}
    assert refused.headers["content-type"] == "application/problem+json"
