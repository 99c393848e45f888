"""Bounces as mail servers send them (RFC 3464 delivery status notifications), and a notice
whose deliveries were sent, for the bounce tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.timeline.models import TimelineEvent
from incident.timeline.service import payload_of
from notifications.bounces.models import BounceReport
from notifications.delivery.return_paths import return_path
from notifications.drafting.models import Delivery, DeliveryAttempt, Notification
from tests.conftest import SECRET_KEY
from tests.factories import Person, dispatcher, sending

BounceKind = Literal["hard", "soft"]
BOUNCES = "bounces@example.com"
SECRET = SECRET_KEY
ADDRESSES = ["ana@example.org", "ben@example.org"]


def path_of(delivery: Delivery) -> str:
    """The delivery's return path, as the outbox sends it."""
    assert delivery.id is not None
    return return_path(delivery.id, bounce_address=BOUNCES, secret=SECRET)


def dsn(*, to: str, recipient: str, kind: BounceKind, message_id: str | None,
        delivered_to: str | None = None, status: str | None = None,
        diagnostic: str | None = None) -> bytes:
    """A delivery status notification as Postfix writes one: hard (failed, 5.1.1 user
    unknown) or soft (failed with 4.2.2, mailbox full), quoting the original's headers."""
    hard = kind == "hard"
    status = status or ("5.1.1" if hard else "4.2.2")
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown"
        if hard else f"smtp; 452 {status} <{recipient}>: Mailbox full")
    boundary = "=_bounce_boundary_42"
    quoted = f"Message-ID: {message_id}\r\n" if message_id else ""
    lines = [
        *([f"Delivered-To: {delivered_to}"] if delivered_to else []),
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        f"To: {to}",
        "Subject: Undelivered Mail Returned to Sender" if hard
        else "Subject: Delayed Mail (still being retried)",
        "Date: Tue, 01 Dec 2026 10:00:00 +0000",
        "Message-ID: <20261201100000.ABC123@mx.example.net>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        "This is a MIME-encapsulated message.",
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not be delivered."
        if hard else "Your message could not be delivered yet; delivery will be retried.",
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.net",
        "Arrival-Date: Tue, 01 Dec 2026 09:59:58 +0000",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Recipient: rfc822;{recipient}",
        "Action: failed",
        f"Status: {status}",
        "Remote-MTA: dns; mail.example.org",
        f"Diagnostic-Code: {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        "From: Example GmbH <privacy@example.com>",
        f"To: {recipient}",
        "Subject: Important information about your data",
        quoted.rstrip("\r\n") if quoted else "X-Nothing: quoted",
        "",
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode()


def bounce_about(about: Delivery, kind: BounceKind = "hard", *, quoting: str | None = None,
                 delivered_to: str | None = None) -> bytes:
    """`dsn` about one delivery, sent to its return path: its own Message-ID quoted, unless
    `quoting` names another."""
    assert about.address is not None
    return dsn(to=path_of(about), recipient=about.address, kind=kind,
               message_id=quoting or about.message_id, delivered_to=delivered_to)


NOT_A_BOUNCE = (b"From: someone@example.net\r\nTo: bounces@example.com\r\n"
                b"Subject: hello\r\n\r\nJust saying hello, nothing about any delivery.\r\n")


async def sent(client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
               clock: FixedClock, addresses: Sequence[str] = ADDRESSES
               ) -> tuple[str, list[Delivery]]:
    """A notice to `addresses`, sent through the mail capture: the incident's reference and
    the deliveries, all sent."""
    reference = await sending(client, people, list(addresses))
    assert await dispatcher(engine, clock).run_once() == len(addresses)
    found = await deliveries(engine)
    assert [d.state for d in found] == ["sent"] * len(addresses)
    return reference, found


async def sent_notice(client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
                      clock: FixedClock, addresses: Sequence[str] = ADDRESSES) -> list[Delivery]:
    """The deliveries of `sent`."""
    return (await sent(client, people, engine, clock, addresses))[1]


async def deliveries(engine: AsyncEngine) -> list[Delivery]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def delivery(engine: AsyncEngine, ident: int | None) -> Delivery:
    async with session_factory(engine)() as db:
        found = await db.get(Delivery, ident)
        assert found is not None
        return found


async def notification_of(engine: AsyncEngine, found: Delivery) -> Notification:
    async with session_factory(engine)() as db:
        notification = await db.get(Notification, found.notification_id)
        assert notification is not None
        return notification


async def reports(engine: AsyncEngine) -> list[BounceReport]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(BounceReport).order_by(col(BounceReport.id)))).all())


async def attempts(engine: AsyncEngine, ident: int | None) -> list[DeliveryAttempt]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == ident).order_by(col(DeliveryAttempt.id)))).all())


async def events(engine: AsyncEngine, kind: str) -> list[tuple[TimelineEvent, dict[str, object]]]:
    """Every timeline event of `kind`, oldest first, with its payload."""
    async with session_factory(engine)() as db:
        found = (await db.exec(select(TimelineEvent).where(
            TimelineEvent.kind == kind).order_by(col(TimelineEvent.id)))).all()
        return [(event, payload_of(event)) for event in found]


async def bounce_events(engine: AsyncEngine) -> list[tuple[str, dict[str, object]]]:
    """Every `delivery_bounced` event: (its chain, its payload)."""
    return [(event.chain, payload) for event, payload in await events(engine, "delivery_bounced")]
