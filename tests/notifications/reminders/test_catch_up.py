"""The catch-up: the organisation profile set ten days after awareness. Whatever fell due
meanwhile reaches each person as one calm message, not one per reminder: every "due in N
hours" reminder is skipped (never sent late), each overdue duty is escalated once, in the
digest, named in words with the authority's name and linked at BREACH_BASE_URL.

The deadlines the digest reports are the laws' own: GDPR Art. 33(1), "not later than 72 hours
after having become aware of it"; NIS2 Directive (EU) 2022/2555 Art. 23(4)(a), an early warning
"within 24 hours of becoming aware of the significant incident", and (b) the incident
notification "within 72 hours". Ten days after awareness all three have passed.
"""

from __future__ import annotations

import collections
import json
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import REPOSITORY, Settings
from incident.lifecycle.models import Incident
from incident.timeline import service as timeline
from notifications.delivery.mailer import pool_from_url
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import renderer
from notifications.scheduler import ticker
from tests.factories import PROFILE, Person, incident_body, make_person
from tests.notifications.reminders.samples import all_reminders
from tests.smtp_server import SmtpServer

AWARE = "2026-03-10T09:30:00Z"  # incident_body()'s aware_at
BASE_URL = "https://breach.example.org:8443"
BSI = "Bundesamt für Sicherheit in der Informationstechnik (BSI)"
BERLIN_DPA = "Berliner Beauftragte für Datenschutz und Informationsfreiheit"
ESSENTIAL: dict[str, Any] = {
    **PROFILE, "flags": ["nis2_essential"],
    "authorities": {**PROFILE["authorities"],
                    "nis2": {"name": BSI, "email": "meldestelle@bsi.bund.de"}}}
"""PROFILE for an essential entity under NIS2 (Art. 3(1)), with its CSIRT named."""


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize("lane", ["sqlite", "postgresql"])
async def test_a_profile_set_ten_days_after_awareness_sends_one_digest_per_person(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        settings: Settings, clock: FixedClock, smtp_server: SmtpServer) -> None:
    second_admin = await make_person(engine, clock, "admin")
    lead = people["responder"]
    references = []
    for title in ("Stolen laptop with customer export", "Misdirected payroll e-mail"):
        created = await client.post("/api/v1/incidents", headers=lead.headers,
                                    json=incident_body(title=title, lead=lead.email))
        assert created.status_code == 201, created.text
        references.append(created.json()["reference"])
    clock.advance(timedelta(days=10))  # known for ten days; only now is the profile set
    assert (await client.put("/api/v1/organisation", json=ESSENTIAL,
                             headers=people["admin"].headers)).status_code in (200, 201)

    served = settings.model_copy(update={"base_url": BASE_URL})  # BREACH_BASE_URL
    pool = pool_from_url(smtp_server.url, size=2, timeout=5)
    declared = {job.name: job for job in ticker.jobs(
        engine, served, clock, renderer(REPOSITORY / "templates"), pool, worker="w")}
    try:
        assert await declared["obligations"].run() == 2
        await declared["reminders"].run()
        clock.advance(timedelta(seconds=30))
        await declared["reminders"].run()  # the next tick: nothing more
        while await declared["outbox"].run():
            pass
    finally:
        await pool.close()

    # Whom: the admins, the approver and the incidents' lead; each exactly once.
    everyone = sorted([people["admin"].email, second_admin.email, people["approver"].email,
                       lead.email])
    received = collections.Counter(to for m in smtp_server.messages for to in m.rcpt_tos)
    assert sorted(received) == everyone
    assert set(received.values()) == {1}

    rows = await all_reminders(engine)
    leads = [r for r in rows if r.kind == "obligation_due"]
    assert leads and {r.state for r in leads} == {"skipped"}  # none sent ten days late
    overdue = [r for r in rows if r.kind == "obligation_overdue"]
    refs = {(r.detail["ref"]) for r in overdue}
    assert {"gdpr/authority", "nis2/early-warning", "nis2/notification"} <= refs
    assert {r.state for r in overdue} == {"fired"}
    assert len(overdue) == len({(r.incident_id, r.detail["ref"]) for r in overdue})  # once each

    message = smtp_server.messages[0].parsed()
    text = plain(message)
    assert message["Subject"].startswith("Reminders: what fell due while none could be sent")
    assert "0 minutes" not in text and "due soon" not in text
    for reference in references:
        line = next(line for line in text.splitlines()
                    if line.startswith(f"- {reference}, ") and BERLIN_DPA in line)
        assert "Notify the supervisory authority" in line
        assert "EU General Data Protection Regulation" in line and "Overdue" in line
        assert f"  {BASE_URL}/incidents/{reference}\n" in text
    # NIS2's early warning and its notification, each a phase of reporting to the CSIRT.
    assert f"Notify the regulator: initial notification ({BSI}, NIS2 Directive). Overdue" in text
    assert f"Notify the regulator: intermediate report ({BSI}, NIS2 Directive). Overdue" in text
    # The decision that starts NIS2's clocks (Art. 23(3): a significant incident), in words.
    assert f"classify the incident (NIS2 significant) ({BSI}, NIS2 Directive). Decision" in text
    assert "gdpr/authority" not in text and "nis2/" not in text
    assert "127.0.0.1:8000" not in text and ":8000/" not in message.as_string()
    html = message.get_body(("html",))
    assert html is not None and f'href="{BASE_URL}/incidents/{references[0]}"' in html.get_content()

    # Each incident's timeline says what was sent about it: one event for the digest, naming
    # every reminder of that incident it carried, to as many people as received it.
    async with session_factory(engine)() as db:
        notifications = (await db.exec(select(Notification).where(
            Notification.kind == "reminder"))).all()
        deliveries = (await db.exec(select(Delivery))).all()
        incidents = (await db.exec(select(Incident))).all()
        logged = {i.reference: [json.loads(e.payload) for e in await timeline.events(
            db, str(i.id)) if e.kind == "reminder_fired"] for i in incidents}
    assert {d.state for d in deliveries} == {"sent"} and len(deliveries) == len(everyone)
    sent_ids = {n.id for n in notifications}
    fired = [r for r in rows if r.state == "fired"]
    for reference in references:
        [event] = logged[reference]
        assert event["digest"] is True and event["notification"] in sent_ids
        assert event["recipients"] == sum(1 for d in deliveries
                                          if d.notification_id == event["notification"])
        incident_id = next(i.id for i in incidents if i.reference == reference)
        assert sorted(event["reminders"]) == sorted(
            r.key for r in fired if r.incident_id == incident_id)
