"""The webhooks pages answer every form with a redirect to the page (POST, redirect, GET), to
the message's anchor: a refused form's message and what was typed are shown there once, and
the signing secret is never held for it; a new secret is shown only in the answer to the
form that made it."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.kernel.db import session_factory
from incident.kernel.held import HeldForm
from tests.factories import Person, new_incident
from tests.notifications.webhooks.receiver import Receiver
from tests.notifications.webhooks.test_delivery import add_endpoint
from tests.sessions import Browser, signed_in


@pytest.fixture
async def admin(app: Litestar, people: dict[str, Person]) -> AsyncIterator[Browser]:
    async for browser in signed_in(app, people["admin"]):
        yield browser


async def held_rows(engine: AsyncEngine) -> list[HeldForm]:
    async with session_factory(engine)() as db:
        return list((await db.exec(select(HeldForm))).all())


async def test_a_refused_endpoint_is_sent_back_with_what_was_typed_once(
        admin: Browser, engine: AsyncEngine) -> None:
    typed = {"csrf_token": admin.csrf, "url": "http://chat.example.com/hooks",
             "description": "#security", "events": ["incident.created", "obligation.met"]}
    refused = await admin.client.post("/webhooks", data=typed, follow_redirects=False)
    assert refused.status_code == 303, refused.text
    assert refused.headers["location"] == "/webhooks#webhook-url-error"
    assert "webhook-url-error" not in refused.text  # the answer is no page

    [row] = await held_rows(engine)
    assert row.page == "/webhooks"
    assert row.held["typed"]["url"] == "http://chat.example.com/hooks"
    assert "whsec_" not in json.dumps(row.held) and "secret" not in json.dumps(row.held)

    page = await admin.client.get("/webhooks")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'id="webhook-url-error"' in text and "must use https" in text
    assert 'value="http://chat.example.com/hooks"' in text
    assert 'value="#security"' in text
    assert 'value="incident.created" checked' in text
    assert 'value="obligation.met" checked' in text
    assert 'value="obligation.overdue" checked' not in text

    again = html.unescape((await admin.client.get("/webhooks")).text)
    assert "webhook-url-error" not in again and "chat.example.com" not in again
    assert await held_rows(engine) == []


async def test_each_refusal_of_the_add_form_lands_on_its_own_message(admin: Browser) -> None:
    for form, anchor, said in [
            ({"url": "", "events": "incident.created"}, "#webhook-url-error", "is required"),
            ({"url": "https://hooks.example.com/x", "events": "nothing.like.this"},
             "#webhook-events-error", "unknown event type"),
            ({"url": "https://hooks.example.com/x"}, "#webhook-events-error",
             "at least one event type")]:
        page = await admin.sent_back("/webhooks", form, to=f"/webhooks{anchor}")
        assert anchor[1:] in page.text and said in html.unescape(page.text)


async def test_a_new_or_rotated_secret_is_shown_once_in_its_answer_never_held(
        admin: Browser, engine: AsyncEngine) -> None:
    made = await admin.client.post("/webhooks", data={
        "csrf_token": admin.csrf, "url": "https://hooks.example.com/in",
        "events": "incident.created"}, follow_redirects=False)
    assert made.status_code == 201, made.text
    assert "whsec_" in made.text and made.headers["cache-control"] == "no-store"
    listed = await admin.client.get("/webhooks")
    assert "hooks.example.com/in" in listed.text and "whsec_" not in listed.text
    endpoint = listed.text.split('data-endpoint="', 1)[1].split('"', 1)[0]

    rotated = await admin.post(f"/webhooks/{endpoint}/rotate")
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    assert "Secret rotated" in rotated.text
    assert await held_rows(engine) == []


async def test_pause_resume_and_remove_go_back_to_the_list_with_what_was_done(
        admin: Browser, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    endpoint = (await add_endpoint(client, people["admin"], "https://hooks.example.com/p"))["id"]
    for value, done in [("true", "paused"), ("false", "resumed")]:
        answer = await admin.post(f"/webhooks/{endpoint}/pause", {"paused": value})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/webhooks?done={done}#webhooks-done"
        page = await admin.client.get(answer.headers["location"])
        assert 'id="webhooks-done"' in page.text and f"is {done}" in page.text

    page = await admin.sent_back(f"/webhooks/{endpoint}/pause", {"paused": "maybe"},
                                 to="/webhooks#webhooks-notice")
    assert 'id="webhooks-notice"' in page.text and "must be true or false" in page.text
    assert 'id="webhooks-notice"' not in (await admin.client.get("/webhooks")).text

    removed = await admin.post(f"/webhooks/{endpoint}/remove")
    assert removed.headers["location"] == "/webhooks?done=removed#webhooks-done"


async def test_a_form_for_an_endpoint_gone_meanwhile_is_told_on_the_list(
        admin: Browser, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    endpoint = (await add_endpoint(client, people["admin"], "https://hooks.example.com/g"))["id"]
    assert (await admin.post(f"/webhooks/{endpoint}/remove")).status_code == 303
    for action, data in [("pause", {"paused": "true"}), ("rotate", {}), ("remove", {}),
                         ("ping", {}), ("deliveries/1/resend", {})]:
        page = await admin.sent_back(f"/webhooks/{endpoint}/{action}", data,
                                     to="/webhooks#webhooks-notice")
        assert f"No webhook endpoint {endpoint}." in html.unescape(page.text), action
        assert "whsec_" not in page.text


async def test_a_refused_resend_is_told_on_the_delivery_log_once(
        admin: Browser, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    endpoint = (await add_endpoint(client, people["admin"], "https://hooks.example.com/r"))["id"]
    await new_incident(client, people["responder"])
    log = (await client.get(f"/api/v1/webhooks/{endpoint}/deliveries",
                            headers=people["admin"].headers)).json()
    [queued] = log["items"] if isinstance(log, dict) else log
    log_page = f"/webhooks/{endpoint}"

    page = await admin.sent_back(f"{log_page}/deliveries/{queued['id']}/resend",
                                 to=f"{log_page}#webhook-log-notice")
    text = html.unescape(page.text)
    assert 'id="webhook-log-notice"' in text and "has not been tried yet" in text
    assert 'id="webhook-log-notice"' not in (await admin.client.get(log_page)).text

    page = await admin.sent_back(f"{log_page}/deliveries/99999/resend",
                                 to=f"{log_page}#webhook-log-notice")
    assert f"No delivery 99999 to webhook endpoint {endpoint}." in html.unescape(page.text)


async def test_a_test_event_goes_back_to_the_log_saying_how_it_went(
        admin: Browser, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    down = Receiver()  # nothing listens: the test event is not delivered
    endpoint = (await add_endpoint(client, people["admin"], down.url))["id"]
    answer = await admin.post(f"/webhooks/{endpoint}/ping")
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/webhooks/{endpoint}?done=ping-failed#webhook-log-done")
    page = await admin.client.get(answer.headers["location"])
    assert 'id="webhook-log-done"' in page.text and "was not delivered" in page.text
