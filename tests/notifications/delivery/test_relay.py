"""The relay fails and comes back: deliveries that waited for it go out within seconds of
its return (a probe, not the backoff); meanwhile every page tells those who can act, and
the escalation about the failure takes the fallback relay, not the failing one."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock, SystemClock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import REPOSITORY
from notifications.delivery.mailer import pool_from_url
from notifications.delivery.outbox import RELAY_UNREACHABLE, Dispatcher
from notifications.drafting.models import Notification
from notifications.drafting.render import renderer
from tests.factories import Person, sending
from tests.notifications.delivery.processes import SENDER, deliveries, environment, start, until
from tests.notifications.reminders.samples import tick
from tests.sessions import Browser, signed_in
from tests.smtp_server import SmtpServer, unused_port

RESUMES_WITHIN = 10.0
"""Seconds from the relay's return to the last waiting message sent: a probe every 5 s
(the default), the next tick, the sending."""


@pytest.mark.parametrize("lane", ["sqlite"])
async def test_after_an_outage_sending_resumes_within_seconds_not_after_the_backoff(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    addresses = [f"p{n}@example.com" for n in range(20)]
    await sending(client, people, addresses)
    async with session_factory(engine)() as db, transaction(db):  # sent now, by the wall clock
        await db.exec(update(Notification).values(sent_at=SystemClock().now()))
    smtp_server.stop()  # the relay is down: connections are refused
    env = environment(database_url, tmp_path / "var", smtp_server)
    worker = await start(env, "outbox", "run")
    try:
        async def all_waiting_for_the_relay() -> bool:
            rows = (await deliveries(engine)).values()
            return all(d.state == "retry" and (d.last_reply or "").startswith(RELAY_UNREACHABLE)
                       for d in rows)

        try:
            await until(all_waiting_for_the_relay, 30, "every delivery waiting for the relay",
                        worker)
        except AssertionError:
            raise AssertionError([(d.state, d.last_reply, d.attempts)
                                  for d in (await deliveries(engine)).values()]) from None
        rows = (await deliveries(engine)).values()
        # The backoff alone would wait a minute at least.
        assert min(d.next_attempt_at for d in rows) > SystemClock().now() + timedelta(seconds=40)

        smtp_server.start()  # the relay is back, on the same port
        took = await until(lambda: len(smtp_server.messages) >= len(addresses),
                           RESUMES_WITHIN, "every waiting message sent", worker)
        assert took <= RESUMES_WITHIN
        assert await until(lambda: worker.logged("the mail relay answers again"), 5,
                           "the return said", worker) >= 0
    finally:
        await worker.stop(signal.SIGTERM)
    assert {m.rcpt_tos[0] for m in smtp_server.messages} == set(addresses)


async def fail_three_times(dispatcher: Dispatcher, clock: FixedClock) -> None:
    """Every attempt refused by the relay, three times over (the escalation's threshold);
    the clock stops before the next retry is due."""
    for attempt in range(3):
        if attempt:
            clock.advance(timedelta(minutes=5))
        assert await dispatcher.run_once() > 0


def banner(page: httpx.Response) -> bool:
    assert page.status_code == 200, page.text
    return 'id="delivery-trouble"' in page.text


async def test_while_deliveries_fail_every_page_tells_those_who_can_act(
        app: Litestar, client: httpx.AsyncClient, people: dict[str, Person],
        engine: AsyncEngine, clock: FixedClock, smtp_server: SmtpServer, approver: Browser,
        responder: Browser, auditor: Browser) -> None:
    reference = await sending(client, people, ["anna@example.com", "ben@example.com"])
    assert not banner(await approver.client.get("/incidents"))
    down = pool_from_url(f"smtp://127.0.0.1:{unused_port()}", size=2, timeout=5)
    dispatcher = Dispatcher(engine, down, renderer(REPOSITORY / "templates"), clock=clock,
                            sender=SENDER, worker="w1")
    await fail_three_times(dispatcher, clock)
    await down.close()

    page = await approver.client.get(f"/incidents/{reference}")
    assert banner(page)
    assert "2 messages waiting because the mail relay cannot be reached" in page.text
    assert "Connect call failed" in page.text or "refused" in page.text.lower()
    assert banner(await approver.client.get("/reminders"))
    async for admin in signed_in(app, people["admin"]):
        assert banner(await admin.client.get("/incidents"))
    # Neither the responder nor the auditor can fix the relay or approve another way.
    assert not banner(await responder.client.get("/incidents"))
    assert not banner(await auditor.client.get("/incidents"))

    # The relay answers: what waited goes out, and the banner is gone.
    up = pool_from_url(smtp_server.url, size=2, timeout=5)
    sender = Dispatcher(engine, up, renderer(REPOSITORY / "templates"), clock=clock,
                        sender=SENDER, worker="w2", probe_every=0)
    try:
        assert await sender.relay_check() == 2  # the probe brought both forward
        assert await sender.run_once() == 2
    finally:
        await up.close()
    assert not banner(await approver.client.get("/incidents"))


async def test_the_escalation_about_failing_delivery_takes_the_fallback_relay(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, smtp_server: SmtpServer) -> None:
    addresses = ["anna@example.com", "ben@example.com"]
    await sending(client, people, addresses)
    down = pool_from_url(f"smtp://127.0.0.1:{unused_port()}", size=2, timeout=5)
    fallback = pool_from_url(smtp_server.url, size=1, timeout=5)
    dispatcher = Dispatcher(engine, down, renderer(REPOSITORY / "templates"), clock=clock,
                            sender=SENDER, worker="w1", fallback=fallback)
    try:
        await fail_three_times(dispatcher, clock)
        assert await tick(engine, clock, "w1") >= 1  # the escalation: deliveries failing
        while await dispatcher.run_once():
            pass
    finally:
        await down.close()
        await fallback.close()
    carried = {m.rcpt_tos[0]: m.parsed() for m in smtp_server.messages}
    # Through the fallback: the escalation to the admin and the approver, never the notices.
    assert set(carried) == {people["admin"].email, people["approver"].email}
    assert all("fail" in str(message["Subject"]).lower() for message in carried.values())
    rows = await deliveries(engine)
    notices = [d for d in rows.values() if d.address in addresses]
    assert {d.state for d in notices} == {"retry"}
    assert all((d.last_reply or "").startswith(RELAY_UNREACHABLE) for d in notices)
