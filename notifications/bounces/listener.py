"""The bounce listener: an SMTP server (aiosmtpd) that bounces are delivered to.

Point the MX (or a transport rule) of the bounce address's domain at it, or have the
relay forward `bounces+*@…` to it. It accepts a recipient only when it is a return path
of ours (`tokens.delivery_of`: our bounce address, tagged with a delivery and its MAC
under our key); any other gets `550`, so it is no open mailbox. A message larger than
DATA_LIMIT is refused (`552`, by aiosmtpd). Each message accepted goes to
`service.record_bounce` with its envelope recipients; whatever it held, the sender gets
`250` (a forged or unreadable bounce is dealt with there, not argued over SMTP), except
when it could not be recorded at all (the database unavailable): then `451`, and the
sending server tries again later.

It runs in the caller's event loop (`start`), beside the web service under `breach
serve` when BREACH_BOUNCE_LISTEN is set, or alone: `breach bounces listen`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import Clock
from notifications.bounces.models import DATA_LIMIT
from notifications.bounces.service import record_bounce
from notifications.delivery.return_paths import delivery_of

__all__ = ["BounceHandler", "parse_listen", "start", "stop"]

log = logging.getLogger("breachdesk.bounces")

RECIPIENTS_LIMIT = 100
"""The most recipients of one message (a bounce has one; more is someone else's mail)."""


class BounceHandler:
    """aiosmtpd's handler: RCPT only for our return paths, DATA recorded as a bounce."""

    def __init__(self, engine: AsyncEngine, *, bounce_address: str, secret: str,
                 clock: Clock) -> None:
        self.engine = engine
        self.bounce_address = bounce_address
        self.secret = secret
        self.clock = clock

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if delivery_of(address, bounce_address=self.bounce_address, secret=self.secret) is None:
            return "550 5.1.1 not a return path of this service"
        if len(envelope.rcpt_tos) >= RECIPIENTS_LIMIT:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        recorded = await record_bounce(
            self.engine, envelope.original_content or b"", recipients=envelope.rcpt_tos,
            source="smtp", bounce_address=self.bounce_address, secret=self.secret,
            clock=self.clock)
        if recorded.outcome == "error":
            return "451 4.3.0 the bounce could not be recorded; try again later"
        return "250 2.0.0 OK"


def parse_listen(value: str) -> tuple[str, int]:
    """("host", port) from "host:port" (BREACH_BOUNCE_LISTEN); "[::1]:25" for IPv6."""
    host, colon, port = value.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port, such as 127.0.0.1:2525")
    return host.strip("[]"), int(port)


async def start(handler: BounceHandler, host: str, port: int) -> asyncio.Server:
    """Listen on host:port in the running event loop; close the returned server to stop."""
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(handler, hostname="breachdesk", data_size_limit=DATA_LIMIT,
                    decode_data=False, ident="Breachdesk bounce listener")

    # Several `breach serve` processes on one machine may share the port (the database
    # decides what each bounce changes).
    server = await loop.create_server(protocol, host=host, port=port,
                                      reuse_port=hasattr(socket, "SO_REUSEPORT"))
    log.info("listening for bounces on %s:%s", host, port)
    return server


async def stop(server: asyncio.Server, within: float = 3.0) -> None:
    """Stop accepting connections; those in progress get `within` seconds to finish."""
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), within)
    except TimeoutError:
        log.warning("bounce connections still open after %s s were dropped", within)
