"""`breach organisation|notifications|outbox|scheduler` and the assessment and obligation commands
under `breach incidents`: the notifications side of the command line."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.auth import Actor
from incident.cli import Failure, _parse_time, _print_json, _read_json, _settings, err, out, run
from incident.clock import SystemClock
from incident.db import SchemaOutOfDate, check_schema, create_engine
from incident.errors import DomainError
from incident.settings import Settings
from notifications import drafts, outbox, services
from notifications.api import assessment_public, notification_public, obligation_public, profile_public
from notifications.assessment import Recommendation
from notifications.outbox import Dispatcher, Policy
from notifications.schemas import Milestones, ObligationChange, Override, Profile


def _validated(model: Any, raw: Any, source: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Failure(f"{source}: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
            for e in exc.errors()[:5])) from None


@click.group()
def organisation() -> None:
    """The organisation profile: establishment, time zone, flags, targets, contacts."""


@organisation.command("show")
@click.option("--json", "as_json", is_flag=True)
def organisation_show(as_json: bool) -> None:
    """Print the organisation profile."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.get_profile(db)

    found = run(work)
    if found is None:
        raise Failure("no organisation profile yet: set one with `breach organisation set FILE.json`")
    data = profile_public(found).model_dump(mode="json")
    if as_json:
        _print_json(data)
        return
    for name, value in data.items():
        out.print(f"{name:12} {value}", markup=False)


@organisation.command("set")
@click.argument("profile_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def organisation_set(profile_file: Path) -> None:
    """Replace the organisation profile with PROFILE_FILE (JSON; format in the README)."""
    data = _validated(Profile, _read_json(profile_file), str(profile_file))

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.save_profile(db, clock=SystemClock(), actor=actor, data=data)

    saved = run(work)
    out.print(f"organisation profile saved: {saved.name}, {saved.country}, {saved.timezone}; "
              "obligations of open incidents recomputed")


@click.command("assess")
@click.argument("reference")
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def incidents_assess(reference: str, facts_file: Path, as_json: bool) -> None:
    """Record a risk assessment of the incident from FACTS_FILE (the `breach assess` input)."""
    raw = _read_json(facts_file)

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.assess_incident(db, clock=SystemClock(), actor=actor, key=reference,
                                              raw=raw)

    row = run(work)
    if as_json:
        _print_json(assessment_public(row).model_dump(mode="json"))
        return
    out.print(f"assessment {row.number}: {row.result['severity']} (score {row.result['score']}), "
              f"recommendation {row.recommendation}", markup=False)
    for reason in row.result.get("reasons", []):
        out.print(f"  - {reason}", markup=False)


@click.command("override")
@click.argument("reference")
@click.argument("recommendation", type=click.Choice([r.value for r in Recommendation]))
@click.option("--justification", required=True, help="why the recommendation is replaced")
def incidents_override(reference: str, recommendation: str, justification: str) -> None:
    """Replace the latest assessment's recommendation (approvers), with a justification."""
    data = _validated(Override, {"recommendation": recommendation,
                                 "justification": justification}, "override")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.override_assessment(db, clock=SystemClock(), actor=actor,
                                                  key=reference, data=data)

    row = run(work)
    out.print(f"assessment {row.number}: {row.recommendation} overridden by {row.override}")


@click.command("milestones")
@click.argument("reference")
@click.option("--breach-determined-at", help="ISO 8601; without an offset, in BREACH_TIMEZONE")
@click.option("--classified-major-at")
@click.option("--materiality-determined-at")
def incidents_milestones(reference: str, **given: str | None) -> None:
    """Record instants that start some legal clocks (SEC materiality, DORA major, …)."""
    settings = _settings()
    values = {name: _parse_time(value, settings) for name, value in given.items() if value}
    if not values:
        raise Failure("give at least one milestone (see --help)")
    data = _validated(Milestones, values, "milestones")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.set_milestones(db, clock=SystemClock(), actor=actor, key=reference,
                                             data=data)

    incident = run(work)
    out.print(f"{incident.reference}: " + ", ".join(f"{k} {v}" for k, v in
                                                     (incident.milestones or {}).items()))


@click.command("obligations")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def incidents_obligations(reference: str, as_json: bool) -> None:
    """The incident's duties to notify, soonest due first, with their status."""
    clock = SystemClock()

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.obligations_of(db, clock=clock, actor=actor, key=reference)

    _, rows, assumptions, problems = run(work)
    now = clock.now()
    public = [obligation_public(r, now) for r in rows]
    if as_json:
        _print_json({"assumptions": assumptions, "problems": problems,
                     "obligations": [p.model_dump(mode="json") for p in public]})
        return
    zone = _settings().zone
    for line in problems + assumptions:
        out.print(f"note: {line}", markup=False)
    for item in public:
        if not item.applies:
            continue
        due = _due_text(item, zone)
        state = item.status.upper() if item.status != "pending" else (
            "OVERDUE" if item.overdue else "pending")
        out.print(f"{item.ref:28} {state:8} {due:28} {item.recipient_name}", markup=False)
    gone = [i.ref for i in public if not i.applies]
    if gone:
        out.print(f"no longer apply: {', '.join(gone)}", markup=False)


def _due_text(item: Any, zone: Any) -> str:
    """The due time; else the target of a duty without a fixed time; else what it waits for."""
    if item.due_at is not None:
        return str(item.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"))
    waiting = (item.trigger or {}).get("waiting_for")
    if waiting:
        return f"waits for {waiting}"
    if item.target_at is not None:
        return f"no fixed time; target {item.target_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    return "without undue delay"


@click.command("obligation")
@click.argument("reference")
@click.argument("ref", metavar="REGIME/OBLIGATION")
@click.argument("status", type=click.Choice(["met", "waived", "pending"]))
@click.option("--at", "at_text", help="when it was met (ISO 8601; default now)")
@click.option("--how", default="", help="how it was met: portal receipt, letter, e-mail…")
@click.option("--reason", default="", help="reasons for a delay; a waiver's justification; "
                                            "why a record is reopened")
def incidents_obligation(reference: str, ref: str, status: str, at_text: str | None, how: str,
                         reason: str) -> None:
    """Record that an obligation was met (late: with --reason), waived, or reopened (pending)."""
    at = _parse_time(at_text, _settings())
    change = _validated(ObligationChange, {"status": status, "at": at, "how": how,
                                           "reason": reason}, "obligation")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.record_obligation(db, clock=SystemClock(), actor=actor,
                                                key=reference, ref=ref, change=change,
                                                skew_seconds=settings.clock_skew_seconds)

    row = run(work)
    out.print(f"{row.ref}: {row.status}", markup=False)




@click.group("notifications")
def notifications_group() -> None:
    """Notifications of an incident and their deliveries."""


@notifications_group.command("list")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def notifications_list(reference: str, as_json: bool) -> None:
    """Every notification of the incident with its state and delivery counts."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return [await notification_public(db, n)
                for n in await drafts.notifications_of(db, actor=actor, key=reference)]

    found = run(work)
    if as_json:
        _print_json([n.model_dump(mode="json") for n in found])
        return
    if not found:
        out.print(f"{reference}: no notifications yet")
    for n in found:
        counts = ", ".join(f"{state} {count}" for state, count in sorted(n.deliveries.items()))
        out.print(f"{n.id:>4}  {n.ref:24} {n.kind:17} {n.status:9} v{n.version}  {counts or '-'}",
                  markup=False)


@notifications_group.command("status")
@click.argument("reference")
@click.argument("notification_id", type=int)
@click.option("--watch", is_flag=True, help="follow the sending with a progress bar until it ends")
@click.option("--json", "as_json", is_flag=True)
def notifications_status(reference: str, notification_id: int, watch: bool, as_json: bool) -> None:
    """Counts of a notification's deliveries by state (sent, retry, failed, in doubt…)."""

    async def read(db: AsyncSession, actor: Actor) -> tuple[Any, dict[str, int]]:
        notification, counts = await outbox.progress(db, actor=actor, key=reference,
                                                     notification_id=notification_id)
        await db.commit()
        return notification, counts

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> tuple[Any, dict[str, int]]:
        notification, counts = await read(db, actor)
        if not watch or notification.status not in ("sending", "paused"):
            return notification, counts
        total = max(notification.recipients, 1)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err) as bar:
            task = bar.add_task(f"notification {notification_id}", total=total)
            while True:
                ended = counts.get("sent", 0) + counts.get("failed", 0)
                bar.update(task, completed=ended, description=_states(counts))
                if notification.status not in ("sending", "paused") or ended >= total:
                    return notification, counts
                await asyncio.sleep(1)
                notification, counts = await read(db, actor)

    notification, counts = run(work)
    if as_json:
        _print_json({"notification": notification_id, "status": notification.status,
                     "recipients": notification.recipients, "deliveries": counts})
        return
    out.print(f"notification {notification_id} ({notification.ref}): {notification.status}; "
              f"{notification.recipients} recipients; {_states(counts)}", markup=False)


def _states(counts: dict[str, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in sorted(counts.items())) or "no deliveries"


@click.group("outbox")
def outbox_group() -> None:
    """The outbox worker (`breach serve` runs one too)."""


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="send one batch of due deliveries and stop")
def outbox_run(once: bool) -> None:
    """Send due deliveries until stopped (Ctrl-C), like the service's own ticker does."""
    from incident.app import templates_dir
    from notifications import scheduler
    from notifications.render import renderer

    settings = _settings()

    async def main() -> int:
        engine = create_engine(settings.effective_database_url)
        clock = SystemClock()
        transport = scheduler.transport_for(settings, engine, clock)
        dispatcher = Dispatcher(engine, transport, renderer(templates_dir(settings)), clock=clock,
                                sender=settings.mail_from, worker=scheduler.worker_name(),
                                policy=Policy(batch=settings.outbox_batch,
                                              lease=timedelta(seconds=settings.outbox_lease_seconds)))
        sent = 0
        try:
            await check_schema(engine)
            while True:
                claimed = await dispatcher.run_once()
                sent += claimed
                if once:
                    return sent
                if not claimed:
                    await asyncio.sleep(settings.outbox_tick_seconds)
        finally:
            await scheduler.close(transport)
            await engine.dispose()

    try:
        handled = asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    out.print(f"{handled} deliveries handled")


@click.group("scheduler")
def scheduler_group() -> None:
    """The ticker: its jobs, what is due next, and a process that runs only the ticker."""


def _ticker_parts(settings: Settings) -> tuple[Any, Any, Any]:
    from incident.app import templates_dir
    from notifications import scheduler
    from notifications.render import renderer

    engine = create_engine(settings.effective_database_url)
    clock = SystemClock()
    transport = scheduler.transport_for(settings, engine, clock)
    declared = scheduler.jobs(engine, settings, clock, renderer(templates_dir(settings)), transport)
    return engine, transport, declared


@scheduler_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def scheduler_list(as_json: bool) -> None:
    """The declared jobs, then the reminders and deliveries that fall due next."""
    from notifications import reminders, scheduler

    settings = _settings()

    async def main() -> tuple[list[Any], dict[str, Any]]:
        engine, transport, declared = _ticker_parts(settings)
        try:
            await check_schema(engine)
            return declared, await reminders.upcoming(engine, SystemClock())
        finally:
            await scheduler.close(transport)
            await engine.dispose()

    try:
        declared, upcoming = asyncio.run(main())
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    if as_json:
        _print_json({"jobs": [{"name": j.name, "every_seconds": j.every_seconds,
                               "description": j.description} for j in declared], **upcoming})
        return
    if upcoming.get("sqlite_ticker"):
        holder = upcoming["sqlite_ticker"]
        out.print(f"ticking on this SQLite database: {holder['holder']} (lease until "
                  f"{holder['until']}); another process would only serve requests", markup=False)
    out.print("jobs:")
    for job in declared:
        out.print(f"  {job.name:12} every {job.every_seconds:g} s  {job.description}", markup=False)
    out.print(f"reminders due now: {upcoming['reminders_due_now']}; next:")
    for item in upcoming["reminders"]:
        out.print(f"  {item['due_at']}  {item['kind']:20} {item['key']}", markup=False)
    for item in upcoming["parked"]:
        out.print(f"  PARKED {item['key']}: {item['note']}", markup=False)
    out.print(f"deliveries queued: {upcoming['deliveries_queued']}"
              + (f", next at {upcoming['next_delivery_at']}" if upcoming["next_delivery_at"] else ""))


@scheduler_group.command("run")
@click.option("--once", is_flag=True, help="run every job once and stop")
def scheduler_run(once: bool) -> None:
    """Run the ticker in this process (as `breach serve` does), until stopped."""
    from notifications import scheduler

    settings = _settings()

    async def main() -> None:
        engine, transport, declared = _ticker_parts(settings)
        try:
            await check_schema(engine)
            if once:
                for job in declared:
                    await job.run()
                return
            ticker = scheduler.Ticker(declared, engine=engine, clock=SystemClock())
            ticker.start()
            try:
                await asyncio.Event().wait()
            finally:
                ticker.shutdown()
        finally:
            await scheduler.close(transport)
            await engine.dispose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None


def register(cli: click.Group, incidents: click.Group) -> None:
    """Add these commands to `breach` and `breach incidents`."""
    for group in (organisation, notifications_group, outbox_group, scheduler_group):
        cli.add_command(group)
    for command in (incidents_assess, incidents_override, incidents_milestones,
                    incidents_obligations, incidents_obligation):
        incidents.add_command(command)
