"""Verifying every chain at once: each incident's and the organisation's, each named."""

from __future__ import annotations

import base64
import hashlib

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.settings import Settings
from tests.factories import Person
from tests.incident.timeline.samples import incident_with_notes, raw


async def test_audit_endpoint_reports_every_chain(client: httpx.AsyncClient, engine: AsyncEngine,
                                                  people: dict[str, Person]) -> None:
    good = await incident_with_notes(client, people["responder"], notes=1)
    bad = await incident_with_notes(client, people["responder"], notes=2)
    await raw(engine, "UPDATE timeline_events SET actor = 'someone else' "
              "WHERE chain = :c AND seq = 2", c=bad)
    results = (await client.get("/api/v1/audit/verify", headers=people["auditor"].headers)).json()
    assert (results["ok"], results["checkpoint"]) == (False, None)  # none made yet
    by_chain = {r["chain"]: r for r in results["chains"]}
    assert by_chain[good]["ok"] is True
    assert by_chain["organisation"]["ok"] is True  # users and tokens have their own chain
    assert (by_chain[bad]["ok"], by_chain[bad]["first_bad_seq"]) == (False, 2)
    assert by_chain[bad]["finding"] == "broken"


async def test_the_signing_key_is_published_with_its_fingerprint(
        client: httpx.AsyncClient, people: dict[str, Person], settings: Settings) -> None:
    keys = (await client.get("/api/v1/audit/public-key", headers=people["auditor"].headers)).json()
    assert len(keys) == 1 and keys[0]["until"] is None
    raw = base64.b64decode(keys[0]["public_key"])
    assert len(raw) == 32
    digest = hashlib.sha256(raw).hexdigest()
    assert keys[0]["fingerprint"].replace(" ", "") == digest
    assert (await client.get("/api/v1/audit/public-key")).status_code == 401
