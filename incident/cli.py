"""The `breach` command: the composition root of the command line.

It owns only `serve` and `db`; every other command comes from a registered plugin
(incident/plugin.py, notifications/plugin.py) and is imported when it is run or listed.
Errors end with one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import asyncio
import sys

import click

from incident.kernel.commands import PluginGroup


@click.group(cls=PluginGroup, registered=lambda plugin: plugin.commands,
             context_settings={"help_option_names": ["-h", "--help"]})
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

    from incident.accounts import service as accounts
    from incident.app import create_app
    from incident.containment.cli import runbook_catalogue
    from incident.kernel.console import Failure, ensure_database, err, load_settings_or_fail
    from incident.kernel.db import SchemaOutOfDate, create_engine, session_factory
    from incident.kernel.logs import configure_logging

    settings = load_settings_or_fail()
    configure_logging(settings.log_level)
    runbook_catalogue()  # a broken runbook stops the start, with every problem listed

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


@cli.group()
def db() -> None:
    """Database schema: upgrade, current revision."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from incident.kernel.console import Failure, load_settings_or_fail
    from incident.kernel.db import head_revision, upgrade

    settings = load_settings_or_fail()
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
    from incident.kernel.console import load_settings_or_fail
    from incident.kernel.db import create_engine, current_revision, head_revision

    settings = load_settings_or_fail()

    async def work() -> str | None:
        engine = create_engine(settings.effective_database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"database: {asyncio.run(work()) or 'empty'}; needed: {head_revision()}")
