"""The reminders dashboard: due, fired, skipped and parked reminders with the incidents they are
about, shown escaped; each duty in words with the authority's name, as the reminder e-mails
say it; and how a reminder and its lateness are put in words."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, transaction
from notifications.reminders import service as reminders
from notifications.reminders.models import Reminder
from notifications.reminders.service import Duty
from notifications.scheduler.agenda import describe, duty_words, lateness_words
from tests.factories import Person
from tests.notifications.drafting.samples import affected_incident, escaped


async def test_the_reminders_dashboard_shows_due_fired_and_parked_reminders(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference = await affected_incident(client, people)
    await client.get(f"/api/v1/incidents/{reference}/obligations",
                     headers=people["responder"].headers)
    auditor = people["auditor"].headers  # a token: the clock moves past any sign-in's lifetime
    await reminders.plan(engine, clock)
    before = await client.get("/reminders", headers=auditor)
    assert before.status_code == 200, before.text
    escaped(before.text)
    assert "Nothing has fired yet." in before.text and "No reminder was skipped." in before.text
    assert "|reminder-48h|" in before.text and reference in before.text
    authority = ("Notify the supervisory authority: initial notification (Berliner Beauftragte "
                 "für Datenschutz und Informationsfreiheit, EU General Data Protection "
                 "Regulation), 48 h before it is due")
    assert authority in html.unescape(before.text)
    assert "gdpr/authority, 48 h" not in before.text

    # gdpr/authority is due 72 h after awareness (2026-03-13 09:30 UTC); a day later everything
    # before it has fallen due, and fires at once with its lateness.
    clock.advance(timedelta(days=4))
    await reminders.plan(engine, clock)
    async with session_factory(engine)() as db, transaction(db):
        planned = (await db.exec(select(Reminder))).first()
        assert planned is not None
        db.add(Reminder(key=f"renamed|{uuid.uuid4()}", kind="renamed_kind", subject="x:1",
                        incident_id=planned.incident_id, due_at=clock.now() - timedelta(hours=1)))
    fired = await reminders.fire(engine, clock, worker="worker-7", message_domain="example.com",
                                 base_url="http://breach.example")
    assert fired > 0
    after = await client.get("/reminders", headers=auditor)
    assert after.status_code == 200, after.text
    escaped(after.text)
    assert after.text.count('class="worker">worker-7<') == fired
    assert "obligation overdue" in after.text
    assert "1 d 2 h late" in after.text  # due 2026-03-13 09:30 UTC, fired 2026-03-14 12:00
    assert 'id="parked"' in after.text and "unknown kind &#39;renamed_kind&#39;" in after.text
    # The lead-time reminders whose moment passed while nothing ran: listed, with why.
    skipped = after.text.split('id="skipped"', 1)[1]
    rows = re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', skipped, re.S)
    for lead in ("|reminder-48h|", "|reminder-1h|"):
        assert any(lead in key for key, _ in rows)
    shown = html.unescape(next(row for key, row in rows if "|reminder-48h|" in key))
    assert "Notify the supervisory authority: initial notification (Berliner Beauftragte" in shown
    assert reference in shown
    assert re.search(r'class="reason">Its moment passed \d+ h \d+ min before it could be sent; '
                     r"a reminder is never sent late", shown)
    assert re.search(r'id="outbox-queue">Outbox: <strong>\d+</strong>', after.text)


def test_lateness_in_words() -> None:
    assert lateness_words(None) == "on time"
    assert lateness_words(59) == "on time"
    assert lateness_words(60) == "1 min late"
    assert lateness_words(3 * 3600) == "3 h late"
    assert lateness_words(3 * 3600 + 5 * 60 + 10) == "3 h 5 min late"
    assert lateness_words(86_400) == "1 d late"
    assert lateness_words(2 * 86_400 + 4 * 3600 + 59) == "2 d 4 h late"


def test_a_duty_in_words_as_the_reminder_e_mails_say_it() -> None:
    authority = Duty("authority", "Notify the supervisory authority", "UK GDPR",
                     "Information Commissioner's Office", "initial")
    assert duty_words(authority) == ("Notify the supervisory authority: initial notification "
                                     "(Information Commissioner's Office, UK GDPR)")
    assert describe("obligation_due", {"ref": "uk-gdpr/authority", "lead_hours": 24.0},
                    authority).startswith("Notify the supervisory authority: initial")
    assert describe("obligation_overdue", {"ref": "uk-gdpr/authority"}, authority).endswith(
        "(Information Commissioner's Office, UK GDPR)")
    decision = Duty("", "classify the incident (NIS2 significant)", "NIS2", "BSI")
    assert describe("classify_incident", {"due_at": "2026-03-11T09:30:00Z"}, decision) == (
        "classify the incident (NIS2 significant) (BSI, NIS2), before 2026-03-11T09:30:00Z")


def test_what_a_reminder_is_about() -> None:
    assert describe("obligation_due", {"ref": "gdpr/authority", "lead_hours": 48.0}) == (
        "gdpr/authority, 48 h before it is due")
    assert describe("obligation_overdue", {"ref": "gdpr/authority"}) == "gdpr/authority"
    assert describe("step_overdue", {"step": "wipe", "title": "Wipe the laptop"}) == "Wipe the laptop"
    assert describe("delivery_failing", {"ref": "gdpr/data-subjects", "failing": 3, "total": 40}) == (
        "gdpr/data-subjects: 3 of 40 deliveries failing")
    assert describe("renamed_kind", {}) == ""
