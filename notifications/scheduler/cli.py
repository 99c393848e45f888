"""`breach scheduler`: the declared jobs, what falls due next, and a process that ticks."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from incident.kernel.clock import SystemClock
from incident.kernel.console import (
    Failure,
    load_settings_or_fail,
    out,
    print_json,
)
from incident.kernel.db import SchemaOutOfDate, check_schema, create_engine
from incident.kernel.errors import DomainError
from incident.kernel.settings import Settings


@click.group("scheduler")
def scheduler_group() -> None:
    """The ticker: its jobs, what is due next, and a process that runs only the ticker."""


def _ticker_parts(settings: Settings) -> tuple[Any, Any, Any]:
    from incident.kernel.settings import templates_dir
    from notifications.delivery import outbox
    from notifications.drafting.render import renderer
    from notifications.scheduler import ticker as scheduler

    engine = create_engine(settings.effective_database_url)
    clock = SystemClock()
    transport = outbox.transport_for(settings, engine, clock)
    declared = scheduler.jobs(engine, settings, clock, renderer(templates_dir(settings)), transport)
    return engine, transport, declared


@scheduler_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def scheduler_list(as_json: bool) -> None:
    """The declared jobs, then the reminders and deliveries that fall due next."""
    from notifications.delivery import outbox
    from notifications.scheduler import ticker

    settings = load_settings_or_fail()

    async def main() -> tuple[list[Any], dict[str, Any]]:
        engine, transport, declared = _ticker_parts(settings)
        try:
            await check_schema(engine)
            return declared, await ticker.upcoming(engine, SystemClock())
        finally:
            await outbox.close(transport)
            await engine.dispose()

    try:
        declared, upcoming = asyncio.run(main())
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    if as_json:
        print_json({"jobs": [{"name": j.name, "every_seconds": j.every_seconds,
                               "description": j.description} for j in declared], **upcoming})
        return
    if upcoming.get("sqlite_ticker"):
        holder = upcoming["sqlite_ticker"]
        out.print(f"ticking on this SQLite database: {holder['holder']} (lease until "
                  f"{holder['until']}); another process would only serve requests", markup=False)
    out.print("jobs:")
    for job in declared:
        out.print(f"  {job.name:12} every {job.every_seconds:g} s  {job.description}", markup=False)
    out.print(f"reminders due now: {upcoming['reminders_due_now']}; next:")
    for item in upcoming["reminders"]:
        out.print(f"  {item['due_at']}  {item['kind']:20} {item['key']}", markup=False)
    for item in upcoming["parked"]:
        out.print(f"  PARKED {item['key']}: {item['note']}", markup=False)
    out.print(f"deliveries queued: {upcoming['deliveries_queued']}"
              + (f", next at {upcoming['next_delivery_at']}" if upcoming["next_delivery_at"] else ""))


@scheduler_group.command("run")
@click.option("--once", is_flag=True, help="run every job once and stop")
def scheduler_run(once: bool) -> None:
    """Run the ticker in this process (as `breach serve` does), until stopped."""
    from notifications.delivery import outbox
    from notifications.scheduler import ticker as scheduler

    settings = load_settings_or_fail()

    async def main() -> None:
        engine, transport, declared = _ticker_parts(settings)
        try:
            await check_schema(engine)
            if once:
                for job in declared:
                    await job.run()
                return
            ticker = scheduler.Ticker(declared, engine=engine, clock=SystemClock())
            ticker.start()
            try:
                await asyncio.Event().wait()
            finally:
                ticker.shutdown()
        finally:
            await outbox.close(transport)
            await engine.dispose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
