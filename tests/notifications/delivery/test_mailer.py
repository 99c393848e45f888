"""The SMTP pool: its URL, and every answer or failure of a real server classified.

Every test against the server runs twice: once against aiosmtpd as it is, once against
aiosmtpd offering PIPELINING (RFC 2920), where the pool sends MAIL, RCPT and DATA in one
write. The outcomes asserted are the same for both: pipelining changes the round trips,
never what a reply means. tests/notifications/delivery/test_mailer_pipelining.py scripts
the replies one by one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications.delivery.mailer import SmtpPool, Tls, pool_from_url
from notifications.delivery.outcomes import Outcome, Status
from tests.notifications.delivery.samples import HTML, SENDER, SUBJECT, TEXT, FakeClock, lines, message
from tests.smtp_server import (  # noqa: F401
    Certificate,
    DropStage,
    SmtpServer,
    _Handler,
    tls_certificate_fixture,
    unused_port,
)

ENVELOPE_FROM = "breachdesk@breach.example"


class _PipeliningHandler(_Handler):
    """The test server's hooks, and PIPELINING in the EHLO reply."""

    async def handle_EHLO(self, smtpd: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname  # the hook's job once it is defined
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


class PipeliningSmtpServer(SmtpServer):
    """The test server offering PIPELINING (RFC 2920). aiosmtpd reads the commands line
    by line and answers each in turn, so pipelined commands get their replies in order."""

    def start(self) -> None:
        super().start()
        if self._controller is not None:
            self._controller.handler = _PipeliningHandler(self)  # for every connection from now on


SERVER_KINDS = {"plain": SmtpServer, "pipelining": PipeliningSmtpServer}


@pytest.fixture(name="server_kind", params=sorted(SERVER_KINDS))
def server_kind_fixture(request: pytest.FixtureRequest) -> type[SmtpServer]:
    kind: type[SmtpServer] = SERVER_KINDS[request.param]
    return kind


@pytest.fixture(name="smtp_server")
def pipelining_or_not_fixture(server_kind: type[SmtpServer]) -> Iterator[SmtpServer]:
    """The test server (no TLS, no AUTH), with and without PIPELINING."""
    with server_kind() as server:
        yield server


def pool(server: SmtpServer, **options: Any) -> SmtpPool:
    return SmtpPool(server.host, server.port, timeout=5.0, local_hostname="client.test", **options)


async def test_the_pipelining_server_offers_it(smtp_server: SmtpServer) -> None:
    async with pool(smtp_server) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", message())).status is Status.SENT
        [connection] = mailer._idle[-1:]
        assert connection.smtp is not None
        offered = connection.smtp.supports_extension("pipelining")
    assert offered is isinstance(smtp_server, PipeliningSmtpServer)


# --------------------------------------------------------------------------- configuration


def test_smtp_urls() -> None:
    submission = pool_from_url("smtp://mailer:s3cr%40t@mail.example.com:587")
    assert (submission.host, submission.port, submission.tls) == ("mail.example.com", 587, Tls.STARTTLS)
    assert submission.username == "mailer"
    assert "s3cr" not in repr(submission) and "***" in repr(submission)
    assert pool_from_url("smtp://relay.internal").port == 25
    assert pool_from_url("smtp://relay.internal?starttls=require").tls is Tls.REQUIRE_STARTTLS
    assert pool_from_url("smtp://relay.internal?starttls=never").tls is Tls.NONE
    implicit = pool_from_url("smtps://u:p@[::1]", size=8)
    assert (implicit.host, implicit.port, implicit.tls, implicit.size) == ("::1", 465, Tls.SMTPS, 8)


@pytest.mark.parametrize(("url", "complaint"), [
    ("http://mail.example.com", "unsupported scheme 'http'"),
    ("mail.example.com:25", "unsupported scheme"),
    ("smtp://", "no host name"),
    ("smtp://u:hunter2@mail.example.com:smtp", "malformed"),
    ("smtp://u:hun/ter2@mail.example.com", "malformed"),
    ("smtp://mail.example.com/inbox", "path"),
    ("smtp://mail.example.com?tls=yes", "unknown option 'tls'"),
    ("smtp://mail.example.com?starttls=maybe", "starttls must be"),
    ("smtps://mail.example.com?starttls=require", "starttls does not apply"),
    ("smtp://:hunter2@mail.example.com", "needs a user name"),
])
def test_bad_smtp_urls_are_explained_without_the_password(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)) as caught:
        pool_from_url(url)
    assert "hunter2" not in str(caught.value) and "ter2" not in str(caught.value)


# --------------------------------------------------------------------------- against the server


async def test_a_message_arrives_intact(smtp_server: SmtpServer) -> None:
    raw = message()
    async with pool(smtp_server) as mailer:
        outcome = await mailer.send(SENDER, "anna@example.com", raw)
    assert outcome.status is Status.SENT
    assert (outcome.code, outcome.stage) == (250, "message")
    [received] = smtp_server.messages
    assert (received.mail_from, received.rcpt_tos) == (ENVELOPE_FROM, ("anna@example.com",))
    assert received.data == raw
    assert received.message_id == "<d-1@breach.example>"
    parsed = received.parsed()
    assert parsed["Subject"] == SUBJECT
    text, html = parsed.iter_parts()
    assert (lines(text.get_content()), lines(html.get_content())) == (TEXT, HTML)


async def test_lines_starting_with_a_dot_and_bare_line_feeds_survive(smtp_server: SmtpServer) -> None:
    text = "Line one\n.\n..two dots\n.hidden\nend\n"
    raw = message(text=text, html=None, subject="Dots")
    assert b"\r\n.\r\n" in raw  # sent as 7bit: the transport must stuff the dots
    async with pool(smtp_server) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", raw)).status is Status.SENT
        bare = b"Subject: bare\nMessage-ID: <bare@breach.example>\n\nno CR here\n.\nend"
        assert (await mailer.send(SENDER, "a@example.com", bare)).status is Status.SENT
    first, second = smtp_server.messages
    assert first.data == raw
    assert lines(first.parsed().get_content()) == text
    assert second.data == (b"Subject: bare\r\nMessage-ID: <bare@breach.example>\r\n\r\n"
                           b"no CR here\r\n.\r\nend\r\n")
    smtp_server.reset()
    assert (smtp_server.messages, smtp_server.connections) == ([], 0)


async def test_a_name_with_line_breaks_adds_no_header_on_the_wire(smtp_server: SmtpServer) -> None:
    raw = message(to_name="Anna\r\nBcc: evil@example.net\nX-Evil: 1\u2028Cc: evil2@example.net")
    async with pool(smtp_server) as mailer:
        assert (await mailer.send(SENDER, "anna@example.com", raw)).status is Status.SENT
    [received] = smtp_server.messages
    assert received.rcpt_tos == ("anna@example.com",)
    header_block = received.data.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in header_block.split(b"\r\n") if not line.startswith(b" ")]
    assert names == [b"Date", b"From", b"To", b"Subject", b"Message-ID", b"MIME-Version", b"Content-Type"]
    assert b"\nBcc" not in received.data and b"\nX-Evil" not in received.data
    assert received.parsed()["To"].addresses[0].addr_spec == "anna@example.com"


async def test_a_subject_with_a_line_break_never_reaches_the_server(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValueError, match="subject"):
        message(subject="Notice\r\nBcc: evil@example.net")
    assert smtp_server.connections == 0 and smtp_server.messages == []


async def test_an_invalid_recipient_fails_without_a_connection(smtp_server: SmtpServer) -> None:
    async with pool(smtp_server) as mailer:
        outcome = await mailer.send(SENDER, "evil@example.net\r\nRCPT TO:<x@y>", message())
    assert (outcome.status, outcome.code, outcome.stage) == (Status.FAILED, None, "rcpt")
    assert smtp_server.connections == 0


async def test_4xx_at_rcpt_is_retried_with_the_servers_hint_then_sent(smtp_server: SmtpServer) -> None:
    smtp_server.faults.reply("rcpt", "451 4.7.1 Greylisted, try again in 120 seconds",
                             to="anna@example.com", times=1)
    async with pool(smtp_server) as mailer:
        first = await mailer.send(SENDER, "anna@example.com", message())
        second = await mailer.send(SENDER, "anna@example.com", message())
    assert first == Outcome(Status.RETRY, 451, "4.7.1 Greylisted, try again in 120 seconds", "rcpt", 120.0)
    assert second.status is Status.SENT
    assert len(smtp_server.messages) == 1
    assert smtp_server.connections == 1  # RSET after the refusal kept the connection usable


async def test_4xx_at_the_end_of_data_is_retried_then_sent(smtp_server: SmtpServer) -> None:
    smtp_server.faults.reply("data", "452 4.3.1 Insufficient system storage, try again in 2 minutes", times=2)
    async with pool(smtp_server) as mailer:
        outcomes = [await mailer.send(SENDER, "anna@example.com", message()) for _ in range(3)]
    assert [o.status for o in outcomes] == [Status.RETRY, Status.RETRY, Status.SENT]
    assert (outcomes[0].stage, outcomes[0].retry_after) == ("message", 120.0)
    assert len(smtp_server.messages) == 1


async def test_a_pooled_connection_the_server_is_closing_is_replaced_transparently(
        smtp_server: SmtpServer) -> None:
    async with pool(smtp_server, size=1) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", message())).status is Status.SENT
        smtp_server.faults.reply("mail", "421 4.4.2 smtp.test Error: timeout exceeded", times=1)
        assert (await mailer.send(SENDER, "b@example.com", message())).status is Status.SENT
    assert smtp_server.connections == 2


async def test_replies_to_mail_from_are_classified_and_the_connection_kept(smtp_server: SmtpServer) -> None:
    smtp_server.faults.reply("mail", "553 5.7.1 <breachdesk@breach.example>: Sender address rejected",
                             times=1)
    smtp_server.faults.reply("mail", "450 4.7.1 Sender rate exceeded, try again in 60 seconds", times=1)
    async with pool(smtp_server, size=1) as mailer:
        outcomes = [await mailer.send(SENDER, "a@example.com", message()) for _ in range(3)]
    assert [(o.status, o.code, o.stage) for o in outcomes] == [
        (Status.FAILED, 553, "mail"), (Status.RETRY, 450, "mail"), (Status.SENT, 250, "message")]
    assert outcomes[1].retry_after == 60.0
    assert smtp_server.connections == 1


async def test_a_421_at_the_end_of_data_is_retried_on_a_new_connection(smtp_server: SmtpServer) -> None:
    smtp_server.faults.reply("data", "421 4.3.2 Shutting down, try again in 5 minutes", times=1)
    async with pool(smtp_server, size=1) as mailer:
        first = await mailer.send(SENDER, "a@example.com", message())
        second = await mailer.send(SENDER, "a@example.com", message())
    assert (first.status, first.code, first.retry_after) == (Status.RETRY, 421, 300.0)
    assert second.status is Status.SENT
    assert smtp_server.connections == 2


async def test_5xx_fails_one_recipient_and_not_the_others(smtp_server: SmtpServer) -> None:
    reply = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
    smtp_server.faults.reply("rcpt", reply, to="gone@example.com")
    smtp_server.faults.reply("data", "554 5.7.1 Message rejected: looks like spam", to="spam@example.com")
    recipients = [f"p{i}@example.com" for i in range(30)]
    recipients[7], recipients[19] = "gone@example.com", "spam@example.com"
    async with pool(smtp_server, size=4) as mailer:
        outcomes = await asyncio.gather(*[
            mailer.send(SENDER, to, message(to, key=f"d-{i}")) for i, to in enumerate(recipients)])
    by_recipient = dict(zip(recipients, outcomes, strict=True))
    gone, spam = by_recipient.pop("gone@example.com"), by_recipient.pop("spam@example.com")
    assert (gone.status, gone.reply, gone.stage) == (Status.FAILED, reply, "rcpt")
    assert (spam.status, spam.reply, spam.stage) == (
        Status.FAILED, "554 5.7.1 Message rejected: looks like spam", "message")
    assert {o.status for o in by_recipient.values()} == {Status.SENT}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(by_recipient)
    assert smtp_server.connections == 4


async def test_a_drop_after_the_whole_message_is_in_doubt_and_the_resend_has_the_same_id(
        smtp_server: SmtpServer) -> None:
    smtp_server.faults.drop("after_data", times=1)
    raw = message(key="delivery-42")
    async with pool(smtp_server) as mailer:
        first = await mailer.send(SENDER, "anna@example.com", raw)
        second = await mailer.send(SENDER, "anna@example.com", raw)
    assert (first.status, first.code, first.stage) == (Status.IN_DOUBT, None, "message")
    assert second.status is Status.SENT
    kept, resent = smtp_server.messages
    assert (kept.acknowledged, resent.acknowledged) == (False, True)
    assert kept.message_id == resent.message_id == "<delivery-42@breach.example>"
    assert kept.data == resent.data
    assert smtp_server.connections == 2


async def test_a_drop_at_the_data_command_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.faults.drop("before_data", times=1)
    async with pool(smtp_server) as mailer:
        first = await mailer.send(SENDER, "anna@example.com", message())
        second = await mailer.send(SENDER, "anna@example.com", message())
    assert (first.status, first.stage) == (Status.RETRY, "data")
    assert second.status is Status.SENT
    assert len(smtp_server.messages) == 1


def socket_buffers() -> int:
    """Bytes the kernel may hold for one loopback connection before the reader reads: at most."""
    try:
        send = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
        receive = int(Path("/proc/sys/net/ipv4/tcp_rmem").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 8 << 20
    return send + receive


async def test_a_drop_while_the_message_is_still_being_written_is_retried(smtp_server: SmtpServer) -> None:
    # Far more than the socket buffers hold: most of it is still in this process at the drop.
    lines_needed = 3 * max(socket_buffers(), 4 << 20) // 72
    if lines_needed > 1_000_000:
        pytest.skip("socket buffers too large for a quick test message")
    big = message(html=None) + (b"x" * 70 + b"\r\n") * lines_needed
    smtp_server.faults.drop("mid_data", times=1)
    async with pool(smtp_server) as mailer:
        outcome = await mailer.send(SENDER, "anna@example.com", big)
    assert (outcome.status, outcome.stage) == (Status.RETRY, "message")
    assert "before the end of the message was sent" in outcome.text
    assert smtp_server.messages == []


async def test_a_drop_after_a_small_message_left_this_process_is_in_doubt(smtp_server: SmtpServer) -> None:
    # The server read one line, but the whole message had already gone to the network:
    # the sender cannot know the server did not take it, so it must not claim so.
    smtp_server.faults.drop("mid_data", times=1)
    async with pool(smtp_server) as mailer:
        outcome = await mailer.send(SENDER, "anna@example.com", message())
    assert outcome.status is Status.IN_DOUBT


async def test_a_refused_connection_is_retried_and_the_pool_reconnects(smtp_server: SmtpServer) -> None:
    async with pool(smtp_server) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", message())).status is Status.SENT
        smtp_server.stop()
        refused = await mailer.send(SENDER, "a@example.com", message())
        smtp_server.start()
        again = await mailer.send(SENDER, "a@example.com", message())
    assert (refused.status, refused.code, refused.stage) == (Status.RETRY, None, "connect")
    assert again.status is Status.SENT
    assert len(smtp_server.messages) == 2


async def test_nothing_listening_is_retried() -> None:
    async with SmtpPool("127.0.0.1", unused_port(), timeout=5.0, local_hostname="client.test") as mailer:
        outcome = await mailer.send(SENDER, "a@example.com", message())
    assert (outcome.status, outcome.stage) == (Status.RETRY, "connect")
    assert "Error connecting" in outcome.text


async def test_a_probe_says_whether_the_server_answers_and_sends_nothing(
        smtp_server: SmtpServer) -> None:
    async with pool(smtp_server) as mailer:
        assert await mailer.probe() is None
        smtp_server.stop()
        refused = await mailer.probe()
        smtp_server.start()
        smtp_server.faults.reply("connect", "421 4.3.2 Service not available", times=1)
        busy = await mailer.probe()
        assert await mailer.probe() is None
    assert refused is not None and (refused.status, refused.stage) == (Status.RETRY, "connect")
    assert busy is not None and (busy.code, busy.stage) == (421, "connect")
    assert smtp_server.messages == []


async def test_a_4xx_greeting_is_retried_with_its_hint(smtp_server: SmtpServer) -> None:
    smtp_server.faults.reply("connect", "421 4.3.2 Too many connections, try again in 30 seconds", times=1)
    async with pool(smtp_server) as mailer:
        first = await mailer.send(SENDER, "a@example.com", message())
        second = await mailer.send(SENDER, "a@example.com", message())
    assert first == Outcome(Status.RETRY, 421, "4.3.2 Too many connections, try again in 30 seconds",
                            "connect", 30.0)
    assert second.status is Status.SENT


async def test_a_pooled_connection_closed_by_the_server_is_replaced_transparently(
        smtp_server: SmtpServer) -> None:
    async with pool(smtp_server, size=1) as mailer:
        assert (await mailer.send(SENDER, "a@example.com", message())).status is Status.SENT
        smtp_server.close_connections()
        assert (await mailer.send(SENDER, "b@example.com", message())).status is Status.SENT
    assert smtp_server.connections == 2


async def test_connections_are_reused(smtp_server: SmtpServer) -> None:
    async with pool(smtp_server, size=4) as mailer:
        outcomes = await asyncio.gather(*[
            mailer.send(SENDER, f"p{i}@example.com", message(f"p{i}@example.com", key=f"d-{i}"))
            for i in range(100)])
    assert {o.status for o in outcomes} == {Status.SENT}
    assert len(smtp_server.messages) == 100
    assert len({m.message_id for m in smtp_server.messages}) == 100
    assert smtp_server.connections == 4
    assert {m.connection for m in smtp_server.messages} == {1, 2, 3, 4}


@pytest.mark.parametrize("size", [1, 3])
async def test_no_more_messages_in_flight_than_connections(smtp_server: SmtpServer, size: int) -> None:
    smtp_server.faults.delay = 0.005
    async with pool(smtp_server, size=size) as mailer:
        outcomes = await asyncio.gather(*[mailer.send(SENDER, f"p{i}@example.com", message())
                                          for i in range(24)])
    assert {o.status for o in outcomes} == {Status.SENT}
    assert smtp_server.max_busy == size
    assert smtp_server.connections == size


async def test_the_rate_limit_holds_throughput_to_the_moved_clock(smtp_server: SmtpServer) -> None:
    clock = FakeClock()
    async with pool(smtp_server, size=4, rate=20.0, burst=2, clock=clock, sleep=clock.sleep) as mailer:
        outcomes = await asyncio.gather(*[mailer.send(SENDER, f"p{i}@example.com", message())
                                          for i in range(12)])
    assert {o.status for o in outcomes} == {Status.SENT}
    assert len(smtp_server.messages) == 12
    assert clock.now == pytest.approx((12 - 2) / 20)  # two at once, then one every 50 ms
    assert sorted(clock.sleeps) == pytest.approx([0.05 * k for k in range(1, 11)])


async def test_close_waits_for_messages_in_flight(smtp_server: SmtpServer) -> None:
    smtp_server.faults.delay = 0.005
    mailer = pool(smtp_server, size=2)
    sending = [asyncio.create_task(mailer.send(SENDER, f"p{i}@example.com", message())) for i in range(4)]
    await asyncio.sleep(0)
    await mailer.close()
    assert all(task.done() and task.result().status is Status.SENT for task in sending)
    with pytest.raises(RuntimeError, match="closed"):
        await mailer.send(SENDER, "a@example.com", message())


# --------------------------------------------------------------------------- TLS and AUTH


async def test_starttls_and_auth(tls_certificate: Certificate, server_kind: type[SmtpServer]) -> None:
    with server_kind(tls="starttls", certificate=tls_certificate, auth=("mailer", "p@ss:word")) as server:
        url = f"smtp://mailer:p%40ss%3Aword@{server.host}:{server.port}?starttls=require"
        async with pool_from_url(url, tls_context=tls_certificate.client_context(), timeout=5.0,
                                 local_hostname="client.test") as mailer:
            outcome = await mailer.send(SENDER, "a@example.com", message())
        auto = f"smtp://mailer:p%40ss%3Aword@{server.host}:{server.port}"  # upgrades when offered
        async with pool_from_url(auto, tls_context=tls_certificate.client_context(), timeout=5.0,
                                 local_hostname="client.test") as mailer:
            upgraded = await mailer.send(SENDER, "a@example.com", message())
        wrong = f"smtp://mailer:nope@{server.host}:{server.port}"
        async with pool_from_url(wrong, tls_context=tls_certificate.client_context(), timeout=5.0,
                                 local_hostname="client.test") as mailer:
            refused = await mailer.send(SENDER, "a@example.com", message())
        plain = f"smtp://{server.host}:{server.port}?starttls=never"
        async with pool_from_url(plain, timeout=5.0, local_hostname="client.test") as mailer:
            in_clear = await mailer.send(SENDER, "a@example.com", message())
        received = server.messages
    assert (outcome.status, upgraded.status) == (Status.SENT, Status.SENT)
    assert [(m.tls, m.login) for m in received] == [(True, "mailer"), (True, "mailer")]
    # A rejected password or a server that insists on TLS is the operator's to fix, not
    # the recipient's fault: retried, never failed.
    assert (refused.status, refused.code, refused.stage) == (Status.RETRY, 535, "connect")
    assert (in_clear.status, in_clear.code, in_clear.stage) == (Status.RETRY, 530, "mail")


async def test_implicit_tls(tls_certificate: Certificate, server_kind: type[SmtpServer]) -> None:
    with server_kind(tls="smtps", certificate=tls_certificate) as server:
        async with pool_from_url(server.url, tls_context=tls_certificate.client_context(), timeout=5.0,
                                 local_hostname="client.test") as mailer:
            outcomes = await asyncio.gather(*[mailer.send(SENDER, f"p{i}@example.com", message())
                                              for i in range(10)])
        assert {o.status for o in outcomes} == {Status.SENT}
        assert all(m.tls for m in server.messages)
        assert server.connections == 4


async def test_a_certificate_that_does_not_verify_is_retried(tls_certificate: Certificate) -> None:
    with SmtpServer(tls="smtps", certificate=tls_certificate) as server:
        async with pool_from_url(server.url, timeout=5.0, local_hostname="client.test") as mailer:
            outcome = await mailer.send(SENDER, "a@example.com", message())
        assert server.messages == []
    assert (outcome.status, outcome.stage) == (Status.RETRY, "connect")
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.text


def test_the_same_classification_on_uvloop(smtp_server: SmtpServer) -> None:
    """`breach serve` runs on uvloop where it is installed: its transports must behave alike."""
    uvloop = pytest.importorskip("uvloop")
    lines_needed = 3 * max(socket_buffers(), 4 << 20) // 72
    big = message(html=None) + (b"x" * 70 + b"\r\n") * lines_needed

    steps: list[tuple[DropStage | None, bytes]] = [
        ("after_data", message()), ("before_data", message()), ("mid_data", big), (None, message())]

    async def scenario() -> list[Status]:
        statuses = []
        async with pool(smtp_server, size=2) as mailer:
            for fault, data in steps:
                if fault is not None:
                    smtp_server.faults.drop(fault, times=1)
                statuses.append((await mailer.send(SENDER, "a@example.com", data)).status)
        return statuses

    assert uvloop.run(scenario()) == [Status.IN_DOUBT, Status.RETRY, Status.RETRY, Status.SENT]
