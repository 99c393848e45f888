"""`breach incidents`: record incidents, list and show them, move them, add notes.

Other capabilities add their own `breach incidents` commands through their plugin."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.commands import PluginGroup
from incident.kernel.console import Failure, Runtime, echo, parse_time, pass_runtime, print_json
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings
    from incident.lifecycle.schemas import IncidentPublic

KINDS = ("ransomware", "lost_device", "misdirected_email", "credential_stuffing",
         "unauthorized_access", "insider", "vendor", "other")
"""incident.lifecycle.rules.Kind's values, written out so `--help` imports nothing heavy;
tests/incident/test_cli_startup.py keeps them equal."""
STATUSES = ("open", "assessing", "contained", "notifying", "resolved", "closed", "dismissed")
"""incident.lifecycle.rules.Status's values (kept equal by the same test)."""


def _show(incident: IncidentPublic, settings: Settings) -> None:
    zone = settings.zone
    for name, value in incident.model_dump().items():
        if isinstance(value, datetime):
            value = value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        elif isinstance(value, list):
            value = ", ".join(str(getattr(v, "value", v)) for v in value)
        text = str(getattr(value, "value", value)) if value is not None else "—"
        echo(f"{name:20} {text if name == 'description' else visible(text)}")


@click.group(cls=PluginGroup, registered=lambda plugin: plugin.incident_commands)
def incidents() -> None:
    """Record and follow incidents."""


@incidents.command("create")
@click.option("--title", required=True)
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--description", default="")
@click.option("--aware-at", help="ISO 8601; without an offset, in BREACH_TIMEZONE. Default: now.")
@click.option("--detected-at", help="ISO 8601; default: the aware time.")
@click.option("--occurred-from")
@click.option("--occurred-to")
@click.option("--breach-type", "breach_types", multiple=True)
@click.option("--category", "data_categories", multiple=True)
@click.option("--system", "systems", multiple=True)
@click.option("--subjects", "estimated_subjects", type=int)
@click.option("--lead", help="e-mail of the lead responder")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_create(runtime: Runtime, /, as_json: bool, **options: Any) -> None:
    """Record a new incident; prints its reference."""
    from incident.lifecycle import service as incident_service
    from incident.lifecycle.schemas import IncidentCreate, public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> IncidentPublic:
        aware = parse_time(options.pop("aware_at"), settings) or runtime.clock.now()
        fields = {**options, "aware_at": aware,
                  "detected_at": parse_time(options.pop("detected_at"), settings) or aware,
                  "occurred_from": parse_time(options.pop("occurred_from"), settings),
                  "occurred_to": parse_time(options.pop("occurred_to"), settings),
                  "breach_types": list(options["breach_types"]),
                  "data_categories": list(options["data_categories"]),
                  "systems": list(options["systems"])}
        data = IncidentCreate.model_validate(fields)
        incident = await incident_service.create_incident(
            db, clock=runtime.clock, rules=incident_service.Rules.from_settings(settings),
            actor=actor, data=data)
        return (await public(db, [incident]))[0]

    incident = runtime.run(work)
    if as_json:
        print_json(incident.model_dump(mode="json"))
    else:
        echo(incident.reference)


@incidents.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_list(runtime: Runtime, status: str | None, kind: str | None, limit: int,
                   as_json: bool) -> None:
    """List incidents, most recent awareness first."""
    from incident.lifecycle import service as incident_service
    from incident.lifecycle.rules import Kind, Status
    from incident.lifecycle.schemas import public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[IncidentPublic]:
        where = incident_service.IncidentFilter(status=Status(status) if status else None,
                                                kind=Kind(kind) if kind else None)
        items, _ = await incident_service.list_incidents(db, actor=actor, where=where, limit=limit)
        return await public(db, items)

    rows = runtime.run(work)
    if as_json:
        print_json([i.model_dump(mode="json") for i in rows])
        return
    zone = runtime.settings.zone
    for i in rows:
        echo(f"{i.reference}\t{i.status.value:10}\t{i.kind.value:20}\t"
             f"{i.aware_at.astimezone(zone):%Y-%m-%d %H:%M}\t{visible(i.title)}")


@incidents.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_show(runtime: Runtime, reference: str, as_json: bool) -> None:
    """Show one incident."""
    from incident.lifecycle import service as incident_service
    from incident.lifecycle.schemas import public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> IncidentPublic:
        incident = await incident_service.get_incident(db, actor=actor, key=reference)
        return (await public(db, [incident]))[0]

    incident = runtime.run(work)
    if as_json:
        print_json(incident.model_dump(mode="json"))
    else:
        _show(incident, runtime.settings)


@incidents.command("status")
@click.argument("reference")
@click.argument("target", type=click.Choice(STATUSES))
@click.option("--reason", help="why (required to dismiss, and to resolve or close while "
                                "duties to notify are pending: an approver's call)")
@click.option("--at", "at", help="when it happened, for contained and closed (ISO 8601; without "
                                 "an offset, in BREACH_TIMEZONE). Default: now.")
@pass_runtime
def incidents_status(runtime: Runtime, reference: str, target: str, reason: str | None,
                     at: str | None) -> None:
    """Move an incident through its lifecycle."""
    from incident.lifecycle import service as incident_service
    from incident.lifecycle.rules import Status
    from incident.lifecycle.service import Rules

    runtime.run(lambda s, db, actor: incident_service.change_status(
        db, clock=runtime.clock, actor=actor, key=reference, target=Status(target), reason=reason,
        at=parse_time(at, s), rules=Rules.from_settings(s)))
    echo(f"{reference.upper()} is now {target}")


@incidents.command("note")
@click.argument("reference")
@click.argument("text")
@pass_runtime
def incidents_note(runtime: Runtime, reference: str, text: str) -> None:
    """Add a note to an incident's timeline."""
    from incident.lifecycle import service as incident_service

    if not text.strip():
        raise Failure("the note is empty")
    event = runtime.run(lambda s, db, actor: incident_service.add_note(
        db, clock=runtime.clock, actor=actor, key=reference, text=text.strip()))
    echo(f"note added as event {event.seq}")


@incidents.command("circumstances")
@click.argument("reference")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_circumstances(runtime: Runtime, reference: str, file: Any, as_json: bool) -> None:
    """Record the facts the laws turn on, from FILE (JSON, as the API's PUT
    /incidents/{key}/circumstances; `-` reads standard input): encryption and its key,
    redaction, a risk-of-harm determination, a law-enforcement delay. Replaces what was
    recorded; the obligations follow."""
    import json

    from pydantic import ValidationError

    from incident.lifecycle import service as incident_service
    from incident.lifecycle.circumstances import Circumstances

    try:
        data = Circumstances.model_validate(json.load(file))
    except json.JSONDecodeError as exc:
        raise Failure(f"{file.name}: not JSON: {exc}") from None
    except ValidationError as exc:
        raise Failure(f"{file.name}: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()[:5])) from None

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Circumstances:
        incident = await incident_service.record_circumstances(
            db, clock=runtime.clock, rules=incident_service.Rules.from_settings(settings),
            actor=actor, key=reference, data=data)
        return Circumstances.model_validate(incident.circumstances)

    recorded = runtime.run(work)
    if as_json:
        print_json(recorded.model_dump(mode="json"))
        return
    harm = recorded.risk_of_harm
    delay = recorded.law_enforcement_delay
    echo(f"{reference.upper()}: circumstances recorded; encryption {recorded.encryption.value}, "
         f"redacted {'yes' if recorded.redacted else 'no'}, "
         f"risk of harm {harm.conclusion.value if harm else 'not determined'}, "
         f"law-enforcement delay {visible(delay.agency) if delay else 'none'}")
