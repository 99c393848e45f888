"""The IMAP poller against a real Dovecot on loopback: bounces delivered into its mailbox
(IMAP APPEND, as a mail server delivers them, with Delivered-To naming the return path),
read, applied to their deliveries and marked seen."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.settings import REPOSITORY, Settings
from notifications.bounces.imap import MailboxError, parse_imap_url, poll_once, poller
from notifications.delivery.outbox import CaptureTransport
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from notifications.scheduler.ticker import jobs
from tests.cli_support import Breach
from tests.factories import Person
from tests.imapserver import PASSWORD, ImapServer
from tests.notifications.bounces.support import (
    BOUNCES,
    NOT_A_BOUNCE,
    SECRET,
    BounceKind,
    bounce_about,
    bounce_events,
    deliveries,
    path_of,
    reports,
    sent_notice,
)


def mailed(about: Delivery, kind: BounceKind, *, quoting: str | None = None) -> bytes:
    """A bounce as the mailbox holds it: delivered to the return path (Delivered-To)."""
    return bounce_about(about, kind, quoting=quoting, delivered_to=path_of(about))


async def test_unseen_bounces_are_recorded_then_marked_seen(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, imap_server: ImapServer) -> None:
    ana, ben, cleo = await sent_notice(client, people, engine, clock, [
        "ana@example.org", "ben@example.org", "cleo@example.org"])
    imap_server.append(mailed(ana, "hard"))
    imap_server.append(mailed(ben, "soft"))
    imap_server.append(NOT_A_BOUNCE)  # someone wrote to the bounce mailbox
    forged = mailed(cleo, "hard", quoting=ana.message_id)
    imap_server.append(forged)
    mailbox = parse_imap_url(imap_server.url)

    polled = await poll_once(engine, mailbox, bounce_address=BOUNCES, secret=SECRET,
                             clock=clock)

    assert polled.read == 4 and polled.left == 0
    assert dict(polled.outcomes) == {"bounced": 1, "retry": 1, "unknown": 1, "forged": 1}
    assert [(d.id, d.state) for d in await deliveries(engine)] == [
        (ana.id, "bounced"), (ben.id, "retry"), (cleo.id, "sent")]
    assert [(r.delivery_id, r.source, r.kind) for r in await reports(engine)] == [
        (ana.id, "imap", "hard"), (ben.id, "imap", "soft")]
    assert [p["delivery"] for _, p in await bounce_events(engine)] == [ana.id, ben.id]
    assert imap_server.unseen() == [] and imap_server.count() == 4  # kept, marked seen

    clock.advance(timedelta(minutes=1))
    again = await poll_once(engine, mailbox, bounce_address=BOUNCES, secret=SECRET,
                            clock=clock)
    assert again.read == 0 and len(await reports(engine)) == 2


async def test_a_poll_reads_at_most_a_batch_and_leaves_the_rest_unseen(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, imap_server: ImapServer) -> None:
    ana, ben = await sent_notice(client, people, engine, clock)
    imap_server.append(mailed(ana, "hard"))
    imap_server.append(mailed(ben, "hard"))
    mailbox = parse_imap_url(imap_server.url)

    first = await poll_once(engine, mailbox, bounce_address=BOUNCES, secret=SECRET,
                            clock=clock, batch=1)
    assert (first.read, first.left, len(imap_server.unseen())) == (1, 1, 1)
    second = await poll_once(engine, mailbox, bounce_address=BOUNCES, secret=SECRET,
                             clock=clock, batch=1)
    assert (second.read, second.left, imap_server.unseen()) == (1, 0, [])
    assert [d.state for d in await deliveries(engine)] == ["bounced", "bounced"]


async def test_a_wrong_password_is_a_mailbox_error_that_never_shows_the_password(
        engine: AsyncEngine, clock: FixedClock, imap_server: ImapServer,
        caplog: pytest.LogCaptureFixture) -> None:
    wrong = parse_imap_url(imap_server.url.replace("%40", "%41"))
    assert wrong.password != PASSWORD

    with pytest.raises(MailboxError) as failed:
        await poll_once(engine, wrong, bounce_address=BOUNCES, secret=SECRET, clock=clock)

    assert "logging in failed" in str(failed.value)
    assert wrong.password not in str(failed.value) and "imap://bounces@127.0.0.1" in str(
        failed.value)
    # the scheduler's job: a warning, the next tick tries again
    settings = Settings(bounce_imap_url=imap_server.url.replace("%40", "%41"),
                        bounce_address=BOUNCES, secret_key=SECRET)
    with caplog.at_level(logging.WARNING, logger="breachdesk.bounces"):
        assert await poller(engine, settings, clock)() == 0
    assert "reading bounces failed" in caplog.text and wrong.password not in caplog.text


def test_the_mailbox_url_is_taken_apart_and_shown_without_its_password() -> None:
    box = parse_imap_url("imaps://bounce%2Bbox:s3cr%2Ft@mail.example.com/Bounces")
    assert (box.tls, box.host, box.port, box.user, box.password, box.mailbox) == (
        True, "mail.example.com", 993, "bounce+box", "s3cr/t", "Bounces")
    assert box.safe == "imaps://bounce+box@mail.example.com:993/Bounces"
    assert "s3cr" not in repr(box)
    assert parse_imap_url("imap://u:p@h").port == 143
    assert parse_imap_url("imap://u:p@h").mailbox == "INBOX"
    for bad in ("http://u:p@h/INBOX", "imap://h/INBOX", "imap://u:p@h:99999/"):
        with pytest.raises(ValueError):
            parse_imap_url(bad)


async def test_breach_bounces_poll_once(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, settings: Settings, imap_server: ImapServer) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    imap_server.append(mailed(ana, "hard"))
    breach = Breach(settings.model_copy(update={"bounce_address": BOUNCES,
                                                "bounce_imap_url": imap_server.url}), clock)

    done = await asyncio.to_thread(breach, "bounces", "poll", "--once", user=None)

    assert done.stdout.strip() == "1 messages read: 1 bounced"
    assert [d.state for d in await deliveries(engine)] == ["bounced", "sent"]
    assert imap_server.unseen() == []


async def test_breach_bounces_poll_needs_a_mailbox(settings: Settings, clock: FixedClock
                                                   ) -> None:
    breach = Breach(settings.model_copy(update={"bounce_address": BOUNCES}), clock)
    assert await asyncio.to_thread(breach.error, "bounces", "poll", "--once", user=None) == (
        "breach: error: BREACH_BOUNCE_IMAP_URL is not set (imaps://user:password@host/INBOX)")


async def test_the_scheduler_polls_the_mailbox_only_when_one_is_set(
        engine: AsyncEngine, clock: FixedClock, settings: Settings,
        imap_server: ImapServer) -> None:
    templates = renderer(REPOSITORY / "templates")
    transport = CaptureTransport(engine, clock)
    plain = jobs(engine, settings, clock, templates, transport, worker="t")
    assert "bounces" not in [job.name for job in plain]
    tracked = settings.model_copy(update={"bounce_address": BOUNCES,
                                          "bounce_imap_url": imap_server.url,
                                          "bounce_imap_seconds": 30})
    [job] = [job for job in jobs(engine, tracked, clock, templates, transport, worker="t")
             if job.name == "bounces"]
    assert job.every_seconds == 30
    imap_server.append(NOT_A_BOUNCE)
    assert await job.run() == 1
    assert imap_server.unseen() == []

