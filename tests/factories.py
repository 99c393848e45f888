"""Small factories with valid defaults, shared by the test modules: people, incidents, profiles,
and the few API scenarios several capabilities start from.

A plain module (not a conftest, not a test module) so that any test can import from it.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.accounts.models import User
from incident.kernel import auth
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import REPOSITORY
from notifications.delivery.outbox import CaptureTransport, Dispatcher
from notifications.drafting.render import renderer

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""Where every test's clock starts: two and a half hours after `incident_body()`'s aware_at."""

CONSOLE = auth.cli_actor("tests")
PASSWORD = "correct horse battery"

PROFILE: dict[str, Any] = {
    "name": "Example GmbH", "country": "DE", "timezone": "Europe/Berlin",
    "dpo": {"name": "Dana Privacy", "email": "dpo@example.com", "phone": "+49 30 1234"},
    "authorities": {"gdpr/authority": {
        "name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
        "email": "mailbox@datenschutz-berlin.de", "website": "https://www.datenschutz-berlin.de"}},
    "sender": {"name": "Example GmbH Privacy Team", "email": "privacy@example.com"}}
"""An organisation profile under the GDPR with an authority to write to, and the address its
notices come from."""

LOW_RISK: dict[str, Any] = {
    "data_categories": ["contact"], "subjects": 100, "vulnerable_subjects": False,
    "identifiability": "limited", "confidentiality": "at_risk", "integrity": "none",
    "availability": "none", "malicious": False,
    "encrypted": {"state_of_the_art": True, "key_compromised": False}}
"""Assessment facts that lead to 'document only'."""

SUBJECTS_HEADER = ("external_id,email,name,locale,country,region,system,categories,first_seen,"
                   "last_seen\n")
THREE_PEOPLE = (SUBJECTS_HEADER
                + "c-1,anna@example.com,Anna Nowak,pl,PL,,crm,contact;financial,,\n"
                "c-2,bernd@example.com,Bernd Müller,de,DE,,crm,contact,,\n"
                "c-3,,Carla Ruiz,es,ES,,crm,contact,,\n")
"""Three people in the CRM, the third without an e-mail address."""


@dataclass
class Person:
    email: str
    role: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@functools.cache
def password_hash(password: str) -> str:
    """argon2 is slow by design; hash each test password once per process."""
    return auth.hash_password(password)


async def make_person(engine: AsyncEngine, clock: FixedClock, role: str,
                      email: str | None = None, password: str = PASSWORD) -> Person:
    """A user who has already chosen their password, with an API token.

    Inserted directly (the sign-up path itself is tested in tests/incident/kernel/test_access.py).
    """
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    sessions = session_factory(engine)
    async with sessions() as db:
        async with transaction(db):  # waits its turn for the write lock, as the service does
            db.add(User(email=email, role=role, password_hash=password_hash(password),
                        must_change_password=False, created_at=clock.now()))
        _, token = await accounts.create_token(db, clock=clock, actor=CONSOLE, email=email,
                                               name="tests")
    return Person(email=email, role=role, password=password, token=token)


async def one_per_role(engine: AsyncEngine, clock: FixedClock) -> dict[str, Person]:
    """One person per role, keyed by role."""
    return {role.value: await make_person(engine, clock, role.value) for role in auth.Role}


def incident_body(**overrides: Any) -> dict[str, Any]:
    """The JSON of a valid new incident (a stolen laptop, aware at 09:30 UTC on START's day)."""
    body: dict[str, Any] = {
        "title": "Stolen laptop with customer export",
        "kind": "lost_device",
        "breach_types": ["confidentiality"],
        "data_categories": ["contact", "financial"],
        "systems": ["crm"],
        "occurred_from": "2026-03-09T18:00:00Z",
        "detected_at": "2026-03-10T08:00:00Z",
        "aware_at": "2026-03-10T09:30:00Z",
        "estimated_subjects": 1200,
    }
    body.update(overrides)
    return body


async def new_incident(client: httpx.AsyncClient, person: Person, **overrides: Any) -> str:
    """Record `incident_body(**overrides)` through the API as `person`; returns its reference."""
    created = await client.post("/api/v1/incidents", json=incident_body(**overrides),
                                headers=person.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["reference"])


def client_for(app: Litestar) -> httpx.AsyncClient:
    """An HTTP client that calls `app` in-process, on the caller's event loop."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- scenarios over the API ----------------------------------------------------------------------

async def affected_incident(client: httpx.AsyncClient, people: dict[str, Person],
                            **incident: Any) -> str:
    """An incident (`incident` overrides its fields) with THREE_PEOPLE affected, and its
    obligations computed under PROFILE."""
    admin, responder = people["admin"], people["responder"]
    assert (await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
            ).status_code == 200
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    imported = await client.post("/api/v1/subjects/import", content=THREE_PEOPLE.encode(),
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert imported.json()["imported"] == 3, imported.text
    created = await client.post("/api/v1/incidents", json=incident_body(**incident),
                                headers=responder.headers)
    assert created.status_code == 201, created.text
    reference = str(created.json()["reference"])
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    assert (await client.post(f"/api/v1/incidents/{reference}/affected",
                              headers=responder.headers)).status_code == 201
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    return reference


async def sending(client: httpx.AsyncClient, people: dict[str, Person], addresses: list[str]) -> str:
    """An incident whose notice to the people at `addresses` is approved and sent: its
    deliveries wait in the outbox."""
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"p-{n:04d},{address},Person {n},en,DE,,crm,contact,,\n"
                   for n, address in enumerate(addresses))
    imported = await client.post("/api/v1/subjects/import", content=(SUBJECTS_HEADER + rows).encode(),
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert imported.json()["imported"] == len(addresses), imported.text
    reference = str((await client.post("/api/v1/incidents", json=incident_body(),
                                       headers=responder.headers)).json()["reference"])
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                               headers=responder.headers)).json()
    await client.post(f"{base}/{draft['id']}/approve", json={"content_hash": draft["content_hash"]},
                      headers=approver.headers)
    # Above BREACH_CONFIRM_SEND_ABOVE recipients a send needs their number, typed.
    counted = await client.get(f"{base}/{draft['id']}/send-preview", headers=responder.headers)
    assert counted.status_code == 200, counted.text
    sent = await client.post(f"{base}/{draft['id']}/send", headers=responder.headers,
                             json={"confirm": counted.json()["recipients"]})
    assert sent.status_code == 202, sent.text
    return reference


async def approved_notice(client: httpx.AsyncClient, people: dict[str, Person],
                          reference: str) -> str:
    """The incident's notice to people, written in every language its readers read and
    approved: its API address."""
    responder, approver = people["responder"], people["approver"]
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                               headers=responder.headers)).json()
    url = f"{base}/{draft['id']}"
    preview = (await client.get(f"{url}/send-preview", headers=responder.headers)).json()
    lacking = [row["locale"] for row in preview["by_language"] if row["missing"]]
    if lacking:
        description = {"en": "A laptop holding a customer export was stolen.",
                       **{locale: f"({locale}) A laptop was stolen." for locale in lacking}}
        edited = await client.patch(url, json={"fields": {"description": description},
                                               "version": draft["version"]},
                                    headers=responder.headers)
        assert edited.status_code == 200, edited.text
        draft = edited.json()
    approved = await client.post(f"{url}/approve", json={"content_hash": draft["content_hash"]},
                                 headers=approver.headers)
    assert approved.status_code == 200, approved.text
    return url


REPORT_TEXT: dict[str, str] = {
    "consequences": "The people concerned may receive phishing messages that use their contact "
                    "details.",
    "measures_proposed": "We will tell the people concerned how to recognise phishing."}
"""What a report needs written before it is approved: its likely consequences and measures."""


async def written_report(client: httpx.AsyncClient, person: Person, url: str,
                         draft: dict[str, Any]) -> dict[str, Any]:
    """`draft` (a report, as the API shows it) with REPORT_TEXT saved: the new version."""
    saved = await client.patch(url, json={"fields": REPORT_TEXT, "version": draft["version"]},
                               headers=person.headers)
    assert saved.status_code == 200, saved.text
    return dict(saved.json())


def dispatcher(engine: AsyncEngine, clock: FixedClock) -> Dispatcher:
    """An outbox dispatcher whose messages the database's mail capture keeps."""
    return Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                      clock=clock, sender="Example GmbH <privacy@example.com>", worker="test")
