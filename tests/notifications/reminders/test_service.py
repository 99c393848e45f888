"""Reminders and escalations: planned from obligations, steps and failing deliveries, fired once
however many tickers there are, and after downtime each once with its lateness."""

from __future__ import annotations

import asyncio
import collections
from datetime import timedelta
from email import message_from_bytes, policy

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory
from incident.kernel.settings import REPOSITORY
from notifications.delivery.models import CapturedMessage
from notifications.delivery.outbox import CaptureTransport, Dispatcher
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from notifications.reminders import service as reminders
from notifications.reminders.models import Reminder
from notifications.scheduler import ticker
from tests.factories import START, Person, sending
from tests.notifications.reminders.samples import DUE, all_reminders, incident_with_duties, tick


async def test_three_tickers_fire_a_reminder_exactly_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, clock: FixedClock) -> None:
    await incident_with_duties(client, people)
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        clock.set(DUE - timedelta(hours=48, minutes=1))
        assert sum(await asyncio.gather(*(tick(e, clock, f"w{i}")
                                          for i, e in enumerate(engines)))) == 0
        clock.set(DUE - timedelta(hours=48) + timedelta(seconds=30))
        fired = await asyncio.gather(*(tick(e, clock, f"w{i}") for i, e in enumerate(engines)))
        assert sum(fired) == 1
        fired = await asyncio.gather(*(tick(e, clock, f"w{i}") for i, e in enumerate(engines)))
        assert sum(fired) == 0
    finally:
        for extra in engines:
            await extra.dispose()
    states = collections.Counter((r.kind, r.state) for r in await all_reminders(engine))
    assert states[("obligation_due", "fired")] == 1
    done = [r for r in await all_reminders(engine) if r.state == "fired"]
    assert "reminder-48h" in done[0].key and done[0].lateness_seconds == 30

    # Its e-mails go through the outbox to the approvers and admins, in words people read.
    await Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                     clock=clock, sender="Breachdesk <breachdesk@example.com>",
                     worker="w").run_once()
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
    assert sorted(m.recipient for m in captured) == sorted(
        [people["admin"].email, people["approver"].email])
    body = message_from_bytes(captured[0].raw, policy=policy.default).get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert "Obligation: Notify the supervisory authority\n" in text
    assert ("To be notified: Berliner Beauftragte für Datenschutz und Informationsfreiheit\n"
            in text)
    assert "Regime: EU General Data Protection Regulation\n" in text
    assert "gdpr/authority" not in text
    assert "https://breach.example.com/incidents/BR-2026-0001" in text


async def test_after_downtime_lead_reminders_are_skipped_and_the_overdue_duty_escalated_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await incident_with_duties(client, people)
    clock.set(DUE + timedelta(hours=1))  # nothing ticked for three days
    await tick(engine, clock, "w")
    rows = [r for r in await all_reminders(engine) if r.subject.startswith("obligation:")
            and r.detail.get("ref") == "gdpr/authority"]
    # The four "due in N hours" reminders are not sent late: skipped, saying why.
    leads = [r for r in rows if r.kind == "obligation_due"]
    assert len(leads) == 4 and {r.state for r in leads} == {"skipped"}
    assert all((r.note or "").startswith("skipped: its moment passed") for r in leads)
    assert all(r.notification_id is None for r in leads)
    # The duty is overdue: one escalation, with how late it was.
    [overdue] = [r for r in rows if r.kind == "obligation_overdue"]
    assert overdue.state == "fired" and overdue.lateness_seconds == 3600
    assert await tick(engine, clock, "w") == 0


async def test_met_obligations_and_unknown_kinds_never_fire(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference = await incident_with_duties(client, people)
    await reminders.plan(engine, clock)
    met = await client.post(f"/api/v1/incidents/{reference}/obligations/gdpr/authority",
                            json={"status": "met", "how": "portal receipt 12"},
                            headers=people["responder"].headers)
    assert met.status_code == 200
    first = (await all_reminders(engine))[0]
    async with session_factory(engine)() as db:
        db.add(Reminder(key="old|renamed_kind|1", kind="renamed_kind", subject="obligation:0",
                        incident_id=first.incident_id, due_at=START))
        await db.commit()
    clock.set(DUE + timedelta(hours=1))
    await reminders.fire(engine, clock, worker="w", message_domain="example.com",
                         base_url="http://x")
    rows = {r.key: r for r in await all_reminders(engine)}
    parked = rows["old|renamed_kind|1"]
    assert parked.state == "parked" and "unknown kind" in (parked.note or "")
    authority = [r for r in rows.values() if r.detail.get("ref") == "gdpr/authority"]
    assert authority and {r.state for r in authority} == {"obsolete"}
    upcoming = await ticker.upcoming(engine, clock)
    assert upcoming["parked"][0]["key"] == "old|renamed_kind|1"


async def test_overdue_steps_are_reminded(client: httpx.AsyncClient, people: dict[str, Person],
                                          engine: AsyncEngine, clock: FixedClock) -> None:
    reference = await incident_with_duties(client, people)
    await client.post(f"/api/v1/incidents/{reference}/runbooks", json={"runbook": "lost-device"},
                      headers=people["responder"].headers)
    clock.advance(timedelta(hours=5))
    await tick(engine, clock, "w")
    steps = [r for r in await all_reminders(engine) if r.kind == "step_overdue"]
    assert steps and all(r.state == "fired" for r in steps)


async def test_a_notification_whose_deliveries_keep_failing_is_escalated_once_a_day(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    await sending(client, people, ["a@example.com", "b@example.com", "c@example.com"])
    async with session_factory(engine)() as db:
        stuck = (await db.exec(select(Delivery).where(Delivery.address == "b@example.com"))).one()
        stuck.state, stuck.attempts, stuck.last_reply = "retry", 3, "451 4.3.0 mailbox busy"
        db.add(stuck)
        await db.commit()
    await reminders.plan(engine, clock)
    await reminders.plan(engine, clock)
    failing = [r for r in await all_reminders(engine) if r.kind == "delivery_failing"]
    assert len(failing) == 1
    assert failing[0].detail == {"ref": "gdpr/data-subjects", "failing": 1, "total": 3,
                                 "last_error": "451 4.3.0 mailbox busy"}


