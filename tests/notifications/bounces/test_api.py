"""The bounce reports over the API: a notification's reports newest first, paged like the
incident list; who sees the recipients; the kept message for a role that may read personal
data only, its taking on the timeline; unknown things as RFC 9457 problems.

RFC 3464 §2.3.3: a report's "failed" action names a message that could not be delivered;
RFC 3463 §3.1: status class 5 is a permanent failure (hard), 4 a persistent transient one
(soft). The diagnostic is the remote server's own text (RFC 3464 §2.3.6), which usually
quotes the recipient's address: personal data.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.timeline.service import verify
from notifications.bounces.reports import ADDRESS_MASK, masked
from notifications.bounces.service import record_bounce
from notifications.drafting.models import Delivery
from tests.factories import Person, sending
from tests.notifications.bounces.support import (
    ADDRESSES,
    BOUNCES,
    NOT_A_BOUNCE,
    SECRET,
    bounce_about,
    deliveries,
    events,
    path_of,
    sent,
)


async def bounced_notice(client: httpx.AsyncClient, people: dict[str, Person],
                         engine: AsyncEngine, clock: FixedClock
                         ) -> tuple[str, int, list[Delivery], list[bytes]]:
    """A notice sent to ana and ben, then three reports, a minute apart: ana's hard bounce,
    ben's soft one, and a message about ben's delivery nobody could read. The incident's
    reference, the notification's id, the deliveries and the three messages in order."""
    reference, (ana, ben) = await sent(client, people, engine, clock, ADDRESSES)
    messages = [bounce_about(ana), bounce_about(ben, "soft"), NOT_A_BOUNCE]
    for raw, about in zip(messages, (ana, ben, ben), strict=True):
        clock.advance(timedelta(minutes=1))
        recorded = await record_bounce(engine, raw, recipients=[path_of(about)], source="smtp",
                                       bounce_address=BOUNCES, secret=SECRET, clock=clock)
        assert recorded.kept, recorded
    return reference, ana.notification_id, [ana, ben], messages


def listing(reference: str, notification: int) -> str:
    """The API address of a notification's bounce reports."""
    return f"/api/v1/incidents/{reference}/notifications/{notification}/bounces"


async def downloads(engine: AsyncEngine) -> list[tuple[str, dict[str, object]]]:
    """Every `bounce_report_downloaded` event: (who took the report, the payload)."""
    return [(event.actor, payload)
            for event, payload in await events(engine, "bounce_report_downloaded")]


async def test_a_notifications_bounces_are_listed_newest_first_with_the_recipient_for_a_responder(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, notification, (ana, ben), messages = await bounced_notice(
        client, people, engine, clock)
    url = listing(reference, notification)

    got = await client.get(url, headers=people["responder"].headers)

    assert got.status_code == 200, got.text
    page = got.json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)
    unread, soft, hard = page["items"]
    assert [b["delivery"] for b in page["items"]] == [ben.id, ben.id, ana.id]
    assert (hard["kind"], hard["status"], hard["parsed"], hard["source"]) == (
        "hard", "5.1.1", True, "smtp")
    assert (soft["kind"], soft["status"]) == ("soft", "4.2.2")
    assert (unread["kind"], unread["status"], unread["parsed"]) == (None, None, False)
    assert hard["address"] == "ana@example.org" and hard["name"] == "Person 0"
    assert hard["recipient"] == "p-0000" and soft["recipient"] == "p-0001"
    assert "ana@example.org" in hard["diagnostic"] and "User unknown" in hard["diagnostic"]
    assert (hard["size"], hard["kept"]) == (len(messages[0]), len(messages[0]))
    assert hard["received_at"] < soft["received_at"] < unread["received_at"]

    second = (await client.get(url, params={"limit": 1, "offset": 1},
                               headers=people["responder"].headers)).json()
    assert (second["total"], [b["id"] for b in second["items"]]) == (3, [soft["id"]])
    past = (await client.get(url, params={"offset": 3}, headers=people["responder"].headers))
    assert past.json()["items"] == [] and past.json()["total"] == 3


async def test_an_auditor_sees_the_bounces_without_any_address(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, notification, _, _ = await bounced_notice(client, people, engine, clock)

    got = await client.get(listing(reference, notification), headers=people["auditor"].headers)

    assert got.status_code == 200, got.text
    items = got.json()["items"]
    assert [b["kind"] for b in items] == [None, "soft", "hard"]
    assert all(b["address"] is None and b["name"] is None for b in items)
    assert "@" not in got.text  # no address anywhere, the diagnostics' included
    hard = items[2]
    assert hard["status"] == "5.1.1" and ADDRESS_MASK in hard["diagnostic"]
    assert "User unknown" in hard["diagnostic"]


async def test_the_kept_report_is_served_to_a_responder_and_its_taking_is_on_the_timeline(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, notification, (ana, _), messages = await bounced_notice(
        client, people, engine, clock)
    listed = (await client.get(listing(reference, notification),
                               headers=people["responder"].headers)).json()["items"]
    hard = listed[2]

    got = await client.get(f"/api/v1/bounces/{hard['id']}/raw",
                           headers=people["responder"].headers)

    assert got.status_code == 200, got.text
    assert got.content == messages[0]
    assert got.headers["content-type"].startswith("message/rfc822")
    assert got.headers["content-disposition"] == f'attachment; filename="bounce-{hard["id"]}.eml"'
    digest = hashlib.sha256(messages[0]).hexdigest()
    assert got.headers["x-bounce-sha256"] == digest
    [(actor, payload)] = await downloads(engine)
    assert actor == people["responder"].email
    assert payload == {"report": hard["id"], "delivery": ana.id, "notification": notification,
                       "sha256": digest}
    incident = (await client.get(f"/api/v1/incidents/{reference}",
                                 headers=people["auditor"].headers)).json()
    async with session_factory(engine)() as db:
        assert (await verify(db, incident["id"])).ok


async def test_the_kept_report_is_refused_to_an_auditor(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, notification, _, _ = await bounced_notice(client, people, engine, clock)
    listed = (await client.get(listing(reference, notification),
                               headers=people["auditor"].headers)).json()["items"]

    refused = await client.get(f"/api/v1/bounces/{listed[0]['id']}/raw",
                               headers=people["auditor"].headers)

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await downloads(engine) == []
    anonymous = await client.get(f"/api/v1/bounces/{listed[0]['id']}/raw")
    assert anonymous.status_code == 401


async def test_unknown_incidents_notifications_and_reports_are_problems(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, notification, _, _ = await bounced_notice(client, people, engine, clock)
    headers = people["responder"].headers
    for url, detail in [
        (listing("BR-2026-9999", notification), "no incident BR-2026-9999"),
        (listing(reference, notification + 100),
         f"{reference} has no notification {notification + 100}"),
        ("/api/v1/bounces/9999/raw", "no bounce report 9999"),
    ]:
        got = await client.get(url, headers=headers)
        assert got.status_code == 404, (url, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
        problem = got.json()
        assert problem["status"] == 404 and detail in problem["detail"], problem
    malformed = await client.get(listing(reference, notification), params={"limit": 0},
                                 headers=headers)
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")


async def test_a_notification_with_no_bounce_lists_none(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference = await sending(client, people, ["carla@example.org"])
    [carla] = await deliveries(engine)

    got = await client.get(listing(reference, carla.notification_id),
                           headers=people["auditor"].headers)

    assert got.status_code == 200
    assert got.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_addresses_are_masked_in_a_diagnostic_shown_without_personal_data() -> None:
    said = "smtp; 550 5.1.1 <Ana.K@Example.org>: Recipient address rejected: user ana.k unknown"
    assert masked(said, ["ana.k@example.org"]) == (
        f"smtp; 550 5.1.1 <{ADDRESS_MASK}>: Recipient address rejected: user {ADDRESS_MASK} "
        "unknown")
    # A short local part alone is left as it is: it would mask ordinary words.
    assert masked("550 no such user: bob", ["bob@example.org"]) == "550 no such user: bob"
    assert masked(None, ["x@example.org"]) is None
