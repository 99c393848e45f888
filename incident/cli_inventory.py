"""`breach systems|subjects|affected`: the data inventory and incidents' affected people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from sqlmodel.ext.asyncio.session import AsyncSession

from incident import affected, subjects
from incident.auth import Actor
from incident.cli import Failure, _print_json, _read_json, err, out, run
from incident.clock import SystemClock
from incident.inventory import Format
from incident.lifecycle import DataCategory
from incident.schemas import AffectedSummary, Scope, SystemSave
from incident.settings import Settings


@click.group()
def systems() -> None:
    """Systems of the data inventory (CRM, shop, payroll…)."""


@systems.command("add")
@click.argument("key")
@click.option("--name", required=True, help="a name people recognise")
@click.option("--categories", default="", metavar="LIST",
              help=f"comma-separated data categories it holds: {', '.join(DataCategory)}")
def systems_add(key: str, name: str, categories: str) -> None:
    """Register a system, or change its name and categories (KEY: lower case, digits, . _ -)."""
    try:
        data = SystemSave(name=name, data_categories=[c.strip() for c in categories.split(",")
                                                      if c.strip()])
        checked_key = _inventory_key(key)
    except ValidationError as exc:
        raise Failure("; ".join(f"{e['input']!r}: {e['msg']}" for e in exc.errors()[:3])) from None

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await subjects.save_system(db, clock=SystemClock(), actor=actor, key=checked_key,
                                          name=data.name,
                                          data_categories=[c.value for c in data.data_categories])

    system = run(work)
    out.print(f"{system.key}: {system.name} ({', '.join(system.data_categories) or 'no categories'})")


def _inventory_key(key: str) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", key):
        raise Failure(f"system key {key[:70]!r}: use 1 to 64 lower-case letters, digits, '.', "
                      "'_' or '-', starting with a letter or digit")
    return key


@systems.command("list")
@click.option("--json", "as_json", is_flag=True)
def systems_list(as_json: bool) -> None:
    """List the systems with the number of people each holds."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await subjects.list_systems(db, actor=actor)

    found = run(work)
    if as_json:
        _print_json([{"key": s.key, "name": s.name, "data_categories": s.data_categories,
                      "subjects": n} for s, n in found])
        return
    if not found:
        out.print("No systems yet: add one with `breach systems add KEY --name NAME`.")
    for system, count in found:
        out.print(f"{system.key:<20} {count:>10,} people  {system.name} "
                  f"({', '.join(system.data_categories) or 'no categories'})")


@click.group("subjects")
def subjects_group() -> None:
    """People in the data inventory."""


@subjects_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--system", "default_system", metavar="KEY",
              help="the system of lines that name none (files without a system column)")
@click.option("--strict", is_flag=True, help="import nothing if any line is rejected")
@click.option("--format", "fmt", type=click.Choice([f.value for f in Format]),
              help="csv or jsonl; by default from the file name (.csv, .jsonl, .ndjson)")
@click.option("--json", "as_json", is_flag=True, help="print the import report as JSON")
def subjects_import(file: Path, default_system: str | None, strict: bool, fmt: str | None,
                    as_json: bool) -> None:
    """Import people and their holdings from a CSV or JSON Lines FILE (format in the README).

    Existing people are updated by external id, so importing a file twice changes
    nothing. Every rejected line is listed with its number and reason; the exit
    status is 1 when any line was rejected.
    """
    chosen = Format(fmt) if fmt else Format.of_filename(file.name)
    if chosen is None:
        raise Failure(f"{file}: cannot tell the format from the name; give --format csv|jsonl")
    size = file.stat().st_size

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> subjects.ImportReport:
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), TimeRemainingColumn(), console=err,
                      transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"importing {file.name}", total=size)
            with file.open("rb") as stream:
                return await subjects.import_subjects(
                    db, clock=SystemClock(), actor=actor, stream=stream, fmt=chosen,
                    default_system=default_system, strict=strict,
                    progress=lambda n: progress.advance(task, n))

    try:
        report = run(work)
    except Failure as failure:
        raise Failure(str(failure.message)) from None
    if as_json:
        _print_json(report.to_json())
    else:
        for error in report.errors:
            err.print(f"{file}:{error.line}: {error.reason}", markup=False)
        if report.rejected > len(report.errors):
            err.print(f"… and {report.rejected - len(report.errors):,} more rejected lines")
        out.print(f"{report.imported:,} of {report.rows:,} lines imported from {file.name}; "
                  f"the inventory now holds {report.subjects_total:,} people and "
                  f"{report.holdings_total:,} holdings (file SHA-256 {report.sha256})")
    if report.rejected:
        raise Failure(f"{report.rejected:,} of {report.rows:,} lines rejected (listed above); "
                      "the others were imported")


@click.group("affected")
def affected_group() -> None:
    """Who an incident affected: its scope, and snapshots computed from it."""


@affected_group.command("scope")
@click.argument("reference")
@click.argument("scope_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                              path_type=Path))
def affected_scope(reference: str, scope_file: Path) -> None:
    """Set the incident's scope from a JSON file ('-' for standard input; format in the README)."""
    raw = _read_json(scope_file) if str(scope_file) != "-" else _stdin_json()
    try:
        scope = Scope.model_validate(raw)
    except ValidationError as exc:
        raise Failure(f"{scope_file}: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'scope'}: {e['msg']}"
            for e in exc.errors()[:5])) from None

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await affected.set_scope(db, clock=SystemClock(), actor=actor, key=reference,
                                        scope=scope)

    incident = run(work)
    out.print(f"{incident.reference}: scope set ({len(scope.systems) or 'all'} systems, "
              f"{len(scope.include)} included, {len(scope.exclude)} excluded); "
              f"compute with `breach affected compute {incident.reference}`")


def _stdin_json() -> Any:
    import json

    try:
        return json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        raise Failure(f"standard input: not valid JSON: {exc.msg} at line {exc.lineno}") from None


@affected_group.command("compute")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def affected_compute(reference: str, as_json: bool) -> None:
    """Compute the affected people from the scope into a new, frozen snapshot."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        snapshot, unmatched = await affected.compute_affected(
            db, clock=SystemClock(), actor=actor, key=reference,
            default_locale=settings.default_locale)
        return affected.computed_of(snapshot, unmatched)

    computed = run(work)
    if as_json:
        _print_json(computed.model_dump(mode="json"))
        return
    _print_summary(computed)
    for name, entries in computed.unmatched_entries.items():
        if entries:
            err.print(f"{len(entries)} {name} entries matched nobody: "
                      f"{', '.join(entries[:10])}{' …' if len(entries) > 10 else ''}", markup=False)


@affected_group.command("summary")
@click.argument("reference")
@click.option("--snapshot", type=click.IntRange(1), help="a snapshot number; the latest by default")
@click.option("--json", "as_json", is_flag=True)
def affected_summary(reference: str, snapshot: int | None, as_json: bool) -> None:
    """Counts of a snapshot by jurisdiction, category, system and locale (no personal data)."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> AffectedSummary:
        _, found = await affected.get_snapshot(db, actor=actor, key=reference, number=snapshot)
        return affected.summary_of(found)

    summary = run(work)
    if as_json:
        _print_json(summary.model_dump(mode="json"))
    else:
        _print_summary(summary)


def _print_summary(summary: AffectedSummary) -> None:
    out.print(f"snapshot {summary.snapshot}: {summary.total:,} people affected "
              f"(computed {summary.computed_at:%Y-%m-%d %H:%M} UTC by {summary.computed_by})")
    out.print(f"SHA-256 of the sorted list: {summary.digest}")
    for title, counts in (("jurisdiction", summary.by_jurisdiction),
                          ("category", summary.by_category), ("system", summary.by_system),
                          ("locale", summary.by_locale)):
        shown = ", ".join(f"{key} {count:,}" for key, count in list(counts.items())[:12])
        more = f" (+{len(counts) - 12} more)" if len(counts) > 12 else ""
        out.print(f"  by {title}: {shown or '-'}{more}", markup=False)


@affected_group.command("export")
@click.argument("reference")
@click.option("--snapshot", type=click.IntRange(1), help="a snapshot number; the latest by default")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write here instead of standard output (refuses to overwrite)")
def affected_export(reference: str, snapshot: int | None, output: Path | None) -> None:
    """Write a snapshot's people as CSV. The export is recorded on the incident's timeline."""
    if output is not None and output.exists():
        raise Failure(f"{output} exists; choose another file name")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> int:
        _, found = await affected.start_export(db, clock=SystemClock(), actor=actor,
                                               key=reference, number=snapshot)
        assert found.id is not None
        engine = db.bind  # the export streams from a session of its own
        sink = output.open("xb") if output is not None else sys.stdout.buffer
        try:
            async for chunk in affected.export_csv(engine, found.id):  # type: ignore[arg-type]
                sink.write(chunk)
        finally:
            if output is not None:
                sink.close()
        return found.total

    total = run(work)
    if output is not None:
        out.print(f"{total:,} people written to {output}")
