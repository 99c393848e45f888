"""The SMTP edge: sending one message over a pool of persistent connections.

`SmtpPool.send` delivers one message (built by `message.build_message`) to one
recipient and says what became of it as an `outcomes.Outcome`: sent, retry later,
failed for good, or in doubt (the connection died after the end of the message was
handed to the network and before the server answered: the server may have accepted
it). aiosmtplib's `sendmail` reports both kinds of lost connection alike, so the pool
drives MAIL, RCPT and DATA itself and watches the transport's write buffer to know
whether the final "." left this process. `pool_from_url` builds a pool from
BREACH_SMTP_URL.

When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write
and their replies are read in order, then the message: two round trips instead of
four. Every reply means what it means without pipelining (the same Outcome, stage
included); the replies to the commands after a refused one are read before the
connection is reset and used again. aiosmtplib still connects, secures and
authenticates; it reads one reply per write, so the pool reads the replies of a
pipelined transaction itself.

What a reply means lives in `outcomes.py`, the pace in `rate_limit.py`: this module
owns connections, the SMTP transaction and the URL that configures them.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, cast
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPReadTimeoutError,
    SMTPRecipientRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from aiosmtplib.protocol import MAX_LINE_LENGTH, MAX_RESPONSE_LENGTH, SMTPProtocol

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

    Between `capture` and `release` (a pipelined transaction) it keeps what the server
    sends and parses the replies itself, as aiosmtplib would, one after the other:
    aiosmtplib's protocol parses one reply per read and drops what arrives while no
    command waits, and a pipelining server sends several replies at once.
    """

    def __init__(self, inner: SMTPProtocol) -> None:
        self.inner = inner
        self.unsent = False
        self._capturing = False
        self._buffer = bytearray()
        self._replies: deque[SMTPResponse] = deque()
        self._error: SMTPException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        if not self._capturing:
            self.inner.data_received(data)
            return
        if self._error is not None:
            return
        self._buffer += data
        try:
            while (reply := self._parse()) is not None:
                self._replies.append(reply)
        except SMTPResponseException as exc:
            self._error = exc
        self._wake()

    def eof_received(self) -> bool:
        self._fail(SMTPServerDisconnected("Unexpected EOF received"))
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(SMTPServerDisconnected("Connection lost"))
        self.inner.connection_lost(exc)

    def capture(self) -> None:
        """Keep and parse the replies from now on (nothing can be waiting for aiosmtplib)."""
        self._capturing, self._error = True, None
        self._buffer.clear()
        self._replies.clear()

    def release(self) -> bool:
        """Hand the connection back to aiosmtplib: True when the server sent nothing more
        than the replies read (else the conversation is out of step)."""
        in_step = not self._buffer and not self._replies
        self._capturing = False
        self._buffer.clear()
        self._replies.clear()
        return in_step

    async def reply(self, wait: float) -> SMTPResponse:
        """The next reply (in order), waiting at most `wait` seconds for it; the errors
        aiosmtplib raises when there is none."""
        if not self._replies and self._error is None:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(wait, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self._replies:
            return self._replies.popleft()
        assert self._error is not None
        raise self._error

    def _parse(self) -> SMTPResponse | None:
        """One complete reply off the front of the buffer, as aiosmtplib parses it."""
        buffer, offset, text = self._buffer, 0, bytearray()
        while (end := buffer.find(b"\n", offset)) != -1:
            line = bytes(buffer[offset:end + 1])
            if len(line) > MAX_LINE_LENGTH:
                raise SMTPResponseException(-1, "Response too long")
            try:
                code = int(line[:3])
            except ValueError:
                raise SMTPResponseException(
                    -1, f"Malformed SMTP response line: {line.decode('utf-8', errors='ignore')}") from None
            offset += len(line)
            if text:
                text += b"\n"
            text += line[4:].strip(b" \t\r\n")
            if line[3:4] != b"-":
                del buffer[:offset]
                return SMTPResponse(code, text.decode("utf-8", "surrogateescape"))
        if len(buffer) > MAX_RESPONSE_LENGTH:
            raise SMTPResponseException(-1, "Response too long")
        return None

    def _fail(self, error: SMTPException) -> None:
        if self._capturing and self._error is None:
            self._error = error
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done() and (self._replies or self._error):
            self._waiter.set_result(None)

    def pause_writing(self) -> None:
        self.unsent = True
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.unsent = False
        self.inner.resume_writing()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(SMTPReadTimeoutError("Timed out waiting for server response"))


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


@functools.lru_cache(maxsize=32)
def _envelope_sender(sender: str) -> str:
    """The address in `sender` (a ValueError when there is none); the same few senders
    come back for every message, so each is parsed once."""
    return parse_mailbox(sender, what="sender")[1]


def _payload(message: bytes) -> tuple[bytes, int]:
    """The message as DATA sends it (CRLF line ends, dots stuffed, the final ".") and
    its size before stuffing. Messages from `build_message` need neither rewrite, and
    looking is cheaper than rewriting."""
    crlf = message.count(b"\r\n")
    wire = message if crlf == message.count(b"\n") == message.count(b"\r") else (
        _WIRE_LINE_BREAK.sub(b"\r\n", message))
    if not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    if wire.startswith(b".") or b"\n." in wire:
        return _DOT_LINE.sub(b"..", wire) + b".\r\n", len(wire)
    return wire + b".\r\n", len(wire)


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
        envelope_from = _envelope_sender(sender)
        try:
            envelope_to = normalise_address(recipient, what="recipient address")
        except ValueError as exc:
            return without_reply(Status.FAILED, str(exc), "rcpt")
        payload, size = _payload(message)
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
        if smtp.supports_extension("pipelining"):
            return await self._pipelined(connection, sender, recipient, payload, options)
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
            return _unanswered(exc, sent=written and not watch.unsent)
        if reply.code == 421:
            connection.discard()
        return from_reply(reply.code, reply.message, "message")

    async def _pipelined_reply(self, connection: _Connection, watch: _WriteWatch,
                               stage: Stage) -> SMTPResponse | Outcome:
        """The next reply of a pipelined transaction, or RETRY at `stage` when none came (the
        connection is dropped: the replies still owed cannot be matched any more)."""
        try:
            return await watch.reply(self.timeout)
        except (*_TRANSPORT_ERRORS, SMTPResponseException) as exc:
            connection.discard()
            return without_reply(Status.RETRY, exc, stage)

    async def _pipelined(self, connection: _Connection, sender: str, recipient: str,
                         payload: bytes, options: list[str]) -> Outcome:
        """The transaction with PIPELINING: MAIL, RCPT and DATA in one write, their replies
        read in order, then the message; each reply decides as in `_transaction`."""
        smtp, watch = connection.smtp, connection.watch
        assert smtp is not None and watch is not None
        protocol = smtp.protocol
        # Both addresses are plain ASCII addr-specs (normalise_address): quoted as aiosmtplib would.
        commands = f"MAIL FROM:<{sender}>{''.join(' ' + option for option in options)}\r\n" \
                   f"RCPT TO:<{recipient}>\r\nDATA\r\n"
        watch.capture()
        try:
            try:
                if protocol is None:
                    raise SMTPServerDisconnected("Server not connected")
                # No await between writing and reading: the replies are kept from `capture` on.
                protocol.write(commands.encode("ascii"))
                mail = await watch.reply(self.timeout)
            except _TRANSPORT_ERRORS as exc:
                raise _Lost(without_reply(Status.RETRY, exc, "mail")) from exc
            except SMTPResponseException as exc:
                connection.discard()
                return without_reply(Status.RETRY, exc, "mail")
            if mail.code == 421:  # the server is closing this connection
                connection.discard()
                raise _Lost(from_reply(mail.code, mail.message, "mail"))
            if mail.code != 250:
                return await self._refused_in_pipeline(connection, mail, "mail", pending=2)
            rcpt = await self._pipelined_reply(connection, watch, "rcpt")
            if isinstance(rcpt, Outcome):
                return rcpt
            if rcpt.code not in (250, 251):
                return await self._refused_in_pipeline(connection, rcpt, "rcpt", pending=1)
            start = await self._pipelined_reply(connection, watch, "data")
            if isinstance(start, Outcome):
                return start
            if start.code != 354:
                return await self._refused_in_pipeline(connection, start, "data", pending=0)
            written = False
            try:
                if protocol is None:
                    raise SMTPServerDisconnected("Connection lost")
                protocol.write(payload)
                written = True
                reply = await watch.reply(self.timeout)
            except (*_TRANSPORT_ERRORS, SMTPResponseException) as exc:
                connection.discard()  # from here on no unsent byte can still leave
                return _unanswered(exc, sent=written and not watch.unsent)
            if reply.code == 421:
                connection.discard()
            return from_reply(reply.code, reply.message, "message")
        finally:
            if not watch.release():
                connection.discard()  # more replies than commands: out of step, start afresh

    async def _refused_in_pipeline(self, connection: _Connection, refusal: SMTPResponse, stage: Stage,
                                   pending: int) -> Outcome:
        """A refusal inside a pipelined transaction: read the replies to the `pending`
        commands sent after the refused one, then reset as `_refused` does. The Outcome is
        the refusal's, whatever comes after it."""
        watch = connection.watch
        assert watch is not None
        if refusal.code == 421:  # the server is closing this connection
            connection.discard()
            return from_reply(refusal.code, refusal.message, stage)
        try:
            for _ in range(pending):
                if (await watch.reply(self.timeout)).code in (354, 421):
                    # 354: the server took DATA without a recipient accepted and now reads a
                    # message. Ending it with "." could deliver an empty message and sending
                    # anything else would be read as its text: the connection is dropped
                    # unfinished instead, which servers treat as no message at all.
                    connection.discard()
                    break
        except (*_TRANSPORT_ERRORS, SMTPResponseException):
            connection.discard()
        smtp = connection.smtp
        if smtp is not None and smtp.is_connected and smtp.protocol is not None:
            try:
                smtp.protocol.write(b"RSET\r\n")
                if (await watch.reply(self.timeout)).code != 250:
                    connection.discard()
            except (SMTPException, OSError):
                connection.discard()
        return from_reply(refusal.code, refusal.message, stage)

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


def _unanswered(error: BaseException, *, sent: bool) -> Outcome:
    """No reply to the end of the message: in doubt once every byte of it went to the
    operating system (the server may have it), else to be retried."""
    if not sent:
        return without_reply(Status.RETRY, "connection lost before the end of the message was "
                             f"sent ({type(error).__name__}: {error})", "message")
    return without_reply(Status.IN_DOUBT, "no reply after the end of the message was sent "
                         f"({type(error).__name__}: {error})", "message")


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

