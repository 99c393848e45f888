"""`breach bounces listen` and `breach bounces poll`: bounces received by SMTP or read from
an IMAP mailbox (`breach serve` does either too, when BREACH_BOUNCE_LISTEN or
BREACH_BOUNCE_IMAP_URL is set)."""

from __future__ import annotations

import click

from incident.kernel.console import Failure, Runtime, out, pass_runtime

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2525


@click.group("bounces")
def bounces_group() -> None:
    """Bounces: the SMTP listener and the IMAP poller (BREACH_BOUNCE_ADDRESS must be set)."""


def _bounce_address(runtime: Runtime) -> str:
    address = runtime.settings.bounce_address
    if not address:
        raise Failure("BREACH_BOUNCE_ADDRESS is not set: deliveries carry no return path of "
                      "their own, so no bounce can be matched (set it, e.g. "
                      "bounces@example.com)")
    return address


@bounces_group.command("listen")
@click.option("--host", default=None,
              help=f"the address to listen on (default: BREACH_BOUNCE_LISTEN's, else {DEFAULT_HOST})")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help=f"the port (default: BREACH_BOUNCE_LISTEN's, else {DEFAULT_PORT})")
@pass_runtime
def bounces_listen(runtime: Runtime, host: str | None, port: int | None) -> None:
    """Receive bounces over SMTP until Ctrl-C or SIGTERM.

    Only the return paths of our deliveries are accepted as recipients; each bounce is
    applied to its delivery (hard: bounced; soft: tried again) and kept as evidence.
    """
    import asyncio
    import signal

    from incident.kernel.db import SchemaOutOfDate, check_schema, create_engine
    from incident.kernel.logs import configure_logging
    from notifications.bounces.listener import BounceHandler, parse_listen, start, stop

    settings, clock = runtime.settings, runtime.clock
    address = _bounce_address(runtime)
    configured = parse_listen(settings.bounce_listen) if settings.bounce_listen else (
        DEFAULT_HOST, DEFAULT_PORT)
    where = (host or configured[0], port or configured[1])
    configure_logging(settings.log_level)

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stopping.set)
        engine = create_engine(settings.effective_database_url)
        try:
            await check_schema(engine)
            handler = BounceHandler(engine, bounce_address=address,
                                    secret=settings.secret_key, clock=clock)
            server = await start(handler, where[0], where[1])
            out().print(f"listening for bounces on {where[0]}:{where[1]} (Ctrl-C stops)")
            out().file.flush()
            try:
                await stopping.wait()
            finally:
                await stop(server, settings.shutdown_grace_seconds)
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return
    except SchemaOutOfDate as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"cannot listen on {where[0]}:{where[1]}: {exc.strerror or exc}") from None


@bounces_group.command("poll")
@click.option("--once", is_flag=True, help="read the mailbox once and stop")
@pass_runtime
def bounces_poll(runtime: Runtime, once: bool) -> None:
    """Read bounces from the mailbox BREACH_BOUNCE_IMAP_URL names, every
    BREACH_BOUNCE_IMAP_SECONDS until Ctrl-C or SIGTERM (or once).

    Each unseen message is recorded, then marked seen; one that could not be recorded
    stays unseen and is read again next time.
    """
    import asyncio
    import contextlib
    import logging
    import signal

    from incident.kernel.db import SchemaOutOfDate, check_schema, create_engine
    from incident.kernel.logs import configure_logging
    from notifications.bounces.imap import MailboxError, Polled, parse_imap_url, poll_once

    settings, clock = runtime.settings, runtime.clock
    address = _bounce_address(runtime)
    if not settings.bounce_imap_url:
        raise Failure("BREACH_BOUNCE_IMAP_URL is not set (imaps://user:password@host/INBOX)")
    try:
        mailbox = parse_imap_url(settings.bounce_imap_url)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    if not once:
        configure_logging(settings.log_level)

    async def main() -> Polled:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM) if not once else ():
            loop.add_signal_handler(number, stopping.set)
        engine = create_engine(settings.effective_database_url)
        total = Polled()
        try:
            await check_schema(engine)
            while True:
                try:
                    polled = await poll_once(engine, mailbox, bounce_address=address,
                                             secret=settings.secret_key, clock=clock)
                except MailboxError:
                    if once:
                        raise
                    logging.getLogger("breachdesk.bounces").warning(
                        "reading the bounce mailbox failed; trying again in %s s",
                        settings.bounce_imap_seconds, exc_info=True)
                    polled = Polled()
                total.read += polled.read
                total.outcomes.update(polled.outcomes)
                total.left = polled.left
                if once or stopping.is_set():
                    return total
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), settings.bounce_imap_seconds)
                if stopping.is_set():
                    return total
        finally:
            await engine.dispose()

    try:
        total = asyncio.run(main())
    except KeyboardInterrupt:
        return
    except (SchemaOutOfDate, MailboxError) as exc:
        raise Failure(str(exc)) from None
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(total.outcomes.items()))
    out().print(f"{total.read} messages read" + (f": {outcomes}" if outcomes else "")
                + (f"; {total.left} left for the next poll" if total.left else ""))
