"""A deliberate send over the API: the counts shown before it (by language, by channel, the
people with no address), a test send to the sender's own address, and the typed number a
send to many people needs."""

from __future__ import annotations

import asyncio
import json
from email import message_from_bytes, policy
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import Settings
from incident.timeline.models import TimelineEvent
from notifications.delivery.models import CapturedMessage
from notifications.drafting import queuing
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.rules import confirmation_refusal
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import (
    PROFILE,
    SUBJECTS_HEADER,
    Person,
    affected_incident,
    approved_notice,
    dispatcher,
    incident_body,
)
from tests.sessions import Browser


async def events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with session_factory(engine)() as db:
        rows = (await db.exec(select(TimelineEvent).where(TimelineEvent.kind == kind)
                              .order_by(col(TimelineEvent.id)))).all()
    return [dict(json.loads(row.payload)) for row in rows]


async def three_people_notice(client: httpx.AsyncClient,
                              people: dict[str, Person]) -> tuple[str, str]:
    """An incident affecting THREE_PEOPLE and its approved notice: (reference, API address)."""
    reference = await affected_incident(client, people)
    return reference, await approved_notice(client, people, reference)


async def preview_as(client: httpx.AsyncClient, url: str, person: Person) -> httpx.Response:
    """The notice's send preview as `person` reads it."""
    preview = await client.get(f"{url}/send-preview", headers=person.headers)
    assert preview.status_code == 200, preview.text
    return preview


async def test_the_preview_counts_recipients_by_language_and_channel(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    """THREE_PEOPLE: Anna reads Polish, Bernd German, Carla Spanish and has no address."""
    _, url = await three_people_notice(client, people)
    body = (await preview_as(client, url, people["responder"])).json()
    assert body["recipients"] == 3
    assert {row["locale"]: row["recipients"] for row in body["by_language"]} == {
        "pl": 1, "de": 1, "es": 1}
    assert body["by_channel"] == {"email": 2, "none": 1} and body["no_address"] == 1
    assert body["no_address_people"] == [
        {"external_id": "c-3", "name": "Carla Ruiz", "locale": "es"}]
    assert body["confirm_required"] is False and body["instruction"] is None


async def test_the_people_without_an_address_are_hidden_from_a_role_without_personal_data(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    _, url = await three_people_notice(client, people)
    preview = await preview_as(client, url, people["auditor"])
    body = preview.json()
    assert body["no_address"] == 1 and body["no_address_people"] is None
    assert "Carla" not in preview.text and "c-3" not in preview.text


async def test_a_test_send_reaches_the_sender_once_per_language_and_nobody_else(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock) -> None:
    responder = people["responder"]
    reference, url = await three_people_notice(client, people)
    tested = await client.post(f"{url}/test-send", headers=responder.headers)
    assert tested.status_code == 202, tested.text
    assert tested.json()["languages"] == ["de", "es", "pl"]
    assert tested.json()["to"] == responder.email
    assert await dispatcher(engine, clock).run_once() == 3
    async with session_factory(engine)() as db:
        captured = (await db.exec(select(CapturedMessage))).all()
        notice = (await db.exec(select(Notification).where(
            Notification.kind == "subject_notice"))).one()
        own = (await db.exec(select(Delivery).where(
            Delivery.notification_id == notice.id))).all()
    assert [m.recipient for m in captured] == [responder.email] * 3
    assert all(m.subject.startswith("[TEST] ") for m in captured)
    assert own == [] and notice.status == "approved"
    bodies = [message_from_bytes(m.raw, policy=policy.default) for m in captured]
    assert {str(b["From"]) for b in bodies} == {
        f"{PROFILE['sender']['name']} <{PROFILE['sender']['email']}>"}
    texts = {m.subject: b.get_body(("plain",)).get_content()  # type: ignore[union-attr]
             for m, b in zip(captured, bodies, strict=True)}
    assert all(reference in text and "Sample Recipient" in text for text in texts.values())
    obligations = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                                    headers=responder.headers)).json()
    notice_duty = next(o for o in obligations["obligations"] if o["ref"] == "gdpr/data-subjects")
    assert notice_duty["status"] == "pending"
    [payload] = await events(engine, "notification_test_sent")
    assert payload["notification"] == notice.id
    assert payload["languages"] == ["de", "es", "pl"]
    assert payload["to"] == "sender" and payload["role"] == "responder"
    assert responder.email not in str(payload)


async def test_a_test_send_needs_the_approved_content(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    responder = people["responder"]
    reference = await affected_incident(client, people)
    base = f"/api/v1/incidents/{reference}/notifications"
    draft = (await client.post(base, json={"obligation": "gdpr/data-subjects"},
                               headers=responder.headers)).json()
    refused = await client.post(f"{base}/{draft['id']}/test-send", headers=responder.headers)
    assert refused.status_code == 409 and "approved" in refused.json()["detail"]
    assert await events(engine, "notification_test_sent") == []


async def many_people(client: httpx.AsyncClient, people: dict[str, Person], count: int) -> str:
    """An incident whose approved notice goes to `count` people, one with no address."""
    admin, responder = people["admin"], people["responder"]
    await client.put("/api/v1/organisation", json=PROFILE, headers=admin.headers)
    await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=admin.headers)
    rows = "".join(f"p-{n:04d},{'' if n == 0 else f'p{n}@example.com'},Person {n},en,DE,,crm,"
                   "contact,,\n" for n in range(count))
    imported = await client.post("/api/v1/subjects/import",
                                 content=(SUBJECTS_HEADER + rows).encode(),
                                 headers={**admin.headers, "content-type": "text/csv"})
    assert imported.json()["imported"] == count, imported.text
    reference = str((await client.post("/api/v1/incidents", json=incident_body(),
                                       headers=responder.headers)).json()["reference"])
    await client.put(f"/api/v1/incidents/{reference}/scope", json={}, headers=responder.headers)
    await client.post(f"/api/v1/incidents/{reference}/affected", headers=responder.headers)
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    return await approved_notice(client, people, reference)


async def test_a_send_to_many_needs_their_number_typed(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    responder = people["responder"]
    url = await many_people(client, people, 51)
    preview = (await preview_as(client, url, responder)).json()
    assert preview["confirm_required"] is True
    assert preview["instruction"] == "Type 51 to send to 51 people"
    for body in (None, {"confirm": 50}, {"confirm": 5}):
        refused = await client.post(f"{url}/send", json=body, headers=responder.headers)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["detail"].startswith("type 51 to send to 51 people (")
        assert problem["recipients"] == 51
        assert problem["errors"] == [{"field": "confirm",
                                      "message": "type 51 to send to 51 people"}]
    async with session_factory(engine)() as db:
        assert (await db.exec(select(Delivery))).all() == []
    assert await events(engine, "notification_refused") == []
    sent = await client.post(f"{url}/send", json={"confirm": 51}, headers=responder.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["deliveries"] == {"pending": 50, "failed": 1}
    [payload] = await events(engine, "notification_sent")
    assert payload["recipients"] == 51
    assert payload["by_language"] == {"en": 51}
    assert payload["by_channel"] == {"email": 50, "none": 1} and payload["no_address"] == 1
    assert payload["confirmation"] == {"above": 50, "required": True, "typed": 51}


async def test_a_send_to_few_needs_no_number(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    _, url = await three_people_notice(client, people)
    sent = await client.post(f"{url}/send", headers=people["responder"].headers)
    assert sent.status_code == 202, sent.text
    [payload] = await events(engine, "notification_sent")
    assert payload["by_language"] == {"de": 1, "es": 1, "pl": 1}
    assert payload["by_channel"] == {"email": 2, "none": 1}
    assert payload["confirmation"] == {"above": 50, "required": False, "typed": None}


async def test_the_send_command_shows_the_counts_and_needs_the_number_or_yes(
        breach: Breach, client: httpx.AsyncClient,  # noqa: F811  (first: it makes the first user)
        people: dict[str, Person], engine: AsyncEngine) -> None:
    """The command runs as a console would: in a thread of its own, with its own event loop."""
    url = await many_people(client, people, 51)
    reference, notification = url.split("/")[4], url.rsplit("/", 1)[1]
    responder = people["responder"].email
    command = ("notifications", "send", reference, notification)
    refused = await asyncio.to_thread(breach, *command, ok=False, user=responder)
    assert refused.exit_code == 1
    assert "reaches 51 recipients" in refused.stderr
    assert "by language: en 51" in refused.stderr
    assert "by channel: e-mail 50, none (no e-mail address) 1" in refused.stderr
    assert "no e-mail address: p-0000 Person 0 (en)" in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "breach: error: not sent: 51 recipients; type their number at a terminal, or send "
        "with --yes")
    async with session_factory(engine)() as db:
        assert (await db.exec(select(Delivery))).all() == []
    sent = await asyncio.to_thread(breach, *command, "--yes", user=responder)
    assert "sending; 51 recipients queued" in sent.stdout
    [payload] = await events(engine, "notification_sent")
    assert payload["confirmation"] == {"above": 50, "required": True, "typed": 51}
    assert payload["by_channel"] == {"email": 50, "none": 1}


async def test_the_send_command_sends_to_few_without_asking(
        breach: Breach, client: httpx.AsyncClient,  # noqa: F811  (first: it makes the first user)
        people: dict[str, Person], settings: Settings) -> None:
    reference, url = await three_people_notice(client, people)
    command = ("notifications", "send", reference, url.rsplit("/", 1)[1])
    refused = await asyncio.to_thread(breach, *command, user=people["auditor"].email, ok=False)
    assert "may not" in refused.stderr.strip().splitlines()[-1]
    woken = queuing.wake_file(settings.var_dir)
    assert not woken.exists()  # nothing was queued: idle sending processes are left idle
    done = await asyncio.to_thread(breach, *command, user=people["responder"].email)
    assert "reaches 3 recipients" in done.stderr
    assert "no e-mail address: c-3 Carla Ruiz (es)" in done.stderr
    assert "3 recipients queued" in done.stdout
    assert woken.exists()  # what the sending processes watch: they start at once


async def test_the_page_shows_the_counts_and_keeps_what_was_typed(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        auditor: Browser, engine: AsyncEngine) -> None:
    url = (await many_people(client, people, 51)).removeprefix("/api/v1")
    shown = await responder.client.get(url)
    assert shown.status_code == 200
    assert 'id="send-count">Sending reaches <strong>51</strong> recipients' in shown.text
    assert "Person 0" in shown.text and "Type 51 to send to 51 people" in shown.text
    hidden = await auditor.client.get(url)
    assert 'data-channel="none"><td>None: no e-mail address on record</td><td class="recipients">1' \
        in hidden.text
    assert "Person 0" not in hidden.text
    for typed, why in (("5x", "&#39;5x&#39; is not a number"), ("50", "(50 was typed)")):
        refused = await responder.sent_back(f"{url}/send", {"confirm": typed},
                                            to=f"{url}#approval")
        assert why in refused.text and f'value="{typed}"' in refused.text
        assert 'id="confirm-error"' in refused.text
    async with session_factory(engine)() as db:
        assert (await db.exec(select(Delivery))).all() == []
    tested = await responder.post(f"{url}/test-send")
    assert tested.status_code == 303 and tested.headers["location"].endswith(
        "?tested=en#approval")
    sent = await responder.post(f"{url}/send", {"confirm": "51"})
    assert sent.status_code == 303, sent.text
    [payload] = await events(engine, "notification_sent")
    assert payload["confirmation"]["typed"] == 51


def test_only_a_send_above_the_threshold_needs_the_exact_number() -> None:
    assert confirmation_refusal(50, None, 50) is None
    assert confirmation_refusal(51, 51, 50) is None
    for typed in (None, 0, 50, 52):
        refusal = confirmation_refusal(51, typed, 50)
        assert refusal is not None and refusal.status == 422
        assert refusal.extensions["recipients"] == 51
    one = confirmation_refusal(1, None, 0)
    assert one is not None and one.detail == "type 1 to send to 1 person (nothing was typed)"
