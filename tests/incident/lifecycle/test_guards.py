"""The guards on finishing an incident and the time a move records, as rules of the service:
the API (problem details), the CLI (one line, non-zero exit) and the service itself refuse
alike.

Resolving or closing while duties to notify are still pending (neither met nor waived) takes
an approver and a written reason: GDPR Art. 33(5) asks the controller to document "any personal
data breaches, comprising the facts relating to the personal data breach, its effects and the
remedial action taken", so leaving a duty behind is a recorded decision, never a click. A move
to contained or closed records when that happened, which may be before the click.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.lifecycle import service as incident_service
from incident.lifecycle.rules import PendingDuties, ReasonRequired, Status
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import PROFILE, Person, affected_incident, new_incident


async def move(client: httpx.AsyncClient, person: Person, reference: str, status: str,
               **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/incidents/{reference}/status",
                             json={"status": status, **body}, headers=person.headers)


async def last_event(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=person.headers)).json()
    return dict(events[-1])


async def test_finishing_with_pending_duties_takes_an_approver_and_a_reason(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await affected_incident(client, people)
    contained = await move(client, responder, reference, "contained", at="2026-03-10T11:00:00Z")
    assert contained.status_code == 200, contained.text
    assert contained.json()["contained_at"] == "2026-03-10T11:00:00Z"

    # A responder is refused, with the duties named (the authority by its name in the profile).
    refused = await move(client, responder, reference, "resolved")
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == "urn:breachdesk:problem:pending-duties"
    assert any("Berliner Beauftragte" in duty for duty in problem["pending"])
    assert "only an approver may move the incident to resolved now" in problem["detail"]
    # ... by the service itself, which the CLI and the pages call ...
    async with session_factory(engine)() as db:
        with pytest.raises(PendingDuties):
            await incident_service.change_status(
                db, clock=clock, actor=Actor(responder.email, Role.RESPONDER), key=reference,
                target=Status.RESOLVED, reason="The notices are drafted.")

    # An approver must say why.
    unexplained = await move(client, approver, reference, "resolved", reason="  ")
    assert unexplained.status_code == 422
    assert unexplained.json()["errors"][0]["field"] == "reason"
    async with session_factory(engine)() as db:
        with pytest.raises(ReasonRequired):
            await incident_service.change_status(
                db, clock=clock, actor=Actor(approver.email, Role.APPROVER), key=reference,
                target=Status.RESOLVED)
    assert (await client.get(f"/api/v1/incidents/{reference}", headers=responder.headers)
            ).json()["status"] == "contained"

    # With both, the move is made and the timeline keeps the reason and what was left pending.
    why = "The authority was told by phone; the written notice follows from the DPO's office."
    resolved = await move(client, approver, reference, "resolved", reason=why)
    assert resolved.status_code == 200, resolved.text
    event = await last_event(client, approver, reference)
    assert event["kind"] == "status_changed" and event["actor"] == approver.email
    assert event["payload"]["reason"] == why
    assert event["payload"]["pending"] == problem["pending"]

    # Closing asks again, and records when it was closed.
    clock.advance(timedelta(hours=2))
    assert (await move(client, responder, reference, "closed")).status_code == 409
    closed = await move(client, approver, reference, "closed", reason=why,
                        at="2026-03-10T13:30:00Z")
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] == "2026-03-10T13:30:00Z"
    event = await last_event(client, approver, reference)
    assert event["payload"]["closed_at"] == "2026-03-10T13:30:00+00:00"
    assert event["at"] != event["payload"]["closed_at"]  # the event's own time is the click's


def test_the_command_refuses_in_one_line_and_records_when(breach: Breach,  # noqa: F811
                                                          tmp_path: Path) -> None:
    responder, approver = breach.person("responder"), breach.person("approver")
    (tmp_path / "org.json").write_text(json.dumps(PROFILE))
    breach("organisation", "set", "org.json")
    reference = breach("incidents", "create", "--title", "Stolen laptop", "--kind", "lost_device",
                       "--category", "contact", "--subjects", "1200",
                       "--aware-at", "2026-03-10T09:00").stdout.strip()
    breach("incidents", "status", reference, "contained", "--at", "2026-03-10T11:15",
           user=responder)
    shown = breach.json("incidents", "show", reference)
    assert shown["contained_at"] == "2026-03-10T10:15:00Z"  # typed in BREACH_TIMEZONE (Berlin)

    line = breach.error("incidents", "status", reference, "resolved", user=responder)
    assert line.startswith("breach: error:") and "only an approver may" in line
    assert "needs a written reason" in breach.error("incidents", "status", reference, "resolved",
                                                    user=approver)
    breach("incidents", "status", reference, "resolved", "--reason", "Told by phone.",
           user=approver)
    assert breach.json("incidents", "show", reference)["status"] == "resolved"


async def test_without_pending_duties_anyone_who_works_on_incidents_finishes_them(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)  # no organisation profile: no duties
    for target in ("contained", "resolved", "closed"):
        done = await move(client, responder, reference, target)
        assert done.status_code == 200, done.text
    event = await last_event(client, responder, reference)
    assert "pending" not in event["payload"] and event["payload"]["reason"] is None


@pytest.mark.parametrize(("status", "at", "message"), [
    ("contained", "2026-03-10T13:00:00Z", "at lies in the future"),
    ("contained", "2026-03-09T17:00:00Z", "at is before the breach began (occurred_from)"),
    ("assessing", "2026-03-10T11:00:00Z", "at a move to assessing records no time"),
], ids=["future", "before-it-began", "not-a-timed-move"])
async def test_a_moves_time_is_checked(client: httpx.AsyncClient, people: dict[str, Person],
                                       status: str, at: str, message: str) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    refused = await move(client, responder, reference, status, at=at)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "at"
    assert refused.json()["detail"].startswith(message)
    shown = (await client.get(f"/api/v1/incidents/{reference}", headers=responder.headers)).json()
    assert (shown["status"], shown["contained_at"]) == ("open", None)


async def test_closing_before_awareness_is_refused(client: httpx.AsyncClient,
                                                   people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    for target in ("contained", "resolved"):
        assert (await move(client, responder, reference, target)).status_code == 200
    refused = await move(client, responder, reference, "closed", at="2026-03-10T09:00:00Z")
    assert refused.status_code == 422
    assert "before the organisation became aware" in refused.json()["detail"]
