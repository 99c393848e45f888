"""The `breach` command: the composition root of the command line.

The root group puts a `Runtime` (settings, clock, who acts) in click's context and names
who acts (`--as EMAIL`, BREACH_USER, BREACH_TOKEN). It owns only `serve` and `db`; every
other command comes from a registered plugin (incident/plugin.py, notifications/plugin.py)
and is imported when it is run or listed. Errors end with one line on stderr and a
non-zero exit status, in the console script and under click's test runner alike.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click

from incident.kernel.commands import PluginGroup
from incident.kernel.console import Runtime, echo, pass_runtime
from incident.kernel.plugins import Plugin

SUBCOMMANDS: Mapping[str, Callable[[Plugin], Mapping[str, str]]] = {
    "audit": lambda plugin: plugin.audit_commands,
}
"""Groups of one package that other packages add commands to: `breach audit register` is the
notifications package's, under the incident package's `audit` group."""


def with_registered(group: click.Group, registered: Callable[[Plugin], Mapping[str, str]]
                    ) -> PluginGroup:
    """`group`, with the commands plugins register for it besides its own (loaded when used)."""
    return PluginGroup(name=group.name, commands=group.commands, callback=group.callback,
                       params=group.params, help=group.help, short_help=group.short_help,
                       epilog=group.epilog, context_settings=group.context_settings,
                       invoke_without_command=group.invoke_without_command,
                       no_args_is_help=group.no_args_is_help, hidden=group.hidden,
                       registered=registered)


class Root(PluginGroup):
    """The `breach` group: its `main` turns every error into one line, whoever calls it."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        registered = SUBCOMMANDS.get(cmd_name)
        if registered is None or not isinstance(command, click.Group):
            return command
        return with_registered(command, registered)

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            return super().main(args=args, prog_name="breach", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            echo(f"breach: error: {exc.format_message()}{hint}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            echo(f"breach: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("breach: error: aborted", err=True)
            sys.exit(130)


@click.group("breach", cls=Root, registered=lambda plugin: plugin.commands,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--as", "user", metavar="EMAIL", envvar="BREACH_USER", show_envvar=True,
              help="The Breachdesk user you act as; their role decides what you may do. "
              "BREACH_TOKEN (one of your API tokens) names you too.")
@click.version_option(package_name="breachdesk")
@click.pass_context
def cli(ctx: click.Context, user: str | None) -> None:
    """Breachdesk: breach incident response and notification.

    Configuration comes from BREACH_* environment variables (see the README).
    """
    runtime = ctx.ensure_object(Runtime)
    if user:
        runtime.user = user
    if runtime.token is None:
        runtime.token = os.environ.get("BREACH_TOKEN") or None
    if runtime.identify is None:
        from incident.accounts.cli import who_acts

        runtime.identify = who_acts


def main(args: list[str] | None = None) -> None:
    """The console script."""
    cli.main(args=args)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_runtime
def serve(runtime: Runtime, host: str, port: int) -> None:
    """Run the web service: API, web pages and scheduler."""
    import asyncio

    import uvicorn

    from incident.accounts import service as accounts
    from incident.app import create_app
    from incident.containment.cli import runbook_catalogue
    from incident.kernel.console import Failure, ensure_database, err
    from incident.kernel.db import SchemaOutOfDate, create_engine, session_factory
    from incident.kernel.errors import ConfigurationError
    from incident.kernel.logs import configure_logging
    from incident.kernel.settings import serving

    settings = serving(runtime.settings, host, port)  # links in messages go where it listens
    runbook_catalogue(settings)  # a broken runbook stops the start, with every problem listed
    configure_logging(settings.log_level)
    try:  # an invalid configured file (a regime of BREACH_REGIMES_DIR…) stops the start
        app = create_app(settings, clock=runtime.clock)
    except ConfigurationError as exc:
        raise Failure(str(exc)) from None

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
        err().print("No users yet. Create the first one with:\n"
                    "  breach users create you@example.com --role admin")
    where = f"embedded, under {settings.var_dir}" if settings.embedded_database else "configured"
    err().print(f"Breachdesk on http://{host}:{port}/  (database: {where})")
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=False,
                server_header=False)


@cli.group()
def db() -> None:
    """Database schema: upgrade, current revision."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(runtime: Runtime) -> None:
    """Apply every pending migration."""
    from incident.kernel.console import Failure
    from incident.kernel.db import head_revision, upgrade

    settings = runtime.settings
    if settings.embedded_database:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.effective_database_url)
    except OSError as exc:
        raise Failure(f"cannot reach the database: {exc}") from None
    echo(f"database at revision {head_revision()}")


@db.command("current")
@pass_runtime
def db_current(runtime: Runtime) -> None:
    """Print the database's schema revision and the one this version needs."""
    import asyncio

    from incident.kernel.db import create_engine, current_revision, head_revision

    settings = runtime.settings

    async def work() -> str | None:
        engine = create_engine(settings.effective_database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    echo(f"database: {asyncio.run(work()) or 'empty'}; needed: {head_revision()}")
