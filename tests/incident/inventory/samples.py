"""A small inventory (two systems, five holdings of four people) loaded over the API, and new
incidents, for the inventory and affected-people tests."""

from __future__ import annotations

from typing import Any

import httpx

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
