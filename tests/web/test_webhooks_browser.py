"""The webhooks page, worked in a real Chromium against `breach serve`: an admin adds an
endpoint (a bad URL sends the browser back to the page, where the message is inline and
what was typed is kept, once), copies the secret shown once, and sees in the delivery log
the signed event the scheduler sent to a receiver on loopback; then pauses, resumes and
rotates its secret."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.factories import Person
from tests.notifications.webhooks.receiver import Receiver
from tests.web.chromium import (
    Console,
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    reloads_afresh,
    sent_back_to,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.up()
    yield made
    made.down()


def test_an_admin_adds_an_endpoint_and_sees_its_deliveries(
        server: Server, staff: dict[str, Person], page: Page, console: Console,
        receiver: Receiver) -> None:
    admin = staff["admin"]
    sign_in(page, admin, "/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    assert accessibility_violations(page) == []

    # Plain http to another machine is refused: the browser is sent back to the page, at the
    # message beside the field; what was typed stays; reloading asks for the page afresh.
    page.get_by_label("URL").fill("http://chat.example.com/hooks")
    page.get_by_label("What it feeds").fill("#security")
    page.get_by_role("checkbox", name=re.compile("Incident created")).check()
    page.get_by_role("button", name="Add endpoint").click()
    sent_back_to(page, "/webhooks#webhook-url-error")
    expect(page.locator("#webhook-url-error")).to_contain_text("must use https")
    expect(page.get_by_label("URL")).to_have_value("http://chat.example.com/hooks")
    expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("What it feeds")).to_have_value("#security")
    expect(page.get_by_role("checkbox", name=re.compile("Incident created"))).to_be_checked()
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []
    reloads_afresh(page, "#webhook-url-error")

    # To the receiver on this machine: the secret is shown once, in the answer itself.
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("checkbox", name=re.compile("Incident created")).check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    assert accessibility_violations(page) == []

    # An incident is created; the scheduler sends its event, signed, to the receiver.
    reference, _ = incident_aware_hours_ago(server, admin, 1, "Laptop stolen from a car")
    page.goto("/webhooks")
    page.get_by_role("link", name=receiver.url).click()
    # The scheduler's webhooks job runs every 5 s: wait until the receiver has the event,
    # then until the log shows it sent (recorded just after the receiver's answer).
    assert receiver.arrived.wait(timeout=30)
    row = page.locator("#webhook-deliveries tbody tr").first
    for _ in range(100):
        if row.count() and "sent" in row.inner_text():
            break
        page.reload()
    expect(row).to_contain_text("Incident created")
    expect(row).to_contain_text("sent")
    assert accessibility_violations(page) == []
    [got] = receiver.received
    body = Webhook(secret).verify(got.body, got.headers)
    assert body["data"]["incident"]["reference"] == reference
    assert "Laptop" not in got.body.decode()

    # Pause, resume, rotate.
    page.goto("/webhooks")
    page.get_by_role("button", name=re.compile("^Pause")).click()
    sent_back_to(page, "/webhooks?done=paused#webhooks-done")
    expect(page.locator("#webhooks-done")).to_contain_text("paused")
    page.get_by_role("button", name=re.compile("^Resume")).click()
    expect(page.locator("#webhooks-done")).to_contain_text("resumed")
    page.get_by_role("button", name=re.compile("^Rotate secret")).click()
    expect(page.get_by_role("heading", name="Secret rotated")).to_be_visible()
    assert page.locator("#webhook-secret").inner_text() != secret

    # On a phone: nothing runs past the right edge.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/webhooks")
    assert wider_than_viewport(page) == []
    page.get_by_role("link", name=receiver.url).click()
    assert wider_than_viewport(page) == []
    assert console.unexpected() == []


def test_an_admin_sends_a_test_event_and_resends_one_that_failed(
        server: Server, staff: dict[str, Person], page: Page, console: Console,
        receiver: Receiver) -> None:
    admin = staff["admin"]
    receiver.status = 500
    with server.api(admin) as api:
        made = api.post("/api/v1/webhooks", json={"url": receiver.url, "description": "#tests",
                                                  "events": ["incident.created"]})
    assert made.status_code == 201, made.text
    endpoint, secret = made.json()["id"], made.json()["secret"]
    sign_in(page, admin, "/webhooks")

    # A test from the endpoints' list: the receiver refuses it; the log says so at once.
    page.locator(f"tr[data-endpoint='{endpoint}']").get_by_role(
        "button", name=re.compile("^Send test")).click()
    sent_back_to(page, f"/webhooks/{endpoint}?done=ping-failed#webhook-log-done")
    done = page.locator("#webhook-log-done")
    expect(done).to_contain_text("was not delivered")
    first = page.locator("#webhook-deliveries tbody tr").first
    expect(first).to_contain_text("Test event")
    expect(first).to_contain_text("failed")
    expect(first).to_contain_text("HTTP 500")
    assert accessibility_violations(page) == []
    assert receiver.received == []

    # The receiver is mended: the failed test is resent, and the scheduler delivers it.
    receiver.status = 204
    receiver.arrived.clear()
    first.get_by_role("button", name=re.compile("^Resend")).click()
    sent_back_to(page, f"/webhooks/{endpoint}?done=resent#webhook-log-done")
    expect(done).to_contain_text("queued again")
    assert receiver.arrived.wait(timeout=30)
    for _ in range(100):  # recorded just after the receiver's answer
        if "sent" in first.inner_text():
            break
        page.reload()
    expect(first).to_contain_text("sent")
    expect(first.get_by_role("button")).to_have_count(0)
    [got] = receiver.received
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.ping"

    # Another test from the log itself: delivered, said at once.
    page.get_by_role("button", name="Send a test event").click()
    expect(done).to_contain_text("was delivered")
    expect(page.locator("#webhook-deliveries tbody tr")).to_have_count(2)
    expect(first).to_contain_text("HTTP 204")
    assert len(receiver.received) == 2
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert wider_than_viewport(page) == []
    assert console.unexpected() == []
