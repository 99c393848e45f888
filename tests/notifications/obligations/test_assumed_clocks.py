"""Assumed clocks before classification: a NIS2 duty counts from the moment the incident is
found significant, a DORA duty from its classification as major. Until that is recorded, the
due time that would hold had it been classified at awareness is shown, marked assumed, with a
reminder to classify; once classified, the real clock replaces it (on the timeline)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from notifications.drafting.models import NotificationVersion
from notifications.obligations.engine import ObligationResult, compute_obligations, results_to_json
from notifications.obligations.facts import facts_from_json
from notifications.obligations.models import IncidentObligation
from notifications.obligations.regime_loader import load_regimes
from notifications.reminders.service import CLASSIFY, classify_reminder
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import PROFILE, Person, new_incident
from tests.notifications.obligations.samples import facts_data
from tests.notifications.reminders.samples import all_reminders, tick

REGIMES = load_regimes()
AWARE = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # facts_data(): Friday 27 March, 10:00 Berlin
ASSUMED_NOTE = ("assumed: not yet classified (NIS2 significant); counted from awareness as if "
                "it had been classified then")
ENTITY = {"organisation__flags": ["nis2_essential", "dora_financial_entity"]}


def run(**changes: Any) -> dict[str, ObligationResult]:
    facts = facts_from_json(facts_data(**{**ENTITY, **changes}))
    return {r.ref: r for r in compute_obligations(facts, REGIMES)}


def test_nis2_early_warning_before_classification_is_assumed_24_hours_from_awareness() -> None:
    # Directive (EU) 2022/2555 Art. 23(4)(a): an early warning "without undue delay and in any
    # event within 24 hours of becoming aware of the significant incident".
    early = run()["nis2/early-warning"]
    assert early.assumed is True
    assert early.due_at == AWARE + timedelta(hours=24)
    assert early.trigger is not None and early.trigger.at is None
    assert early.trigger.waiting_for == "incident.classified_major_at"  # still awaited
    assert early.basis is not None and early.basis.trigger == "aware_at"
    assert early.basis.trigger_at == AWARE
    assert early.basis.notes[0].startswith(ASSUMED_NOTE)
    assert "Art. 23(4)" in early.basis.notes[0]
    # Art. 23(4)(b): the incident notification within 72 hours, likewise assumed.
    notification = run()["nis2/notification"]
    assert (notification.assumed, notification.due_at) == (True, AWARE + timedelta(hours=72))


def test_once_classified_the_real_clock_replaces_the_assumed_one() -> None:
    classified = AWARE + timedelta(hours=6)
    results = run(incident__classified_major_at=classified.isoformat())
    early = results["nis2/early-warning"]
    assert early.assumed is False
    assert early.due_at == classified + timedelta(hours=24)
    assert early.trigger is not None and early.trigger.at == classified
    assert early.basis is not None and not any(n.startswith("assumed") for n in early.basis.notes)
    # Delegated Regulation (EU) 2025/301 Art. 5(a) (DORA Art. 19(4)(a)): the initial
    # notification within 4 hours from classification as major, and no later than 24 hours
    # from awareness.
    dora = results["dora/initial"]
    assert (dora.assumed, dora.due_at) == (False, classified + timedelta(hours=4))


def test_dora_initial_notification_before_classification_is_assumed_from_awareness() -> None:
    # Classified at awareness, the 4-hour clock of Delegated Regulation 2025/301 Art. 5(a)
    # would end 4 hours after awareness, well inside the 24-hour outer limit.
    dora = run()["dora/initial"]
    assert (dora.assumed, dora.due_at) == (True, AWARE + timedelta(hours=4))
    assert dora.basis is not None
    assert dora.basis.notes[0].startswith("assumed: not yet classified (DORA major)")


def test_only_duties_whose_file_says_so_are_assumed_and_the_json_says_which() -> None:
    data = results_to_json(compute_obligations(facts_from_json(facts_data(**ENTITY)), REGIMES))
    assumed = sorted(f"{o['regime']}/{o['obligation']}" for o in data if o["assumed"])
    assert assumed == ["dora/initial", "nis2/early-warning", "nis2/notification"]
    waiting = {f"{o['regime']}/{o['obligation']}": o for o in data}["nis2/final-report"]
    assert waiting["due_at"] is None and waiting["assumed"] is False  # a follow-up still waits


def row(ref: str, due: datetime, *, assumed: bool, incident: uuid.UUID, status: str = "pending",
        ident: int = 1) -> IncidentObligation:
    regime, _, obligation = ref.partition("/")
    computed = {"assumed": assumed, "trigger": {"name": "classified_major_at", "at": None,
                                                "waiting_for": "incident.classified_major_at"},
                "basis": {"trigger_at": "2026-03-27T09:00:00Z"}}
    return IncidentObligation(id=ident, incident_id=incident, ref=ref, regime=regime,
                              obligation=obligation, recipient="regulator", recipient_name="CSIRT",
                              applies=True, due_at=due, computed=computed,
                              computed_at=AWARE, status=status)


def test_one_reminder_to_classify_before_the_earliest_assumed_due_time() -> None:
    incident = uuid.uuid4()
    rows = [row("nis2/early-warning", AWARE + timedelta(hours=24), assumed=True, incident=incident),
            row("dora/initial", AWARE + timedelta(hours=4), assumed=True, incident=incident, ident=2),
            row("gdpr/authority", AWARE + timedelta(hours=72), assumed=False, incident=incident,
                ident=3)]
    decisions = {"nis2/early-warning": "NIS2 significant", "dora/initial": "DORA major"}
    planned = classify_reminder(incident, rows, decisions.__getitem__)
    assert planned is not None and planned.kind == CLASSIFY
    assert planned.detail["action"] == "classify the incident (DORA major / NIS2 significant)"
    assert planned.detail["due_at"] == "2026-03-27T13:00:00Z"  # the earliest assumed due time
    assert planned.due_at == AWARE  # at once: the assumed clock runs from awareness
    assert planned.detail["refs"] == ["dora/initial", "nis2/early-warning"]
    met = [row("nis2/early-warning", AWARE + timedelta(hours=24), assumed=True, incident=incident,
               status="met")]
    assert classify_reminder(incident, met, decisions.__getitem__) is None
    assert classify_reminder(incident, rows[2:], decisions.__getitem__) is None


# --- through the API, the timeline and the scheduler ---------------------------------------------


async def duties(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    found = await client.get(f"/api/v1/incidents/{reference}/obligations", headers=person.headers)
    assert found.status_code == 200, found.text
    return {o["ref"]: o for o in found.json()["obligations"]}


async def test_the_api_shows_the_assumed_clock_until_classification_then_the_real_one(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    admin, responder = people["admin"], people["responder"]
    profile = {**PROFILE, "flags": ["nis2_essential"]}
    assert (await client.put("/api/v1/organisation", json=profile, headers=admin.headers)
            ).status_code == 200
    reference = await new_incident(client, responder)  # aware at 09:30 UTC; clock at 12:00
    aware = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    early = (await duties(client, responder, reference))["nis2/early-warning"]
    assert early["assumed"] is True
    assert datetime.fromisoformat(early["due_at"]) == aware + timedelta(hours=24)
    assert early["basis"]["notes"][0].startswith(ASSUMED_NOTE)
    assert early["trigger"]["waiting_for"] == "incident.classified_major_at"
    assert early["confidence"] in ("high", "medium", "low") and early["reviewed"]

    # The scheduler plans one reminder to classify, due at once; it fires to the people who act.
    fired = await tick(engine, clock, "w")
    classify = [r for r in await all_reminders(engine) if r.kind == CLASSIFY]
    assert len(classify) == 1 and classify[0].state == "fired" and fired >= 1
    assert classify[0].detail["action"] == "classify the incident (NIS2 significant)"
    assert classify[0].detail["due_at"] == "2026-03-11T09:30:00Z"
    async with session_factory(engine)() as db:
        message = (await db.exec(select(NotificationVersion).where(
            NotificationVersion.notification_id == classify[0].notification_id))).one()
    assert message.fields["obligation"] == "classify the incident (NIS2 significant)"
    assert message.fields["due_at"] == "2026-03-11T09:30:00Z"
    assert message.fields["time_left_seconds"] == 21.5 * 3600  # from 12:00 to 09:30 next day

    # Classified as significant at 11:00: the real 24-hour clock replaces the assumed one.
    classified = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    saved = await client.put(f"/api/v1/incidents/{reference}/milestones",
                             json={"classified_major_at": classified.isoformat()},
                             headers=responder.headers)
    assert saved.status_code == 200, saved.text
    early = (await duties(client, responder, reference))["nis2/early-warning"]
    assert early["assumed"] is False
    assert datetime.fromisoformat(early["due_at"]) == classified + timedelta(hours=24)
    assert not any(n.startswith("assumed") for n in early["basis"]["notes"])
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=responder.headers)).json()
    recomputed = [e for e in events if e["kind"] == "obligations_recomputed"][-1]
    assert recomputed["payload"]["cause"] == "milestones"
    change = next(c for c in recomputed["payload"]["changes"] if c["ref"] == "nis2/early-warning")
    assert (change["change"], change["was"], change["due_at"]) == (
        "changed", "2026-03-11T09:30:00Z", "2026-03-11T11:00:00Z")

    # No duty runs on an assumed clock any more: no new reminder to classify is planned.
    await tick(engine, clock, "w")
    assert len([r for r in await all_reminders(engine) if r.kind == CLASSIFY]) == 1


async def test_a_reminder_to_classify_not_yet_fired_becomes_obsolete_once_classified(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    from notifications.reminders import service as reminders

    admin, responder = people["admin"], people["responder"]
    profile = {**PROFILE, "flags": ["nis2_essential"]}
    await client.put("/api/v1/organisation", json=profile, headers=admin.headers)
    reference = await new_incident(client, responder)
    await duties(client, responder, reference)
    await reminders.plan(engine, clock)  # planned, not fired yet
    await client.put(f"/api/v1/incidents/{reference}/milestones",
                     json={"classified_major_at": "2026-03-10T11:00:00Z"}, headers=responder.headers)
    await tick(engine, clock, "w")
    classify = [r for r in await all_reminders(engine) if r.kind == CLASSIFY]
    assert [(r.state, r.note) for r in classify] == [
        ("obsolete", "no duty runs on an assumed clock any more: the incident was classified")]


def test_the_command_line_marks_an_assumed_due_time(breach: Breach, tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "org.json").write_text(json.dumps({**PROFILE, "flags": ["nis2_essential"]}))
    breach("organisation", "set", "org.json")
    reference = breach("incidents", "create", "--title", "Ransomware", "--kind", "ransomware",
                       "--aware-at", "2026-03-10T09:30:00+00:00").stdout.split()[0]
    listed = breach("incidents", "obligations", reference).stdout.splitlines()
    early = next(line for line in listed if line.startswith("nis2/early-warning"))
    gdpr = next(line for line in listed if line.startswith("gdpr/authority"))
    assert "2026-03-11 10:30 CET (assumed)" in early  # 24 h after awareness, Berlin time
    assert "(assumed)" not in gdpr
    shown = json.loads(breach("incidents", "obligations", reference, "--json").stdout)
    assumed = {o["ref"]: o["assumed"] for o in shown["obligations"]}
    assert assumed["nis2/early-warning"] is True and assumed["gdpr/authority"] is False


def test_the_reminders_dashboard_names_the_decision_to_make() -> None:
    from notifications.scheduler.agenda import KIND_NAMES, describe

    detail = {"action": "classify the incident (NIS2 significant)", "due_at": "2026-03-11T09:30:00Z"}
    assert describe(CLASSIFY, detail) == (
        "classify the incident (NIS2 significant), before 2026-03-11T09:30:00Z")
    assert CLASSIFY in KIND_NAMES
