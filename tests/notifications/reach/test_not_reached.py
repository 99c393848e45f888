"""Nobody left unreached: a duty owed to people is met only when every person its notice
addresses was reached — by e-mail, or another way that was recorded — and a hard bounce
after the fact reopens it.

GDPR Art. 34(1): the controller "shall communicate the personal data breach to the data
subject"; Art. 34(3)(c): where that "would involve disproportionate effort", "there shall
instead be a public communication or similar measure whereby the data subjects are informed
in an equally effective manner"."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import REPOSITORY
from notifications.bounces.service import record_bounce
from notifications.delivery.models import CapturedMessage
from notifications.delivery.outbox import CaptureTransport, Dispatcher
from notifications.drafting.models import Delivery
from notifications.drafting.render import renderer
from notifications.reminders import service as reminders
from tests.factories import SUBJECTS_HEADER, Person, dispatcher, sending
from tests.notifications.bounces.support import BOUNCES, SECRET, dsn, path_of, sent_notice
from tests.notifications.reach.support import SUBJECTS, duty, events, sent_to_three
from tests.notifications.reminders.samples import all_reminders
from tests.sessions import Browser


async def record(client: httpx.AsyncClient, person: Person, url: str,
                 body: dict[str, Any]) -> httpx.Response:
    """`person` records how people the notice at `url` did not reach were reached."""
    return await client.post(f"{url}/other-contacts", json=body, headers=person.headers)


async def test_a_person_without_an_address_keeps_the_duty_pending_with_the_gap_shown(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)

    row = await duty(client, people["responder"], reference)
    assert row["status"] == "pending" and row["met_at"] is None
    [missing] = await events(engine, "people_not_reached")
    assert missing["ref"] == SUBJECTS and missing["not_reached"] == 1
    assert missing["why"] == {"no_address": 1, "refused": 0, "gave_up": 0, "bounced": 0}
    assert missing["reached"] == {"email": 2}
    assert "Carla" not in json.dumps(missing)
    assert await events(engine, "obligation_met") == []

    gap = await client.get(f"{url}/not-reached", headers=people["responder"].headers)
    assert gap.status_code == 200, gap.text
    body = gap.json()
    [subjects] = body["duties"]
    assert subjects["reached"] == {"email": 2} and subjects["not_reached"] == 1
    assert subjects["why"]["no_address"] == 1 and subjects["public_communication_allowed"]
    [carla] = body["people"]
    assert (carla["external_id"], carla["name"], carla["why"], carla["locale"]) == (
        "c-3", "Carla Ruiz", "no_address", "es")
    assert carla["reached"] is False and carla["contacts"] == []


async def test_the_people_are_listed_only_to_a_role_that_may_read_personal_data(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    _, url = await sent_to_three(client, people, engine, clock)
    gap = await client.get(f"{url}/not-reached", headers=people["auditor"].headers)
    assert gap.status_code == 200, gap.text
    assert gap.json()["people"] is None and gap.json()["duties"][0]["not_reached"] == 1
    assert "Carla" not in gap.text and "c-3" not in gap.text
    refused = await record(client, people["auditor"], url, {
        "channel": "postal", "at": "2026-03-10T12:00:00Z", "all_not_reached": True})
    assert refused.status_code == 403, refused.text


async def test_a_postal_letter_recorded_meets_the_duty_when_the_letter_was_posted(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    [carla] = (await client.get(f"{url}/not-reached",
                                headers=people["responder"].headers)).json()["people"]
    clock.advance(timedelta(days=2))
    posted = clock.now() - timedelta(hours=3)

    done = await record(client, people["responder"], url, {
        "channel": "postal", "at": posted.isoformat(), "deliveries": [carla["delivery_id"]],
        "note": "Letter posted first class to the address on file"})

    assert done.status_code == 201, done.text
    body = done.json()
    assert body["people"] == 1 and body["channel"] == "postal" and body["basis"] is None
    assert body["duties"][0]["reached"] == {"email": 2, "postal": 1}
    assert body["duties"][0]["not_reached"] == 0 and body["duties"][0]["status"] == "met"
    row = await duty(client, people["responder"], reference)
    assert row["status"] == "met" and row["met_at"].startswith(posted.isoformat()[:19])
    assert "2 by e-mail" in row["how"] and "1 by postal letter" in row["how"]
    [recorded] = await events(engine, "people_reached_otherwise")
    assert (recorded["channel"], recorded["people"], recorded["note"]) == ("postal", 1, True)
    assert "Carla" not in json.dumps(recorded) and "first class" not in json.dumps(recorded)
    [met] = await events(engine, "obligation_met")
    assert met["reached"] == {"email": 2, "postal": 1}
    # Nobody is left: the list is empty, and recording again is refused.
    again = await record(client, people["responder"], url, {
        "channel": "call", "at": posted.isoformat(), "all_not_reached": True})
    assert again.status_code == 409, again.text
    everyone = (await client.get(f"{url}/not-reached?missing_only=false",
                                 headers=people["responder"].headers)).json()["people"]
    assert [(p["external_id"], p["reached"]) for p in everyone] == [("c-3", True)]
    assert everyone[0]["contacts"][0]["note"].startswith("Letter posted")


async def test_a_letter_returned_is_kept_and_the_person_is_still_not_reached(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    failed = await record(client, people["responder"], url, {
        "channel": "postal", "outcome": "failed", "at": clock.now().isoformat(),
        "all_not_reached": True, "note": "Returned: addressee unknown"})
    assert failed.status_code == 201, failed.text
    assert failed.json()["duties"][0]["not_reached"] == 1
    assert (await duty(client, people["responder"], reference))["status"] == "pending"
    assert [e["outcome"] for e in await events(engine, "other_contact_failed")] == ["failed"]


async def test_a_public_communication_needs_an_approver_and_the_condition_that_held(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    order: dict[str, Any] = {"channel": "public", "at": clock.now().isoformat(),
                             "all_not_reached": True,
                             "note": "Banner on the home page, in every customer language"}

    by_responder = await record(client, people["responder"], url, order)
    assert by_responder.status_code == 403, by_responder.text
    unnamed = await record(client, people["approver"], url, order)
    assert unnamed.status_code == 422, unnamed.text
    assert "GDPR Art. 34(3)(c)" in unnamed.text and "disproportionate effort" in unnamed.text

    done = await record(client, people["approver"], url, {**order, "conditions": {SUBJECTS: 0}})

    assert done.status_code == 201, done.text
    assert done.json()["basis"].startswith(f"{SUBJECTS}: GDPR Art. 34(3)(c), ")
    assert "public communication" in done.json()["basis"]
    row = await duty(client, people["responder"], reference)
    assert row["status"] == "met" and "1 by public communication" in row["how"]


async def test_the_public_communication_is_drafted_from_the_notice_in_each_language_missing(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    _, url = await sent_to_three(client, people, engine, clock)
    drafted = await client.get(f"{url}/not-reached/public-communication",
                               headers=people["auditor"].headers)
    assert drafted.status_code == 200, drafted.text
    body = drafted.json()
    assert body["basis"][SUBJECTS]["citation"] == "GDPR Art. 34(3)(c)"
    assert "disproportionate effort" in body["basis"][SUBJECTS]["conditions"][0]
    [spanish] = body["texts"]  # Carla, the only one not reached, reads Spanish
    assert (spanish["locale"], spanish["people"]) == ("es", 1)
    assert "(es) A laptop was stolen." in spanish["text"]
    assert "Carla" not in drafted.text and "Anna" not in drafted.text

    await record(client, people["responder"], url, {
        "channel": "call", "at": clock.now().isoformat(), "all_not_reached": True})
    again = await client.get(f"{url}/not-reached/public-communication",
                             headers=people["auditor"].headers)
    assert again.json()["texts"] == []


async def test_the_public_communication_reads_as_a_page_with_its_legal_basis(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, approver: Browser, auditor: Browser) -> None:
    """GDPR Art. 34(3)(c): where informing each person "would involve disproportionate
    effort", "a public communication or similar measure whereby the data subjects are
    informed in an equally effective manner": the page shows the notice's own text per
    language and the basis the law gives, for anyone who may read the incident."""
    _, url = await sent_to_three(client, people, engine, clock)
    page_url = url.removeprefix("/api/v1")
    notice = await approver.client.get(page_url)
    assert f'href="{page_url}/public-communication"' in notice.text
    assert "/not-reached/public-communication" not in notice.text  # the page, not the JSON

    page = await auditor.client.get(f"{page_url}/public-communication")

    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="public-people"' in text and "<strong>1</strong> person" in text
    assert "GDPR Art. 34(3)(c)" in text and "disproportionate effort" in text
    assert "equally effective manner" in text  # what it must consist of
    assert "<dt>Confidence</dt><dd>high</dd>" in text
    assert 'id="text-es"' in text and 'lang="es"' in text  # Carla reads Spanish
    assert "(es) A laptop was stolen." in text
    assert "Carla" not in text and "Anna" not in text  # addressed to no name
    missing = await auditor.client.get(f"{page_url.rsplit('/', 1)[0]}/99999/public-communication")
    assert missing.status_code == 404


async def test_a_record_names_only_people_the_notice_did_not_reach(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    _, url = await sent_to_three(client, people, engine, clock)
    async with session_factory(engine)() as db:
        anna = (await db.exec(select(Delivery).where(Delivery.recipient_key == "c-1"))).one()
    at = clock.now().isoformat()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"channel": "call", "at": at, "deliveries": [anna.id]}, 409, "did not end unreached"),
        ({"channel": "call", "at": at, "deliveries": [999_999]}, 422, "not deliveries of"),
        ({"channel": "call", "at": at}, 422, "exactly one of the two"),
        ({"channel": "call", "at": at, "deliveries": [anna.id], "all_not_reached": True}, 422,
         "exactly one of the two"),
        ({"channel": "call", "at": (clock.now() + timedelta(days=1)).isoformat(),
          "all_not_reached": True}, 422, "lies in the future"),
        ({"channel": "call", "at": "2020-01-01T00:00:00Z", "all_not_reached": True}, 422,
         "before the incident's awareness time"),
        ({"channel": "call", "at": at, "all_not_reached": True, "conditions": {SUBJECTS: 0}},
         422, "only a public communication"),
        ({"channel": "pigeon", "at": at, "all_not_reached": True}, 400, "channel"),
        ({"channel": "call", "at": at, "all_not_reached": True, "note": "x\u0000y"}, 400, "note"),
    ]
    for body, status, words in cases:
        refused = await record(client, people["responder"], url, body)
        assert refused.status_code == status, (body, refused.text)
        assert words in refused.text, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert await events(engine, "people_reached_otherwise") == []


async def test_a_hard_bounce_after_the_duty_was_met_reopens_it_until_the_person_is_reached(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    ana, _ = await sent_notice(client, people, engine, clock)
    [reference] = {e["reference"] for e in await events(engine, "incident_created")}
    assert (await duty(client, people["responder"], reference))["status"] == "met"
    clock.advance(timedelta(hours=1))

    bounced = await record_bounce(
        engine, dsn(to=path_of(ana), recipient="ana@example.org", kind="hard",
                    message_id=ana.message_id),
        recipients=[path_of(ana)], source="smtp", bounce_address=BOUNCES, secret=SECRET,
        clock=clock)

    assert bounced.outcome == "bounced"
    row = await duty(client, people["responder"], reference)
    assert row["status"] == "pending" and row["met_at"] is None
    [reopened] = await events(engine, "obligation_reopened")
    assert reopened["ref"] == SUBJECTS and reopened["was"] == "met"
    assert "hard bounce" in reopened["reason"]
    [missing] = await events(engine, "people_not_reached")
    assert missing["why"]["bounced"] == 1 and missing["reached"] == {"email": 1}

    url = f"/api/v1/incidents/{reference}/notifications/{ana.notification_id}"
    called = await record(client, people["responder"], url, {
        "channel": "call", "at": clock.now().isoformat(), "deliveries": [ana.id],
        "note": "Reached by phone"})
    assert called.status_code == 201, called.text
    row = await duty(client, people["responder"], reference)
    assert row["status"] == "met" and "1 by a call" in row["how"]


async def test_the_approvers_are_told_at_once_and_no_more_once_everyone_is_reached(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    _, url = await sent_to_three(client, people, engine, clock)
    await reminders.plan(engine, clock)
    await reminders.plan(engine, clock)
    [planned] = [r for r in await all_reminders(engine) if r.kind == "people_not_reached"]
    assert planned.detail == {"ref": SUBJECTS, "not_reached": 1, "total": 3}
    assert await reminders.fire(engine, clock, worker="w", message_domain="example.com",
                                base_url="https://breach.example.com") >= 1
    await Dispatcher(engine, CaptureTransport(engine, clock), renderer(REPOSITORY / "templates"),
                     clock=clock, sender="Breachdesk <breachdesk@example.com>",
                     worker="w").run_once()
    async with session_factory(engine)() as db:
        told = [m for m in (await db.exec(select(CapturedMessage))).all()
                if "not reached" in str(message_from_bytes(m.raw, policy=policy.default)[
                    "Subject"])]
    assert sorted(m.recipient for m in told) == sorted(
        [people["admin"].email, people["approver"].email])
    body = message_from_bytes(told[0].raw, policy=policy.default).get_body(("plain",))
    assert body is not None and "did not reach 1 of 3 people" in body.get_content()
    assert "Carla" not in body.get_content()

    # Once she is reached, the next day's escalation is planned no more.
    await record(client, people["responder"], url, {
        "channel": "call", "at": clock.now().isoformat(), "all_not_reached": True})
    clock.advance(timedelta(days=1))
    await reminders.plan(engine, clock)
    assert len([r for r in await all_reminders(engine) if r.kind == "people_not_reached"]) == 1


async def test_every_page_carries_the_banner_for_those_who_can_act(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, approver: Browser) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    page = await approver.client.get("/incidents")
    assert page.status_code == 200
    assert 'id="people-not-reached"' in page.text
    assert f"{reference}, {SUBJECTS}: 1 person" in page.text
    await record(client, people["responder"], url, {
        "channel": "postal", "at": clock.now().isoformat(), "all_not_reached": True})
    assert 'id="people-not-reached"' not in (await approver.client.get("/incidents")).text


async def test_the_letters_for_the_people_not_reached_come_as_csv_and_pdf(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    _, url = await sent_to_three(client, people, engine, clock)
    moved = (SUBJECTS_HEADER.rstrip("\n") + ",postal_address\n"
             'c-3,,Carla Ruiz,es,ES,,crm,contact,,,"Calle Mayor 1\n28013 Madrid"\n')
    imported = await client.post("/api/v1/subjects/import", content=moved.encode(),
                                 headers={**people["admin"].headers, "content-type": "text/csv"})
    assert imported.status_code == 200, imported.text

    table = await client.get(f"{url}/not-reached/letters.csv",
                             headers=people["responder"].headers)
    assert table.status_code == 200, table.text
    [row] = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert (row["name"], row["address_line_1"], row["address_line_2"], row["locale"]) == (
        "Carla Ruiz", "Calle Mayor 1", "28013 Madrid", "es")
    printed = await client.get(f"{url}/not-reached/letters.pdf",
                               headers=people["responder"].headers)
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    assert [e["format"] for e in await events(engine, "letters_exported")] == ["csv", "pdf"]
    assert (await client.get(f"{url}/not-reached/letters.csv",
                             headers=people["auditor"].headers)).status_code == 403
    async with session_factory(engine)() as db:
        anna = (await db.exec(select(Delivery).where(Delivery.recipient_key == "c-1"))).one()
    refused = await client.get(f"{url}/not-reached/letters.csv?deliveries={anna.id}",
                               headers=people["responder"].headers)
    assert refused.status_code == 409, refused.text


async def test_a_large_batch_of_letters_comes_in_parts_none_holding_a_request_for_minutes(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, approver: Browser) -> None:
    """201 people without an e-mail address: the PDF letters come 200 at a time, the next
    part named by a `Link` header (RFC 8288, rel="next") and listed on the notice's page."""
    reference = await sending(client, people, [""] * 201)
    await dispatcher(engine, clock).run_once()
    responder = people["responder"].headers
    [notice] = (await client.get(f"/api/v1/incidents/{reference}/notifications",
                                 headers=responder)).json()
    url = f"/api/v1/incidents/{reference}/notifications/{notice['id']}"
    missing = (await client.get(f"{url}/not-reached?limit=1000", headers=responder)).json()
    ids = [p["delivery_id"] for p in missing["people"]]
    assert len(ids) == 201 and ids == sorted(ids)

    first = await client.get(f"{url}/not-reached/letters.pdf", headers=responder)

    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert first.headers["link"] == f'<{url}/not-reached/letters.pdf?after={ids[199]}>; rel="next"'
    assert "-after-0.pdf" in first.headers["content-disposition"]
    second = await client.get(f"{url}/not-reached/letters.pdf?after={ids[199]}",
                              headers=responder)
    assert second.status_code == 200 and "link" not in second.headers
    assert [(e["format"], e["without_address"]) for e in await events(
        engine, "letters_exported")] == [("pdf", 200), ("pdf", 1)]
    # The CSV holds them all at once; naming more people than a PDF part holds is refused.
    table = await client.get(f"{url}/not-reached/letters.csv", headers=responder)
    assert table.status_code == 200 and "link" not in table.headers
    named = ",".join(map(str, ids))
    refused = await client.get(f"{url}/not-reached/letters.pdf?deliveries={named}",
                               headers=responder)
    assert refused.status_code == 422 and "at most 200 people" in refused.text

    page = (await approver.client.get(url.removeprefix("/api/v1"))).text
    assert 'letters.pdf?after=0" id="letters-pdf-1"' in page
    assert f'letters.pdf?after={ids[199]}" id="letters-pdf-2"' in page
    assert 'id="letters-pdf-3"' not in page and "(1 person)" in page


async def test_the_notice_page_lists_the_people_and_records_a_letter(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, approver: Browser) -> None:
    reference, url = await sent_to_three(client, people, engine, clock)
    page_url = url.removeprefix("/api/v1")
    page = await approver.client.get(page_url)
    assert page.status_code == 200, page.text
    assert 'id="not-reached"' in page.text and "Carla Ruiz" in page.text
    assert "GDPR Art. 34(3)(c)" in page.text and 'id="letters-pdf"' in page.text
    [carla] = (await client.get(f"{url}/not-reached",
                                headers=people["responder"].headers)).json()["people"]

    refused = await approver.sent_back(f"{page_url}/other-contacts", {
        "scope": "chosen", "delivery": str(carla["delivery_id"]), "channel": "public",
        "outcome": "reached", "at": "2026-03-10T12:30", "note": "Banner on the home page"},
        to=f"{page_url}#not-reached")
    assert 'id="not-reached-error"' in refused.text and "34(3)(c)" in refused.text
    assert "Banner on the home page" in refused.text  # what was typed is kept

    done = await approver.post(f"{page_url}/other-contacts", {
        "scope": "chosen", "delivery": str(carla["delivery_id"]), "channel": "postal",
        "outcome": "reached", "at": "2026-03-10T12:30", "note": "Posted"})
    assert done.status_code == 303, done.text
    assert (await duty(client, people["responder"], reference))["status"] == "met"
    shown = await approver.client.get(page_url)
    assert 'id="everyone-reached"' in shown.text and 'id="other-contact-form"' not in shown.text
