"""`breach affected`: an incident's scope, computing snapshots, their counts and the people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.bodies import too_deep
from incident.kernel.console import Failure, Runtime, err, out, pass_runtime, print_json, read_json

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.affected.schemas import AffectedSummary
    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings


@click.group("affected")
def affected_group() -> None:
    """Who an incident affected: its scope, and snapshots computed from it."""


@affected_group.command("scope")
@click.argument("reference")
@click.argument("scope_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                              path_type=Path))
@pass_runtime
def affected_scope(runtime: Runtime, reference: str, scope_file: Path) -> None:
    """Set the incident's scope from a JSON file ('-' for standard input; format in the README)."""
    from pydantic import ValidationError

    from incident.affected import service as affected
    from incident.affected.schemas import AffectedScope

    raw = read_json(scope_file) if str(scope_file) != "-" else _stdin_json()
    try:
        scope = AffectedScope.model_validate(raw)
    except ValidationError as exc:
        raise Failure(f"{scope_file}: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'scope'}: {e['msg']}"
            for e in exc.errors()[:5])) from None

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await affected.set_scope(db, clock=runtime.clock, actor=actor, key=reference,
                                        scope=scope)

    incident = runtime.run(work)
    out().print(f"{incident.reference}: scope set ({len(scope.systems) or 'all'} systems, "
                f"{len(scope.include)} included, {len(scope.exclude)} excluded); "
                f"compute with `breach affected compute {incident.reference}`")


def _stdin_json() -> Any:
    import json

    text = sys.stdin.read()
    if reason := too_deep(text):
        raise Failure(f"standard input: {reason}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Failure(f"standard input: not valid JSON: {exc.msg} at line {exc.lineno}") from None


@affected_group.command("compute")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def affected_compute(runtime: Runtime, reference: str, as_json: bool) -> None:
    """Compute the affected people from the scope into a new, frozen snapshot."""
    from incident.affected import service as affected


    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        snapshot, unmatched = await affected.compute_affected(
            db, clock=runtime.clock, actor=actor, key=reference,
            default_locale=settings.default_locale)
        return affected.computed_of(snapshot, unmatched)

    computed = runtime.run(work)
    if as_json:
        print_json(computed.model_dump(mode="json"))
        return
    _print_summary(computed)
    for name, entries in computed.unmatched_entries.items():
        if entries:
            err().print(f"{len(entries)} {name} entries matched nobody: "
                        f"{', '.join(entries[:10])}{' …' if len(entries) > 10 else ''}", markup=False)


@affected_group.command("summary")
@click.argument("reference")
@click.option("--snapshot", type=click.IntRange(1), help="a snapshot number; the latest by default")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def affected_summary(runtime: Runtime, reference: str, snapshot: int | None,
                     as_json: bool) -> None:
    """Counts of a snapshot by jurisdiction, category, system and locale (no personal data)."""
    from incident.affected import service as affected


    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> AffectedSummary:
        _, found = await affected.get_snapshot(db, actor=actor, key=reference, number=snapshot)
        return affected.summary_of(found)

    summary = runtime.run(work)
    if as_json:
        print_json(summary.model_dump(mode="json"))
    else:
        _print_summary(summary)


def _print_summary(summary: AffectedSummary) -> None:
    out().print(f"snapshot {summary.snapshot}: {summary.total:,} people affected "
                f"(computed {summary.computed_at:%Y-%m-%d %H:%M} UTC by {summary.computed_by})")
    out().print(f"SHA-256 of the sorted list: {summary.digest}")
    for title, counts in (("jurisdiction", summary.by_jurisdiction),
                          ("category", summary.by_category), ("system", summary.by_system),
                          ("locale", summary.by_locale)):
        shown = ", ".join(f"{key} {count:,}" for key, count in list(counts.items())[:12])
        more = f" (+{len(counts) - 12} more)" if len(counts) > 12 else ""
        out().print(f"  by {title}: {shown or '-'}{more}", markup=False)


@affected_group.command("export")
@click.argument("reference")
@click.option("--snapshot", type=click.IntRange(1), help="a snapshot number; the latest by default")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write here instead of standard output (refuses to overwrite)")
@pass_runtime
def affected_export(runtime: Runtime, reference: str, snapshot: int | None,
                    output: Path | None) -> None:
    """Write a snapshot's people as CSV. The export is recorded on the incident's timeline."""
    from incident.affected import service as affected

    if output is not None and output.exists():
        raise Failure(f"{output} exists; choose another file name")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> int:
        _, found = await affected.start_export(db, clock=runtime.clock, actor=actor,
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

    total = runtime.run(work)
    if output is not None:
        out().print(f"{total:,} people written to {output}")
