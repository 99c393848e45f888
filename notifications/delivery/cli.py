"""`breach outbox run`: a process that sends due deliveries (`breach serve` runs one too)."""

from __future__ import annotations

from datetime import timedelta

import click

from incident.kernel.console import Failure, Runtime, out, pass_runtime


@click.group("outbox")
def outbox_group() -> None:
    """The outbox worker (`breach serve` runs one too)."""


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="send one batch of due deliveries and stop")
@pass_runtime
def outbox_run(runtime: Runtime, once: bool) -> None:
    """Send due deliveries until stopped (Ctrl-C), like the service's own ticker does."""
    import asyncio

    from incident.kernel.db import SchemaOutOfDate, check_schema, create_engine
    from incident.kernel.errors import DomainError
    from incident.kernel.settings import templates_dir
    from notifications.delivery import outbox
    from notifications.delivery.outbox import Dispatcher, Policy
    from notifications.drafting.render import renderer

    settings, clock = runtime.settings, runtime.clock

    async def main() -> int:
        engine = create_engine(settings.effective_database_url)
        transport = outbox.transport_for(settings, engine, clock)
        dispatcher = Dispatcher(engine, transport, renderer(templates_dir(settings)), clock=clock,
                                sender=settings.mail_from, worker=outbox.worker_name(),
                                policy=Policy(batch=settings.outbox_batch,
                                              lease=timedelta(seconds=settings.outbox_lease_seconds)))
        sent = 0
        try:
            await check_schema(engine)
            while True:
                claimed = await dispatcher.run_once()
                sent += claimed
                if once:
                    return sent
                if not claimed:
                    await asyncio.sleep(settings.outbox_tick_seconds)
        finally:
            await outbox.close(transport)
            await engine.dispose()

    try:
        handled = asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    out().print(f"{handled} deliveries handled")
