"""SMTP command pipelining (RFC 2920): fewer round trips, the same outcomes.

A small scripted server on loopback answers each command as told (or by default as
Postfix would) and records every read. Like Postfix, it answers everything one read
brought in one write, so pipelined replies arrive together. Each case runs against the
server with and without PIPELINING in its EHLO reply and expects the same Outcome:
RFC 2920 section 3.1 has the client check every reply of a group, in order; the first
refusal decides, as it does when the commands go one at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from notifications.delivery.mailer import SmtpPool
from notifications.delivery.outcomes import Outcome, Status
from tests.notifications.delivery.samples import SENDER, message

HOST = "127.0.0.1"
ENVELOPE = b"MAIL FROM:<breachdesk@breach.example> SIZE="
CLOSE = None
"""An answer that closes the connection without a reply."""
SILENCE = "(silence)"
"""An answer that is never given: the server keeps reading."""


@dataclass
class _Session:
    number: int
    reads: list[bytes] = field(default_factory=list)
    mail: bool = False
    recipients: int = 0
    data: bytearray | None = None  # the message being received, after 354


@dataclass
class Received:
    connection: int
    data: bytes
    acknowledged: bool


class ScriptedServer:
    """An SMTP server whose next answer to a command can be set (`answer`); otherwise it
    answers as Postfix does, 503/554 included for commands out of order."""

    def __init__(self, *, pipelining: bool) -> None:
        self.pipelining = pipelining
        self.sessions: list[_Session] = []
        self.messages: list[Received] = []
        self.commands: list[tuple[int, str]] = []
        self._answers: dict[str, deque[str | None]] = {}
        self._server: asyncio.Server | None = None
        self.port = 0

    def answer(self, command: str, *replies: str | None) -> None:
        """The next answers to `command` (MAIL, RCPT, DATA, or END for the end of the
        message): a reply (a 421 closes the connection after it), CLOSE or SILENCE."""
        self._answers.setdefault(command, deque()).extend(replies)

    @property
    def connections(self) -> int:
        return len(self.sessions)

    def transaction_reads(self, connection: int) -> list[bytes]:
        """What each read of one connection brought from the first MAIL to before QUIT:
        one read per round trip."""
        reads = self.sessions[connection - 1].reads
        start = next(i for i, chunk in enumerate(reads) if chunk.startswith(b"MAIL"))
        return [chunk for chunk in reads[start:] if chunk != b"QUIT\r\n"]

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(len(self.sessions) + 1)
        self.sessions.append(session)
        writer.write(b"220 scripted.test ESMTP\r\n")
        pending = b""
        try:
            while chunk := await reader.read(1 << 16):
                session.reads.append(chunk)
                pending += chunk
                out: list[bytes] = []
                close = False
                while not close and (end := pending.find(b"\r\n")) != -1:
                    line, pending = pending[:end], pending[end + 2:]
                    reply = self._line(session, line)
                    if reply is CLOSE:
                        close = True
                    elif reply != SILENCE and reply != "":
                        out.append(reply.encode() + b"\r\n")
                        close = reply.startswith(("421", "221"))
                writer.write(b"".join(out))  # every reply to one read in one write
                if close:
                    break
        finally:
            if session.data is not None and session.data:
                self.messages.append(Received(session.number, bytes(session.data), acknowledged=False))
            writer.close()

    def _line(self, session: _Session, line: bytes) -> str | None:
        if session.data is not None:
            if line != b".":
                session.data += (line[1:] if line.startswith(b".") else line) + b"\r\n"
                return ""
            reply = self._next("END", "250 2.0.0 Ok: queued")
            if reply is CLOSE or reply == SILENCE or reply.startswith("250"):  # the server has it
                self.messages.append(Received(session.number, bytes(session.data),
                                              acknowledged=reply not in (CLOSE, SILENCE)))
            session.data = None
            session.mail, session.recipients = False, 0
            return reply
        verb = line[:4].decode("ascii", "replace").upper()
        self.commands.append((session.number, verb))
        if verb == "EHLO":
            return "\r\n".join(["250-scripted.test", *(["250-PIPELINING"] if self.pipelining else []),
                                "250-SIZE 10240000", "250-8BITMIME", "250 ENHANCEDSTATUSCODES"])
        if verb == "MAIL":
            reply = self._next("MAIL", "250 2.1.0 Ok")
            session.mail = reply is not None and reply.startswith("250")
            return reply
        if verb == "RCPT":
            reply = self._next("RCPT", "250 2.1.5 Ok" if session.mail else
                               "503 5.5.1 Error: need MAIL command")
            session.recipients += reply is not None and reply.startswith("25")
            return reply
        if verb == "DATA":
            default = ("503 5.5.1 Error: need MAIL command" if not session.mail else
                       "554 5.5.1 Error: no valid recipients" if not session.recipients else
                       "354 End data with <CR><LF>.<CR><LF>")
            reply = self._next("DATA", default)
            if reply is not None and reply.startswith("354"):
                session.data = bytearray()
            return reply
        if verb == "RSET":
            session.mail, session.recipients = False, 0
            return "250 2.0.0 Ok"
        if verb == "QUIT":
            return "221 2.0.0 Bye"
        return "502 5.5.2 Error: command not recognized"

    def _next(self, command: str, default: str) -> str | None:
        answers = self._answers.get(command)
        return answers.popleft() if answers else default


@pytest.fixture(name="pipelining", params=[False, True], ids=["plain", "pipelining"])
def pipelining_fixture(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(name="server")
async def server_fixture(pipelining: bool) -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer(pipelining=pipelining) as server:
        yield server


def pool(server: ScriptedServer, **options: Any) -> SmtpPool:
    settings: dict[str, Any] = {"size": 1, "timeout": 5.0, "local_hostname": "client.test"} | options
    return SmtpPool(HOST, server.port, **settings)


async def test_pipelining_sends_mail_rcpt_and_data_in_one_write(server: ScriptedServer) -> None:
    raw = message()
    async with pool(server) as mailer:
        outcomes = [await mailer.send(SENDER, f"p{i}@example.com", raw) for i in range(3)]
    assert [o.status for o in outcomes] == [Status.SENT] * 3
    assert [m.data for m in server.messages] == [raw] * 3
    reads = server.transaction_reads(1)
    if server.pipelining:
        # The three commands in one read, then the message: two round trips per message.
        assert reads[0] == (ENVELOPE + str(len(raw)).encode() + b"\r\n"
                            b"RCPT TO:<p0@example.com>\r\nDATA\r\n")
        assert [chunk[:4] for chunk in reads] == [b"MAIL", raw[:4]] * 3
    else:  # four round trips
        assert [chunk[:4] for chunk in reads] == [b"MAIL", b"RCPT", b"DATA", raw[:4]] * 3
    assert server.connections == 1


REFUSALS = [
    ("MAIL", "553 5.7.1 <breachdesk@breach.example>: Sender address rejected",
     Outcome(Status.FAILED, 553, "5.7.1 <breachdesk@breach.example>: Sender address rejected", "mail")),
    ("MAIL", "450 4.7.1 Sender rate exceeded, try again in 60 seconds",
     Outcome(Status.RETRY, 450, "4.7.1 Sender rate exceeded, try again in 60 seconds", "mail", 60.0)),
    ("RCPT", "550 5.1.1 <anna@example.com>: Recipient address rejected: User unknown",
     Outcome(Status.FAILED, 550, "5.1.1 <anna@example.com>: Recipient address rejected: User unknown",
             "rcpt")),
    ("RCPT", "451 4.7.1 Greylisted, try again in 2 minutes",
     Outcome(Status.RETRY, 451, "4.7.1 Greylisted, try again in 2 minutes", "rcpt", 120.0)),
    ("RCPT", "530 5.7.0 Must issue a STARTTLS command first",  # about the session: retried
     Outcome(Status.RETRY, 530, "5.7.0 Must issue a STARTTLS command first", "rcpt")),
    ("DATA", "554 5.7.1 Transaction refused by policy",
     Outcome(Status.FAILED, 554, "5.7.1 Transaction refused by policy", "data")),
    ("DATA", "452 4.3.1 Insufficient system storage",
     Outcome(Status.RETRY, 452, "4.3.1 Insufficient system storage", "data")),
    ("END", "554 5.7.1 Message rejected: looks like spam",
     Outcome(Status.FAILED, 554, "5.7.1 Message rejected: looks like spam", "message")),
    ("END", "451 4.3.0 Try again in 30 seconds",
     Outcome(Status.RETRY, 451, "4.3.0 Try again in 30 seconds", "message", 30.0)),
]


@pytest.mark.parametrize(("command", "reply", "expected"), REFUSALS,
                         ids=[f"{c}-{r[:3]}" for c, r, _ in REFUSALS])
async def test_a_refusal_means_the_same_with_or_without_pipelining_and_the_connection_is_kept(
        server: ScriptedServer, command: str, reply: str, expected: Outcome) -> None:
    server.answer(command, reply)
    async with pool(server) as mailer:
        refused = await mailer.send(SENDER, "anna@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert refused == expected
    assert sent.status is Status.SENT
    assert [m.acknowledged for m in server.messages] == [True]
    # The replies to the commands after a refused one were read and the envelope reset
    # (RFC 5321 4.1.1.5): the next message went out on the same connection.
    assert server.connections == 1
    if command != "END":
        assert (1, "RSET") in server.commands


async def test_after_a_refused_sender_the_replies_to_rcpt_and_data_are_read_before_the_reset(
        server: ScriptedServer) -> None:
    server.answer("MAIL", "553 5.7.1 Sender address rejected")
    async with pool(server) as mailer:
        refused = await mailer.send(SENDER, "anna@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert (refused.status, refused.code, refused.stage) == (Status.FAILED, 553, "mail")
    assert sent.status is Status.SENT
    verbs = [verb for number, verb in server.commands if verb != "EHLO"]
    if server.pipelining:  # the server answered 503 to both; nothing was taken for a message
        assert verbs == ["MAIL", "RCPT", "DATA", "RSET", "MAIL", "RCPT", "DATA", "QUIT"]
    else:
        assert verbs == ["MAIL", "RSET", "MAIL", "RCPT", "DATA", "QUIT"]


@pytest.mark.parametrize(("command", "stage"), [("MAIL", "mail"), ("RCPT", "rcpt"), ("DATA", "data"),
                                                ("END", "message")])
async def test_a_421_is_retried_with_its_hint_and_the_next_message_takes_a_new_connection(
        server: ScriptedServer, command: str, stage: str) -> None:
    text = "4.3.2 Shutting down, try again in 5 minutes"
    server.answer(command, f"421 {text}")
    async with pool(server) as mailer:
        closing = await mailer.send(SENDER, "anna@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert closing == Outcome(Status.RETRY, 421, text, stage, 300.0)  # type: ignore[arg-type]
    assert sent.status is Status.SENT
    assert server.connections == 2


async def test_a_pooled_connection_closing_at_mail_is_replaced_and_the_message_sent(
        server: ScriptedServer) -> None:
    async with pool(server) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", message())).status is Status.SENT
        server.answer("MAIL", CLOSE)  # as an idle timeout would
        again = await mailer.send(SENDER, "b@example.com", message())
        server.answer("MAIL", "421 4.4.2 scripted.test Error: timeout exceeded")
        after_421 = await mailer.send(SENDER, "c@example.com", message())
    assert (again.status, after_421.status) == (Status.SENT, Status.SENT)
    assert [m.connection for m in server.messages] == [1, 2, 3]


@pytest.mark.parametrize(("command", "status", "stage"), [
    ("MAIL", Status.RETRY, "mail"), ("RCPT", Status.RETRY, "rcpt"), ("DATA", Status.RETRY, "data"),
    ("END", Status.IN_DOUBT, "message")])
async def test_a_server_that_closes_mid_way(server: ScriptedServer, command: str, status: Status,
                                            stage: str) -> None:
    server.answer(command, CLOSE)
    async with pool(server) as mailer:
        lost = await mailer.send(SENDER, "anna@example.com", message(key="d-7"))
        sent = await mailer.send(SENDER, "anna@example.com", message(key="d-7"))
    assert (lost.status, lost.code, lost.stage) == (status, None, stage)
    assert sent.status is Status.SENT
    assert server.connections == 2
    # Only after the whole message went out can the server have it: then the sender is in
    # doubt, and the resend carries the same Message-ID for the recipient's client to merge.
    assert [m.acknowledged for m in server.messages] == ([False, True] if command == "END" else [True])
    if command == "END":
        assert "no reply after the end of the message was sent" in lost.text
        assert server.messages[0].data == server.messages[1].data


async def test_a_server_that_stops_answering_times_out_the_same_way(server: ScriptedServer) -> None:
    server.answer("DATA", SILENCE)
    server.answer("END", SILENCE)
    async with pool(server, timeout=0.3) as mailer:
        at_data = await mailer.send(SENDER, "anna@example.com", message())
        at_end = await mailer.send(SENDER, "anna@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert at_data == Outcome(Status.RETRY, None,
                              "SMTPReadTimeoutError: Timed out waiting for server response", "data")
    assert (at_end.status, at_end.stage) == (Status.IN_DOUBT, "message")
    assert at_end.text == ("no reply after the end of the message was sent "
                           "(SMTPReadTimeoutError: Timed out waiting for server response)")
    assert sent.status is Status.SENT
    assert server.connections == 3


async def test_a_malformed_reply_is_retried_on_a_new_connection(server: ScriptedServer) -> None:
    server.answer("RCPT", "Recipient OK, probably")
    async with pool(server) as mailer:
        garbled = await mailer.send(SENDER, "anna@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert garbled == Outcome(
        Status.RETRY, None, "SMTPResponseException: (-1, 'Malformed SMTP response line: "
        "Recipient OK, probably\\r\\n')", "rcpt")
    assert sent.status is Status.SENT
    assert server.connections == 2


async def test_an_accepted_data_after_the_only_recipient_was_refused_sends_nothing(
        server: ScriptedServer) -> None:
    # RFC 2920 3.1: the client cannot assume DATA is refused when no RCPT was accepted.
    # A server that says 354 anyway now reads a message: the pool neither ends it with "."
    # (an empty message) nor sends RSET (it would be read as text); it drops the connection.
    server.answer("RCPT", "550 5.1.1 User unknown")
    server.answer("DATA", "354 Go ahead")
    async with pool(server) as mailer:
        refused = await mailer.send(SENDER, "gone@example.com", message())
        sent = await mailer.send(SENDER, "anna@example.com", message())
    assert refused == Outcome(Status.FAILED, 550, "5.1.1 User unknown", "rcpt")
    assert sent.status is Status.SENT
    assert [(m.acknowledged, m.data) for m in server.messages] == [(True, message())]
    if server.pipelining:
        assert server.connections == 2
        assert server.sessions[0].reads[-1].endswith(b"DATA\r\n")  # nothing after it
    else:  # DATA was never sent for the refused recipient; the next message took the 354
        assert server.connections == 1


async def test_replies_beyond_the_commands_sent_retire_the_connection(server: ScriptedServer) -> None:
    server.answer("END", "250 2.0.0 Ok: queued\r\n250 2.0.0 Ok: queued again")
    async with pool(server) as mailer:
        first = await mailer.send(SENDER, "anna@example.com", message())
        if not server.pipelining:
            return  # aiosmtplib reads one reply per command: the plain path does not look
        second = await mailer.send(SENDER, "anna@example.com", message())
    assert (first.status, second.status) == (Status.SENT, Status.SENT)
    assert server.connections == 2  # a conversation out of step is not continued


async def test_every_character_an_address_may_hold_goes_out_alike(server: ScriptedServer) -> None:
    recipient = "o'neil.a!b#c$d%e&f*g+h/i=j?k^l_m`n{o|p}q~r-s@mail-1.example.com"
    async with pool(server) as mailer:
        assert (await mailer.send(SENDER, recipient, message())).status is Status.SENT
    [commands] = [chunk for chunk in server.sessions[0].reads if b"RCPT" in chunk]
    assert f"RCPT TO:<{recipient}>\r\n".encode() in commands


async def test_replies_split_anywhere_are_read_whole(pipelining: bool) -> None:
    """A reply may come a byte at a time, continuation lines included."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(reply: bytes) -> None:
            for byte in range(len(reply)):
                writer.write(reply[byte:byte + 1])
                await writer.drain()

        await say(b"220 slow.test ESMTP\r\n")
        await reader.readuntil(b"\r\n")
        await say(b"250-slow.test\r\n" + (b"250-PIPELINING\r\n" if pipelining else b"") + b"250 8BITMIME\r\n")
        await reader.readuntil(b"MAIL")
        await reader.readuntil(b"\r\n")
        await say(b"250-2.1.0 Sender\r\n250 2.1.0 Ok\r\n")
        if not pipelining:
            await reader.readuntil(b"\r\n")
        await say(b"250 2.1.5 Ok\r\n")
        if not pipelining:
            await reader.readuntil(b"\r\n")
        await say(b"354 Go ahead\r\n")
        await reader.readuntil(b"\r\n.\r\n")
        await say(b"250-2.0.0 Ok:\r\n250 2.0.0 queued as 1\r\n")
        await reader.read()
        writer.close()

    server = await asyncio.start_server(serve, HOST, 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        async with SmtpPool(HOST, port, size=1, timeout=5.0, local_hostname="client.test") as mailer:
            outcome = await mailer.send(SENDER, "anna@example.com", message())
    assert outcome == Outcome(Status.SENT, 250, "2.0.0 Ok:\n2.0.0 queued as 1", "message")
