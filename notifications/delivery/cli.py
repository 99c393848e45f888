"""`breach outbox run`: a process that sends due deliveries (`breach serve` runs one too)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import click

from incident.kernel.console import Failure, Runtime, out, pass_runtime

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable


@click.group("outbox")
def outbox_group() -> None:
    """The outbox worker (`breach serve` runs one too)."""


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="send the deliveries due now and stop")
@click.option("--parent", type=int, default=None, hidden=True,
              help="the PID of the `breach serve` that started it: stop when it is gone")
@pass_runtime
def outbox_run(runtime: Runtime, once: bool, parent: int | None) -> None:
    """Send due deliveries until stopped, like the service's own ticker does.

    Ctrl-C or SIGTERM stops it within a few seconds, mid-batch: outcomes on the wire are
    recorded, the rest is handed back to be sent by the next process.
    """
    import asyncio
    import signal

    from incident.kernel.db import SchemaOutOfDate, check_schema, create_engine
    from incident.kernel.errors import DomainError
    from incident.kernel.logs import configure_logging
    from incident.kernel.settings import templates_dir
    from notifications.delivery import outbox, wakeup, workers
    from notifications.delivery.outbox import Dispatcher, Policy
    from notifications.drafting import queuing
    from notifications.drafting.render import renderer

    settings, clock = runtime.settings, runtime.clock
    configure_logging(settings.log_level)  # takeovers, releases and the relay's state

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        watch = None
        if parent is not None:
            workers.yield_to_service()
            watch = workers.tie_to_parent(parent, stop)
        # Bulk: on SQLite, the service's requests get the write lock before this process.
        engine = create_engine(settings.effective_database_url, bulk=True)
        transport = outbox.transport_for(settings, engine, clock)
        fallback = outbox.fallback_for(settings)
        dispatcher = Dispatcher(engine, transport, renderer(templates_dir(settings)), clock=clock,
                                sender=settings.mail_from, worker=outbox.worker_name(),
                                policy=Policy(batch=settings.outbox_batch,
                                              lease=timedelta(seconds=settings.outbox_lease_seconds)),
                                concurrency=settings.smtp_connections, fallback=fallback,
                                probe_every=settings.smtp_probe_seconds,
                                return_path=outbox.return_paths(settings))
        try:
            await check_schema(engine)
            return await outbox.run_until_stopped(
                dispatcher, stop, once=once, idle=settings.outbox_tick_seconds,
                presence_ttl=timedelta(seconds=settings.scheduler_lease_seconds),
                renew=timedelta(seconds=settings.scheduler_renew_seconds),
                grace=settings.shutdown_grace_seconds,
                woken_by=wakeup.WakeWatch(queuing.wake_file(settings.var_dir)))
        finally:
            if watch is not None:
                watch.cancel()
            await outbox.close(transport)
            await outbox.close(fallback)
            await engine.dispose()

    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            handled = runner.run(main())
    except KeyboardInterrupt:
        return
    except (DomainError, SchemaOutOfDate) as exc:
        raise Failure(str(exc)) from None
    if parent is None:
        out().print(f"{handled} deliveries handled")


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (it comes with the web server): sending is
    mostly socket writes and callbacks, which it runs in C; else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
