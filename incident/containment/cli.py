"""`breach runbooks`, `breach steps`, `breach evidence` and `breach incidents runbook`:
containment from the command line."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.containment import service as containment
from incident.containment.rules import StepState
from incident.containment.schemas import ChecklistPublic, EvidencePublic, OverdueStepPublic, StepPublic
from incident.kernel.auth import Actor
from incident.kernel.clock import SystemClock
from incident.kernel.console import Failure, load_settings_or_fail, local_text, print_json, run, span_text
from incident.kernel.errors import Invalid, NotFound
from incident.kernel.settings import Settings
from incident.lifecycle import service as incident_service
from incident.lifecycle.cli import incidents


@dataclass(frozen=True, slots=True)
class _StepRef:
    reference: str
    row_id: int
    version: int
    label: str


async def _find_step(db: AsyncSession, actor: Actor, reference: str, step: str) -> _StepRef:
    """A step of an incident by its number (as `steps list` shows it), `runbook/step`, or a step
    id that only one attached runbook has. Ends the read, so a use case can open its write."""
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
    result = _StepRef(reference=incident.reference, row_id=row.id, version=row.version,
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
        click.echo(f"{reference}: no runbook attached{suggested} "
                   f"(attach one with `breach incidents runbook {reference} RUNBOOK_ID`)")
        return
    for runbook in checklist.runbooks:
        click.echo(f"runbook {runbook.runbook_id} version {runbook.version} ({runbook.title}), "
                   f"attached {local_text(runbook.attached_at, zone)} by {runbook.attached_by}, "
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
    catalogue = runbook_catalogue()
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
                f"{local_text(first, settings.zone)}; pinned sha256 {attached.digest}"), checklist

    summary, checklist = run(work)
    if as_json:
        print_json(checklist.model_dump(mode="json"))
    else:
        click.echo(summary)


@click.group()
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
    catalogue = runbook_catalogue()

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
        print_json(checklist.model_dump(mode="json"))
    else:
        _print_checklist(name, checklist, load_settings_or_fail().zone)


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
        print_json([r.model_dump(mode="json") for r in rows])
        return
    zone = load_settings_or_fail().zone
    for row in rows:
        step = row.step
        click.echo(f"{row.reference}\t{step.id}\t{step.runbook_id}/{step.step_id}\t{step.title}\t"
                   f"{step.role}\tdue {local_text(step.due_at, zone)}\t"
                   f"{span_text(now - step.due_at)} late\t{step.state.value}")


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
        print_json(changed.model_dump(mode="json"))
    else:
        click.echo(f"{name} step {changed.id} {changed.runbook_id}/{changed.step_id} is now "
                   f"{changed.state.value} (version {changed.version})")


@click.group()
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
    content = _read_evidence_file(file, load_settings_or_fail().evidence_max_bytes)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> EvidencePublic:
        row_id = (await _find_step(db, actor, reference, step)).row_id if step else None
        return await containment.add_evidence(
            db, clock=SystemClock(), actor=actor, key=reference, filename=file.name,
            content_type=content_type, content=content, max_bytes=settings.evidence_max_bytes,
            step_row_id=row_id, description=note)

    added = run(work)
    if as_json:
        print_json(added.model_dump(mode="json"))
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
        print_json([e.model_dump(mode="json") for e in rows])
        return
    zone = load_settings_or_fail().zone
    for e in rows:
        click.echo(f"{e.id}\t{local_text(e.uploaded_at, zone)}\t{e.uploaded_by}\t{e.step or '—'}\t"
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


def runbook_catalogue() -> Any:
    from incident.containment.runbook_loader import RunbookError, load_catalogue
    from incident.kernel.settings import runbooks_dir

    folder = runbooks_dir(load_settings_or_fail())
    try:
        return load_catalogue(folder)
    except RunbookError as exc:
        click.echo(str(exc))
        raise Failure(f"{len(exc.problems)} problem(s) in the runbooks under {folder}") from None


@click.group()
def runbooks() -> None:
    """Runbooks: the checklists in BREACH_RUNBOOKS_DIR."""


@runbooks.command("check")
def runbooks_check() -> None:
    """Validate every runbook file; print each problem with its file, line and field."""
    catalogue = runbook_catalogue()
    click.echo(f"{len(catalogue)} runbooks, all valid")


@runbooks.command("list")
@click.option("--json", "as_json", is_flag=True)
def runbooks_list(as_json: bool) -> None:
    """List runbooks with the incident kinds they apply to."""
    catalogue = runbook_catalogue()
    from incident.containment.runbooks import runbook_summary

    rows = [runbook_summary(r) for r in catalogue]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}\tv{row['version']}\t{row['steps']} steps\t"
                   f"{', '.join(row['applies_to'])}\t{row['title']}")


@runbooks.command("show")
@click.argument("runbook_id")
@click.option("--json", "as_json", is_flag=True)
def runbooks_show(runbook_id: str, as_json: bool) -> None:
    """Show one runbook's steps."""
    from incident.containment.runbooks import runbook_digest, runbook_to_dict

    runbook = runbook_catalogue().get(runbook_id)
    if runbook is None:
        raise Failure(f"no runbook {runbook_id!r} (see `breach runbooks list`)")
    if as_json:
        print_json({**runbook_to_dict(runbook), "digest": runbook_digest(runbook)})
        return
    click.echo(f"{runbook.title} ({runbook.id}, version {runbook.version})")
    for step in runbook.steps:
        evidence = ", evidence" if step.evidence_required else ""
        click.echo(f"  +{step.due:>6}  {step.phase.value:9} {step.role.value:9} "
                   f"{step.title}{evidence}")
