"""`breach scheduler`: the declared jobs, what falls due next, and a process that ticks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import Failure, Runtime, out, pass_runtime, print_json

if TYPE_CHECKING:
    from incident.kernel.clock import Clock
    from incident.kernel.settings import Settings


@click.group("scheduler")
def scheduler_group() -> None:
    """The ticker: its jobs, what is due next, and a process that runs only the ticker."""


def _ticker_parts(settings: Settings, clock: Clock) -> tuple[Any, Any, Any, Any]:
    from incident.kernel.db import create_engine
    from incident.kernel.settings import templates_dir
    from notifications.delivery import outbox
    from notifications.drafting.render import renderer
    from notifications.scheduler import ticker as scheduler

    engine = create_engine(settings.effective_database_url)
    transport = outbox.transport_for(settings, engine, clock)
    fallback = outbox.fallback_for(settings)
    declared = scheduler.jobs(engine, settings, clock, renderer(templates_dir(settings)), transport,
                              fallback=fallback)
    return engine, transport, fallback, declared


@scheduler_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def scheduler_list(runtime: Runtime, as_json: bool) -> None:
    """The declared jobs, then the reminders and deliveries that fall due next."""
    import asyncio

    from incident.kernel.db import SchemaOutOfDate, check_schema
    from incident.kernel.errors import DomainError
    from notifications.delivery import outbox
    from notifications.scheduler import ticker

    settings, clock = runtime.settings, runtime.clock

    async def main() -> tuple[list[Any], dict[str, Any]]:
        engine, transport, fallback, declared = _ticker_parts(settings, clock)
        try:
            await check_schema(engine)
            return declared, await ticker.upcoming(engine, clock)
        finally:
            await outbox.close(transport)
            await outbox.close(fallback)
            await engine.dispose()

    try:
        declared, upcoming = asyncio.run(main())
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    if as_json:
        print_json({"jobs": [{"name": j.name, "every_seconds": j.every_seconds,
                              "description": j.description} for j in declared], **upcoming})
        return
    console = out()
    if upcoming.get("sqlite_ticker"):
        holder = upcoming["sqlite_ticker"]
        console.print(f"ticking on this SQLite database: {holder['holder']} (lease until "
                      f"{holder['until']}); another process would only serve requests",
                      markup=False)
    console.print("jobs:")
    for job in declared:
        console.print(f"  {job.name:12} every {job.every_seconds:g} s  {job.description}",
                      markup=False)
    console.print(f"reminders due now: {upcoming['reminders_due_now']}; next:")
    for item in upcoming["reminders"]:
        console.print(f"  {item['due_at']}  {item['kind']:20} {item['key']}", markup=False)
    for item in upcoming["parked"]:
        console.print(f"  PARKED {item['key']}: {item['note']}", markup=False)
    console.print(f"deliveries queued: {upcoming['deliveries_queued']}"
                  + (f", next at {upcoming['next_delivery_at']}" if upcoming["next_delivery_at"] else ""))


@scheduler_group.command("run")
@click.option("--once", is_flag=True, help="run every job once and stop")
@pass_runtime
def scheduler_run(runtime: Runtime, once: bool) -> None:
    """Run the ticker in this process (as `breach serve` does), until stopped (Ctrl-C or
    SIGTERM: it stops within a few seconds, releasing what it holds)."""
    import asyncio
    import signal

    from incident.kernel.db import SchemaOutOfDate, check_schema
    from incident.kernel.errors import DomainError
    from incident.kernel.logs import configure_logging
    from notifications.delivery import outbox
    from notifications.obligations.cli import regimes_or_fail
    from notifications.scheduler import ticker as scheduler

    settings, clock = runtime.settings, runtime.clock
    configure_logging(settings.log_level)  # takeovers, releases and the relay's state
    regimes_or_fail(settings)  # an invalid regime file stops the start, one line per problem

    async def main() -> None:
        engine, transport, fallback, declared = _ticker_parts(settings, clock)
        try:
            await check_schema(engine)
            if once:
                for job in declared:
                    await job.run()
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
            ticker = scheduler.ticker_for(settings, declared, engine=engine, clock=clock)
            await ticker.begin()
            try:
                await stop.wait()
            finally:
                await ticker.stop(settings.shutdown_grace_seconds)
        finally:
            await outbox.close(transport)
            await outbox.close(fallback)
            await engine.dispose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
