"""The obligations' JSON API where it does more than pass a service's answer on: the profile
before anyone set it, and every assessment of an incident, oldest first."""

from __future__ import annotations

import httpx

from tests.factories import LOW_RISK, PROFILE, Person, new_incident


async def test_the_profile_is_missing_until_an_admin_sets_it(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    auditor = people["auditor"].headers
    missing = await client.get("/api/v1/organisation", headers=auditor)
    assert missing.status_code == 404 and "an admin sets it with PUT" in missing.text
    assert (await client.put("/api/v1/organisation", json=PROFILE,
                             headers=people["admin"].headers)).status_code == 200
    found = await client.get("/api/v1/organisation", headers=auditor)
    assert found.status_code == 200, found.text
    shown = found.json()
    assert (shown["name"], shown["country"], shown["timezone"]) == (
        "Example GmbH", "DE", "Europe/Berlin")
    assert shown["authorities"]["gdpr/authority"]["email"] == "mailbox@datenschutz-berlin.de"
    assert shown["updated_by"] == people["admin"].email


async def test_every_assessment_is_listed_oldest_first(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    reference = await new_incident(client, responder)
    url = f"/api/v1/incidents/{reference}/assessment"
    assert (await client.get(url, headers=responder.headers)).json() == []
    for subjects in (100, 2_000):
        created = await client.post(url, json={**LOW_RISK, "subjects": subjects},
                                    headers=responder.headers)
        assert created.status_code == 201, created.text
    listed = (await client.get(url, headers=people["auditor"].headers)).json()
    assert [a["number"] for a in listed] == [1, 2]
    assert [a["facts"]["subjects"] for a in listed] == [100, 2_000]
