"""Obligations on incidents: derived from the profile, the assessment and the affected people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from incident.kernel.clock import FixedClock
from tests.factories import LOW_RISK, PROFILE, Person, incident_body


async def obligations(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/incidents/{reference}/obligations", headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_ref(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["ref"]: o for o in found["obligations"]}


async def import_rows(client: httpx.AsyncClient, admin: Person, rows: str) -> None:
    """Import subject rows (CSV lines after the header) into the inventory."""
    imported = await client.post(
        "/api/v1/subjects/import", headers={**admin.headers, "content-type": "text/csv"},
        content=("external_id,email,name,locale,country,region,system,categories,first_seen,"
                 "last_seen\n" + rows).encode())
    assert imported.status_code == 200, imported.text


async def test_obligations_follow_profile_assessment_override_and_records(
        client: httpx.AsyncClient, people: dict[str, Person], clock: FixedClock) -> None:
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    created = await client.post("/api/v1/incidents", json=incident_body(), headers=responder.headers)
    reference = created.json()["reference"]

    none_yet = await obligations(client, responder, reference)
    assert none_yet["obligations"] == [] and "no organisation profile" in none_yet["problems"][0]
    assert (await client.put("/api/v1/organisation", json=PROFILE,
                             headers=responder.headers)).status_code == 403
    bad = await client.put("/api/v1/organisation", headers=admin.headers,
                           json={**PROFILE, "targets": {"gdpr/nothing": 24}})
    assert bad.status_code == 422 and "gdpr/nothing" in bad.text
    saved = await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    assert saved.status_code == 200, saved.text

    found = await obligations(client, responder, reference)
    assert any("high risk assumed" in a for a in found["assumptions"])
    duties = by_ref(found)
    authority = duties["gdpr/authority"]
    # aware_at 2026-03-10T09:30Z + 72 elapsed hours.
    assert authority["due_at"] == "2026-03-13T09:30:00Z" and authority["status"] == "pending"
    assert authority["seconds_left"] == int((72 - 2.5) * 3600)
    assert duties["gdpr/data-subjects"]["applies"] is True

    low = await client.post(f"/api/v1/incidents/{reference}/assessment", json=LOW_RISK,
                            headers=responder.headers)
    assert low.status_code == 201 and low.json()["decided"] == "document"
    bad_facts = await client.post(f"/api/v1/incidents/{reference}/assessment",
                                  json={**LOW_RISK, "identifiability": "total"},
                                  headers=responder.headers)
    assert bad_facts.status_code == 422 and "identifiability" in bad_facts.text
    # It would end both duties: they stay until an approver confirms it (or decides otherwise).
    assert low.json()["pending"] is True
    duties = by_ref(await obligations(client, responder, reference))
    assert duties["gdpr/authority"]["applies"] is True
    assert duties["gdpr/data-subjects"]["applies"] is True

    override = {"recommendation": "notify_authority", "justification": "Key custody unclear."}
    assert (await client.post(f"/api/v1/incidents/{reference}/assessment/override", json=override,
                              headers=responder.headers)).status_code == 403
    short = await client.post(f"/api/v1/incidents/{reference}/assessment/override",
                              json={**override, "justification": "no"}, headers=approver.headers)
    assert short.status_code == 422  # the service's rule, as for a waiver
    done = await client.post(f"/api/v1/incidents/{reference}/assessment/override", json=override,
                             headers=approver.headers)
    assert done.status_code == 200 and done.json()["decided"] == "notify_authority"
    duties = by_ref(await obligations(client, responder, reference))
    assert duties["gdpr/authority"]["applies"] is True
    assert duties["gdpr/data-subjects"]["applies"] is False

    url = f"/api/v1/incidents/{reference}/obligations/gdpr/authority"
    assert (await client.post(url, json={"status": "met"}, headers=responder.headers)
            ).status_code == 422  # how is required
    clock.advance(timedelta(hours=80))
    overdue = by_ref(await obligations(client, responder, reference))["gdpr/authority"]
    assert overdue["overdue"] is True and overdue["seconds_left"] < 0
    missing_reason = await client.post(url, json={"status": "met", "how": "BlnBDI portal, receipt 77"},
                                       headers=responder.headers)
    assert missing_reason.status_code == 422 and "Art. 33(1)" in missing_reason.text
    late = await client.post(url, headers=responder.headers, json={
        "status": "met", "how": "BlnBDI portal, receipt 77",
        "reason": "The processor reported the breach to us only on day 3."})
    assert late.status_code == 200 and late.json()["status"] == "late"
    again = await client.post(url, json={"status": "met", "how": "x"}, headers=responder.headers)
    assert again.status_code == 409
    assert (await client.post(url, json={"status": "pending", "reason": "typo"},
                              headers=responder.headers)).status_code == 403
    reopened = await client.post(url, json={"status": "pending", "reason": "wrong receipt"},
                                 headers=approver.headers)
    assert reopened.status_code == 200 and reopened.json()["status"] == "pending"
    waived = await client.post(url, headers=approver.headers, json={
        "status": "waived", "reason": "The authority confirmed no report is needed."})
    assert waived.status_code == 200 and waived.json()["status"] == "waived"

    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=responder.headers)).json()
    kinds = [e["kind"] for e in events]
    for kind in ("assessment_recorded", "assessment_pending", "assessment_overridden",
                 "assessment_confirmed", "obligations_recomputed",
                 "obligation_late", "obligation_reopened", "obligation_waived"):
        assert kind in kinds, kind
    verified = (await client.get(f"/api/v1/incidents/{reference}/timeline/verify",
                                 headers=responder.headers)).json()
    assert verified["ok"] is True


async def test_affected_people_and_milestones_drive_regimes(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    await client.put("/api/v1/organisation", headers=admin.headers,
                     json={**PROFILE, "country": "US", "timezone": "America/New_York",
                           "flags": ["sec_registrant"]})
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"c-{n},p{n}@example.com,,en,US,US-CA,crm,contact;financial,,\n"
                   for n in range(600))
    await import_rows(client, admin, rows)
    reference = (await client.post("/api/v1/incidents", headers=responder.headers,
                                   json=incident_body(data_categories=["financial"]))).json()["reference"]
    before = by_ref(await obligations(client, responder, reference))
    assert not any(ref.startswith("us-ca/") for ref in before)
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    after = by_ref(await obligations(client, responder, reference))
    assert after["us-ca/individuals"]["applies"] is True
    assert after["us-ca/attorney-general"]["applies"] is True  # more than 500 residents
    form = after["sec-8k/form-8k"]
    assert form["due_at"] is None and "materiality" in (form["trigger"] or {}).get("waiting_for", "")
    future = await client.put(f"/api/v1/incidents/{reference}/milestones", headers=responder.headers,
                              json={"materiality_determined_at": "2027-01-01T00:00:00Z"})
    assert future.status_code == 422
    set_ = await client.put(f"/api/v1/incidents/{reference}/milestones", headers=responder.headers,
                            json={"materiality_determined_at": "2026-03-10T06:00:00-05:00"})
    assert set_.status_code == 200
    form = by_ref(await obligations(client, responder, reference))["sec-8k/form-8k"]
    assert form["due_at"] is not None and form["due_at"] > "2026-03-10T11:00:00Z"


def test_people_of_unknown_residence_are_an_assumption_not_a_jurisdiction() -> None:
    """A snapshot that counts people with no country names no law for them, and says so."""
    import uuid
    from datetime import UTC, datetime

    from incident.affected.models import AffectedSnapshot
    from incident.lifecycle.models import Incident
    from notifications.obligations.models import OrganisationProfile
    from notifications.obligations.service import build_facts

    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    incident = Incident(id=uuid.uuid4(), reference="BR-2026-0001", title="t", kind="lost_device",
                        status="open", detected_at=at, aware_at=at, created_by="t",
                        created_at=at, updated_at=at)
    profile = OrganisationProfile(name="Example", country="US", timezone="UTC", updated_at=at,
                                  updated_by="t")
    snapshot = AffectedSnapshot(incident_id=incident.id, number=1, scope={}, computed_at=at,
                                computed_by="t", total=6,
                                summary={"by_jurisdiction": {"DE": 3, "": 2, "??": 1}})
    facts, assumptions = build_facts(profile, incident, None, snapshot, {})
    assert facts["affected"] == {"DE": 3}
    assert any("3 affected people of unknown residence" in a for a in assumptions)


async def test_a_principal_place_in_wisconsin_owes_its_notice_to_every_affected_person(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    """Wis. Stat. 134.98(2)(a): an entity whose principal place of business is in Wisconsin
    notifies each subject, wherever they live; (2)(b): one based elsewhere, only residents."""
    admin, responder = people["admin"], people["responder"]
    american = {**PROFILE, "country": "US", "timezone": "America/Chicago"}
    assert (await client.put("/api/v1/organisation", headers=admin.headers,
                             json=american)).status_code == 200
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    places = {"ca-1": "US-CA", "ca-2": "US-CA", "tx-1": "US-TX", "wi-1": "US-WI"}
    rows = "".join(f"{key},{key}@example.com,Person {key},en,US,{region},crm,contact;financial,,\n"
                   for key, region in places.items())
    await import_rows(client, admin, rows)
    reference = (await client.post("/api/v1/incidents", headers=responder.headers,
                                   json=incident_body(data_categories=["financial"]))).json()["reference"]
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    computed = await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    assert computed.status_code == 201, computed.text
    assert by_ref(await obligations(client, responder, reference))["us-wi/individuals"]["applies"]

    base = f"/api/v1/incidents/{reference}/notifications"
    drafted = await client.post(base, json={"obligation": "us-wi/individuals"},
                                headers=responder.headers)
    assert drafted.status_code == 201, drafted.text

    async def audience() -> dict[str, Any]:
        """Whom the draft addresses, as read now (a draft's audience follows the profile)."""
        shown = await client.get(f"{base}/{drafted.json()['id']}", headers=responder.headers)
        assert shown.status_code == 200, shown.text
        audience: dict[str, Any] = shown.json()["audience"]["parts"]["us-wi/individuals"]
        return audience

    # Based elsewhere in the US: only the Wisconsin resident (134.98(2)(b)).
    elsewhere = await audience()
    assert (elsewhere["everyone"], elsewhere["count"], elsewhere["total"]) == (False, 1, 4)
    assert elsewhere["citation"] == "Wis. Stat. 134.98(2)(b)"

    # The profile says the principal place of business is in Wisconsin: the duty arises from
    # the establishment too, and its notice goes to every affected person (134.98(2)(a)).
    assert (await client.put("/api/v1/organisation", headers=admin.headers,
                             json={**american, "principal_place": "us-wi"})).status_code == 200
    found = await obligations(client, responder, reference)
    duty = by_ref(found)["us-wi/individuals"]
    assert duty["applies"] is True
    home = await audience()
    assert (home["everyone"], home["count"], home["total"]) == (True, 4, 4)
    assert home["citation"] == "Wis. Stat. 134.98(2)(a)"


def test_the_profile_s_principal_place_is_where_the_engine_sees_the_organisation_established(
        ) -> None:
    """With nobody affected in Wisconsin, its duty arises from the profile's principal place of
    business alone (Wis. Stat. 134.98(2)(a)), and not from the country alone."""
    import uuid
    from datetime import UTC, datetime

    from incident.affected.models import AffectedSnapshot
    from incident.lifecycle.models import Incident
    from notifications.obligations.engine import compute_obligations
    from notifications.obligations.facts import facts_from_json
    from notifications.obligations.models import OrganisationProfile
    from notifications.obligations.service import build_facts, shipped_regimes

    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    incident = Incident(id=uuid.uuid4(), reference="BR-2026-0001", title="t", kind="lost_device",
                        status="open", detected_at=at, aware_at=at, created_by="t",
                        created_at=at, updated_at=at, data_categories=["financial"])
    snapshot = AffectedSnapshot(incident_id=incident.id, number=1, scope={}, computed_at=at,
                                computed_by="t", total=3, summary={"by_jurisdiction": {"US-CA": 3}})

    def wisconsin(principal_place: str | None) -> tuple[bool, list[str]]:
        profile = OrganisationProfile(name="Example", country="US", timezone="America/Chicago",
                                      principal_place=principal_place, updated_at=at,
                                      updated_by="t")
        facts_json, _ = build_facts(profile, incident, None, snapshot, {})
        assert facts_json["organisation"]["principal_place"] == principal_place
        found = {r.ref: r for r in compute_obligations(facts_from_json(facts_json),
                                                       shipped_regimes(), explain=True)}
        duty = found["us-wi/individuals"]
        return duty.applies, list(duty.why)

    applies, why = wisconsin("US-WI")
    assert applies and any("established in US-WI" in line for line in why), why
    assert wisconsin(None)[0] is False
