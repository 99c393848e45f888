"""Five incidents whose register and compliance report the tests work out by hand.

Made over the API as people would, the clock moved to each moment (times UTC; the service's
zone is Europe/Berlin, the profile's organisation is in Germany, so the GDPR's two duties
arise: the authority within 72 hours of awareness, the people without undue delay):

- FIRST, a stolen laptop (aware 5 January 09:00): three people counted in an affected-people
  snapshot; a runbook step done with its evidence; the authority told on 7 January 09:00
  (48 h: on time); the notice to people waived by an approver.
- LATE (aware 20 January 10:00, 250 people estimated): the authority told on 24 January
  12:30, 1 d 2 h 30 min after its due time, with the reasons for the delay; the people told
  on 25 January 08:00 (no fixed due time: on time).
- DISMISSED (aware 2 February 08:00): dismissed by an approver with a reason; its duties,
  still pending, are not owed.
- HARMLESS (aware 10 February 09:00): assessed low risk (confirmed by the approver), so
  neither duty applies.
- OVERDUE (aware 5 March 12:00): nothing done; at the tests' START (10 March 12:00) the
  authority notice is two days overdue and the notice to people open.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from incident.kernel.clock import FixedClock
from tests.factories import LOW_RISK, PROFILE, START, THREE_PEOPLE, Person, incident_body

FIRST, LATE, DISMISSED, HARMLESS, OVERDUE = (f"BR-2026-000{n}" for n in range(1, 6))
"""References in the order the incidents are created, which is also their awareness order."""

EVIDENCE = b"MDM confirmation: device 7 wiped at 2026-01-05T11:40Z\n"
EVIDENCE_SHA256 = hashlib.sha256(EVIDENCE).hexdigest()
LATE_REASON = "The forensic report confirming the access arrived only on 24 January."
WAIVER = "The laptop's disk was encrypted and the key kept apart: no risk to the people."
DISMISSAL = "Only synthetic test accounts were exposed: no personal data."
HOW_PORTAL = "Authority portal, receipt 4711"
HOW_LETTERS = "E-mail to every customer concerned"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Seeded:
    people: dict[str, Person]
    step_row: int
    """The FIRST incident's runbook step done with evidence."""
    steps_total: int


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _incident(client: httpx.AsyncClient, clock: FixedClock, person: Person, *,
                    aware: str, **fields: Any) -> str:
    aware_at = at(aware)
    clock.set(aware_at)
    body = incident_body(aware_at=aware_at.isoformat(),
                         detected_at=(aware_at - timedelta(minutes=30)).isoformat(),
                         occurred_from=(aware_at - timedelta(hours=10)).isoformat(), **fields)
    created = _ok(await client.post("/api/v1/incidents", json=body, headers=person.headers),
                        201)
    reference = str(created["reference"])
    _ok(await client.get(f"/api/v1/incidents/{reference}/obligations",
                               headers=person.headers))
    return reference


async def _record(client: httpx.AsyncClient, person: Person, reference: str, ref: str,
                  **change: Any) -> None:
    _ok(await client.post(f"/api/v1/incidents/{reference}/obligations/{ref}", json=change,
                                headers=person.headers))


async def seed(client: httpx.AsyncClient, people: dict[str, Person], clock: FixedClock) -> Seeded:
    """The five incidents, the clock left at START."""
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    clock.set(at("2026-01-05T08:30:00"))
    _ok(await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers))
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    imported = _ok(await client.post(
        "/api/v1/subjects/import", content=THREE_PEOPLE.encode(),
        headers={**admin.headers, "content-type": "text/csv"}))
    assert imported["imported"] == 3

    first = await _incident(client, clock, responder, aware="2026-01-05T09:00:00",
                            title="Stolen laptop with customer export", estimated_subjects=1200,
                            estimated_records=3600)
    base = f"/api/v1/incidents/{first}"
    clock.set(at("2026-01-05T11:00:00"))
    _ok(await client.put(f"{base}/scope", json={}, headers=responder.headers))
    _ok(await client.post(f"{base}/affected", headers=responder.headers), 201)
    _ok(await client.post(f"{base}/runbooks", json={"runbook": "lost-device"},
                                headers=responder.headers), 201)
    steps = (_ok(await client.get(f"{base}/steps", headers=responder.headers)))["steps"]
    wipe = next(s for s in steps if s["step_id"] == "remote-lock-wipe")
    clock.set(at("2026-01-05T11:45:00"))
    _ok(await client.post(f"{base}/evidence", headers=responder.headers,
                                files={"file": ("wipe-log.txt", EVIDENCE, "text/plain")},
                                data={"step": str(wipe["id"])}), 201)
    _ok(await client.patch(f"{base}/steps/{wipe['id']}", json={"state": "done"},
                                 headers=admin.headers))  # the runbook gives this step to admins
    clock.set(at("2026-01-07T09:00:00"))
    await _record(client, responder, first, "gdpr/authority", status="met", how=HOW_PORTAL)
    await _record(client, approver, first, "gdpr/data-subjects", status="waived", reason=WAIVER)

    late = await _incident(client, clock, responder, aware="2026-01-20T10:00:00",
                           title="Intrusion into the support desk", kind="unauthorized_access",
                           estimated_subjects=250)
    clock.set(at("2026-01-25T09:00:00"))
    await _record(client, responder, late, "gdpr/authority", status="met",
                  at="2026-01-24T12:30:00Z", how=HOW_PORTAL, reason=LATE_REASON)
    await _record(client, responder, late, "gdpr/data-subjects", status="met",
                  at="2026-01-25T08:00:00Z", how=HOW_LETTERS)

    dismissed = await _incident(client, clock, responder, aware="2026-02-02T08:00:00",
                                title="Test accounts exposed", kind="other")
    clock.set(at("2026-02-02T09:00:00"))
    _ok(await client.post(f"/api/v1/incidents/{dismissed}/status",
                                json={"status": "dismissed", "reason": DISMISSAL},
                                headers=approver.headers))

    harmless = await _incident(client, clock, responder, aware="2026-02-10T09:00:00",
                               title="Encrypted backup tape mislaid")
    _ok(await client.post(f"/api/v1/incidents/{harmless}/assessment", json=LOW_RISK,
                                headers=responder.headers), 201)
    # It ends the duties assumed so far: in force once an approver confirms it.
    _ok(await client.post(f"/api/v1/incidents/{harmless}/assessments/1/confirm",
                          headers=approver.headers))

    overdue = await _incident(client, clock, responder, aware="2026-03-05T12:00:00",
                              title="Customer list e-mailed to the wrong partner",
                              kind="misdirected_email", estimated_subjects=40)
    assert [first, late, dismissed, harmless, overdue] == [FIRST, LATE, DISMISSED, HARMLESS,
                                                           OVERDUE]
    clock.set(START)
    return Seeded(people=people, step_row=int(wipe["id"]), steps_total=len(steps))


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def pdf_text(pdf: Path) -> str:
    """The PDF's words as pdftotext reads them, white space folded."""
    done = subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                          capture_output=True, text=True)
    return " ".join(done.stdout.split())


def assert_not_blank(pdf: Path) -> None:
    """The first page, rasterised at 50 dpi, is an A4 page with ink on it."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(pdf.with_suffix(""))], check=True)
    [png] = pdf.parent.glob(f"{pdf.stem}*.png")
    with Image.open(png) as image:
        width, height = image.size
        dark = sum(image.convert("L").histogram()[:128])
    assert abs(height / width - 297 / 210) < 0.01, (width, height)
    assert dark > 1000, dark
