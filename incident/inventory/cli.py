"""`breach systems` and `breach subjects`: the data inventory from the command line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import Failure, Runtime, err, out, pass_runtime, print_json
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.inventory.service import ImportReport
    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings

DATA_CATEGORIES = ("contact", "identity", "official_id", "financial", "credentials", "location",
                   "behavioural", "health", "special", "children")
"""incident.kernel.vocabulary.DataCategory's values, written out so `--help` imports nothing
heavy (babel); tests/incident/test_cli_startup.py keeps them equal."""
FORMATS = ("csv", "jsonl")
"""incident.inventory.rules.Format's values (kept equal by the same test)."""


@click.group()
def systems() -> None:
    """Systems of the data inventory (CRM, shop, payroll…)."""


@systems.command("add")
@click.argument("key")
@click.option("--name", required=True, help="a name people recognise")
@click.option("--categories", default="", metavar="LIST",
              help=f"comma-separated data categories it holds: {', '.join(DATA_CATEGORIES)}")
@pass_runtime
def systems_add(runtime: Runtime, key: str, name: str, categories: str) -> None:
    """Register a system, or change its name and categories (KEY: lower case, digits, . _ -)."""
    from pydantic import ValidationError

    from incident.inventory import service as subjects
    from incident.inventory.schemas import SystemSave

    try:
        data = SystemSave(name=name, data_categories=[c.strip() for c in categories.split(",")
                                                      if c.strip()])
        checked_key = _inventory_key(key)
    except ValidationError as exc:
        raise Failure("; ".join(f"{e['input']!r}: {e['msg']}" for e in exc.errors()[:3])) from None

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await subjects.save_system(db, clock=runtime.clock, actor=actor, key=checked_key,
                                          name=data.name,
                                          data_categories=[c.value for c in data.data_categories])

    system = runtime.run(work)
    out().print(f"{system.key}: {visible(system.name)} "
                f"({', '.join(system.data_categories) or 'no categories'})")


def _inventory_key(key: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", key):
        raise Failure(f"system key {key[:70]!r}: use 1 to 64 lower-case letters, digits, '.', "
                      "'_' or '-', starting with a letter or digit")
    return key


@systems.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def systems_list(runtime: Runtime, as_json: bool) -> None:
    """List the systems with the number of people each holds."""
    from incident.inventory import service as subjects

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await subjects.list_systems(db, actor=actor)

    found = runtime.run(work)
    if as_json:
        print_json([{"key": s.key, "name": s.name, "data_categories": s.data_categories,
                     "subjects": n} for s, n in found])
        return
    console = out()
    if not found:
        console.print("No systems yet: add one with `breach systems add KEY --name NAME`.")
    for system, count in found:
        console.print(f"{system.key:<20} {count:>10,} people  {visible(system.name)} "
                      f"({', '.join(system.data_categories) or 'no categories'})")


@click.group("subjects")
def subjects_group() -> None:
    """People in the data inventory."""


@subjects_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--system", "default_system", metavar="KEY",
              help="the system of lines that name none (files without a system column)")
@click.option("--strict", is_flag=True, help="import nothing if any line is rejected")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="csv or jsonl; by default from the file name (.csv, .jsonl, .ndjson)")
@click.option("--json", "as_json", is_flag=True, help="print the import report as JSON")
@pass_runtime
def subjects_import(runtime: Runtime, file: Path, default_system: str | None, strict: bool,
                    fmt: str | None, as_json: bool) -> None:
    """Import people and their holdings from a CSV or JSON Lines FILE (format in the README).

    Existing people are updated by external id, so importing a file twice changes
    nothing. Every rejected line is listed with its number and reason; the exit
    status is 1 when any line was rejected. An optional postal_address column holds up
    to 6 lines of 100 characters, separated by line breaks (in CSV, inside a quoted field).
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from incident.inventory import service as subjects
    from incident.inventory.rules import Format

    chosen = Format(fmt) if fmt else Format.of_filename(file.name)
    if chosen is None:
        raise Failure(f"{file}: cannot tell the format from the name; give --format csv|jsonl")
    size = file.stat().st_size
    errors = err()

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> ImportReport:
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), TimeRemainingColumn(), console=errors,
                      transient=True, disable=not errors.is_terminal) as progress:
            task = progress.add_task(f"importing {file.name}", total=size)
            with file.open("rb") as stream:
                return await subjects.import_subjects(
                    db, clock=runtime.clock, actor=actor, stream=stream, fmt=chosen,
                    default_system=default_system, strict=strict,
                    progress=lambda n: progress.advance(task, n))

    try:
        report = runtime.run(work)
    except Failure as failure:
        raise Failure(str(failure.message)) from None
    if as_json:
        print_json(report.to_json())
    else:
        for error in report.errors:
            errors.print(f"{file}:{error.line}: {error.reason}", markup=False)
        if report.rejected > len(report.errors):
            errors.print(f"… and {report.rejected - len(report.errors):,} more rejected lines")
        out().print(f"{report.imported:,} of {report.rows:,} lines imported from {file.name}; "
                    f"the inventory now holds {report.subjects_total:,} people and "
                    f"{report.holdings_total:,} holdings (file SHA-256 {report.sha256})")
    if report.rejected:
        raise Failure(f"{report.rejected:,} of {report.rows:,} lines rejected (listed above); "
                      "the others were imported")
