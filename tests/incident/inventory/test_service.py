"""The data inventory over the API: systems, streamed imports, and who may import and read."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from tests.factories import Person
from tests.incident.inventory.samples import (
    CSV_HEADER,
    PEOPLE_CSV,
    import_csv,
    inventory,
    make_system,
    new_incident,
)


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
