"""The incident's circumstances drive its obligations at once: safe harbours and delays, end to end.

Over the real API on both database lanes: the circumstances recorded on the incident reach the
engine (`build_facts`), are the only place it reads encryption from once recorded, and the
obligation rows follow in the same transaction.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import LOW_RISK, PROFILE, Person, incident_body

CALIFORNIA = {**PROFILE, "country": "US", "timezone": "America/Los_Angeles"}
SAFE_KEY = {"encryption": "all", "state_of_the_art": True, "key_compromised": False}


async def californians(client: httpx.AsyncClient, people: dict[str, Person], count: int = 600) -> str:
    """An incident whose affected people are `count` California residents, financial data exposed."""
    admin, responder = people["admin"], people["responder"]
    assert (await client.put("/api/v1/organisation", json=CALIFORNIA, headers=admin.headers)
            ).status_code == 200
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"c-{n},p{n}@example.com,,en,US,US-CA,crm,contact;financial,,\n"
                   for n in range(count))
    imported = await client.post(
        "/api/v1/subjects/import", headers={**admin.headers, "content-type": "text/csv"},
        content=("external_id,email,name,locale,country,region,system,categories,first_seen,"
                 "last_seen\n" + rows).encode())
    assert imported.status_code == 200, imported.text
    created = await client.post("/api/v1/incidents", headers=responder.headers,
                                json=incident_body(data_categories=["financial"]))
    reference = str(created.json()["reference"])
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    assert (await client.post(f"/api/v1/incidents/{reference}/affected",
                              headers=responder.headers)).status_code == 201
    return reference


async def obligations(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/incidents/{reference}/obligations", headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_ref(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["ref"]: o for o in found["obligations"]}


async def record(client: httpx.AsyncClient, person: Person, reference: str,
                 body: dict[str, Any]) -> None:
    response = await client.put(f"/api/v1/incidents/{reference}/circumstances", json=body,
                                headers=person.headers)
    assert response.status_code == 200, response.text


async def test_california_encrypted_data_with_a_safe_key_owes_no_notice_until_the_key_is_taken(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    # Cal. Civ. Code 1798.82(a): notice to a resident whose unencrypted personal information was
    # acquired, or whose encrypted personal information was acquired together with "the
    # encryption key or security credential".
    responder, auditor = people["responder"], people["auditor"]
    reference = await californians(client, people)
    duties = by_ref(await obligations(client, responder, reference))
    assert duties["us-ca/individuals"]["applies"] and duties["us-ca/attorney-general"]["applies"]

    await record(client, responder, reference, SAFE_KEY)
    duties = by_ref(await obligations(client, responder, reference))
    individuals = duties["us-ca/individuals"]
    assert individuals["applies"] is False
    assert "safe harbour" in individuals["why"][0] and "1798.82(a)" in individuals["why"][0]
    assert duties["us-ca/attorney-general"]["applies"] is False

    await record(client, responder, reference, {**SAFE_KEY, "key_compromised": True})
    duties = by_ref(await obligations(client, responder, reference))
    assert duties["us-ca/individuals"]["applies"] is True
    assert duties["us-ca/attorney-general"]["applies"] is True

    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=auditor.headers)).json()
    kinds = [e["kind"] for e in events]
    assert kinds.count("circumstances_recorded") == 2
    # Each recording recomputed the obligations in its own transaction, right after it.
    first = kinds.index("circumstances_recorded")
    assert kinds[first + 1] == "obligations_recomputed"
    assert "circumstances" in str(events[first + 1]["payload"])


async def test_the_assessment_s_encryption_stands_in_until_the_incident_records_its_own(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await californians(client, people, count=20)
    assessed = await client.post(f"/api/v1/incidents/{reference}/assessment",
                                 json={**LOW_RISK, "data_categories": ["financial"]},
                                 headers=responder.headers)
    assert assessed.status_code == 201, assessed.text
    # It would end duties: in force once another person, an approver, confirms it.
    confirmed = await client.post(f"/api/v1/incidents/{reference}/assessments/1/confirm",
                                  headers=approver.headers)
    assert confirmed.status_code == 200, confirmed.text
    found = await obligations(client, responder, reference)
    assert any("encryption taken from assessment 1" in a for a in found["assumptions"]), found["assumptions"]
    assert by_ref(found)["us-ca/individuals"]["applies"] is False

    # Once recorded, the incident is the one place encryption is read from.
    await record(client, responder, reference, {"encryption": "none"})
    found = await obligations(client, responder, reference)
    assert not any("encryption taken from assessment" in a for a in found["assumptions"])
    assert by_ref(found)["us-ca/individuals"]["applies"] is True


async def test_an_open_law_enforcement_delay_holds_the_notice_until_it_ends(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    # Cal. Civ. Code 1798.82(c): delayed while law enforcement determines notice will impede a
    # criminal investigation; made promptly after it determines that it will not.
    responder = people["responder"]
    reference = await californians(client, people, count=20)
    before = by_ref(await obligations(client, responder, reference))["us-ca/individuals"]
    assert before["due_at"] is not None
    delay = {"agency": "FBI Los Angeles", "requested_at": "2026-03-10T10:00:00Z", "written": True}
    await record(client, responder, reference, {"law_enforcement_delay": delay})
    held = by_ref(await obligations(client, responder, reference))["us-ca/individuals"]
    assert held["applies"] is True and held["due_at"] is None and held["overdue"] is False
    assert held["trigger"]["waiting_for"] == (
        "the end of the law-enforcement delay requested by FBI Los Angeles (Cal. Civ. Code 1798.82(c))")

    await record(client, responder, reference,
                 {"law_enforcement_delay": {**delay, "until": "2026-06-01T07:00:00Z"}})
    stated = by_ref(await obligations(client, responder, reference))["us-ca/individuals"]
    assert stated["due_at"] == "2026-06-01T07:00:00Z"
    assert any("FBI Los Angeles" in note for note in stated["basis"]["notes"])


async def test_a_florida_determination_lifts_the_notice_and_is_owed_to_the_department(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    # Fla. Stat. 501.171(4)(c): no notice to individuals after an investigation and consultation
    # with law enforcement finds no identity theft or financial harm likely; the written
    # determination goes to the Department of Legal Affairs within 30 days.
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    await client.put("/api/v1/organisation", headers=admin.headers,
                     json={**PROFILE, "country": "US", "timezone": "America/New_York"})
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"f-{n},f{n}@example.com,,en,US,US-FL,crm,financial,,\n" for n in range(20))
    await client.post("/api/v1/subjects/import", headers={**admin.headers, "content-type": "text/csv"},
                      content=("external_id,email,name,locale,country,region,system,categories,"
                               "first_seen,last_seen\n" + rows).encode())
    reference = (await client.post("/api/v1/incidents", headers=responder.headers,
                                   json=incident_body(data_categories=["financial"]))).json()["reference"]
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    assert by_ref(await obligations(client, responder, reference))["us-fl/individuals"]["applies"]

    harm = {"conclusion": "misuse_not_reasonably_likely", "determined_by": "Dana Privacy (DPO)",
            "text": "The file went to a bank's fraud team by mistake and was deleted unread, as "
                    "their written attestation shows; the police saw no sign of misuse.",
            "determined_at": "2026-03-10T11:00:00Z", "law_enforcement_consulted": True}
    await record(client, approver, reference, {"risk_of_harm": harm})
    duties = by_ref(await obligations(client, responder, reference))
    assert duties["us-fl/individuals"]["applies"] is False
    assert "501.171(4)(c)" in duties["us-fl/individuals"]["why"][0]
    sent = duties["us-fl/harm-determination"]
    # 30 days after 10 March 2026 (Eastern): 9 April, to the end of that day (EDT).
    assert sent["applies"] is True and sent["due_at"] == "2026-04-10T03:59:59.999999Z"
