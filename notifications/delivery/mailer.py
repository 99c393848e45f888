"""The SMTP edge: sending one message over a pool of persistent connections.

`SmtpPool.send` delivers one message (built by `message.build_message`) to one
recipient and says what became of it as an `outcomes.Outcome`: sent, retry later,
failed for good, or in doubt (the connection died after the end of the message was
handed to the network and before the server answered: the server may have accepted
it). aiosmtplib's `sendmail` reports both kinds of lost connection alike, so the pool
drives MAIL, RCPT and DATA itself and watches the transport's write buffer to know
whether the final "." left this process. `pool_from_url` builds a pool from
BREACH_SMTP_URL.

What a reply means lives in `outcomes.py`, the pace in `rate_limit.py`: this module
owns connections, the SMTP transaction and the URL that configures them.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, cast
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from aiosmtplib.protocol import SMTPProtocol

from notifications.delivery.message import normalise_address, parse_mailbox
from notifications.delivery.outcomes import Outcome, Stage, Status, from_reply, retry_hint, without_reply
from notifications.delivery.rate_limit import RateLimiter

log = logging.getLogger(__name__)


class Tls(enum.StrEnum):
    """How the connection is secured: implicit TLS, STARTTLS when offered or always, none."""

    SMTPS = "smtps"
    STARTTLS = "auto"
    REQUIRE_STARTTLS = "require"
    NONE = "never"


class _WriteWatch(asyncio.Protocol):
    """Stands between the transport and aiosmtplib's protocol, forwarding everything.

    With the transport's high-water mark at one byte, `pause_writing` means bytes wait
    in this process and `resume_writing` means every byte went to the operating
    system, so `unsent` tells whether the end of a message can have reached the server.
    """

    def __init__(self, inner: SMTPProtocol) -> None:
        self.inner = inner
        self.unsent = False

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.unsent = True
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.unsent = False
        self.inner.resume_writing()


class _Lost(Exception):
    """The connection died (or was being closed by the server) before MAIL FROM was accepted.

    On a pooled connection that is most likely an idle timeout, so the message is tried
    once more on a new connection; `outcome` is the answer when that is not possible.
    """

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reply)
        self.outcome = outcome


PROBE_TIMEOUT = 10.0
"""Seconds a probe waits for each step (a relay that does not answer is not back)."""
_DOT_LINE = re.compile(rb"(?m)^\.")
_WIRE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_TRANSPORT_ERRORS = (SMTPServerDisconnected, SMTPTimeoutError, ConnectionError)


class _Connection:
    """One aiosmtplib connection, opened on demand and replaced when it breaks."""

    def __init__(self) -> None:
        self.smtp: aiosmtplib.SMTP | None = None
        self.watch: _WriteWatch | None = None

    @property
    def connected(self) -> bool:
        return self.smtp is not None and self.smtp.is_connected

    def discard(self) -> None:
        """Drop the connection at once; bytes not yet written are thrown away, never sent."""
        if self.smtp is not None:
            if self.smtp.transport is not None:
                cast(asyncio.WriteTransport, self.smtp.transport).abort()
            self.smtp.close()
        self.smtp, self.watch = None, None


class SmtpPool:
    """Up to `size` persistent connections to one SMTP server, one message per recipient.

    `send` waits for a free connection (so at most `size` messages are in flight),
    and for the rate limiter when `rate` (messages per second) is set. Connections are
    opened when needed and replaced when they break; a pooled connection found dead
    before anything was accepted is replaced and the message sent on the new one.
    """

    def __init__(self, host: str, port: int, *, tls: Tls = Tls.STARTTLS, username: str | None = None,
                 password: str | None = None, size: int = 4, timeout: float = 30.0,
                 rate: float | None = None, burst: int = 1, tls_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if size < 1:
            raise ValueError("the pool needs at least one connection")
        if password is not None and username is None:
            raise ValueError("a password needs a user name")
        self.host, self.port, self.tls, self.size, self.timeout = host, port, tls, size, timeout
        self.username = username
        self.__password = password
        self._tls_context = tls_context
        self._local_hostname = local_hostname
        self._limiter = None if rate is None else RateLimiter(rate, burst=burst, clock=clock, sleep=sleep)
        self._slots = asyncio.Semaphore(size)
        self._idle = [_Connection() for _ in range(size)]
        self._closed = False

    def __repr__(self) -> str:
        scheme = "smtps" if self.tls is Tls.SMTPS else "smtp"
        user = f"{self.username}:***@" if self.__password is not None else (
            f"{self.username}@" if self.username else "")
        return f"SmtpPool({scheme}://{user}{self.host}:{self.port}, tls={self.tls.value}, size={self.size})"

    async def __aenter__(self) -> SmtpPool:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Deliver `message` to `recipient` with `sender` as the envelope sender.

        Never raises for what the server or the network does: every result is an
        Outcome. An invalid recipient address is FAILED without contacting the server.
        """
        if self._closed:
            raise RuntimeError("the SMTP pool is closed")
        _, envelope_from = parse_mailbox(sender, what="sender")
        try:
            envelope_to = normalise_address(recipient, what="recipient address")
        except ValueError as exc:
            return without_reply(Status.FAILED, str(exc), "rcpt")
        wire = _WIRE_LINE_BREAK.sub(b"\r\n", message)
        if not wire.endswith(b"\r\n"):
            wire += b"\r\n"
        size = len(wire)
        payload = _DOT_LINE.sub(b"..", wire) + b".\r\n"
        if self._limiter is not None:
            await self._limiter.acquire()
        async with self._slots:
            connection = self._idle.pop()
            try:
                return await self._deliver(connection, envelope_from, envelope_to, payload, size)
            finally:
                self._idle.append(connection)

    async def close(self) -> None:
        """Wait for messages in flight, then say QUIT on every connection (all at once,
        each given at most two seconds)."""
        if self._closed:
            return
        self._closed = True
        for _ in range(self.size):
            await self._slots.acquire()

        async def quit_(connection: _Connection) -> None:
            if connection.connected and connection.smtp is not None:
                with contextlib.suppress(SMTPException, OSError):
                    await connection.smtp.quit(timeout=min(self.timeout, 2.0))
            connection.discard()

        await asyncio.gather(*(quit_(connection) for connection in self._idle))

    async def probe(self) -> Outcome | None:
        """Can the server be reached? Connect, secure and authenticate on a connection of
        its own, then QUIT: None when that worked, else why not (an Outcome, as `send`
        says it). Sends nothing."""
        connection = _Connection()
        failure = await self._open(connection, wait=min(self.timeout, PROBE_TIMEOUT))
        if failure is None and connection.smtp is not None:
            with contextlib.suppress(SMTPException, OSError):
                await connection.smtp.quit(timeout=min(self.timeout, 2.0))
        connection.discard()
        return failure

    async def _deliver(self, connection: _Connection, sender: str, recipient: str,
                       payload: bytes, size: int) -> Outcome:
        reused = connection.connected
        if not reused:
            failure = await self._open(connection)
            if failure is not None:
                return failure
        clean = False
        try:
            try:
                outcome = await self._transaction(connection, sender, recipient, payload, size)
            except _Lost as lost:
                if not reused:
                    return lost.outcome
                log.info("pooled connection to %s:%s was closed (%s); reconnecting",
                         self.host, self.port, lost.outcome.reply)
                failure = await self._open(connection)
                if failure is not None:
                    return failure
                try:
                    outcome = await self._transaction(connection, sender, recipient, payload, size)
                except _Lost as again:
                    return again.outcome
            clean = True
            return outcome
        finally:
            if not clean:
                connection.discard()

    async def _open(self, connection: _Connection, wait: float | None = None) -> Outcome | None:
        """Connect, secure and authenticate (each step within `wait` seconds, else the pool's
        timeout); an Outcome (always RETRY) when that fails."""
        connection.discard()
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        smtp = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, username=self.username, password=self.__password,
            local_hostname=self._local_hostname, timeout=wait or self.timeout,
            tls_context=self._tls_context,
            use_tls=self.tls is Tls.SMTPS,
            start_tls={Tls.STARTTLS: None, Tls.REQUIRE_STARTTLS: True}.get(self.tls, False))
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
        except SMTPResponseException as exc:
            # Even a 5xx here is about the server or the account, not this message.
            smtp.close()
            return Outcome(Status.RETRY, exc.code, exc.message, "connect", retry_hint(exc.message))
        except (SMTPException, OSError) as exc:
            smtp.close()
            return without_reply(Status.RETRY, exc, "connect")
        transport, protocol = smtp.transport, smtp.protocol
        assert transport is not None and protocol is not None
        watch = _WriteWatch(protocol)
        transport.set_protocol(watch)
        cast(asyncio.WriteTransport, transport).set_write_buffer_limits(high=1, low=0)
        connection.smtp, connection.watch = smtp, watch
        log.debug("connected to %s:%s", self.host, self.port)
        return None

    async def _transaction(self, connection: _Connection, sender: str, recipient: str,
                           payload: bytes, size: int) -> Outcome:
        smtp, watch = connection.smtp, connection.watch
        assert smtp is not None and watch is not None
        options = [f"SIZE={size}"] if smtp.supports_extension("size") else []
        if not payload.isascii() and smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            await smtp.mail(sender, options=options)
        except SMTPSenderRefused as exc:
            if exc.code == 421:  # the server is closing this connection
                raise _Lost(from_reply(exc.code, exc.message, "mail")) from exc
            return await self._refused(connection, exc.code, exc.message, "mail")
        except _TRANSPORT_ERRORS as exc:
            raise _Lost(without_reply(Status.RETRY, exc, "mail")) from exc
        except SMTPResponseException as exc:
            connection.discard()
            return without_reply(Status.RETRY, exc, "mail")
        stage: Stage = "rcpt"
        try:
            await smtp.rcpt(recipient)
            stage = "data"
            start = await smtp.execute_command(b"DATA")
        except SMTPRecipientRefused as exc:
            return await self._refused(connection, exc.code, exc.message, "rcpt")
        except (*_TRANSPORT_ERRORS, SMTPResponseException) as exc:
            connection.discard()
            return without_reply(Status.RETRY, exc, stage)
        if start.code != 354:
            return await self._refused(connection, start.code, start.message, "data")
        protocol, written = smtp.protocol, False
        try:
            if protocol is None:
                raise SMTPServerDisconnected("Connection lost")
            # No await between writing and reading: the reply must find a reader waiting.
            protocol.write(payload)
            written = True
            reply = await protocol.read_response(timeout=self.timeout)
        except (*_TRANSPORT_ERRORS, SMTPResponseException) as exc:
            connection.discard()  # from here on no unsent byte can still leave
            if not written or watch.unsent:
                return without_reply(Status.RETRY, "connection lost before the end of the message was "
                                     f"sent ({type(exc).__name__}: {exc})", "message")
            return without_reply(Status.IN_DOUBT, "no reply after the end of the message was sent "
                                 f"({type(exc).__name__}: {exc})", "message")
        if reply.code == 421:
            connection.discard()
        return from_reply(reply.code, reply.message, "message")

    async def _refused(self, connection: _Connection, code: int, text: str, stage: Stage) -> Outcome:
        """A refusal inside the transaction: reset the envelope so the connection can be reused."""
        smtp = connection.smtp
        if smtp is not None and smtp.is_connected:
            try:
                reset = await smtp.rset()
                if reset.code != 250:
                    connection.discard()
            except (SMTPException, OSError):
                connection.discard()
        return from_reply(code, text, stage)


# --------------------------------------------------------------------------- configuration

_SCHEMES: Final = {"smtp": 25, "smtps": 465}
_STARTTLS_MODES: Final = {"auto": Tls.STARTTLS, "require": Tls.REQUIRE_STARTTLS, "never": Tls.NONE}


def pool_from_url(url: str, *, size: int = 4, timeout: float = 30.0, rate: float | None = None,
                  burst: int = 1, tls_context: ssl.SSLContext | None = None,
                  local_hostname: str | None = None, clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> SmtpPool:
    """An SmtpPool for `smtp://[user[:password]@]host[:port][?starttls=auto|require|never]`
    or `smtps://[user[:password]@]host[:port]` (implicit TLS).

    smtp:// upgrades with STARTTLS when the server offers it unless told otherwise;
    ports default to 25 and 465. User and password are percent-decoded. Error messages
    never repeat the URL, which may hold a password.
    """
    try:
        parts = urlsplit(url.strip())
        port_given = parts.port
    except ValueError:
        # The parser's own message may quote part of a password: say what to check instead.
        raise ValueError("SMTP URL: malformed (is the port a number? are / @ : in the user name "
                         "or password percent-encoded?)") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"SMTP URL: unsupported scheme {scheme or '(none)'!r}; use smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP URL: no host name")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL: a path or fragment has no meaning here")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ValueError(f"SMTP URL: unknown option {unknown[0]!r} (known: starttls)")
    tls = Tls.SMTPS if scheme == "smtps" else Tls.STARTTLS
    if "starttls" in query:
        if scheme == "smtps":
            raise ValueError("SMTP URL: smtps:// is TLS from the start; starttls does not apply")
        mode = query["starttls"][-1].lower()
        if mode not in _STARTTLS_MODES:
            raise ValueError(f"SMTP URL: starttls must be auto, require or never, not {mode!r}")
        tls = _STARTTLS_MODES[mode]
    if port_given == 0:
        raise ValueError("SMTP URL: port 0 is not a port")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpPool(parts.hostname, port_given or _SCHEMES[scheme], tls=tls, username=username,
                    password=password, size=size, timeout=timeout, rate=rate, burst=burst,
                    tls_context=tls_context, local_hostname=local_hostname, clock=clock, sleep=sleep)

