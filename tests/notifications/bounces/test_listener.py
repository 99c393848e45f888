"""The bounce listener, a real SMTP server on loopback: bounces sent to it over SMTP (as a
receiving mail server sends them: `MAIL FROM:<>`, RCPT TO the return path), and what the
database and the timeline hold afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.settings import REPOSITORY, Settings
from notifications.bounces import listener
from notifications.bounces.models import DATA_LIMIT
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.outbox import Dispatcher, return_paths
from notifications.delivery.return_paths import delivery_of, return_path
from notifications.drafting.render import renderer
from tests.factories import Person, sending
from tests.notifications.bounces.support import (
    BOUNCES,
    NOT_A_BOUNCE,
    SECRET,
    bounce_about,
    bounce_events,
    deliveries,
    delivery,
    dsn,
    path_of,
    reports,
    sent_notice,
)
from tests.smtp_server import SmtpServer, unused_port

BREACH = str(Path(sys.executable).with_name("breach"))
HOST = "127.0.0.1"


@pytest.fixture
async def bounce_port(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[int]:
    """The listener, on a free loopback port of this test's event loop."""
    handler = listener.BounceHandler(engine, bounce_address=BOUNCES, secret=SECRET, clock=clock)
    server = await listener.start(handler, HOST, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await listener.stop(server, 1)


def breach_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a `breach` process: this one's, with no BREACH_ setting but our
    key, a throwaway BREACH_VAR_DIR and `settings` (BREACH_ prefixed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_SECRET_KEY=SECRET, BREACH_VAR_DIR=str(tmp_path / "var"),
               **{f"BREACH_{name}": value for name, value in settings.items()})
    return env


async def send(port: int, to: str, raw: bytes) -> None:
    """Deliver `raw` to `to` as a mail server sends a bounce: from the null sender."""
    async with aiosmtplib.SMTP(hostname=HOST, port=port, timeout=10) as smtp:
        await smtp.ehlo()
        await smtp.mail("")  # MAIL FROM:<>
        await smtp.rcpt(to)
        await smtp.data(raw)


async def test_hard_soft_and_unreadable_bounces_over_smtp_reach_their_deliveries(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, bounce_port: int) -> None:
    ana, ben, cleo = await sent_notice(client, people, engine, clock, [
        "ana@example.org", "ben@example.org", "cleo@example.org"])

    await send(bounce_port, path_of(ana), bounce_about(ana))
    await send(bounce_port, path_of(ben), bounce_about(ben, "soft"))
    await send(bounce_port, path_of(cleo), NOT_A_BOUNCE)

    assert [(d.id, d.state) for d in await deliveries(engine)] == [
        (ana.id, "bounced"), (ben.id, "retry"), (cleo.id, "sent")]
    assert [(r.delivery_id, r.source, r.kind, r.parsed) for r in await reports(engine)] == [
        (ana.id, "smtp", "hard", True), (ben.id, "smtp", "soft", True),
        (cleo.id, "smtp", None, False)]
    events = [payload for _, payload in await bounce_events(engine)]
    assert [(e["delivery"], e["kind"], e["state"]) for e in events] == [
        (ana.id, "hard", "bounced"), (ben.id, "soft", "retry")]


async def test_only_our_return_paths_are_accepted_as_recipients(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, bounce_port: int) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    assert ana.id is not None
    raw = bounce_about(ana)
    strangers = ["postmaster@example.com", "bounces@example.com", "someone@example.net",
                 return_path(ana.id, bounce_address=BOUNCES, secret="another key"),
                 return_path(ana.id, bounce_address="bounces@elsewhere.example", secret=SECRET)]

    for stranger in strangers:
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await send(bounce_port, stranger, raw)
        assert refused.value.code == 550

    assert await reports(engine) == []
    assert (await delivery(engine, ana.id)).state == "sent"


async def test_a_forged_or_unknown_bounce_is_accepted_and_dropped(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, bounce_port: int) -> None:
    ana, ben = await sent_notice(client, people, engine, clock)
    # ana's return path, quoting ben's message: forged
    await send(bounce_port, path_of(ana), bounce_about(ana, quoting=ben.message_id))
    # a valid token for a delivery that does not exist
    ghost = return_path(424242, bounce_address=BOUNCES, secret=SECRET)
    await send(bounce_port, ghost, dsn(to=ghost, recipient="x@example.org", kind="hard",
                                       message_id="<nothing@example.com>"))

    assert await reports(engine) == []
    assert [d.state for d in await deliveries(engine)] == ["sent", "sent"]
    assert await bounce_events(engine) == []


async def test_a_bounce_larger_than_the_limit_is_refused(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, bounce_port: int) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana) + (b"x" * 76 + b"\r\n") * (DATA_LIMIT // 78 + 1)

    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(bounce_port, path_of(ana), raw)

    assert refused.value.code == 552
    assert await reports(engine) == []


async def test_a_bounce_to_the_return_path_the_outbox_sent_with_ends_its_delivery(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, settings: Settings, smtp_server: SmtpServer,
        bounce_port: int) -> None:
    """The whole path: the outbox sends through a real relay with each delivery's return
    path as envelope sender; the bounce the relay's side sends back to that address ends
    the delivery."""
    await sending(client, people, ["ana@example.org", "ben@example.org"])
    tracked = settings.model_copy(update={"bounce_address": BOUNCES, "secret_key": SECRET})
    pool = pool_from_url(smtp_server.url, size=1, timeout=5)
    outbox = Dispatcher(engine, pool, renderer(REPOSITORY / "templates"), clock=clock,
                        sender="Example GmbH <privacy@example.com>", worker="w1",
                        return_path=return_paths(tracked))
    try:
        assert await outbox.run_once() == 2
    finally:
        await pool.close()
    relayed = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    envelope_sender = relayed["ben@example.org"].mail_from
    ben = next(d for d in await deliveries(engine) if d.address == "ben@example.org")
    assert delivery_of(envelope_sender, bounce_address=BOUNCES, secret=SECRET) == ben.id

    await send(bounce_port, envelope_sender,
               dsn(to=envelope_sender, recipient="ben@example.org", kind="hard",
                   message_id=relayed["ben@example.org"].message_id))

    states = {d.address: d.state for d in await deliveries(engine)}
    assert states == {"ana@example.org": "sent", "ben@example.org": "bounced"}


async def test_breach_bounces_listen_receives_until_sigterm(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, database_url: str, tmp_path: Path) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    port = unused_port()
    env = breach_env(tmp_path, DATABASE_URL=database_url, BOUNCE_ADDRESS=BOUNCES)
    process = await asyncio.create_subprocess_exec(
        BREACH, "bounces", "listen", "--port", str(port), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)  # says it listens
        assert f"listening for bounces on {HOST}:{port}" in line.decode()
        await send(port, path_of(ana), bounce_about(ana))
        assert (await delivery(engine, ana.id)).state == "bounced"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    [report] = await reports(engine)
    assert report.delivery_id == ana.id


async def test_breach_bounces_listen_needs_a_bounce_address(tmp_path: Path) -> None:
    env = breach_env(tmp_path)
    done = await asyncio.create_subprocess_exec(BREACH, "bounces", "listen", env=env,
                                                stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    _, err = await asyncio.wait_for(done.communicate(), 30)
    assert done.returncode == 1
    assert err.decode().strip().splitlines() == [
        "breach: error: BREACH_BOUNCE_ADDRESS is not set: deliveries carry no return path of "
        "their own, so no bounce can be matched (set it, e.g. bounces@example.com)"]


async def test_breach_serve_receives_bounces_when_bounce_listen_is_set(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, database_url: str, tmp_path: Path) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    web, smtp = unused_port(), unused_port()
    env = breach_env(tmp_path, DATABASE_URL=database_url, BOUNCE_ADDRESS=BOUNCES,
                     BOUNCE_LISTEN=f"{HOST}:{smtp}", SCHEDULER="false")
    server = await asyncio.create_subprocess_exec(
        BREACH, "serve", "--port", str(web), env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        async with httpx.AsyncClient() as http:
            while True:  # until the service answers (its start-up started the listener)
                try:
                    ready = await http.get(f"http://{HOST}:{web}/ready", timeout=1)
                    break
                except httpx.TransportError:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(server.wait(), 0.2)
                    assert server.returncode is None, "breach serve stopped at start"
        assert ready.status_code == 200
        await send(smtp, path_of(ana), bounce_about(ana))
        assert (await delivery(engine, ana.id)).state == "bounced"
    finally:
        if server.returncode is None:
            server.terminate()
        await asyncio.wait_for(server.communicate(), 20)
    with pytest.raises(OSError):  # the listener stopped with the service
        await send(smtp, path_of(ana), b"Subject: late\r\n\r\n")


def test_the_listen_setting_is_host_and_port() -> None:
    assert listener.parse_listen("127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert listener.parse_listen("[::1]:25") == ("::1", 25)
    assert Settings(bounce_listen=" 0.0.0.0:25 ").bounce_listen == "0.0.0.0:25"
    for bad in ("2525", "localhost", "host:0", "host:70000", ":25"):
        with pytest.raises(ValueError, match="host:port"):
            Settings(bounce_listen=bad)
    with pytest.raises(ValueError, match="imap:// or imaps://"):
        Settings(bounce_imap_url="https://mail.example.com/INBOX")
