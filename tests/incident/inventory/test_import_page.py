"""The inventory page's import form over HTTP (both lanes): the same streamed import as the API,
sent back (303) to the report, which only its importer sees; its progress as JSON."""

from __future__ import annotations

import httpx

from tests.factories import Person
from tests.incident.inventory.samples import make_system

PEOPLE = ("external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
          "p-1,anna@example.com,Anna Nowak,pl,PL,,crm,contact;financial,2025-01-01,\n"
          "p-2,not-an-address,Carla Ruiz,es,ES,,crm,contact,,\n")
IMPORT_ID = "a" * 32


async def post_file(client: httpx.AsyncClient, person: Person, **fields: str) -> httpx.Response:
    return await client.post("/inventory/import", headers=person.headers,
                             data={"import_id": IMPORT_ID, **fields},
                             files={"file": ("people.csv", PEOPLE.encode(), "text/csv")})


async def test_the_import_form_reports_by_line_to_its_importer_only(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    refused = await post_file(client, admin, strict="on", system="crm")
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/inventory?import_id={IMPORT_ID}#import"
    page = await client.get(f"/inventory?import_id={IMPORT_ID}", headers=admin.headers)
    assert "1 of 2 rows rejected; with strict, nothing was imported." in page.text
    assert "Line 3: invalid email &#39;not-an-address&#39;" in page.text
    assert 'value="crm" selected' in page.text and 'name="strict" id="import-strict" checked' in page.text
    assert (await client.get("/api/v1/inventory", headers=admin.headers)).json()["subjects"] == 0

    done = await post_file(client, admin)
    assert done.status_code == 303
    progress = await client.get(f"/inventory/imports/{IMPORT_ID}", headers=admin.headers)
    assert progress.json() == {"phase": "done", "read": len(PEOPLE), "total": len(PEOPLE)}
    page = await client.get(f"/inventory?import_id={IMPORT_ID}", headers=admin.headers)
    assert "1 of 2 lines imported, 1 rejected" in page.text
    assert (await client.get("/api/v1/inventory", headers=admin.headers)).json()["subjects"] == 1

    # Another person with the same id sees neither the report nor its progress.
    other = people["responder"]
    assert (await client.get(f"/inventory?import_id={IMPORT_ID}",
                             headers=other.headers)).text.count("lines imported") == 0
    assert (await client.get(f"/inventory/imports/{IMPORT_ID}",
                             headers=other.headers)).status_code == 403
    assert (await post_file(client, other)).status_code == 403
