"""The data inventory over the API: systems, streamed imports, scopes and affected snapshots."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Person, incident_body

CSV_HEADER = "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
PEOPLE_CSV = CSV_HEADER + (
    "c-1,anna@example.com,Anna Nowak,pl,PL,,crm,contact;financial,2025-01-01,\n"
    "c-1,anna@example.com,Anna Nowak,pl,PL,,shop,contact,2025-06-01,2025-12-31\n"
    "c-2,Ben@Example.COM,Ben Smith,en-US,US,US-CA,crm,contact,2024-01-01,2024-12-31\n"
    "c-3,clara@example.com,Clara Weiss,de,DE,,shop,contact;health,2026-01-01T08:00:00+01:00,\n"
    "c-4,,Dana Roy,,FR,,crm,,2026-02-01,\n"
)


async def make_system(client: httpx.AsyncClient, admin: Person, key: str,
                      categories: list[str]) -> dict[str, Any]:
    response = await client.put(f"/api/v1/systems/{key}", headers=admin.headers,
                                json={"name": key.upper(), "data_categories": categories})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def import_csv(client: httpx.AsyncClient, admin: Person, body: str,
                     **params: Any) -> httpx.Response:
    return await client.post("/api/v1/subjects/import", params=params, content=body.encode(),
                             headers={**admin.headers, "content-type": "text/csv"})


async def inventory(client: httpx.AsyncClient, admin: Person) -> None:
    await make_system(client, admin, "crm", ["contact", "identity"])
    await make_system(client, admin, "shop", ["contact", "financial"])
    response = await import_csv(client, admin, PEOPLE_CSV)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 5


async def new_incident(client: httpx.AsyncClient, person: Person) -> str:
    response = await client.post("/api/v1/incidents", json=incident_body(), headers=person.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


async def test_import_reports_every_bad_row_and_keeps_the_good_ones(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    body = CSV_HEADER + (
        "ok-1,ok@example.com,Ok,en,GB,,crm,contact,,\n"
        "bad-1,not-an-email,X,en,GB,,crm,,,\n"
        "bad-2,x@example.com,X,en,XX,,crm,,,\n"
        "bad-3,x@example.com,X,en,US,DE-BY,crm,,,\n"
        "bad-4,x@example.com,X,en,US,,crm,,2026-13-01,\n"
        "bad-5,x@example.com,X,en,US,,nowhere,,,\n"
        "bad-6,x@example.com,X,en,US,,crm,gossip,,\n"
        "bad-7,x@example.com,X,zz-qq,US,,crm,,,\n"
        "bad-8,x@example.com,X,en,US,,crm,,2026-02-01,2026-01-01\n"
        ",x@example.com,X,en,US,,crm,,,\n"
        "bad-10,x@example.com\n"
        "ok-2,ok2@example.com,Ok Two,fr,FR,,crm,,,\n")
    response = await import_csv(client, admin, body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["imported"], report["rejected"]) == (12, 2, 10)
    reasons = {error["line"]: error["reason"] for error in report["errors"]}
    assert "invalid email" in reasons[3]
    assert "unknown country" in reasons[4]
    assert "not in country US" in reasons[5]
    assert "bad date in first_seen" in reasons[6]
    assert "unknown system" in reasons[7]
    assert "unknown data category 'gossip'" in reasons[8]
    assert "unknown locale" in reasons[9]
    assert "first_seen is after last_seen" in reasons[10]
    assert "external_id is missing" in reasons[11]
    assert "2 fields where the header has 10" in reasons[12]
    assert report["subjects_total"] == 2
    assert report["sha256"] == hashlib.sha256(body.encode()).hexdigest()


async def test_strict_import_is_all_or_nothing_and_a_reimport_changes_nothing(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    await make_system(client, admin, "shop", ["contact"])
    bad = PEOPLE_CSV + "c-9,broken,X,en,GB,,crm,,,\n"
    refused = await import_csv(client, admin, bad, strict="true")
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [{"line": 7, "reason": "invalid email 'broken'"}]
    totals = (await client.get("/api/v1/inventory", headers=admin.headers)).json()
    assert totals == {"subjects": 0, "holdings": 0}
    for _ in range(2):
        assert (await import_csv(client, admin, PEOPLE_CSV, strict="true")).status_code == 200
    totals = (await client.get("/api/v1/inventory", headers=admin.headers)).json()
    assert totals == {"subjects": 4, "holdings": 5}


@pytest.mark.parametrize("body, message", [
    ("", "empty"),
    ("id,email\n1,a@example.com\n", "unknown column 'id'"),
    ("external_id,email\n1,a@example.com\n", "missing column 'country'"),
    ("external_id,country\n1,PL\n", "no system column"),
    ("external_id,country,country,system\n1,PL,PL,crm\n", "appears twice"),
    ("external_id,country,system\n1,PL,crm\n\xff\xfe\n", "not UTF-8"),
])
async def test_unreadable_files_are_refused_whole(
        client: httpx.AsyncClient, people: dict[str, Person], body: str, message: str) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    content = body.encode("latin-1") if "\xff" in body else body.encode()
    response = await client.post("/api/v1/subjects/import", content=content,
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    totals = (await client.get("/api/v1/inventory", headers=admin.headers)).json()
    assert totals == {"subjects": 0, "holdings": 0}


async def test_json_lines_and_a_default_system(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    await make_system(client, admin, "hr", ["identity", "financial"])
    lines = [
        json.dumps({"external_id": "e-1", "email": "e1@example.com", "country": "IE",
                    "categories": ["identity"]}),
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({"external_id": "e-2", "country": "IE", "salary": "1"}),
        json.dumps({"external_id": "e-3", "country": "IE", "locale": 7}),
        json.dumps({"external_id": "e-4", "country": "ie", "region": "IE-D"}),
    ]
    response = await client.post("/api/v1/subjects/import", params={"system": "hr"},
                                 content="\n".join(lines).encode(),
                                 headers={**admin.headers, "content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["rejected"]) == (2, 4)
    assert [e["line"] for e in report["errors"]] == [2, 3, 4, 5]
    assert "unknown field 'salary'" in report["errors"][2]["reason"]
    assert "locale must be a string" in report["errors"][3]["reason"]
    unknown = await client.post("/api/v1/subjects/import", params={"system": "nope"},
                                content=lines[0].encode(),
                                headers={**admin.headers, "content-type": "application/x-ndjson"})
    assert unknown.status_code == 422 and "unknown system 'nope'" in unknown.json()["detail"]
    wrong_type = await client.post("/api/v1/subjects/import", content=b"{}",
                                   headers={**admin.headers, "content-type": "text/plain"})
    assert wrong_type.status_code == 422


async def test_only_admins_import_and_only_need_to_know_roles_read_people(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    await inventory(client, admin)
    for role in ("responder", "approver", "auditor"):
        response = await import_csv(client, people[role], PEOPLE_CSV)
        assert response.status_code == 403, role
    reference = await new_incident(client, people["responder"])
    scope = {"systems": ["crm"]}
    assert (await client.put(f"/api/v1/incidents/{reference}/scope", json=scope,
                             headers=people["auditor"].headers)).status_code == 403
    assert (await client.put(f"/api/v1/incidents/{reference}/scope", json=scope,
                             headers=people["responder"].headers)).status_code == 200
    assert (await client.post(f"/api/v1/incidents/{reference}/affected",
                              headers=people["responder"].headers)).status_code == 201
    auditor = people["auditor"].headers
    assert (await client.get(f"/api/v1/incidents/{reference}/affected/summary",
                             headers=auditor)).status_code == 200
    for path in ("affected", "affected.csv"):
        assert (await client.get(f"/api/v1/incidents/{reference}/{path}",
                                 headers=auditor)).status_code == 403
        assert (await client.get(f"/api/v1/incidents/{reference}/{path}",
                                 headers=people["approver"].headers)).status_code == 200


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
    assert backwards.status_code == 400 or backwards.status_code == 422

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
