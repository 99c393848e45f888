"""Affected people over the API: the scope, computed snapshots, their listing and export, the
timeline events they leave, and snapshots sealed against later change."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Person
from tests.incident.inventory.samples import inventory, new_incident


async def test_scope_compute_summary_listing_export_and_the_timeline(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    await inventory(client, admin)
    reference = await new_incident(client, responder)
    url = f"/api/v1/incidents/{reference}"
    no_scope = await client.post(f"{url}/affected", headers=responder.headers)
    assert no_scope.status_code == 409 and "no scope" in no_scope.json()["detail"]
    bad = await client.put(f"{url}/scope", headers=responder.headers,
                           json={"systems": ["crm", "ghost"]})
    assert bad.status_code == 422 and "ghost" in bad.text
    backwards = await client.put(f"{url}/scope", headers=responder.headers, json={
        "exposure_from": "2026-02-01T00:00:00Z", "exposure_to": "2026-01-01T00:00:00Z"})
    assert backwards.status_code == 422  # the schema cannot state it: a rule, not a shape
    assert backwards.json()["errors"] == [{"field": "exposure_to", "message": "is before exposure_from"}]

    scope = {"systems": ["crm", "shop"], "exposure_from": "2025-07-01T00:00:00Z",
             "exposure_to": "2026-01-15T00:00:00Z", "data_categories": ["contact", "health"],
             "include": ["ben@example.com", "nobody@example.com"], "exclude": ["c-4"]}
    assert (await client.put(f"{url}/scope", json=scope, headers=responder.headers)).status_code == 200
    computed = await client.post(f"{url}/affected", headers=responder.headers)
    assert computed.status_code == 201, computed.text
    first = computed.json()
    # c-1: crm holding open-ended (contact) and shop holding overlapping (contact) → contact only.
    # c-2: outside the window but included by e-mail → its crm categories within the scope.
    # c-3: shop from 2026-01-01 07:00 UTC, inside the window → contact and health.
    # c-4: excluded.
    assert first["snapshot"] == 1 and first["total"] == 3, first
    assert first["by_jurisdiction"] == {"DE": 1, "PL": 1, "US-CA": 1}
    assert first["by_category"] == {"contact": 3, "health": 1}
    assert first["by_locale"] == {"de": 1, "en_US": 1, "pl": 1}
    assert first["by_system"] == {"shop": 2, "crm": 1}
    assert first["by_source"] == {"scope": 2, "include": 1}
    assert first["unmatched"] == {"include": 1, "exclude": 0}
    assert first["unmatched_entries"] == {"include": ["nobody@example.com"], "exclude": []}
    assert first["scope"]["include"] == 2
    expected_lines = ("c-1\tPL\tpl\tcontact\n" "c-2\tUS-CA\ten_US\tcontact\n"
                      "c-3\tDE\tde\tcontact;health\n")
    assert first["digest"] == hashlib.sha256(expected_lines.encode()).hexdigest()

    page = (await client.get(f"{url}/affected", params={"limit": 2},
                             headers=responder.headers)).json()
    assert [p["external_id"] for p in page["items"]] == ["c-1", "c-2"]
    assert page["items"][1]["email"] == "ben@example.com"
    rest = (await client.get(f"{url}/affected", params={"after": page["next_after"]},
                             headers=responder.headers)).json()
    assert [p["external_id"] for p in rest["items"]] == ["c-3"] and rest["next_after"] is None

    export = await client.get(f"{url}/affected.csv", headers=responder.headers)
    assert export.status_code == 200 and export.headers["x-snapshot-sha256"] == first["digest"]
    exported = list(csv.DictReader(io.StringIO(export.text)))
    recomputed = "".join(f"{r['external_id']}\t{r['jurisdiction']}\t{r['locale']}\t{r['categories']}\n"
                         for r in exported)
    assert hashlib.sha256(recomputed.encode()).hexdigest() == first["digest"]

    # A wider scope makes a second snapshot; the first stays as it was.
    assert (await client.put(f"{url}/scope", json={"systems": []},
                             headers=responder.headers)).status_code == 200
    second = (await client.post(f"{url}/affected", headers=responder.headers)).json()
    assert second["snapshot"] == 2 and second["total"] == 4
    again = (await client.get(f"{url}/affected/summary", params={"snapshot": 1},
                              headers=responder.headers)).json()
    assert again["total"] == 3 and again["digest"] == first["digest"]
    latest = (await client.get(f"{url}/affected/summary", headers=responder.headers)).json()
    assert latest["snapshot"] == 2

    events = (await client.get(f"{url}/timeline", headers=responder.headers)).json()
    kinds = [e["kind"] for e in events]
    assert kinds.count("scope_set") == 2 and kinds.count("affected_computed") == 2
    assert kinds.count("affected_read") == 2 and kinds.count("affected_exported") == 1
    computed_event = next(e for e in events if e["kind"] == "affected_computed")
    assert computed_event["payload"]["sha256"] == first["digest"]
    assert "ben@example.com" not in json.dumps(events)
    verified = (await client.get(f"{url}/timeline/verify", headers=responder.headers)).json()
    assert verified["ok"] is True


@pytest.mark.parametrize("statement", [
    "UPDATE affected_subjects SET jurisdiction = 'XX'",
    "DELETE FROM affected_subjects",
    "UPDATE affected_snapshots SET total = 0",
    "DELETE FROM affected_snapshots",
])
async def test_sealed_snapshots_cannot_be_changed_even_in_sql(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        statement: str) -> None:
    admin = people["admin"]
    await inventory(client, admin)
    reference = await new_incident(client, admin)
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=admin.headers)
    assert (await client.post(f"/api/v1/incidents/{reference}/affected",
                              headers=admin.headers)).status_code == 201
    with pytest.raises(DBAPIError, match="frozen"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT COUNT(*) FROM affected_subjects "
                                        "WHERE jurisdiction <> 'XX'"))).scalar_one()
    assert rows == 4
