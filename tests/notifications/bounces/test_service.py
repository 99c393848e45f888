"""A bounce applied to the delivery its return path names: hard, soft, unreadable, forged,
unknown — on real databases, with the outbox's own deliveries (sent through the capture).

RFC 3464 §2.3.3 (Action): "failed" means the message could not be delivered ("delayed",
that the reporting server keeps trying, is no failure: see reading.py); RFC 3463 §3.1: a
status class of 5 is a permanent failure, 4 a persistent transient one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.timeline.service import verify
from notifications.bounces.models import RAW_LIMIT
from notifications.bounces.service import Recorded, Source, record_bounce
from notifications.delivery.return_paths import return_path
from notifications.delivery.rules import Policy
from tests.factories import Person, dispatcher
from tests.notifications.bounces.support import (
    BOUNCES,
    NOT_A_BOUNCE,
    SECRET,
    attempts,
    bounce_about,
    bounce_events,
    deliveries,
    delivery,
    dsn,
    notification_of,
    path_of,
    reports,
    sent_notice,
)


async def record(engine: AsyncEngine, clock: FixedClock, raw: bytes, recipients: list[str],
                 source: Source = "smtp") -> Recorded:
    return await record_bounce(engine, raw, recipients=recipients, source=source,
                               bounce_address=BOUNCES, secret=SECRET, clock=clock)


async def test_a_hard_bounce_ends_the_delivery_as_bounced_with_its_log_and_timeline(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, ben = await sent_notice(client, people, engine, clock)
    clock.advance(timedelta(minutes=20))
    raw = bounce_about(ana)

    done = await record(engine, clock, raw, [path_of(ana)])

    assert (done.outcome, done.delivery_id, done.kind, done.status) == (
        "bounced", ana.id, "hard", "5.1.1")
    after = await delivery(engine, ana.id)
    assert after.state == "bounced" and after.ended_at == clock.now()
    assert (after.last_reply or "").startswith("bounced: 5.1.1 550 5.1.1")
    assert "User unknown" in (after.last_reply or "")
    log = await attempts(engine, ana.id)
    assert [a.outcome for a in log] == ["sent", "bounced"]
    assert log[-1].reply == after.last_reply and log[-1].at == clock.now()
    assert (await delivery(engine, ben.id)).state == "sent"  # the other one is untouched
    [report] = await reports(engine)
    assert (report.id, report.delivery_id, report.source, report.kind, report.status,
            report.parsed, report.raw, report.size) == (
        done.report_id, ana.id, "smtp", "hard", "5.1.1", True, raw, len(raw))
    notification = await notification_of(engine, ana)
    [(chain, payload)] = await bounce_events(engine)
    assert chain == str(notification.incident_id)
    assert payload == {"delivery": ana.id, "notification": notification.id,
                       "report": report.id, "kind": "hard", "status": "5.1.1",
                       "state": "bounced"}
    assert "@" not in str(payload)  # ids only: no address on the timeline
    async with session_factory(engine)() as db:
        assert (await verify(db, chain)).ok


async def test_a_bounce_read_from_a_mailbox_is_matched_by_the_address_it_was_delivered_to(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    # A mailbox server lowercases the local part and says where it delivered the bounce.
    raw = dsn(to="Example GmbH <privacy@example.com>", recipient="ana@example.org",
              kind="hard", message_id=ana.message_id, delivered_to=path_of(ana).upper())

    done = await record(engine, clock, raw, [], source="imap")

    assert (done.outcome, done.delivery_id) == ("bounced", ana.id)
    assert [r.source for r in await reports(engine)] == ["imap"]


async def test_a_soft_bounce_tries_the_delivery_again_on_the_outboxs_backoff(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    assert (await notification_of(engine, ana)).status == "done"
    clock.advance(timedelta(minutes=5))
    raw = bounce_about(ana, "soft")

    done = await record(engine, clock, raw, [path_of(ana)])

    assert (done.outcome, done.kind, done.status) == ("retry", "soft", "4.2.2")
    after = await delivery(engine, ana.id)
    # the outbox's backoff after the first attempt: the first retry's wait (1 minute)
    assert after.state == "retry" and after.ended_at is None
    assert after.next_attempt_at == clock.now() + Policy().first_retry
    assert (after.last_reply or "").startswith("bounced: 4.2.2")
    assert [a.outcome for a in await attempts(engine, ana.id)] == ["sent", "retry"]
    # the notification sends again, so that the outbox claims the retry
    assert (await notification_of(engine, ana)).status == "sending"
    [(_, payload)] = await bounce_events(engine)
    assert (payload["kind"], payload["status"], payload["state"]) == ("soft", "4.2.2", "retry")
    assert payload["notification_sending_again"] is True

    clock.advance(timedelta(minutes=2))
    assert await dispatcher(engine, clock).run_once() == 1
    resent = await delivery(engine, ana.id)
    assert resent.state == "sent" and resent.attempts == 2
    assert (await notification_of(engine, ana)).status == "done"


async def test_a_soft_bounce_after_the_give_up_time_fails_the_delivery(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    clock.advance(timedelta(days=400))  # far past any deadline of the notice
    raw = bounce_about(ana, "soft")

    done = await record(engine, clock, raw, [path_of(ana)])

    assert done.outcome == "failed"
    after = await delivery(engine, ana.id)
    assert after.state == "failed" and after.ended_at == clock.now()
    assert (after.last_reply or "").startswith("gave up at ")
    assert "bounced: 4.2.2" in (after.last_reply or "")
    assert (await notification_of(engine, ana)).status == "done"
    [(_, payload)] = await bounce_events(engine)
    assert payload["state"] == "failed"


async def test_a_second_bounce_for_a_bounced_delivery_is_kept_and_changes_nothing(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana)
    assert (await record(engine, clock, raw, [path_of(ana)])).outcome == "bounced"
    first = await delivery(engine, ana.id)
    clock.advance(timedelta(hours=1))

    again = await record(engine, clock, raw, [path_of(ana)])
    soft = await record(engine, clock, bounce_about(ana, "soft"), [path_of(ana)])

    assert (again.outcome, soft.outcome) == ("unchanged", "unchanged")
    assert len(await reports(engine)) == 3
    after = await delivery(engine, ana.id)
    assert (after.state, after.ended_at, after.last_reply) == (
        "bounced", first.ended_at, first.last_reply)
    assert len(await bounce_events(engine)) == 1
    assert [a.outcome for a in await attempts(engine, ana.id)] == ["sent", "bounced"]


async def test_an_unreadable_bounce_for_a_known_delivery_is_kept_unparsed(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)

    with caplog.at_level(logging.WARNING, logger="breachdesk.bounces"):
        done = await record(engine, clock, NOT_A_BOUNCE, [path_of(ana)])

    assert (done.outcome, done.delivery_id, done.kind) == ("unparsed", ana.id, None)
    [report] = await reports(engine)
    assert (report.parsed, report.kind, report.delivery_id, report.raw) == (
        False, None, ana.id, NOT_A_BOUNCE)
    assert (await delivery(engine, ana.id)).state == "sent"
    assert await bounce_events(engine) == []
    assert f"delivery {ana.id} could not be read" in caplog.text
    assert "@" not in caplog.text


async def test_a_bounce_quoting_another_message_id_is_dropped_as_forged(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    ana, ben = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana, quoting=ben.message_id)

    with caplog.at_level(logging.WARNING, logger="breachdesk.bounces"):
        done = await record(engine, clock, raw, [path_of(ana)])

    assert (done.outcome, done.delivery_id, done.report_id) == ("forged", ana.id, None)
    assert await reports(engine) == []
    assert [d.state for d in await deliveries(engine)] == ["sent", "sent"]
    assert f"names delivery {ana.id} but quotes another of our Message-IDs" in caplog.text
    assert "@" not in caplog.text  # no address in the log


async def test_a_bounce_quoting_a_message_id_the_relay_gave_is_applied(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    """Some relays give each message a Message-ID of their own; the bounce quotes that one.
    The return path's MAC still names the delivery."""
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana, quoting="<0100018c2f3a-4b1e-9d2a@email.amazonses.com>")

    done = await record(engine, clock, raw, [path_of(ana)])

    assert (done.outcome, done.delivery_id) == ("bounced", ana.id)
    assert [d.state for d in await deliveries(engine)] == ["bounced", "sent"]


@pytest.mark.parametrize("case", ["wrong key", "no such delivery", "not ours", "garbage"])
async def test_a_bounce_naming_no_delivery_of_ours_is_dropped_with_a_warning(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, caplog: pytest.LogCaptureFixture, case: str) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    assert ana.id is not None
    to = {"wrong key": return_path(ana.id, bounce_address=BOUNCES, secret="another key"),
          "no such delivery": return_path(987654, bounce_address=BOUNCES, secret=SECRET),
          "not ours": "postmaster@example.com", "garbage": path_of(ana)}[case]
    raw = (b"\x00\xff\xfe" * 1000 if case == "garbage"
           else dsn(to=to, recipient="ana@example.org", kind="hard", message_id=ana.message_id))
    recipients = [] if case == "garbage" else [to]

    with caplog.at_level(logging.WARNING, logger="breachdesk.bounces"):
        done = await record(engine, clock, raw, recipients)

    assert done.outcome == "unknown" and not done.kept
    assert await reports(engine) == []
    assert [d.state for d in await deliveries(engine)] == ["sent", "sent"]
    assert "dropped" in caplog.text and "@" not in caplog.text
    if case == "no such delivery":
        assert "delivery 987654, which does not exist" in caplog.text


async def test_a_bounce_without_a_quoted_message_id_is_taken_on_its_return_path(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = dsn(to=path_of(ana), recipient="ana@example.org", kind="hard", message_id=None)

    assert (await record(engine, clock, raw, [path_of(ana)])).outcome == "bounced"


async def test_only_the_first_mebibyte_of_a_large_bounce_is_kept(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana) + b"x" * (2 * RAW_LIMIT)

    assert (await record(engine, clock, raw, [path_of(ana)])).outcome == "bounced"

    [report] = await reports(engine)
    assert report.size == len(raw) and report.raw == raw[:RAW_LIMIT]


async def test_without_a_bounce_address_nothing_is_tracked(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    raw = bounce_about(ana)

    done = await record_bounce(engine, raw, recipients=[path_of(ana)], source="smtp",
                               bounce_address="", secret=SECRET, clock=clock)

    assert done.outcome == "unknown"
    assert await reports(engine) == []
