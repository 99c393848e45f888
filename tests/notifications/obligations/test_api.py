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


async def test_the_principal_place_of_business_is_kept_upper_cased_and_must_lie_in_the_country(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"].headers
    american = {**PROFILE, "country": "US", "timezone": "America/Chicago"}
    saved = await client.put("/api/v1/organisation", headers=admin, json={
        **american, "principal_place": "us-wi", "entity_type": "information_broker"})
    assert saved.status_code == 200, saved.text
    shown = (await client.get("/api/v1/organisation", headers=admin)).json()
    assert (shown["principal_place"], shown["entity_type"]) == ("US-WI", "information_broker")

    elsewhere = await client.put("/api/v1/organisation", headers=admin,
                                 json={**american, "principal_place": "DE-BY"})
    assert elsewhere.status_code == 400  # refused by the schema, as every malformed body
    assert elsewhere.headers["content-type"].startswith("application/problem+json")
    assert "DE-BY is not in US, the profile's country" in elsewhere.text
    assert [e["field"] for e in elsewhere.json()["errors"]] == ["principal_place"]
    for bad in ("Wisconsin", "US-WISC", 7):
        refused = await client.put("/api/v1/organisation", headers=admin,
                                   json={**american, "principal_place": bad})
        assert refused.status_code == 400 and "principal_place" in refused.text, bad
    # Nothing refused was written: the profile is as last saved.
    assert (await client.get("/api/v1/organisation", headers=admin)).json()[
        "principal_place"] == "US-WI"

    cleared = await client.put("/api/v1/organisation", headers=admin, json=american)
    assert cleared.status_code == 200 and cleared.json()["principal_place"] is None
