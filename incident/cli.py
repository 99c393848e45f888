"""The `breach` command: parse the arguments, call a use case, print the result.

Errors end with one line on stderr and a non-zero exit status; nothing is half-written,
because every use case commits once or not at all.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import mimetypes
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident import accounts, api, containment, journal, services
from incident.auth import Actor, Forbidden, Role, cli_actor
from incident.checklist import StepState
from incident.clock import SystemClock
from incident.db import (
    SchemaOutOfDate,
    check_schema,
    create_engine,
    current_revision,
    head_revision,
    session_factory,
    upgrade,
)
from incident.errors import DomainError, Invalid, NotFound
from incident.lifecycle import Kind, LifecycleError, Status
from incident.schemas import (
    ChecklistPublic,
    EvidencePublic,
    IncidentCreate,
    IncidentPublic,
    OverdueStepPublic,
    StepPublic,
)
from incident.settings import Settings, load_settings

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(click.ClickException):
    """Printed by `main` as one line, `breach: error: …`, with exit status 1."""


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BREACH_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise Failure(f"{name}: {first['msg']}") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                         for e in exc.errors()[:5])
    return str(exc)


async def ensure_database(settings: Settings, engine: AsyncEngine) -> None:
    """Create the embedded database on first use; refuse any database that is out of date."""
    if settings.embedded_database and await current_revision(engine) is None:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade, settings.effective_database_url)
    await check_schema(engine)


def run(work: Callable[[Settings, AsyncSession, Actor], Coroutine[Any, Any, T]]) -> T:
    """Run one use case against the configured database as the console operator."""
    settings = _settings()

    async def main() -> T:
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_database(settings, engine)
            async with session_factory(engine)() as db:
                return await work(settings, db, cli_actor(getpass.getuser()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (DomainError, LifecycleError, Forbidden, SchemaOutOfDate, ValidationError) as exc:
        raise Failure(_describe(exc)) from None
    except OSError as exc:
        raise Failure(f"cannot reach the database: {exc}") from None


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="breachdesk")
def cli() -> None:
    """Breachdesk: breach incident response and notification.

    Configuration comes from BREACH_* environment variables (see the README).
    """


def main(args: list[str] | None = None) -> None:
    """The console script: every error is one line on stderr and a non-zero exit status."""
    try:
        cli.main(args=args, prog_name="breach", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"breach: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"breach: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("breach: error: aborted", err=True)
        sys.exit(130)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the web service: API, web pages and scheduler."""
    import uvicorn

    from incident.app import create_app
    from incident.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    _runbook_catalogue()  # a broken runbook stops the start, with every problem listed

    async def prepare() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_database(settings, engine)
            async with session_factory(engine)() as db:
                return await accounts.count_users(db)
        finally:
            await engine.dispose()

    try:
        users = asyncio.run(prepare())
    except (SchemaOutOfDate, OSError) as exc:
        raise Failure(str(exc)) from None
    if users == 0:
        err.print("No users yet. Create the first one with:\n"
                  "  breach users create you@example.com --role admin")
    where = f"embedded, under {settings.var_dir}" if settings.embedded_database else "configured"
    err.print(f"Breachdesk on http://{host}:{port}/  (database: {where})")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None,
                proxy_headers=False, server_header=False)


# --- database -------------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """Database schema: upgrade, current revision."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = _settings()
    if settings.embedded_database:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.effective_database_url)
    except OSError as exc:
        raise Failure(f"cannot reach the database: {exc}") from None
    click.echo(f"database at revision {head_revision()}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one this version needs."""
    settings = _settings()

    async def work() -> str | None:
        engine = create_engine(settings.effective_database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"database: {asyncio.run(work()) or 'empty'}; needed: {head_revision()}")


# --- users and tokens --------------------------------------------------------------------------

@cli.group()
def users() -> None:
    """Users and their roles."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
def users_create(email: str, role: str, name: str) -> None:
    """Create a user; prints a one-time password on the last line."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        user, password = await accounts.create_user(db, clock=SystemClock(), actor=actor,
                                                    email=email, role=role, name=name)
        click.echo(f"created {user.email} ({user.role}); one-time password "
                   "(to be changed at first sign-in):")
        return password

    click.echo(run(work))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """List users."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[Any]:
        return await accounts.list_users(db, actor=actor)

    rows = run(work)
    if as_json:
        _print_json([{"email": u.email, "role": u.role, "active": u.active} for u in rows])
        return
    for user in rows:
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}")


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    run(lambda s, db, actor: accounts.set_active(db, clock=SystemClock(), actor=actor,
                                                 email=email, active=False))
    click.echo(f"disabled {email}")


@cli.group()
def tokens() -> None:
    """API tokens (stored only as hashes)."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
def tokens_create(email: str, name: str) -> None:
    """Create an API token for a user; prints the token on the last line."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        token, secret = await accounts.create_token(db, clock=SystemClock(), actor=actor,
                                                    email=email, name=name)
        click.echo(f"token {token.id} ({token.name}) for {email}; shown only now:")
        return secret

    click.echo(run(work))


@tokens.command("list")
@click.argument("email", required=False)
@click.option("--json", "as_json", is_flag=True)
def tokens_list(email: str | None, as_json: bool) -> None:
    """List tokens (of one user, or everyone's)."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[Any]:
        return await accounts.list_tokens(db, actor=actor, email=email, all_users=email is None)

    rows = run(work)
    data = [{"id": t.id, "user_id": t.user_id, "name": t.name, "prefix": t.prefix,
             "created_at": t.created_at, "last_used_at": t.last_used_at,
             "revoked_at": t.revoked_at} for t in rows]
    if as_json:
        _print_json(data)
        return
    for t in data:
        state = "revoked" if t["revoked_at"] else "active"
        click.echo(f"{t['id']}\tuser {t['user_id']}\t{t['name']}\t{t['prefix']}…\t{state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    run(lambda s, db, actor: accounts.revoke_token(db, clock=SystemClock(), actor=actor,
                                                   token_id=token_id))
    click.echo(f"revoked token {token_id}")


# --- incidents ---------------------------------------------------------------------------------

def _rules(settings: Settings) -> services.Rules:
    from datetime import timedelta

    return services.Rules(zone=settings.zone, skew=timedelta(seconds=settings.clock_skew_seconds))


def _parse_time(value: str | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(f"{value!r} is not an ISO 8601 date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone)


def _show(incident: IncidentPublic, settings: Settings) -> None:
    zone = settings.zone
    for name, value in incident.model_dump().items():
        if isinstance(value, datetime):
            value = value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        elif isinstance(value, list):
            value = ", ".join(str(getattr(v, "value", v)) for v in value)
        click.echo(f"{name:20} {getattr(value, 'value', value) if value is not None else '—'}")


@cli.group()
def incidents() -> None:
    """Record and follow incidents."""


@incidents.command("create")
@click.option("--title", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in Kind]))
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
def incidents_create(as_json: bool, **options: Any) -> None:
    """Record a new incident; prints its reference."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> IncidentPublic:
        now = SystemClock().now()
        aware = _parse_time(options.pop("aware_at"), settings) or now
        fields = {**options, "aware_at": aware,
                  "detected_at": _parse_time(options.pop("detected_at"), settings) or aware,
                  "occurred_from": _parse_time(options.pop("occurred_from"), settings),
                  "occurred_to": _parse_time(options.pop("occurred_to"), settings),
                  "breach_types": list(options["breach_types"]),
                  "data_categories": list(options["data_categories"]),
                  "systems": list(options["systems"])}
        data = IncidentCreate.model_validate(fields)
        incident = await services.create_incident(db, clock=SystemClock(), rules=_rules(settings),
                                                  actor=actor, data=data)
        return (await services.public(db, [incident]))[0]

    incident = run(work)
    if as_json:
        _print_json(incident.model_dump(mode="json"))
    else:
        click.echo(incident.reference)


@incidents.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]))
@click.option("--kind", type=click.Choice([k.value for k in Kind]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
def incidents_list(status: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    """List incidents, most recent awareness first."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[IncidentPublic]:
        where = services.IncidentFilter(status=Status(status) if status else None,
                                        kind=Kind(kind) if kind else None)
        items, _ = await services.list_incidents(db, actor=actor, where=where, limit=limit)
        return await services.public(db, items)

    rows = run(work)
    if as_json:
        _print_json([i.model_dump(mode="json") for i in rows])
        return
    zone = _settings().zone
    for i in rows:
        click.echo(f"{i.reference}\t{i.status.value:10}\t{i.kind.value:20}\t"
                   f"{i.aware_at.astimezone(zone):%Y-%m-%d %H:%M}\t{i.title}")


@incidents.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def incidents_show(reference: str, as_json: bool) -> None:
    """Show one incident."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> IncidentPublic:
        incident = await services.get_incident(db, actor=actor, key=reference)
        return (await services.public(db, [incident]))[0]

    incident = run(work)
    if as_json:
        _print_json(incident.model_dump(mode="json"))
    else:
        _show(incident, _settings())


@incidents.command("status")
@click.argument("reference")
@click.argument("target", type=click.Choice([s.value for s in Status]))
@click.option("--reason", help="why (required to dismiss)")
def incidents_status(reference: str, target: str, reason: str | None) -> None:
    """Move an incident through its lifecycle."""
    run(lambda s, db, actor: services.change_status(db, clock=SystemClock(), actor=actor,
                                                    key=reference, target=Status(target),
                                                    reason=reason))
    click.echo(f"{reference.upper()} is now {target}")


@incidents.command("note")
@click.argument("reference")
@click.argument("text")
def incidents_note(reference: str, text: str) -> None:
    """Add a note to an incident's timeline."""
    if not text.strip():
        raise Failure("the note is empty")
    event = run(lambda s, db, actor: services.add_note(db, clock=SystemClock(), actor=actor,
                                                       key=reference, text=text.strip()))
    click.echo(f"note added as event {event.seq}")


# --- runbooks on incidents: steps and evidence -------------------------------------------------

def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if at else "—"


def _span(delta: timedelta) -> str:
    """An elapsed time written as runbooks write theirs, largest unit first: `45m`, `2d3h10m`."""
    minutes = max(0, int(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text or "0m"


@dataclass(frozen=True, slots=True)
class _StepRef:
    reference: str
    row_id: int
    version: int
    label: str


async def _find_step(db: AsyncSession, actor: Actor, reference: str, step: str) -> _StepRef:
    """A step of an incident by its number (as `steps list` shows it), `runbook/step`, or a step
    id that only one attached runbook has. Ends the read, so a use case can open its write."""
    incident = await services.get_incident(db, actor=actor, key=reference)
    rows = await containment.incident_steps(db, incident)
    key = step.strip()
    if key.isdigit():
        found = [s for s in rows if s.id == int(key)]
    else:
        found = [s for s in rows if key in (s.step_id, f"{s.runbook_id}/{s.step_id}")]
    if not found:
        raise NotFound(f"no step {key!r} on {incident.reference} "
                       f"(see `breach steps list {incident.reference}`)")
    if len(found) > 1:
        raise Invalid(f"step {key!r} is in more than one runbook on {incident.reference}; name "
                      f"one: {', '.join(f'{s.runbook_id}/{s.step_id}' for s in found)}")
    row = found[0]
    assert row.id is not None
    result = _StepRef(reference=incident.reference, row_id=row.id, version=row.version,
                      label=f"{row.runbook_id}/{row.step_id}")
    await db.commit()  # end the read: the change opens its own write transaction
    return result


def _step_line(step: StepPublic, zone: ZoneInfo) -> str:
    state = step.state.value + (" OVERDUE" if step.overdue else "")
    who = f"{step.changed_by} {_local(step.changed_at, zone)}" if step.changed_by else "—"
    fields = [str(step.id), f"{step.runbook_id}/{step.step_id}", step.title, step.role,
              f"due {_local(step.due_at, zone)}", state, f"v{step.version}", who]
    if step.evidence_required or step.evidence:
        fields.append(f"evidence {step.evidence}")
    if step.reason:
        fields.append(f"reason: {step.reason}")
    return "  " + "\t".join(fields)


def _print_checklist(reference: str, checklist: ChecklistPublic, zone: ZoneInfo) -> None:
    if not checklist.runbooks:
        suggested = f"; suggested: {', '.join(checklist.suggested)}" if checklist.suggested else ""
        click.echo(f"{reference}: no runbook attached{suggested} "
                   f"(attach one with `breach incidents runbook {reference} RUNBOOK_ID`)")
        return
    for runbook in checklist.runbooks:
        click.echo(f"runbook {runbook.runbook_id} version {runbook.version} ({runbook.title}), "
                   f"attached {_local(runbook.attached_at, zone)} by {runbook.attached_by}, "
                   f"sha256 {runbook.digest}")
    for phase, count in checklist.progress.items():
        steps = [s for s in checklist.steps if s.phase == phase]
        if not steps:
            continue
        click.echo(f"{phase}: {count['done'] + count['skipped']} of {count['total']} finished "
                   f"({count['done']} done, {count['skipped']} skipped, "
                   f"{count['in_progress']} in progress, {count['todo']} to do)")
        for step in steps:
            click.echo(_step_line(step, zone))
    complete = "complete" if checklist.containment_complete else "not complete"
    click.echo(f"{checklist.overdue} overdue; containment {complete}")


@incidents.command("runbook")
@click.argument("reference")
@click.argument("runbook_id")
@click.option("--json", "as_json", is_flag=True, help="the checklist, as the API returns it")
def incidents_runbook(reference: str, runbook_id: str, as_json: bool) -> None:
    """Attach a runbook to an incident: its steps join the incident's checklist.

    The incident pins the runbook's content and SHA-256 as they are now; later edits to the
    file do not change it. `breach runbooks list` shows the runbooks.
    """
    catalogue = _runbook_catalogue()
    if runbook_id not in catalogue:
        raise Failure(f"no runbook {runbook_id!r} (see `breach runbooks list`)")

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[str, ChecklistPublic]:
        attached, steps = await containment.attach_runbook(
            db, clock=SystemClock(), actor=actor, catalogue=catalogue, key=reference,
            runbook_id=runbook_id)
        incident, checklist = await containment.checklist(db, actor=actor, catalogue=catalogue,
                                                          key=reference, now=SystemClock().now())
        first = min(s.due_at for s in steps)
        return (f"attached {attached.runbook_id} version {attached.version} to "
                f"{incident.reference}: {len(steps)} steps, the first due "
                f"{_local(first, settings.zone)}; pinned sha256 {attached.digest}"), checklist

    summary, checklist = run(work)
    if as_json:
        _print_json(checklist.model_dump(mode="json"))
    else:
        click.echo(summary)


@cli.group()
def steps() -> None:
    """The checklist of runbook steps on incidents."""


@steps.command("list")
@click.argument("reference")
@click.option("--overdue", "only_overdue", is_flag=True, help="only the steps past their due time")
@click.option("--json", "as_json", is_flag=True,
              help="the checklist, as the API returns it (with --overdue, only overdue steps)")
def steps_list(reference: str, only_overdue: bool, as_json: bool) -> None:
    """Show an incident's checklist.

    Progress per phase; each step with its number, id, title, role, due time (in
    BREACH_TIMEZONE), state, version, and who changed it last and when.
    """
    catalogue = _runbook_catalogue()

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[str, ChecklistPublic]:
        incident, checklist = await containment.checklist(
            db, actor=actor, catalogue=catalogue, key=reference, now=SystemClock().now())
        return incident.reference, checklist

    name, checklist = run(work)
    if only_overdue:
        checklist = checklist.model_copy(update={"steps": [s for s in checklist.steps
                                                           if s.overdue]})
    if as_json:
        _print_json(checklist.model_dump(mode="json"))
    else:
        _print_checklist(name, checklist, _settings().zone)


@steps.command("overdue")
@click.option("--json", "as_json", is_flag=True, help="as `GET /api/v1/steps/overdue` returns it")
def steps_overdue(as_json: bool) -> None:
    """List overdue steps on every open incident, the longest overdue first."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[datetime, list[OverdueStepPublic]]:
        now = SystemClock().now()
        items = await containment.overdue_steps(db, actor=actor, now=now)
        return now, [containment.overdue_public(o) for o in items]

    now, rows = run(work)
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    zone = _settings().zone
    for row in rows:
        step = row.step
        click.echo(f"{row.reference}\t{step.id}\t{step.runbook_id}/{step.step_id}\t{step.title}\t"
                   f"{step.role}\tdue {_local(step.due_at, zone)}\t"
                   f"{_span(now - step.due_at)} late\t{step.state.value}")


@steps.command("set")
@click.argument("reference")
@click.argument("step")
@click.argument("state", type=click.Choice([s.value for s in StepState]))
@click.option("--reason", help="why (required to skip)")
@click.option("--version", "version", type=click.IntRange(min=1),
              help="the step's version you read (`steps list` shows it as vN); if it has "
                   "changed since, nothing is changed. Default: the version read just before "
                   "the change, which refuses only a change made in between.")
@click.option("--json", "as_json", is_flag=True, help="the step, as the API returns it")
def steps_set(reference: str, step: str, state: str, reason: str | None, version: int | None,
              as_json: bool) -> None:
    """Move a step to todo, in_progress, done or skipped.

    STEP is the number `breach steps list` shows, or the step's id (`runbook/step` when two
    attached runbooks share it). Skipping needs --reason; a step that requires evidence is done
    only once a file is attached to it (`breach evidence add REF FILE --step STEP`).
    """
    target = StepState(state)
    if target is StepState.SKIPPED and not (reason and reason.strip()):
        raise click.UsageError("skipping a step needs a reason: add --reason TEXT",
                               ctx=click.get_current_context())

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> tuple[str, StepPublic]:
        found = await _find_step(db, actor, reference, step)
        changed = await containment.change_step(
            db, clock=SystemClock(), actor=actor, key=reference, step_row_id=found.row_id,
            target=target, reason=reason, expected_version=version or found.version)
        return found.reference, StepPublic.model_validate(changed)

    name, changed = run(work)
    if as_json:
        _print_json(changed.model_dump(mode="json"))
    else:
        click.echo(f"{name} step {changed.id} {changed.runbook_id}/{changed.step_id} is now "
                   f"{changed.state.value} (version {changed.version})")


@cli.group()
def evidence() -> None:
    """Evidence files on incidents, stored by SHA-256; every download is on the timeline."""


def _read_evidence_file(path: Path, limit: int) -> bytes:
    """The file's bytes, refused without reading it when it is larger than `limit`."""
    refused = (f"{path} is larger than the evidence limit of {limit} bytes "
               "(BREACH_EVIDENCE_MAX_BYTES); nothing was stored")
    try:
        if os.stat(path).st_size > limit:
            raise Failure(refused)
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror}") from None
    if len(content) > limit:  # it grew after the size was checked
        raise Failure(refused)
    if not content:
        raise Failure(f"{path} is empty; nothing was stored")
    return content


@evidence.command("add")
@click.argument("reference")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--step", help="the step it proves: its number or id, as for `breach steps set`")
@click.option("--note", default="", help="what the file shows")
@click.option("--json", "as_json", is_flag=True, help="the evidence, as the API returns it")
def evidence_add(reference: str, file: Path, step: str | None, note: str, as_json: bool) -> None:
    """Attach a file to an incident or one of its steps; prints its SHA-256 and size.

    Files larger than BREACH_EVIDENCE_MAX_BYTES are refused before they are read.
    """
    content = _read_evidence_file(file, _settings().evidence_max_bytes)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EvidencePublic:
        row_id = (await _find_step(db, actor, reference, step)).row_id if step else None
        return await containment.add_evidence(
            db, clock=SystemClock(), actor=actor, key=reference, filename=file.name,
            content_type=content_type, content=content, max_bytes=settings.evidence_max_bytes,
            step_row_id=row_id, description=note)

    added = run(work)
    if as_json:
        _print_json(added.model_dump(mode="json"))
        return
    to = f" for step {added.step}" if added.step else ""
    click.echo(f"evidence {added.id} on {reference.upper()}{to}: {added.filename}, "
               f"{added.size} bytes, sha256 {added.sha256}")


@evidence.command("list")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def evidence_list(reference: str, as_json: bool) -> None:
    """List an incident's evidence, oldest first."""
    rows = run(lambda s, db, actor: containment.list_evidence(db, actor=actor, key=reference))
    if as_json:
        _print_json([e.model_dump(mode="json") for e in rows])
        return
    zone = _settings().zone
    for e in rows:
        click.echo(f"{e.id}\t{_local(e.uploaded_at, zone)}\t{e.uploaded_by}\t{e.step or '—'}\t"
                   f"{e.size} bytes\tsha256 {e.sha256}\t{e.filename}")


def _write_new_file(target: Path, content: bytes) -> None:
    """Write through a temporary file (owner-only) renamed at the end: never a partial file."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                             suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@evidence.command("get")
@click.argument("reference")
@click.argument("evidence_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the file (`-` for standard output). Default: its stored "
                   "name in the current folder, which must not exist yet.")
def evidence_get(reference: str, evidence_id: int, output: Path | None) -> None:
    """Download an evidence file, checked against its SHA-256.

    Evidence may hold personal data: each download is recorded on the incident's timeline.
    """
    to_stdout = output == Path("-")
    if output is not None and not to_stdout and not output.parent.is_dir():
        raise Failure(f"{output.parent} is not a folder")

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[EvidencePublic, bytes, Path]:
        target = output
        if target is None:
            names = {e.id: e.filename for e in await containment.list_evidence(
                db, actor=actor, key=reference)}
            await db.commit()  # end the read: the download is recorded in a write
            target = Path(names.get(evidence_id, "evidence"))
            if evidence_id in names and target.exists():
                raise Failure(f"{target} already exists; choose another name with -o")
        item, content = await containment.download_evidence(
            db, clock=SystemClock(), actor=actor, key=reference, evidence_id=evidence_id)
        return EvidencePublic.model_validate(item), content, target

    item, content, target = run(work)
    if hashlib.sha256(content).hexdigest() != item.sha256:
        raise Failure(f"evidence {item.id}: the stored file does not match its SHA-256 "
                      f"{item.sha256}; nothing was written")
    if to_stdout:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        _write_new_file(target, content)
    except OSError as exc:
        raise Failure(f"cannot write {target}: {exc.strerror}") from None
    click.echo(f"wrote {target}: {item.size} bytes, sha256 {item.sha256} (matches)")


# --- audit -------------------------------------------------------------------------------------

@cli.group()
def audit() -> None:
    """Check that timelines were never altered; export them."""


@audit.command("verify")
@click.option("--incident", "reference", help="one incident (default: every chain)")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(reference: str | None, as_json: bool) -> None:
    """Recompute hash chains; exit 1 and name the first bad event if any chain is broken."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
        names = await services.references_by_chain(db)
        if reference:
            _, result = await services.verify_incident(db, actor=actor, key=reference)
            results = [result]
        else:
            chains = await services.chain_names(db)
            results = []
            with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
                task = bar.add_task("verifying", total=len(chains))
                for chain in chains:
                    results.append(await journal.verify(db, chain))
                    bar.advance(task)
        return [{**r.as_dict(), "name": names.get(r.chain, r.chain)} for r in results]

    results = run(work)
    if as_json:
        _print_json(results)
    else:
        for r in results:
            if r["ok"]:
                click.echo(f"ok      {r['name']}: {r['events']} events")
            else:
                click.echo(f"BROKEN  {r['name']}: event {r['first_bad_seq']}: {r['problem']}")
    broken = [r for r in results if not r["ok"]]
    if broken:
        raise Failure(f"{len(broken)} of {len(results)} timelines are broken")


@audit.command("export")
@click.argument("reference")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
def audit_export(reference: str, fmt: str, output: Path | None) -> None:
    """Export an incident's timeline, exactly as stored, to stdout or a file."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> int:
        _, events = await services.timeline_stream(db, actor=actor, key=reference)
        lines = api.export_jsonl(events) if fmt == "jsonl" else api.export_csv(events)
        count = 0
        handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            async for chunk in lines:
                handle.write(chunk)
                count += 1
        finally:
            if output:
                handle.close()
        return count

    run(work)



# --- runbooks, assessment, obligations: pure rules over files -----------------------------------

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Failure(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Failure(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                      ) from None


def _runbook_catalogue() -> Any:
    from incident.app import runbooks_dir
    from incident.runbooks import RunbookError, load_catalogue

    folder = runbooks_dir(_settings())
    try:
        return load_catalogue(folder)
    except RunbookError as exc:
        click.echo(str(exc))
        raise Failure(f"{len(exc.problems)} problem(s) in the runbooks under {folder}") from None


@cli.group()
def runbooks() -> None:
    """Runbooks: the checklists in BREACH_RUNBOOKS_DIR."""


@runbooks.command("check")
def runbooks_check() -> None:
    """Validate every runbook file; print each problem with its file, line and field."""
    catalogue = _runbook_catalogue()
    click.echo(f"{len(catalogue)} runbooks, all valid")


@runbooks.command("list")
@click.option("--json", "as_json", is_flag=True)
def runbooks_list(as_json: bool) -> None:
    """List runbooks with the incident kinds they apply to."""
    catalogue = _runbook_catalogue()
    from incident.runbooks import runbook_summary

    rows = [runbook_summary(r) for r in catalogue]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}\tv{row['version']}\t{row['steps']} steps\t"
                   f"{', '.join(row['applies_to'])}\t{row['title']}")


@runbooks.command("show")
@click.argument("runbook_id")
@click.option("--json", "as_json", is_flag=True)
def runbooks_show(runbook_id: str, as_json: bool) -> None:
    """Show one runbook's steps."""
    from incident.runbooks import runbook_digest, runbook_to_dict

    runbook = _runbook_catalogue().get(runbook_id)
    if runbook is None:
        raise Failure(f"no runbook {runbook_id!r} (see `breach runbooks list`)")
    if as_json:
        _print_json({**runbook_to_dict(runbook), "digest": runbook_digest(runbook)})
        return
    click.echo(f"{runbook.title} ({runbook.id}, version {runbook.version})")
    for step in runbook.steps:
        evidence = ", evidence" if step.evidence_required else ""
        click.echo(f"  +{step.due:>6}  {step.phase.value:9} {step.role.value:9} "
                   f"{step.title}{evidence}")


@cli.command()
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def assess(facts_file: Path) -> None:
    """Assess a breach's severity (ENISA) and recommend who must be told; prints JSON."""
    from notifications.assessment import InvalidAssessmentInput, assess_raw

    try:
        result = assess_raw(_read_json(facts_file))
    except InvalidAssessmentInput as exc:
        raise Failure(f"{facts_file}: " + "; ".join(f"{f}: {m}" for f, m in exc.errors)) from None
    click.echo(result.model_dump_json(indent=2))


@cli.command()
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--explain", is_flag=True, help="also list the duties that do not apply, and why")
def obligations(facts_file: Path, explain: bool) -> None:
    """Print, as JSON, the notification duties and deadlines for the facts in FACTS_FILE."""
    from notifications.obligations import (
        FactsError,
        compute_obligations,
        facts_from_json,
        results_to_json,
    )
    from notifications.regimes import RegimeError, load_regimes

    try:
        facts = facts_from_json(_read_json(facts_file))
        results = compute_obligations(facts, load_regimes(), explain=explain)
    except FactsError as exc:
        raise Failure(f"{facts_file}: " + "; ".join(str(p) for p in exc.problems)) from None
    except RegimeError as exc:
        raise Failure("; ".join(str(p) for p in exc.problems)) from None
    _print_json(results_to_json(results, explain=explain))


# Commands kept in modules of their own, registered last (they use the helpers above).
from incident.cli_inventory import affected_group, subjects_group, systems  # noqa: E402
from notifications.cli import register  # noqa: E402

register(cli, incidents)
cli.add_command(systems)
cli.add_command(subjects_group)
cli.add_command(affected_group)
