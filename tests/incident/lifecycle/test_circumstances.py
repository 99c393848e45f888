"""An incident's circumstances over the API, on its page and from the command line: recorded
with their event, refused when wrong.

Encryption and its key, redaction, a risk-of-harm determination (the written document kept on
the incident) and a law-enforcement delay, in both database lanes.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.lifecycle.models import Incident
from incident.timeline.models import TimelineEvent
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import Person, new_incident
from tests.sessions import Browser

Client = httpx.AsyncClient

DETERMINATION = ("The laptop was recovered sealed within two hours; its disk is encrypted with "
                 "AES-256 and the recovery key never left the key vault. Misuse of the data is "
                 "not reasonably likely.")


def determination(**changes: Any) -> dict[str, Any]:
    """A risk-of-harm determination that misuse is not reasonably likely."""
    return {"conclusion": "misuse_not_reasonably_likely", "text": DETERMINATION,
            "determined_at": "2026-03-10T11:00:00Z", "determined_by": "Dana Privacy (DPO)",
            "law_enforcement_consulted": True, **changes}


def delay(**changes: Any) -> dict[str, Any]:
    """An open request by law enforcement to delay notice."""
    return {"agency": "FBI San Francisco Field Office", "requested_at": "2026-03-10T10:00:00Z",
            "written": True, **changes}


async def put(client: Client, person: Person, reference: str, body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"/api/v1/incidents/{reference}/circumstances", json=body,
                            headers=person.headers)


async def circumstance_events(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as db:
        return int((await db.exec(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.kind == "circumstances_recorded"))).one())


async def stored(engine: AsyncEngine, reference: str) -> dict[str, Any] | None:
    async with session_factory(engine)() as db:
        row = (await db.exec(select(Incident).where(Incident.reference == reference))).one()
        return row.circumstances


async def test_circumstances_are_recorded_with_their_event_and_shown_on_the_incident(
        client: Client, people: dict[str, Person], engine: AsyncEngine) -> None:
    responder, auditor = people["responder"], people["auditor"]
    reference = await new_incident(client, responder)
    body = {"encryption": "all", "state_of_the_art": True, "key_compromised": False,
            "law_enforcement_delay": delay(until="2026-04-10T00:00:00Z")}
    saved = await put(client, responder, reference, body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["law_enforcement_delay"]["agency"] == "FBI San Francisco Field Office"
    assert saved.json()["redacted"] is False and saved.json()["risk_of_harm"] is None

    shown = (await client.get(f"/api/v1/incidents/{reference}", headers=auditor.headers)).json()
    assert shown["circumstances"]["encryption"] == "all"
    assert shown["circumstances"]["law_enforcement_delay"]["until"] == "2026-04-10T00:00:00Z"
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=auditor.headers)).json()
    recorded = [e for e in events if e["kind"] == "circumstances_recorded"]
    assert len(recorded) == 1 and recorded[0]["actor"] == responder.email
    assert recorded[0]["payload"]["changed"] == ["encryption", "law_enforcement_delay",
                                                 "state_of_the_art"]

    # A PUT replaces the record: the delay ended, and is kept with its end.
    ended = await put(client, responder, reference,
                      {**body, "law_enforcement_delay": delay(ended_at="2026-03-10T11:30:00Z")})
    assert ended.status_code == 200, ended.text
    assert (await stored(engine, reference) or {})["law_enforcement_delay"]["ended_at"] == (
        "2026-03-10T11:30:00Z")
    assert await circumstance_events(engine) == 2
    verified = (await client.get(f"/api/v1/incidents/{reference}/timeline/verify",
                                 headers=auditor.headers)).json()
    assert verified["ok"] is True


async def test_the_written_determination_is_the_document_on_the_incident_and_in_the_export(
        client: Client, people: dict[str, Person]) -> None:
    approver, auditor = people["approver"], people["auditor"]
    reference = await new_incident(client, people["responder"])
    saved = await put(client, approver, reference, {"risk_of_harm": determination()})
    assert saved.status_code == 200, saved.text
    shown = (await client.get(f"/api/v1/incidents/{reference}", headers=auditor.headers)).json()
    harm = shown["circumstances"]["risk_of_harm"]
    assert harm["text"] == DETERMINATION and harm["determined_by"] == "Dana Privacy (DPO)"
    assert harm["determined_at"] == "2026-03-10T11:00:00Z"
    export = await client.get(f"/api/v1/incidents/{reference}/timeline/export?format=jsonl",
                              headers=auditor.headers)
    assert export.status_code == 200 and "AES-256 and the recovery key never left" in export.text


async def test_a_determination_that_lifts_duties_takes_an_approver(
        client: Client, people: dict[str, Person], engine: AsyncEngine) -> None:
    responder, approver, auditor = people["responder"], people["approver"], people["auditor"]
    reference = await new_incident(client, responder)
    refused = await put(client, responder, reference, {"risk_of_harm": determination()})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "approver" in refused.json()["detail"]
    assert await stored(engine, reference) is None and await circumstance_events(engine) == 0
    assert (await put(client, auditor, reference, {"redacted": True})).status_code == 403

    # A finding that misuse IS likely lifts nothing: a responder records it.
    likely = determination(conclusion="misuse_reasonably_likely")
    assert (await put(client, responder, reference, {"risk_of_harm": likely})).status_code == 200
    assert (await put(client, approver, reference, {"risk_of_harm": determination()})
            ).status_code == 200
    # The approver's determination stands unchanged: a responder may still record other facts.
    kept = await put(client, responder, reference,
                     {"redacted": True, "risk_of_harm": determination()})
    assert kept.status_code == 200, kept.text
    # ... but not change it.
    changed = await put(client, responder, reference,
                        {"risk_of_harm": determination(text="Nothing to see.")})
    assert changed.status_code == 403


async def test_wrong_circumstances_are_refused_as_problem_details_and_nothing_changes(
        client: Client, people: dict[str, Person], engine: AsyncEngine) -> None:
    responder, approver = people["responder"], people["approver"]
    reference = await new_incident(client, responder)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"law_enforcement_delay": delay(ended_at="2026-03-10T09:00:00Z")}, 422,
         "law_enforcement_delay.ended_at"),
        ({"law_enforcement_delay": delay(until="2026-03-09T00:00:00Z")}, 422,
         "law_enforcement_delay.until"),
        ({"law_enforcement_delay": delay(requested_at="2026-03-11T10:00:00Z")}, 422,
         "law_enforcement_delay.requested_at"),
        ({"law_enforcement_delay": delay(ended_at="2026-03-12T10:00:00Z")}, 422,
         "law_enforcement_delay.ended_at"),
        ({"risk_of_harm": determination(determined_at="2026-04-01T00:00:00Z")}, 422,
         "risk_of_harm.determined_at"),
        ({"risk_of_harm": determination(determined_at="0001-01-01T00:00:00Z")}, 400,
         "determined_at"),
        ({"encryption": "none", "key_compromised": True}, 422, "key_compromised"),
        ({"encryption": "some"}, 400, "encryption"),
        ({"redacted": "yes"}, 400, "redacted"),
        ({"redacted": 1}, 400, "redacted"),
        ({"risk_of_harm": determination(text="   ")}, 400, "text"),
        ({"law_enforcement_delay": delay(agency="")}, 400, "agency"),
        ({"encrypted": True}, 400, "encrypted"),
    ]
    for body, status, field in cases:
        response = await put(client, approver, reference, body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = [e.get("field") or e.get("key") or "" for e in response.json().get("errors", [])]
        assert any(field in f for f in fields) or field in response.text, (body, response.text)
    assert await stored(engine, reference) is None and await circumstance_events(engine) == 0


async def test_a_clock_skew_tolerance_lets_a_request_made_just_now_in(
        client: Client, people: dict[str, Person], clock: FixedClock) -> None:
    reference = await new_incident(client, people["responder"])
    now = clock.now()
    body = {"law_enforcement_delay": delay(requested_at=(now + timedelta(seconds=30)).isoformat())}
    assert (await put(client, people["responder"], reference, body)).status_code == 200


async def test_a_closed_incident_keeps_its_circumstances(
        client: Client, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference = await new_incident(client, responder)
    for target in ("contained", "resolved", "closed"):
        moved = await client.post(f"/api/v1/incidents/{reference}/status", json={"status": target},
                                  headers=responder.headers)
        assert moved.status_code == 200, moved.text
    refused = await put(client, responder, reference, {"redacted": True})
    assert refused.status_code == 409, refused.text


# --- the incident page's section --------------------------------------------------------------

FORM: dict[str, str] = {
    "encryption": "all", "state_of_the_art": "yes", "redacted": "",
    "harm_conclusion": "misuse_not_reasonably_likely", "harm_text": DETERMINATION,
    "harm_determined_at": "2026-03-10T12:00", "harm_determined_by": "Dana Privacy (DPO)",
    "harm_law_enforcement_consulted": "yes",
    "delay_agency": "FBI San Francisco Field Office", "delay_requested_at": "2026-03-10T11:00",
    "delay_written": "yes", "delay_until": "2026-04-10T00:00",
}
"""The circumstances form as a person fills it in (times in the page's zone, Europe/Berlin)."""


async def test_the_page_records_circumstances_and_shows_the_determination(
        client: Client, people: dict[str, Person], approver: Browser, auditor: Browser,
        engine: AsyncEngine) -> None:
    reference = await new_incident(client, people["responder"])
    empty = await auditor.page(reference)
    assert 'id="circumstances-none"' in empty.text
    assert 'action="/incidents/' + reference + '/circumstances' not in empty.text  # read-only role

    done = await approver.post(f"/incidents/{reference}/circumstances", FORM)
    assert done.status_code in (302, 303), done.text
    assert done.headers["location"].endswith("#circumstances")
    recorded = await stored(engine, reference) or {}
    assert recorded["encryption"] == "all" and recorded["state_of_the_art"] is True
    # 12:00 in Berlin (CET) is 11:00 UTC.
    assert recorded["risk_of_harm"]["determined_at"] == "2026-03-10T11:00:00Z"
    assert recorded["law_enforcement_delay"]["written"] is True

    page = (await auditor.page(reference)).text
    shown = html.unescape(page)
    assert "AES-256 and the recovery key never left the key vault" in shown
    assert "Misuse not reasonably likely" in shown and "FBI San Francisco Field Office" in shown
    assert "open, no end stated" not in shown and "until" in shown
    assert await circumstance_events(engine) == 1


async def test_a_refused_form_keeps_what_was_typed_and_says_why_beside_it(
        client: Client, people: dict[str, Person], responder: Browser, engine: AsyncEngine) -> None:
    reference = await new_incident(client, people["responder"])
    wrong = {**FORM, "harm_conclusion": "misuse_reasonably_likely",
             "delay_ended_at": "2026-03-10T10:00"}  # before the request at 11:00
    page = await responder.sent_back(f"/incidents/{reference}/circumstances", wrong,
                                     to=f"/incidents/{reference}#circumstances")
    text = html.unescape(page.text)
    notice = re.search(r'id="circumstances-notice">([^<]*)<', text)
    assert notice is not None
    assert notice.group(1) == "Law enforcement delay, ended at: lies before requested at."
    assert DETERMINATION in text and 'value="2026-03-10T10:00"' in text
    assert 'value="FBI San Francisco Field Office"' in text
    assert "<details open>" in text

    garbled = await responder.sent_back(f"/incidents/{reference}/circumstances",
                                        {**FORM, "harm_conclusion": "misuse_reasonably_likely",
                                         "delay_requested_at": "next tuesday"})
    assert "is not a date and time" in html.unescape(garbled.text)
    assert 'value="next tuesday"' in garbled.text

    # A responder may not record a finding that lifts duties: said beside the form, all kept.
    lifting = await responder.sent_back(f"/incidents/{reference}/circumstances", FORM)
    assert "an approver records it" in html.unescape(lifting.text)
    assert DETERMINATION in html.unescape(lifting.text)
    assert await stored(engine, reference) is None and await circumstance_events(engine) == 0


# --- the command line ----------------------------------------------------------------------------


def test_the_command_records_circumstances_from_a_file_and_refuses_in_one_line(
        breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    reference = breach("incidents", "create", "--title", "Stolen laptop", "--kind", "lost_device",
                       "--aware-at", "2026-03-10T09:00").stdout.strip()
    good = tmp_path / "circumstances.json"
    good.write_text(json.dumps({"encryption": "all", "state_of_the_art": True,
                                "risk_of_harm": determination()}))
    done = breach("incidents", "circumstances", reference, str(good)).stdout
    assert "circumstances recorded; encryption all" in done
    assert "risk of harm misuse_not_reasonably_likely" in done
    shown = breach.json("incidents", "show", reference)
    assert shown["circumstances"]["risk_of_harm"]["text"] == DETERMINATION

    piped = breach("incidents", "circumstances", reference, "-", "--json",
                   input=json.dumps({"redacted": True})).stdout
    assert json.loads(piped)["redacted"] is True

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"law_enforcement_delay": delay(ended_at="2026-03-10T09:00:00Z")}))
    error = breach.error("incidents", "circumstances", reference, str(wrong))
    assert error.startswith("breach: error:") and "ended_at lies before requested_at" in error
    wrong.write_text(json.dumps({"redacted": "yes"}))
    assert "redacted: must be true or false" in breach.error("incidents", "circumstances",
                                                             reference, str(wrong))
    wrong.write_text("{not json")
    assert "not JSON" in breach.error("incidents", "circumstances", reference, str(wrong))
