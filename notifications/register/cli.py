"""`breach audit register` and `breach audit compliance`: the breach register and the
deadline-compliance report as JSON, CSV or PDF, on standard output or into a file."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import Failure, Runtime, err, parse_time, pass_runtime, print_json

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings

STATUSES = ("open", "assessing", "contained", "notifying", "resolved", "closed", "dismissed")
"""incident.lifecycle.rules.Status's values, written out so `--help` imports nothing heavy;
tests/notifications/register/test_cli.py keeps them equal."""

PERIODS = ("month", "quarter", "year")
"""notifications.register.rules.Per's values (kept equal by the same test)."""

FORMATS = ("json", "csv", "pdf")


def _period_options(command: Any) -> Any:
    command = click.option("--to", "until", metavar="TIME",
                           help="became known before this instant (excluded); ISO 8601, "
                           "without an offset in BREACH_TIMEZONE")(command)
    command = click.option("--from", "since", metavar="TIME",
                           help="became known at or after this instant (ISO 8601, without an "
                           "offset in BREACH_TIMEZONE)")(command)
    command = click.option("--format", "fmt", type=click.Choice(FORMATS), default="json",
                           show_default=True)(command)
    command = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                           help="write to this file (default: standard output)")(command)
    return command


def _write(content: str | bytes, output: Path | None, *, what: str) -> None:
    """The report to `output`, or to standard output (a PDF only where it is not a terminal)."""
    data = content.encode() if isinstance(content, str) else content
    if output is not None:
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise Failure(f"cannot write {output}: {exc.strerror or exc}") from None
        err().print(f"{what} written to {output}")
        return
    if isinstance(content, bytes) and sys.stdout.isatty():
        raise Failure("a PDF is not for the terminal: give -o FILE")
    if isinstance(content, bytes):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        click.echo(content, nl=False)


def _period(runtime: Runtime, since: str | None, until: str | None
            ) -> tuple[datetime | None, datetime | None]:
    settings = runtime.settings
    return parse_time(since, settings), parse_time(until, settings)


@click.command("register")
@_period_options
@click.option("--status", type=click.Choice(STATUSES), help="only incidents in this status")
@pass_runtime
def register(runtime: Runtime, output: Path | None, fmt: str, since: str | None,
             until: str | None, status: str | None) -> None:
    """The breach register: every incident that became known in the period (dismissed ones
    with their reason), with its facts, effects, remedial action, each duty's decision and the
    evidence's SHA-256, as GDPR Art. 33(5) asks."""
    from incident.lifecycle.rules import Status
    from notifications.register import exports, service
    from notifications.register.schemas import register_public

    start, end = _period(runtime, since, until)
    chosen = service.Selection(start=start, end=end, status=Status(status) if status else None)

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await service.register(db, clock=runtime.clock, actor=actor, selection=chosen,
                                      zone=settings.zone)

    found = runtime.run(work)
    report = register_public(found)
    what = f"register of {report.total} incident{'' if report.total == 1 else 's'}"
    if fmt == "json" and output is None:
        print_json(report.model_dump(mode="json"))
    elif fmt == "json":
        _write(report.model_dump_json(indent=2) + "\n", output, what=what)
    elif fmt == "csv":
        _write(exports.register_csv(report), output, what=what)
    else:
        _write(exports.printed(_pages(runtime.settings), "register.html", report=report), output,
               what=what)


@click.command("compliance")
@_period_options
@click.option("--per", type=click.Choice(PERIODS), default="month", show_default=True,
              help="the periods (of when incidents became known) the summary is given for")
@pass_runtime
def compliance(runtime: Runtime, output: Path | None, fmt: str, since: str | None,
               until: str | None, per: str) -> None:
    """The deadline-compliance report: each duty's due and met instants, on time, late by how
    long and why, waived by whom and why, or still open (overdue or not); per period, the
    share met on time and the time from awareness to the authority notice."""
    from notifications.register import exports, service
    from notifications.register.rules import Per
    from notifications.register.schemas import compliance_public

    start, end = _period(runtime, since, until)
    chosen = service.Selection(start=start, end=end)

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await service.compliance(db, clock=runtime.clock, actor=actor, selection=chosen,
                                        per=Per(per), zone=settings.zone)

    found = runtime.run(work)
    report = compliance_public(found)
    count = sum(len(i.duties) for i in report.incidents)
    what = f"compliance of {count} dut{'y' if count == 1 else 'ies'}"
    if fmt == "json" and output is None:
        print_json(report.model_dump(mode="json"))
    elif fmt == "json":
        _write(report.model_dump_json(indent=2) + "\n", output, what=what)
    elif fmt == "csv":
        _write(exports.compliance_csv(report), output, what=what)
    else:
        settings = runtime.settings
        _write(exports.printed(_pages(settings), "compliance.html",
                               **exports.compliance_values(found, settings.zone)), output,
               what=what)


def _pages(settings: Settings) -> Any:
    """The pages' Jinja2 environment, as the web service builds it."""
    from incident.kernel.pages import environment
    from incident.kernel.settings import templates_dir

    return environment(templates_dir(settings) / "web", settings.zone)
