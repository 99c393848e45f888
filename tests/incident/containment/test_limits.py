"""Containment's free-text limits: refused whole by the service on every edge, never cut short."""

from __future__ import annotations

import httpx

from incident.containment.rules import EVIDENCE_DESCRIPTION_LIMIT, STEP_REASON_LIMIT
from tests.factories import Person, incident_body


async def _incident(client: httpx.AsyncClient, person: Person) -> str:
    response = await client.post("/api/v1/incidents", json=incident_body(), headers=person.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


async def test_an_evidence_description_over_the_limit_is_refused_and_nothing_is_stored(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await _incident(client, responder)
    over = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers,
                             data={"description": "d" * (EVIDENCE_DESCRIPTION_LIMIT + 1)},
                             files={"file": ("a.txt", b"a", "text/plain")})
    assert over.status_code == 422, over.text
    assert over.json()["errors"][0]["field"] == "description"
    listed = await client.get(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers)
    assert listed.json() == []
    exact = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder.headers,
                              data={"description": "d" * EVIDENCE_DESCRIPTION_LIMIT},
                              files={"file": ("a.txt", b"a", "text/plain")})
    assert exact.status_code == 201, exact.text
    assert len(exact.json()["description"]) == EVIDENCE_DESCRIPTION_LIMIT


async def test_a_step_reason_over_the_limit_is_refused_by_the_service(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await _incident(client, responder)
    attached = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                                 json={"runbook": "lost-device"}, headers=responder.headers)
    assert attached.status_code == 201, attached.text
    step = attached.json()["steps"][0]
    over = await client.patch(f"/api/v1/incidents/{reference}/steps/{step['id']}",
                              json={"state": "skipped", "reason": "r" * (STEP_REASON_LIMIT + 1)},
                              headers=responder.headers)
    assert over.status_code == 422, over.text
    assert over.json()["errors"][0]["field"] == "reason"
    unchanged = await client.get(f"/api/v1/incidents/{reference}/steps", headers=responder.headers)
    assert next(s for s in unchanged.json()["steps"] if s["id"] == step["id"])["state"] == "todo"
