"""Four eyes on an assessment that would end a duty, through the API on both database lanes.

DESIGN.md: the DPO/approver "reviews the risk assessment, approves or overrides the
recommendation ... (four-eyes: the approver is never the author)". A lower risk must
therefore never remove a duty silently: the assessment waits for a second person.
"""

from __future__ import annotations

from typing import Any

import httpx

from notifications.obligations import confirmation
from notifications.obligations.models import IncidentAssessment
from tests.factories import LOW_RISK, PROFILE, Person, new_incident

HIGH_RISK: dict[str, Any] = {
    "data_categories": ["health"], "subjects": 100, "vulnerable_subjects": False,
    "identifiability": "maximum", "confidentiality": "unknown_recipients", "integrity": "none",
    "availability": "none", "malicious": True, "exfiltration": "confirmed"}
"""Assessment facts that lead to 'notify the authority and the data subjects'."""

DUTIES = ["gdpr/authority", "gdpr/data-subjects"]


async def _duties(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/incidents/{reference}/obligations",
                                headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _applying(found: dict[str, Any]) -> dict[str, bool]:
    return {o["ref"]: o["applies"] for o in found["obligations"] if o["ref"] in DUTIES}


async def _events(client: httpx.AsyncClient, person: Person, reference: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/incidents/{reference}/timeline", headers=person.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_lower_risk_waits_for_an_approver_who_did_not_record_it(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver, admin = people["responder"], people["approver"], people["admin"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    reference = await new_incident(client, responder)
    url = f"/api/v1/incidents/{reference}/assessment"

    # A high risk keeps the duties assumed before any assessment: in force at once.
    high = await client.post(url, json=HIGH_RISK, headers=responder.headers)
    assert high.status_code == 201, high.text
    assert (high.json()["pending"], high.json()["ends"]) == (False, [])
    assert _applying(await _duties(client, responder, reference)) == dict.fromkeys(DUTIES, True)

    # A document-only assessment would end both: recorded, pending, and nothing changes yet.
    low = await client.post(url, json=LOW_RISK, headers=responder.headers)
    assert low.status_code == 201, low.text
    assert (low.json()["number"], low.json()["pending"], low.json()["ends"]) == (2, True, DUTIES)
    found = await _duties(client, responder, reference)
    assert _applying(found) == dict.fromkeys(DUTIES, True)
    held = ("assessment 2 (document only) would end this duty; it awaits an approver's "
            "confirmation")
    for duty in found["obligations"]:
        if duty["ref"] in DUTIES:
            assert held in duty["why"], duty["why"]
    assert any("so assessment 1 (notify the authority and the people) stays in force" in a
               for a in found["assumptions"]), found["assumptions"]
    pending = [e for e in await _events(client, responder, reference)
               if e["kind"] == "assessment_pending"]
    assert [(e["payload"]["number"], e["payload"]["ends"], e["payload"]["in_force"])
            for e in pending] == [(2, DUTIES, 1)]

    confirm = f"/api/v1/incidents/{reference}/assessments/2/confirm"
    # A responder may not confirm; the approver who recorded an assessment may not confirm it.
    refused = await client.post(confirm, headers=responder.headers)
    assert refused.status_code == 403
    mine = await client.post(url, json=LOW_RISK, headers=approver.headers)
    assert (mine.json()["number"], mine.json()["pending"]) == (3, True)
    own = await client.post(f"/api/v1/incidents/{reference}/assessments/3/confirm",
                            headers=approver.headers)
    assert own.status_code == 403, own.text
    assert own.headers["content-type"].startswith("application/problem+json")
    assert own.json()["detail"] == ("you recorded assessment 3: another approver must confirm it")
    missing = await client.post(f"/api/v1/incidents/{reference}/assessments/9/confirm",
                                headers=approver.headers)
    assert missing.status_code == 404
    assert _applying(await _duties(client, responder, reference)) == dict.fromkeys(DUTIES, True)

    # The approver confirms the responder's assessment: it takes effect, the duties end.
    done = await client.post(confirm, headers=approver.headers)
    assert done.status_code == 200, done.text
    assert (done.json()["pending"], done.json()["confirmed_by"]) == (False, approver.email)
    assert _applying(await _duties(client, responder, reference)) == dict.fromkeys(DUTIES, False)
    again = await client.post(confirm, headers=admin.headers)
    assert again.status_code == 409 and f"confirmed by {approver.email}" in again.text

    events = await _events(client, responder, reference)
    confirmed = [e for e in events if e["kind"] == "assessment_confirmed"]
    assert [(e["actor"], e["payload"]["number"]) for e in confirmed] == [(approver.email, 2)]
    recomputed = [e for e in events if e["kind"] == "obligations_recomputed"][-1]
    assert recomputed["payload"]["cause"] == "assessment 2 confirmed"
    listed = (await client.get(url, headers=people["auditor"].headers)).json()
    assert [(a["number"], a["pending"]) for a in listed] == [(1, False), (2, False), (3, True)]
    verified = (await client.get(f"/api/v1/incidents/{reference}/timeline/verify",
                                 headers=responder.headers)).json()
    assert verified["ok"] is True


async def test_a_raising_assessment_needs_no_confirmation(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver, admin = people["responder"], people["approver"], people["admin"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    reference = await new_incident(client, responder)
    url = f"/api/v1/incidents/{reference}/assessment"
    await client.post(url, json=LOW_RISK, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/assessments/1/confirm",
                      headers=approver.headers)
    assert _applying(await _duties(client, responder, reference)) == dict.fromkeys(DUTIES, False)

    raised = await client.post(url, json=HIGH_RISK, headers=responder.headers)
    assert (raised.json()["pending"], raised.json()["confirmed_at"]) == (False, None)
    assert _applying(await _duties(client, responder, reference)) == dict.fromkeys(DUTIES, True)
    kinds = [e["kind"] for e in await _events(client, responder, reference)]
    assert kinds.count("assessment_pending") == 1  # the first, lowering one only

    # Confirming the older one now would be meaningless: a newer assessment is in force.
    stale = await client.post(f"/api/v1/incidents/{reference}/assessments/1/confirm",
                              headers=admin.headers)
    assert stale.status_code == 409


async def test_an_approvers_override_of_a_pending_assessment_settles_it(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver, admin = people["responder"], people["approver"], people["admin"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    reference = await new_incident(client, responder)
    await client.post(f"/api/v1/incidents/{reference}/assessment", json=LOW_RISK,
                      headers=responder.headers)
    overridden = await client.post(
        f"/api/v1/incidents/{reference}/assessment/override", headers=approver.headers,
        json={"recommendation": "notify_authority", "justification": "Key custody is unclear."})
    assert overridden.status_code == 200, overridden.text
    body = overridden.json()
    assert (body["decided"], body["pending"], body["ends"], body["confirmed_by"]) == (
        "notify_authority", False, ["gdpr/data-subjects"], approver.email)
    assert _applying(await _duties(client, responder, reference)) == {
        "gdpr/authority": True, "gdpr/data-subjects": False}


# --- the pure rules ---------------------------------------------------------------------------


def _row(number: int, *, pending: bool = False, by: str = "a@example.com") -> IncidentAssessment:
    return IncidentAssessment.model_validate({
        "incident_id": "00000000-0000-0000-0000-000000000001", "number": number, "facts": {},
        "result": {}, "recommendation": "document", "assessed_at": "2026-03-10T09:30:00Z",
        "assessed_by": by, "pending": pending, "ends": ["gdpr/authority"] if pending else []})


def test_only_duties_that_stop_applying_count_as_ended() -> None:
    before = [("gdpr/authority", True), ("gdpr/data-subjects", True), ("nis2/csirt", False)]
    after = [("gdpr/authority", True), ("gdpr/data-subjects", False), ("nis2/csirt", True)]
    assert confirmation.ended(before, after) == ["gdpr/data-subjects"]
    assert confirmation.ended(before, []) == ["gdpr/authority", "gdpr/data-subjects"]
    assert confirmation.ended(after, before) == ["nis2/csirt"]


def test_the_newest_settled_assessment_is_in_force() -> None:
    rows = [_row(1), _row(2, pending=True), _row(3, pending=True)]
    assert confirmation.in_force(rows) is rows[0]
    assert confirmation.awaiting(rows) is rows[2]
    assert confirmation.in_force([_row(1, pending=True)]) is None
    assert confirmation.awaiting([_row(1), _row(2)]) is None
    refusal = confirmation.confirmation_refusal(rows[1], approver="a@example.com",
                                                current=rows[0])
    assert isinstance(refusal, confirmation.FourEyes)
    assert confirmation.confirmation_refusal(rows[1], approver="b@example.com",
                                             current=rows[0]) is None
