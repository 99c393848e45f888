"""`breach audit`: verify every timeline chain, export an incident's timeline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import Failure, Runtime, echo, err, pass_runtime, print_json

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings


@click.group()
def audit() -> None:
    """Check that timelines were never altered; export them."""


@audit.command("verify")
@click.option("--incident", "reference", help="one incident (default: every chain)")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def audit_verify(runtime: Runtime, reference: str | None, as_json: bool) -> None:
    """Recompute hash chains; exit 1 and name the first bad event if any chain is broken."""
    from rich.progress import Progress

    from incident.audit import service as audit_service
    from incident.timeline import service as journal

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
        names = await audit_service.references_by_chain(db)
        if reference:
            _, result = await audit_service.verify_incident(db, actor=actor, key=reference)
            results = [result]
        else:
            chains = await audit_service.chain_names(db)
            results = []
            errors = err()
            with Progress(console=errors, transient=True, disable=not errors.is_terminal) as bar:
                task = bar.add_task("verifying", total=len(chains))
                for chain in chains:
                    results.append(await journal.verify(db, chain))
                    bar.advance(task)
        return [{**r.as_dict(), "name": names.get(r.chain, r.chain)} for r in results]

    results = runtime.run(work)
    if as_json:
        print_json(results)
    else:
        for r in results:
            if r["ok"]:
                echo(f"ok      {r['name']}: {r['events']} events")
            else:
                echo(f"BROKEN  {r['name']}: event {r['first_bad_seq']}: {r['problem']}")
    broken = [r for r in results if not r["ok"]]
    if broken:
        raise Failure(f"{len(broken)} of {len(results)} timelines are broken")


@audit.command("export")
@click.argument("reference")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@pass_runtime
def audit_export(runtime: Runtime, reference: str, fmt: str, output: Path | None) -> None:
    """Export an incident's timeline, exactly as stored, to stdout or a file."""
    from incident.audit.export import export_csv, export_jsonl
    from incident.lifecycle import service as incident_service

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> int:
        _, events = await incident_service.timeline_stream(db, actor=actor, key=reference)
        lines = export_jsonl(events) if fmt == "jsonl" else export_csv(events)
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

    runtime.run(work)
