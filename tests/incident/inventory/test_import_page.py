"""The inventory page's import form over HTTP (both lanes): the same streamed import as the API,
sent back (303) to the report, which is kept in the database for a day and shown only to the
roles that may import; its progress as JSON."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.containment.runbooks import Catalogue
from incident.kernel.clock import FixedClock
from incident.kernel.settings import Settings
from tests.factories import Person, client_for, make_person
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


async def test_the_report_is_kept_for_a_day_for_those_who_may_import_in_any_process(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, settings: Settings, catalogue: Catalogue) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    assert (await post_file(client, admin)).status_code == 303
    report = f"/inventory?import_id={IMPORT_ID}"

    # Another process (its memory holds no progress) shows the report from the database, to
    # another admin too: the roles that may import read the rejected lines.
    elsewhere = create_app(settings, clock=clock, engine=engine, catalogue=catalogue)
    colleague = await make_person(engine, clock, "admin")
    async with client_for(elsewhere) as other:
        for reader in (admin, colleague):
            page = await other.get(report, headers=reader.headers)
            assert "1 of 2 lines imported, 1 rejected" in page.text
            assert "invalid email &#39;not-an-address&#39;" in page.text
        progress = await other.get(f"/inventory/imports/{IMPORT_ID}", headers=admin.headers)
        assert progress.json() == {"phase": "done", "read": len(PEOPLE), "total": len(PEOPLE)}
    for role in ("responder", "approver", "auditor"):
        page = await client.get(report, headers=people[role].headers)
        assert page.status_code == 200 and "not-an-address" not in page.text

    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert "lines imported" in (await client.get(report, headers=admin.headers)).text
    clock.advance(timedelta(seconds=1))
    assert "lines imported" not in (await client.get(report, headers=admin.headers)).text

