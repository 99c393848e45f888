"""A real SMTP server on loopback for tests: aiosmtpd in its own thread, with faults on demand.

It keeps every message it accepts (envelope, raw bytes, Message-ID, which connection
brought it, TLS, login) and, per test and per recipient, can answer 4xx or 5xx at the
greeting, MAIL, RCPT or the end of DATA (always, or for the first K attempts); drop the
connection at the DATA command, after the first line of the message, or after the
whole message (kept, but never acknowledged: the sender is in doubt); wait a little
before answering the end of DATA; close every connection as an idle timeout would; or
stop listening altogether (`stop()`, then `start()` on the same port). It counts the
connections clients open and the most transactions in progress at once.

    def test_x(smtp_server: SmtpServer) -> None:
        smtp_server.faults.reply("rcpt", "451 4.7.1 try again in 120 seconds", to="a@x.test", times=1)
        ...  # connect to smtp_server.host, smtp_server.port from this or any other process

The fixtures `smtp_server` and `tls_certificate` are defined here and offered to every test
by tests/conftest.py (under other function names, so the import does not clash with the test
arguments that use them). A test waits for what a sending process delivers with
`await smtp_server.received_while_running(count, process)`, not with a sleep.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Awaitable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
ReplyStage = Literal["connect", "mail", "rcpt", "data"]
DropStage = Literal["before_data", "mid_data", "after_data"]
Tls = Literal["none", "starttls", "smtps"]


@dataclass(frozen=True)
class Received:
    """One message as the server got it; `acknowledged` is False when it dropped instead of answering."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message_id: str | None
    connection: int
    tls: bool
    login: str | None
    acknowledged: bool

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)


@dataclass
class _Rule:
    stage: str
    to: str | None
    reply: str | None  # None: drop the connection
    remaining: int | None


@dataclass
class Faults:
    """What the server does wrong, set from the test thread, read in the server's thread.

    Rules are tried in the order they were added; a rule with `to` applies only to
    messages for that recipient, one with `times` only to its first `times` uses.
    """

    delay: float = 0.0  # seconds to wait before answering the end of DATA
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, stage: ReplyStage, reply: str, *, to: str | None = None,
              times: int | None = None) -> None:
        """Answer `reply` (e.g. "451 4.7.1 try again in 120 seconds") at the greeting, MAIL, RCPT
        or the end of DATA. After a 421 the server closes the connection, as real ones do."""
        if not (reply[:3].isdigit() and reply[0] in "45"):
            raise ValueError("a fault reply starts with a 4xx or 5xx code")
        if stage in ("connect", "mail") and to is not None:
            raise ValueError("the greeting and MAIL come before any recipient")
        self._add(_Rule(stage, to, reply, times))

    def drop(self, stage: DropStage, *, to: str | None = None, times: int | None = None) -> None:
        """Close the connection at the DATA command, after one line of the message, or after all of it."""
        self._add(_Rule(stage, to, None, times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.delay = 0.0

    def _add(self, rule: _Rule) -> None:
        if rule.to is not None:
            rule.to = rule.to.lower()
        with self._lock:
            self._rules.append(rule)

    def take(self, stages: Iterable[str], recipients: Iterable[str]) -> _Rule | None:
        """The first live rule for one of `stages` and `recipients`, counting one use of it."""
        wanted, addresses = set(stages), {address.lower() for address in recipients}
        with self._lock:
            for rule in self._rules:
                if rule.stage in wanted and rule.remaining != 0 and (rule.to is None or rule.to in addresses):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path) -> Certificate:
    """Generate a certificate with the openssl command (a RuntimeError where it is missing)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return Certificate(cert, key)


def unused_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _quiet_handshake_failures(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A client that gives up on the TLS handshake is a test case here, not a server error."""
    if isinstance(context.get("exception"), ssl.SSLError | ConnectionError):
        return
    loop.default_exception_handler(context)


class _Handler:
    """aiosmtpd hooks: recipient faults, end-of-DATA faults, storage."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtpd: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        rule = self.server.faults.take(["rcpt"], [address])
        if rule is not None and rule.reply is not None:
            if rule.reply.startswith("421") and smtpd.transport is not None:
                smtpd.loop.call_soon(smtpd.transport.close)  # after the reply is written
            return rule.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, smtpd: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.faults.delay:
            await asyncio.sleep(self.server.faults.delay)
        rule = self.server.faults.take(["data", "after_data"], envelope.rcpt_tos)
        if rule is not None and rule.reply is not None:
            if rule.reply.startswith("421") and smtpd.transport is not None:
                smtpd.loop.call_soon(smtpd.transport.close)  # after the reply is written
            return rule.reply
        transport = smtpd.transport
        login = session.auth_data if isinstance(session.auth_data, str) else None
        number = self.server.store(
            envelope, tls=transport is not None and transport.get_extra_info("sslcontext") is not None,
            login=login, connection=getattr(smtpd, "number", 0), acknowledged=rule is None)
        if rule is not None and transport is not None:
            cast(asyncio.WriteTransport, transport).abort()
        return f"250 2.0.0 Ok: queued as {number}"


class _Smtpd(SMTP):
    """One server-side connection: counts itself and applies the connection-level faults."""

    def __init__(self, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.server = handler.server
        self.number = 0
        self.refused = False
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:
            rule = self.server.faults.take(["connect"], [])
            if rule is not None and rule.reply is not None:
                self.refused = True
                cast(asyncio.WriteTransport, transport).write(rule.reply.encode() + b"\r\n")
                transport.close()
                return
            self.number = self.server.opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.refused:
            return
        self.server.closed(self)
        super().connection_lost(error)

    async def smtp_MAIL(self, arg: str | None) -> None:
        rule = self.server.faults.take(["mail"], [])
        if rule is not None and rule.reply is not None:
            await self.push(rule.reply)
            if rule.reply.startswith("421") and self.transport is not None:
                self.transport.close()
            return
        await super().smtp_MAIL(arg)
        if self.envelope is not None and self.envelope.mail_from and not self.busy:
            self.busy = True
            self.server.transaction(+1)

    async def smtp_RSET(self, arg: str) -> None:
        await super().smtp_RSET(arg)
        self._idle()

    async def smtp_DATA(self, arg: str) -> None:
        recipients = list(self.envelope.rcpt_tos) if self.envelope is not None else []
        rule = self.server.faults.take(["before_data", "mid_data"], recipients) if recipients else None
        if rule is not None:
            if rule.stage == "mid_data":
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                await self._reader.readuntil(b"\r\n")
            self._abort()
            # Lines already buffered must not be read as commands: wait for connection_lost,
            # which cancels this task.
            await asyncio.Event().wait()
        try:
            await super().smtp_DATA(arg)
        finally:
            self._idle()

    def _idle(self) -> None:
        if self.busy:
            self.busy = False
            self.server.transaction(-1)

    def _abort(self) -> None:
        self._idle()
        if self.transport is not None:
            cast(asyncio.WriteTransport, self.transport).abort()


class _Controller(Controller):
    """aiosmtpd's threaded controller, listening on a socket bound beforehand."""

    def __init__(self, server: SmtpServer, sock: socket.socket, ssl_context: ssl.SSLContext | None,
                 **smtp_kwargs: Any) -> None:
        super().__init__(_Handler(server), hostname=HOST, port=sock.getsockname()[1],
                         ssl_context=ssl_context, server_hostname="smtp.test", **smtp_kwargs)
        self._sock = sock

    def factory(self) -> SMTP:
        return _Smtpd(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpServer:
    """The test server. `start()` listens on a free port (the same one again after `stop()`)."""

    def __init__(self, *, tls: Tls = "none", certificate: Certificate | None = None,
                 auth: tuple[str, str] | None = None) -> None:
        if tls != "none" and certificate is None:
            raise ValueError("TLS needs a certificate")
        self.host = HOST
        self.port = 0
        self.tls = tls
        self.faults = Faults()
        self._certificate = certificate
        self._auth = auth
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._messages: list[Received] = []
        self._open: set[_Smtpd] = set()
        self._connections = 0
        self._busy = 0
        self._max_busy = 0
        self._skip_first = False
        self._controller: _Controller | None = None

    # -- what tests read

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Connections opened by clients since the start or the last reset."""
        with self._lock:
            return self._connections

    @property
    def max_busy(self) -> int:
        """The most transactions (MAIL FROM to the end of DATA) in progress at once."""
        with self._lock:
            return self._max_busy

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "smtps" else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    def wait_for_messages(self, count: int, timeout: float,
                          give_up: threading.Event | None = None) -> bool:
        """Block until `count` messages have arrived (True), or `timeout` seconds pass or
        `give_up` is set (False)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._messages) >= count
                                   or (give_up is not None and give_up.is_set()), timeout)
            return len(self._messages) >= count

    async def received_while_running(self, count: int, process: asyncio.subprocess.Process,
                                     within: float = 60) -> None:
        """Wait until `count` messages have arrived, sent by `process`; fail as soon as the
        process exits before that, or after `within` seconds."""
        give_up = threading.Event()
        arrived = asyncio.ensure_future(
            asyncio.to_thread(self.wait_for_messages, count, within, give_up))
        exited = asyncio.ensure_future(process.wait())
        try:
            await asyncio.wait({arrived, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
            give_up.set()
            with self._arrived:
                self._arrived.notify_all()
        if await arrived:
            return
        assert process.returncode is None, (
            f"the process exited with {process.returncode} after {len(self.messages)} messages")
        raise AssertionError(f"{len(self.messages)} of {count} messages after {within} s")

    def reset(self) -> None:
        """Forget messages, counters and faults."""
        self.faults.clear()
        with self._lock:
            self._messages.clear()
            self._connections = 0
            self._max_busy = self._busy

    # -- control

    def start(self) -> None:
        if self._controller is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        kwargs: dict[str, Any] = {}
        context = self._certificate.server_context() if self._certificate is not None else None
        if self.tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self._auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls != "none")
        controller = _Controller(self, sock, context if self.tls == "smtps" else None, **kwargs)
        controller.loop.set_exception_handler(_quiet_handshake_failures)
        self._skip_first = True  # the controller's own probe connection
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close every connection and stop listening: new connections are refused."""
        controller = self._controller
        if controller is None:
            return
        self._controller = None
        asyncio.run_coroutine_threadsafe(self._abort_all(), controller.loop).result(timeout=5)
        controller.stop()

    def close_connections(self) -> None:
        """Drop every open connection, as a server does to clients idle too long."""
        if self._controller is not None:
            asyncio.run_coroutine_threadsafe(self._abort_all(), self._controller.loop).result(timeout=5)

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- called from the server's thread

    def opened(self, smtpd: _Smtpd) -> int:
        with self._lock:
            self._open.add(smtpd)
            if self._skip_first:
                self._skip_first = False
                return 0
            self._connections += 1
            return self._connections

    def closed(self, smtpd: _Smtpd) -> None:
        smtpd._idle()
        with self._lock:
            self._open.discard(smtpd)

    def transaction(self, change: int) -> None:
        with self._lock:
            self._busy += change
            self._max_busy = max(self._max_busy, self._busy)

    def store(self, envelope: Envelope, *, tls: bool, login: str | None, connection: int,
              acknowledged: bool) -> int:
        data = envelope.original_content or b""
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
        message_id = headers.get("Message-ID")
        received = Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), data,
                            str(message_id).strip() if message_id else None, connection, tls, login,
                            acknowledged)
        with self._lock:
            self._messages.append(received)
            self._arrived.notify_all()
            return len(self._messages)

    async def _abort_all(self) -> None:
        with self._lock:
            sessions = list(self._open)
        for smtpd in sessions:
            smtpd._abort()

    def _authenticate(self, smtpd: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert self._auth is not None
        user, password = self._auth
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no AUTH) for one test."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session", name="tls_certificate")
def tls_certificate_fixture(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1; the test is skipped without the openssl command."""
    try:
        return make_certificate(tmp_path_factory.mktemp("tls"))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no test certificate: {exc}")
