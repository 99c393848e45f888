"""`breach runbooks`, `breach steps` and `breach incidents runbook`: containment from the
command line (`breach evidence` is in evidence_cli.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import (
    Failure,
    Runtime,
    echo,
    local_text,
    pass_runtime,
    print_json,
    span_text,
)
from incident.kernel.text import visible

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.containment.schemas import ChecklistPublic, OverdueStepPublic, StepPublic
    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings

STEP_STATES = ("todo", "in_progress", "done", "skipped")
"""incident.containment.rules.StepState's values, written out so `--help` imports nothing
heavy; tests/incident/test_cli_startup.py keeps them equal."""


@dataclass(frozen=True, slots=True)
class StepRef:
    """A step found on an incident: what a change to it needs."""

    reference: str
    row_id: int
    version: int
    label: str


async def find_step(db: AsyncSession, actor: Actor, reference: str, step: str) -> StepRef:
    """A step of an incident by its number (as `steps list` shows it), `runbook/step`, or a step
    id that only one attached runbook has. Ends the read, so a use case can open its write."""
    from incident.containment import service as containment
    from incident.kernel.errors import Invalid, NotFound
    from incident.lifecycle import service as incident_service

    incident = await incident_service.get_incident(db, actor=actor, key=reference)
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
    result = StepRef(reference=incident.reference, row_id=row.id, version=row.version,
                     label=f"{row.runbook_id}/{row.step_id}")
    await db.commit()  # end the read: the change opens its own write transaction
    return result


def _step_line(step: StepPublic, zone: ZoneInfo) -> str:
    state = step.state.value + (" OVERDUE" if step.overdue else "")
    who = f"{step.changed_by} {local_text(step.changed_at, zone)}" if step.changed_by else "—"
    fields = [str(step.id), f"{step.runbook_id}/{step.step_id}", step.title, step.role,
              f"due {local_text(step.due_at, zone)}", state, f"v{step.version}", who]
    if step.evidence_required or step.evidence:
        fields.append(f"evidence {step.evidence}")
    if step.reason:
        fields.append(f"reason: {step.reason}")
    return "  " + "\t".join(fields)


def _print_checklist(reference: str, checklist: ChecklistPublic, zone: ZoneInfo) -> None:
    if not checklist.runbooks:
        suggested = f"; suggested: {', '.join(checklist.suggested)}" if checklist.suggested else ""
        echo(f"{reference}: no runbook attached{suggested} "
             f"(attach one with `breach incidents runbook {reference} RUNBOOK_ID`)")
        return
    for runbook in checklist.runbooks:
        echo(f"runbook {runbook.runbook_id} version {runbook.version} ({runbook.title}), "
             f"attached {local_text(runbook.attached_at, zone)} by {runbook.attached_by}, "
             f"sha256 {runbook.digest}")
    for phase, count in checklist.progress.items():
        steps = [s for s in checklist.steps if s.phase == phase]
        if not steps:
            continue
        echo(f"{phase}: {count['done'] + count['skipped']} of {count['total']} finished "
             f"({count['done']} done, {count['skipped']} skipped, "
             f"{count['in_progress']} in progress, {count['todo']} to do)")
        for step in steps:
            echo(_step_line(step, zone))
    complete = "complete" if checklist.containment_complete else "not complete"
    echo(f"{checklist.overdue} overdue; containment {complete}")


@click.command("runbook")
@click.argument("reference")
@click.argument("runbook_id")
@click.option("--json", "as_json", is_flag=True, help="the checklist, as the API returns it")
@pass_runtime
def incidents_runbook(runtime: Runtime, reference: str, runbook_id: str, as_json: bool) -> None:
    """Attach a runbook to an incident: its steps join the incident's checklist.

    The incident pins the runbook's content and SHA-256 as they are now; later edits to the
    file do not change it. `breach runbooks list` shows the runbooks.
    """
    from incident.containment import service as containment

    catalogue = runbook_catalogue(runtime.settings)
    if runbook_id not in catalogue:
        raise Failure(f"no runbook {runbook_id!r} (see `breach runbooks list`)")

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[str, ChecklistPublic]:
        attached, steps = await containment.attach_runbook(
            db, clock=runtime.clock, actor=actor, catalogue=catalogue, key=reference,
            runbook_id=runbook_id)
        incident, checklist = await containment.checklist(db, actor=actor, catalogue=catalogue,
                                                          key=reference, now=runtime.clock.now())
        first = min(s.due_at for s in steps)
        return (f"attached {attached.runbook_id} version {attached.version} to "
                f"{incident.reference}: {len(steps)} steps, the first due "
                f"{local_text(first, settings.zone)}; pinned sha256 {attached.digest}"), checklist

    summary, checklist = runtime.run(work)
    if as_json:
        print_json(checklist.model_dump(mode="json"))
    else:
        echo(summary)


@click.group()
def steps() -> None:
    """The checklist of runbook steps on incidents."""


@steps.command("list")
@click.argument("reference")
@click.option("--overdue", "only_overdue", is_flag=True, help="only the steps past their due time")
@click.option("--json", "as_json", is_flag=True,
              help="the checklist, as the API returns it (with --overdue, only overdue steps)")
@pass_runtime
def steps_list(runtime: Runtime, reference: str, only_overdue: bool, as_json: bool) -> None:
    """Show an incident's checklist.

    Progress per phase; each step with its number, id, title, role, due time (in
    BREACH_TIMEZONE), state, version, and who changed it last and when.
    """
    from incident.containment import service as containment

    catalogue = runbook_catalogue(runtime.settings)

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[str, ChecklistPublic]:
        incident, checklist = await containment.checklist(
            db, actor=actor, catalogue=catalogue, key=reference, now=runtime.clock.now())
        return incident.reference, checklist

    name, checklist = runtime.run(work)
    if only_overdue:
        checklist = checklist.model_copy(update={"steps": [s for s in checklist.steps
                                                           if s.overdue]})
    if as_json:
        print_json(checklist.model_dump(mode="json"))
    else:
        _print_checklist(name, checklist, runtime.settings.zone)


@steps.command("overdue")
@click.option("--json", "as_json", is_flag=True, help="as `GET /api/v1/steps/overdue` returns it")
@pass_runtime
def steps_overdue(runtime: Runtime, as_json: bool) -> None:
    """List overdue steps on every open incident, the longest overdue first."""
    from incident.containment import service as containment

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> tuple[datetime, list[OverdueStepPublic]]:
        now = runtime.clock.now()
        items = await containment.overdue_steps(db, actor=actor, now=now)
        return now, [containment.overdue_public(o) for o in items]

    now, rows = runtime.run(work)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    zone = runtime.settings.zone
    for row in rows:
        step = row.step
        echo(f"{row.reference}\t{step.id}\t{step.runbook_id}/{step.step_id}\t{visible(step.title)}\t"
             f"{step.role}\tdue {local_text(step.due_at, zone)}\t"
             f"{span_text(now - step.due_at)} late\t{step.state.value}")


@steps.command("set")
@click.argument("reference")
@click.argument("step")
@click.argument("state", type=click.Choice(STEP_STATES))
@click.option("--reason", help="why (required to skip)")
@click.option("--version", "version", type=click.IntRange(min=1),
              help="the step's version you read (`steps list` shows it as vN); if it has "
              "changed since, nothing is changed. Default: the version read just before "
              "the change, which refuses only a change made in between.")
@click.option("--json", "as_json", is_flag=True, help="the step, as the API returns it")
@pass_runtime
def steps_set(runtime: Runtime, reference: str, step: str, state: str, reason: str | None,
              version: int | None, as_json: bool) -> None:
    """Move a step to todo, in_progress, done or skipped.

    STEP is the number `breach steps list` shows, or the step's id (`runbook/step` when two
    attached runbooks share it). Skipping needs --reason; a step that requires evidence is done
    only once a file is attached to it (`breach evidence add REF FILE --step STEP`).
    """
    if state == "skipped" and not (reason and reason.strip()):
        raise click.UsageError("skipping a step needs a reason: add --reason TEXT",
                               ctx=click.get_current_context())
    from incident.containment import service as containment
    from incident.containment.rules import StepState
    from incident.containment.schemas import StepPublic

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> tuple[str, StepPublic]:
        found = await find_step(db, actor, reference, step)
        changed = await containment.change_step(
            db, clock=runtime.clock, actor=actor, key=reference, step_row_id=found.row_id,
            target=StepState(state), reason=reason, expected_version=version or found.version)
        return found.reference, StepPublic.model_validate(changed)

    name, changed = runtime.run(work)
    if as_json:
        print_json(changed.model_dump(mode="json"))
    else:
        echo(f"{name} step {changed.id} {changed.runbook_id}/{changed.step_id} is now "
             f"{changed.state.value} (version {changed.version})")


@steps.command("assign")
@click.argument("reference")
@click.argument("step")
@click.argument("assignee", required=False)
@click.option("--nobody", is_flag=True, help="give the step to nobody")
@pass_runtime
def steps_assign(runtime: Runtime, reference: str, step: str, assignee: str | None,
                 nobody: bool) -> None:
    """Give a step to a person (ASSIGNEE, their e-mail), or to nobody (--nobody).

    Who may finish the step stays the role it is marked for (or an admin)."""
    if bool(assignee) == nobody:
        raise click.UsageError("name the person (ASSIGNEE) or give --nobody, not both",
                               ctx=click.get_current_context())
    from incident.containment import service as containment

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> tuple[str, str | None]:
        found = await find_step(db, actor, reference, step)
        _, email = await containment.assign_step(db, clock=runtime.clock, actor=actor,
                                                 key=reference, step_row_id=found.row_id,
                                                 assignee=None if nobody else assignee)
        return f"{found.reference} step {found.row_id} {found.label}", email

    name, email = runtime.run(work)
    echo(f"{name} is now given to {email or 'nobody'}")


def runbook_catalogue(settings: Settings) -> Any:
    """The runbooks under BREACH_RUNBOOKS_DIR; every problem printed, then one failure line."""
    from incident.containment.runbook_loader import RunbookError, load_catalogue
    from incident.kernel.settings import runbooks_dir

    folder = runbooks_dir(settings)
    try:
        return load_catalogue(folder)
    except RunbookError as exc:
        echo(str(exc))
        raise Failure(f"{len(exc.problems)} problem(s) in the runbooks under {folder}") from None


@click.group()
def runbooks() -> None:
    """Runbooks: the checklists in BREACH_RUNBOOKS_DIR."""


@runbooks.command("check")
@pass_runtime
def runbooks_check(runtime: Runtime) -> None:
    """Validate every runbook file; print each problem with its file, line and field."""
    catalogue = runbook_catalogue(runtime.settings)
    echo(f"{len(catalogue)} runbooks, all valid")


@runbooks.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def runbooks_list(runtime: Runtime, as_json: bool) -> None:
    """List runbooks with the incident kinds they apply to."""
    from incident.containment.runbooks import runbook_summary

    rows = [runbook_summary(r) for r in runbook_catalogue(runtime.settings)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        echo(f"{row['id']}\tv{row['version']}\t{row['steps']} steps\t"
             f"{', '.join(row['applies_to'])}\t{row['title']}")


@runbooks.command("show")
@click.argument("runbook_id")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def runbooks_show(runtime: Runtime, runbook_id: str, as_json: bool) -> None:
    """Show one runbook's steps."""
    from incident.containment.runbooks import runbook_digest, runbook_to_dict

    runbook = runbook_catalogue(runtime.settings).get(runbook_id)
    if runbook is None:
        raise Failure(f"no runbook {runbook_id!r} (see `breach runbooks list`)")
    if as_json:
        print_json({**runbook_to_dict(runbook), "digest": runbook_digest(runbook)})
        return
    echo(f"{runbook.title} ({runbook.id}, version {runbook.version})")
    for step in runbook.steps:
        evidence = ", evidence" if step.evidence_required else ""
        echo(f"  +{step.due:>6}  {step.phase.value:9} {step.role.value:9} "
             f"{step.title}{evidence}")
