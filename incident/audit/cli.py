"""`breach audit`: verify every timeline chain, export an incident's timeline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import Failure, Runtime, echo, pass_runtime, print_json

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
    """Check every chain against the latest signed checkpoint kept outside the database;
    exit 1 naming the first event or checkpoint that does not hold."""
    from incident.audit import service as audit_service

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> dict[str, Any]:
        report, names = await audit_service.audit(db, actor=actor, settings=settings,
                                                  key=reference)
        return {"ok": report.ok, "checkpoint": report.checkpoint,
                "checkpoint_at": report.checkpoint_at,
                "log_problems": [{"checkpoint": p.number, "line": p.line, "problem": p.problem}
                                 for p in report.log_problems],
                "copy_problems": report.copy_problems,
                "chains": [{"chain": r.chain, "name": names.get(r.chain, r.chain),
                            "finding": r.finding.value, "ok": r.ok, "events": r.events,
                            "signed_seq": r.signed_seq, "first_bad_seq": r.first_bad_seq,
                            "detail": r.detail} for r in report.chains]}

    result = runtime.run(work)
    if as_json:
        print_json(result)
    else:
        if result["checkpoint"] is None:
            echo("no signed checkpoint yet: each chain is checked against its own hashes only")
        else:
            echo(f"checkpoint {result['checkpoint']} of {result['checkpoint_at']}")
        for problem in result["log_problems"]:
            which = f"checkpoint {problem['checkpoint']}" if problem["checkpoint"] else "a line"
            echo(f"ALTERED checkpoint log, line {problem['line']} ({which}): {problem['problem']}")
        for problem in result["copy_problems"]:
            echo(f"ALTERED {problem}")
        for r in result["chains"]:
            if r["ok"]:
                echo(f"ok      {r['name']}: {r['events']} events ({r['detail']})")
            else:
                echo(f"{r['finding'].upper():<8}{r['name']}: {r['detail']}")
    broken = [r for r in result["chains"] if not r["ok"]]
    if not result["ok"]:
        log = len(result["log_problems"]) + len(result["copy_problems"])
        raise Failure(f"{len(broken)} of {len(result['chains'])} timelines do not hold"
                      + (f"; the checkpoint record was altered ({log})" if log else ""))


@audit.command("checkpoint")
@pass_runtime
def audit_checkpoint(runtime: Runtime) -> None:
    """Sign every chain's head now into the next checkpoint (kept outside the database)."""
    from incident.audit import service as audit_service

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        from incident.audit.checkpoints import CheckpointLogLost
        try:
            return await audit_service.checkpoint(db, actor=actor, settings=settings,
                                                  clock=runtime.clock)
        except CheckpointLogLost as exc:
            raise Failure(str(exc)) from exc

    made = runtime.run(work)
    echo(f"checkpoint {made.number}: {made.chains} chains signed, hash {made.hash}")
    if made.suspect:
        raise Failure(f"{len(made.suspect)} chains do not hold and keep their last signed "
                      f"head: {', '.join(made.suspect)} (run breach audit verify)")


@audit.command("public-key")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def audit_public_key(runtime: Runtime, as_json: bool) -> None:
    """The public keys that sign checkpoints, with their fingerprints and validity."""
    from incident.audit import service as audit_service

    keys = audit_service.keyring(runtime.settings)
    keys.current(runtime.clock.now())
    found = [k.as_dict() for k in keys.public_keys()]
    if as_json:
        print_json(found)
        return
    for key in found:
        until = key["until"] or "in use"
        echo(f"{key['public_key']}\n  fingerprint {key['fingerprint']}\n"
             f"  valid {key['since']} .. {until}")


@audit.command("rotate-key")
@pass_runtime
def audit_rotate_key(runtime: Runtime) -> None:
    """Retire the signing key for a new one; the old public key stays, for old checkpoints."""
    from incident.audit import service as audit_service

    old, new = audit_service.keyring(runtime.settings).rotate(runtime.clock.now())
    echo(f"retired {old.fingerprint} (valid until {old.until})\nnow signing with {new.fingerprint}")


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
