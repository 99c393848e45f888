"""Reports as documents over the API: the PDF in the authority's language, the field sheet, and
a report submitted through the authority's portal, met that way with the PDF kept as evidence."""

from __future__ import annotations

import shutil
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from notifications.delivery.models import CapturedMessage
from tests.factories import PROFILE, Person, affected_incident, dispatcher, written_report

needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


async def a_report(client: httpx.AsyncClient, people: dict[str, Person]) -> tuple[str, str]:
    """An incident with three people counted, and its written report to the authority:
    (incident reference, the report's URL)."""
    responder = people["responder"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/authority"},
                               headers=responder.headers)).json()
    url = f"{base}/{draft['id']}"
    await written_report(client, responder, url, draft)
    return reference, url


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


@needs_pdftotext
async def test_the_pdf_is_the_report_in_the_authority_s_language(
        client: httpx.AsyncClient, people: dict[str, Person], tmp_path: Path) -> None:
    responder, admin = people["responder"], people["admin"]
    reference, url = await a_report(client, people)
    english = await client.get(f"{url}/report.pdf", headers=responder.headers)
    assert english.status_code == 200 and english.headers["content-type"] == "application/pdf"
    assert f'filename="{reference}-gdpr-authority-1-v2-en.pdf"' in (
        english.headers["content-disposition"])
    text = pdf_text(english.content, tmp_path)
    assert "Berliner Beauftragte für Datenschutz und Informationsfreiheit" in text
    assert "Number of data subjects" in text and "3 (counted from our records" in text
    assert "phishing messages that use their contact details" in text
    german_authority = {**PROFILE, "authorities": {"gdpr/authority": {
        **PROFILE["authorities"]["gdpr/authority"], "language": "de"}}}
    await client.put("/api/v1/organisation", json=german_authority, headers=admin.headers)
    german = pdf_text((await client.get(f"{url}/report.pdf", headers=responder.headers)).content,
                      tmp_path)
    assert "Meldung einer Verletzung des Schutzes personenbezogener Daten" in german
    copy = german[german.index("English copy"):]
    assert "Notification of a personal data breach under Article 33 GDPR" in copy
    asked = await client.get(f"{url}/report.pdf?locale=fr", headers=responder.headers)
    assert "Notification d" in pdf_text(asked.content, tmp_path)


async def test_the_sheet_and_the_pdf_are_for_reports_only(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder = people["responder"]
    reference, url = await a_report(client, people)
    rows = (await client.get(f"{url}/sheet", headers=responder.headers)).json()
    fields = {row["field"]: row for row in rows}
    assert fields["Number of data subjects"]["value"] == "3 (counted from our records)"
    assert fields["Likely consequences"]["basis"] == "GDPR Art. 33(3)(c)"
    assert any(row["field"].startswith("Content required: nature of the breach") for row in rows)
    base = f"/api/v1/incidents/{reference}/notifications"
    notice = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                                headers=responder.headers)).json()
    for part in ("report.pdf", "sheet"):
        refused = await client.get(f"{base}/{notice['id']}/{part}", headers=responder.headers)
        assert refused.status_code == 409 and "not a report" in refused.json()["detail"]


async def test_a_report_submitted_through_the_portal_meets_its_obligation_with_evidence(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, approver = people["responder"], people["approver"]
    reference, url = await a_report(client, people)
    receipt = {"reference": "BlnBDI-2026-0815", "at": "2026-03-10T11:30:00Z"}
    unapproved = await client.post(f"{url}/submitted", json=receipt, headers=responder.headers)
    assert unapproved.status_code == 409
    report = (await client.get(url, headers=responder.headers)).json()
    await client.post(f"{url}/approve", json={"content_hash": report["content_hash"]},
                      headers=approver.headers)
    done = await client.post(f"{url}/submitted", json=receipt, headers=responder.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    incident = f"/api/v1/incidents/{reference}"
    duty = next(o for o in (await client.get(f"{incident}/obligations",
                                             headers=responder.headers)).json()["obligations"]
                if o["ref"] == "gdpr/authority")
    assert duty["status"] == "met" and duty["met_at"] == "2026-03-10T11:30:00Z"
    assert duty["how"] == "submitted through the authority's portal, reference BlnBDI-2026-0815"
    evidence = (await client.get(f"{incident}/evidence", headers=responder.headers)).json()
    assert [e["content_type"] for e in evidence] == ["application/pdf"]
    kept = await client.get(f"{incident}/evidence/{evidence[0]['id']}", headers=responder.headers)
    assert kept.content.startswith(b"%PDF-")
    events = (await client.get(f"{incident}/timeline", headers=responder.headers)).json()
    kinds = [e["kind"] for e in events["items"]] if isinstance(events, dict) else [
        e["kind"] for e in events]
    assert {"notification_submitted", "evidence_added", "obligation_met"} <= set(kinds)
    again = await client.post(f"{url}/submitted", json=receipt, headers=responder.headers)
    assert again.status_code == 409


async def test_a_report_goes_in_the_authority_s_language_with_an_english_copy(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder, approver, admin = people["responder"], people["approver"], people["admin"]
    german_authority = {**PROFILE, "authorities": {"gdpr/authority": {
        **PROFILE["authorities"]["gdpr/authority"], "language": "de"}}}
    _, url = await a_report(client, people)
    await client.put("/api/v1/organisation", json=german_authority, headers=admin.headers)
    report = (await client.get(url, headers=responder.headers)).json()
    await client.post(f"{url}/approve", json={"content_hash": report["content_hash"]},
                      headers=approver.headers)
    refused = await client.post(f"{url}/send", headers=responder.headers)
    assert refused.status_code == 409 and "no text in de" in refused.json()["detail"]
    german = {"description": {"de": "Ein Laptop wurde gestohlen."},
              "consequences": {"de": "Phishing-Nachrichten an die Betroffenen."},
              "measures_proposed": {"de": "Wir informieren die Betroffenen."}}
    saved = (await client.patch(url, headers=responder.headers,
                                json={"version": report["version"], "fields": german})).json()
    await client.post(f"{url}/approve", json={"content_hash": saved["content_hash"]},
                      headers=approver.headers)
    assert (await client.post(f"{url}/send", headers=responder.headers)).status_code == 202
    assert await dispatcher(engine, clock).run_once() == 1
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).one()
    message = message_from_bytes(captured.raw, policy=policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    files = list(message.iter_attachments())
    assert [f.get_content_type() for f in files] == ["application/pdf"]
    assert str(files[0].get_filename()).endswith(".pdf")
    assert files[0].get_content().startswith(b"%PDF-")
    original, english = text.split("English copy", 1)
    assert "Meldung einer Verletzung" in original and "Ein Laptop wurde gestohlen." in original
    assert "Notification of a personal data breach" in english
    assert "Stolen laptop with customer export" in english  # the English text, in the copy

