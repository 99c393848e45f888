"""The Bounces part of a notification's page, over HTTP with a signed-in browser's cookie:
the reports counted by kind and listed newest first; recipients and the link to each kept
report only for a role that may read personal data.

RFC 3463 §3.1: status 5.x.x is a permanent failure (hard), 4.x.x a persistent transient one
(soft); a message that is no delivery status report (RFC 3464 §2) is counted as unread.
"""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from notifications.bounces.reports import ADDRESS_MASK
from tests.factories import Person, sending
from tests.notifications.bounces.support import deliveries
from tests.notifications.bounces.test_api import bounced_notice
from tests.sessions import Browser

SECTION = re.compile(r'<section aria-labelledby="bounces-heading" id="bounces".*?</section>',
                     re.DOTALL)
ROW = re.compile(r'<tr id="bounce-(\d+)" class="bounce kind-(\w+)">(.*?)</tr>', re.DOTALL)


def section_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = SECTION.search(page.text)
    assert found is not None, "no Bounces section"
    return found.group(0)


def counts_in(section: str) -> dict[str, int]:
    return {kind: int(count) for kind, count in re.findall(
        r'<li data-kind="(\w+)"><span class="count-state">\w+</span>: '
        r'<span class="count-value">(\d+)</span></li>', section)}


async def bounces_seen_by(browser: Browser, client: httpx.AsyncClient,
                          people: dict[str, Person], engine: AsyncEngine, clock: FixedClock
                          ) -> tuple[str, list[bytes]]:
    """The Bounces section `browser` sees for the notification of `bounced_notice` (one report
    of each kind), and the reports' messages."""
    reference, notification, _, messages = await bounced_notice(client, people, engine, clock)
    section = section_of(await browser.client.get(
        f"/incidents/{reference}/notifications/{notification}"))
    assert counts_in(section) == {"hard": 1, "soft": 1, "unread": 1}
    return section, messages


async def test_a_responder_sees_the_bounces_with_recipients_and_their_reports(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, responder: Browser) -> None:
    section, messages = await bounces_seen_by(responder, client, people, engine, clock)

    assert '<th scope="col">Recipient</th>' in section and '<caption>' in section
    rows = ROW.findall(section)
    assert [kind for _, kind, _ in rows] == ["unread", "soft", "hard"]  # newest first
    hard_id, _, hard = rows[2]
    assert "<code>5.1.1</code>" in hard and "User unknown" in hard
    assert "ana@example.org" in hard and "Person 0" in hard
    assert "<code>4.2.2</code>" in rows[1][2] and "not understood" in rows[0][2]
    link = f'href="/api/v1/bounces/{hard_id}/raw"'
    assert link in hard
    # The link works with the page's own session.
    got = await responder.client.get(f"/api/v1/bounces/{hard_id}/raw")
    assert got.status_code == 200 and got.content == messages[0]


async def test_an_auditor_sees_the_bounces_without_recipients_or_reports(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, auditor: Browser) -> None:
    section, _ = await bounces_seen_by(auditor, client, people, engine, clock)

    assert len(ROW.findall(section)) == 3
    assert "@" not in section and ADDRESS_MASK in section
    assert '<th scope="col">Recipient</th>' not in section and "/raw" not in section
    assert "User unknown" in section and "<code>5.1.1</code>" in section


async def test_a_notification_with_no_bounce_has_no_bounces_section(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, responder: Browser) -> None:
    reference = await sending(client, people, ["carla@example.org"])
    [carla] = await deliveries(engine)

    page = await responder.client.get(
        f"/incidents/{reference}/notifications/{carla.notification_id}")

    assert page.status_code == 200, page.text
    assert 'id="bounces"' not in page.text
