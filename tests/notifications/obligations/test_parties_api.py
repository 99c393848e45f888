"""Roles and contractual clocks over the API, on both lanes: the profile's counterparties and
default roles, an incident's parties, and what they make of its obligations, reminders and
reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from tests.factories import PROFILE, START, Person, new_incident
from tests.notifications.reminders.samples import all_reminders, tick

ACME: dict[str, Any] = {
    "id": "acme-health", "name": "Acme Health Ltd", "role": "controller",
    "email": "security@acme-health.example", "hours": 24, "trigger": "aware_at",
    "contract": "DPA s. 7.2", "note": "Call the CISO's line as well."}
"""A client whose data the organisation processes: its processing agreement, s. 7.2, asks
to be told within 24 hours of awareness."""
WITH_ACME = {**PROFILE, "counterparties": [ACME]}
AWARE = "2026-03-10T09:30:00Z"
"""incident_body's aware_at."""


async def obligations(client: httpx.AsyncClient, person: Person, reference: str
                      ) -> dict[str, dict[str, Any]]:
    found = await client.get(f"/api/v1/incidents/{reference}/obligations", headers=person.headers)
    assert found.status_code == 200, found.text
    return {o["ref"]: o for o in found.json()["obligations"]}


async def parties(client: httpx.AsyncClient, person: Person, reference: str,
                  body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"/api/v1/incidents/{reference}/parties", json=body,
                            headers=person.headers)


async def test_a_processor_owes_its_controller_the_contract_clock_and_art_33_2_not_33_1(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder, auditor = people["admin"], people["responder"], people["auditor"]
    saved = await client.put("/api/v1/organisation", json=WITH_ACME, headers=admin.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["counterparties"][0]["contract"] == "DPA s. 7.2"
    assert saved.json()["roles"] == []
    reference = await new_incident(client, responder)

    # Before any role is recorded the organisation is the controller, as before.
    duties = await obligations(client, responder, reference)
    assert duties["gdpr/authority"]["applies"] is True and "gdpr/controller" not in duties

    recorded = await parties(client, responder, reference,
                             {"roles": ["processor"], "counterparties": ["acme-health"]})
    assert recorded.status_code == 200, recorded.text
    assert recorded.json() == {"roles": ["processor"], "counterparties": ["acme-health"],
                               "clocks": [], "acting_as": ["processor"], "assumed": False}
    duties = await obligations(client, responder, reference)
    # GDPR Art. 33(2): "The processor shall notify the controller without undue delay".
    processor = duties["gdpr/controller"]
    assert (processor["applies"], processor["recipient"], processor["due_at"]) == (
        True, "counterparty", None)
    assert processor["basis"]["citation"] == "Regulation (EU) 2016/679, Art. 33(2)"
    # Art. 33(1) and 34(1) bind "the controller": not a processor acting for its client.
    assert duties["gdpr/authority"]["applies"] is False
    assert any("not as controller" in why for why in duties["gdpr/authority"]["why"])
    assert duties["gdpr/data-subjects"]["applies"] is False
    # DPA s. 7.2: 24 hours after awareness, as an obligation row like the law's.
    contract = duties["contract/acme-health"]
    assert (contract["applies"], contract["due_at"], contract["recipient"]) == (
        True, "2026-03-11T09:30:00Z", "counterparty")
    assert contract["recipient_name"] == "Acme Health Ltd (controller)"
    assert contract["basis"]["citation"] == "DPA s. 7.2"
    assert contract["basis"]["trigger_at"] == AWARE
    assert contract["seconds_left"] == int((24 - 2.5) * 3600)

    # Recorded as met like any duty; the auditor reads the parties but cannot change them.
    met = await client.post(f"/api/v1/incidents/{reference}/obligations/contract/acme-health",
                            json={"status": "met", "how": "E-mail to the CISO, 11:40"},
                            headers=responder.headers)
    assert met.status_code == 200 and met.json()["status"] == "met"
    shown = await client.get(f"/api/v1/incidents/{reference}/parties", headers=auditor.headers)
    assert shown.status_code == 200 and shown.json()["counterparties"] == ["acme-health"]
    assert (await parties(client, auditor, reference, {"roles": None})).status_code == 403

    # The counterparty is no longer involved: its duty no longer applies, and says so.
    assert (await parties(client, responder, reference, {"roles": ["processor"]})).status_code == 200
    duties = await obligations(client, responder, reference)
    assert duties["contract/acme-health"]["applies"] is False
    assert duties["contract/acme-health"]["status"] == "met"

    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=auditor.headers)).json()
    set_events = [e for e in events if e["kind"] == "parties_set"]
    assert [e["payload"]["counterparties"] for e in set_events] == [["acme-health"], []]
    assert any(e["kind"] == "obligations_recomputed" and e["payload"]["cause"] == "parties"
               for e in events)
    verified = (await client.get(f"/api/v1/incidents/{reference}/timeline/verify",
                                 headers=auditor.headers)).json()
    assert verified["ok"] is True


async def test_the_profile_default_role_and_an_incident_only_clock(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    profile = {**WITH_ACME, "roles": ["processor"]}
    assert (await client.put("/api/v1/organisation", json=profile,
                             headers=admin.headers)).status_code == 200
    reference = await new_incident(client, responder)
    duties = await obligations(client, responder, reference)
    assert duties["gdpr/controller"]["applies"] is True and "gdpr/authority" not in duties
    # This incident the organisation acts for itself, and owes a one-off partner 48 hours
    # after detection.
    partner = {"id": "partner", "name": "Partner AG", "role": "customer", "hours": 48,
               "trigger": "discovered_at", "contract": "Reseller agreement cl. 12"}
    recorded = await parties(client, responder, reference,
                             {"roles": ["controller"], "clocks": [partner]})
    assert recorded.status_code == 200, recorded.text
    duties = await obligations(client, responder, reference)
    assert duties["gdpr/authority"]["applies"] is True
    assert duties["gdpr/controller"]["applies"] is False
    # incident_body's detected_at is 2026-03-10T08:00Z: + 48 hours.
    assert duties["contract/partner"]["due_at"] == "2026-03-12T08:00:00Z"
    assert duties["contract/partner"]["recipient_name"] == "Partner AG (customer)"


async def test_a_missing_role_is_assumed_and_said_when_a_counterparty_is_involved(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    await client.put("/api/v1/organisation", json=WITH_ACME, headers=admin.headers)
    reference = await new_incident(client, responder)
    found = await client.get(f"/api/v1/incidents/{reference}/obligations",
                             headers=responder.headers)
    assert not any("no role recorded" in a for a in found.json()["assumptions"])
    recorded = await parties(client, responder, reference, {"counterparties": ["acme-health"]})
    assert recorded.json()["assumed"] is True
    assert recorded.json()["acting_as"] == ["controller", "covered_entity", "data_owner"]
    found = await client.get(f"/api/v1/incidents/{reference}/obligations",
                             headers=responder.headers)
    [said] = [a for a in found.json()["assumptions"] if "no role recorded" in a]
    assert "perhaps: processor" in said


async def test_bad_parties_and_counterparties_are_problems_naming_the_field(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    headers = admin.headers
    for bad, field, words in (
            ({"counterparties": [{**ACME, "hours": 0}]}, "hours", "greater than or equal to 1"),
            ({"counterparties": [{**ACME, "hours": "24"}]}, "hours", "must be a number"),
            ({"counterparties": [{**ACME, "id": "Acme Health"}]}, "id", "pattern"),
            ({"counterparties": [{**ACME, "role": "friend"}]}, "role", "controller"),
            ({"counterparties": [{**ACME, "trigger": "lunch"}]}, "trigger", "aware_at"),
            ({"counterparties": [{**ACME, "contract": " "}]}, "contract", "at least 1"),
            ({"counterparties": [{**ACME, "email": "nobody"}]}, "email", "pattern"),
            ({"roles": ["owner"]}, "roles", "controller"),
            ({"roles": ["processor", "processor"]}, "roles", "")):
        # A body that does not fit the schema is a bad request, each field named.
        refused = await client.put("/api/v1/organisation", json={**PROFILE, **bad}, headers=headers)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in refused.text and words in refused.text, (bad, refused.text)
    # Two counterparties with one id would make one duty of two clocks: refused by the service.
    twice = await client.put("/api/v1/organisation", json={**PROFILE, "counterparties": [ACME, ACME]},
                             headers=headers)
    assert twice.status_code == 422
    assert twice.json()["errors"] == [{"field": "counterparties.1.id",
                                       "message": "counterparty id 'acme-health' appears twice"}]
    assert (await client.put("/api/v1/organisation", json=WITH_ACME,
                             headers=responder.headers)).status_code == 403
    assert (await client.put("/api/v1/organisation", json=WITH_ACME,
                             headers=headers)).status_code == 200

    reference = await new_incident(client, responder)
    wrong_parties: list[tuple[dict[str, Any], int, str, str]] = [
        ({"counterparties": ["globex"]}, 422, "counterparties.0", "not a counterparty"),
        ({"clocks": [ACME]}, 422, "clocks.0.id", "name it in counterparties"),
        ({"clocks": [{**ACME, "id": "x"}, {**ACME, "id": "x"}]}, 422, "clocks.1.id",
         "appears twice"),
        ({"roles": ["landlord"]}, 400, "roles", "processor"),
        ({"roles": []}, 400, "roles", "at least 1"),
        ({"counterparties": ["acme-health"], "extra": 1}, 400, "extra", "")]
    for body, status, field, words in wrong_parties:
        refused = await parties(client, responder, reference, body)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in refused.text and words in refused.text, (body, refused.text)
    missing = await parties(client, responder, "BR-2026-0999", {})
    assert missing.status_code == 404
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=responder.headers)).json()
    assert not any(e["kind"] == "parties_set" for e in events)


async def test_a_contract_clock_is_reminded_and_reported_like_a_legal_duty(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    admin, responder, auditor = people["admin"], people["responder"], people["auditor"]
    await client.put("/api/v1/organisation", json=WITH_ACME, headers=admin.headers)
    reference = await new_incident(client, responder)
    assert (await parties(client, responder, reference,
                          {"roles": ["processor"], "counterparties": ["acme-health"]})
            ).status_code == 200
    due = START - timedelta(hours=2, minutes=30) + timedelta(hours=24)

    def states(reminders: list[Any]) -> dict[str, str]:
        return {r.key.split("|")[1]: r.state for r in reminders
                if r.detail.get("ref") == "contract/acme-health"}

    # 21.5 hours before the due time: the 48- and 24-hour reminders' moments passed before
    # the incident was recorded, and a reminder is never sent late.
    await tick(engine, clock, "w")
    assert states(await all_reminders(engine)) == {
        "reminder-48h": "skipped", "reminder-24h": "skipped", "reminder-6h": "due",
        "reminder-1h": "due", "overdue": "due"}
    clock.set(due - timedelta(hours=6, seconds=-30))
    await tick(engine, clock, "w")
    assert states(await all_reminders(engine))["reminder-6h"] == "fired"
    clock.set(due + timedelta(minutes=1))  # nothing ticked for six hours
    await tick(engine, clock, "w")
    assert states(await all_reminders(engine)) == {
        "reminder-48h": "skipped", "reminder-24h": "skipped", "reminder-6h": "fired",
        "reminder-1h": "skipped", "overdue": "fired"}

    report = await client.get("/api/v1/compliance", headers=auditor.headers)
    assert report.status_code == 200, report.text
    [entry] = [i for i in report.json()["incidents"] if i["reference"] == reference]
    duty = {d["ref"]: d for d in entry["duties"]}["contract/acme-health"]
    assert (duty["outcome"], duty["overdue"], duty["due_at"]) == (
        "open", True, due.isoformat().replace("+00:00", "Z"))
    register = await client.get("/api/v1/register", headers=auditor.headers)
    [listed] = [i for i in register.json()["incidents"] if i["reference"] == reference]
    assert "contract/acme-health" in {d["ref"] for d in listed["duties"]}
