"""Verifying every chain at once: each incident's and the organisation's, each named."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import Person
from tests.incident.timeline.samples import incident_with_notes, raw


async def test_audit_endpoint_reports_every_chain(client: httpx.AsyncClient, engine: AsyncEngine,
                                                  people: dict[str, Person]) -> None:
    good = await incident_with_notes(client, people["responder"], notes=1)
    bad = await incident_with_notes(client, people["responder"], notes=2)
    await raw(engine, "UPDATE timeline_events SET actor = 'someone else' "
              "WHERE chain = :c AND seq = 2", c=bad)
    results = (await client.get("/api/v1/audit/verify", headers=people["auditor"].headers)).json()
    by_chain = {r["chain"]: r for r in results}
    assert by_chain[good]["ok"] is True
    assert by_chain["organisation"]["ok"] is True  # users and tokens have their own chain
    assert (by_chain[bad]["ok"], by_chain[bad]["first_bad_seq"]) == (False, 2)
