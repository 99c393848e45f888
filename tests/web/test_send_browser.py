"""A deliberate send in a real Chromium against `breach serve`: the counts before the send, a
test of each language to oneself, and the number typed to send to more than
BREACH_CONFIRM_SEND_ABOVE (50) people."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import PROFILE, Person
from tests.web.chromium import Server, incident_aware_hours_ago, sign_in, unlabelled_controls

HEADER = "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
PEOPLE = HEADER + "".join(
    f"m-{n:03d},{'' if n == 0 else f'm{n}@example.com'},"
    f"{'Nora Noaddress' if n == 0 else f'Person {n}'},en,DE,,crm,contact,,\n"
    for n in range(51))
"""51 people in Germany who read English; the first has no e-mail address."""


def approved_notice(server: Server, staff: dict[str, Person], reference: str) -> str:
    """The incident's notice to people, drafted by the responder and approved: its page."""
    with server.api(staff["admin"]) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
        assert api.put("/api/v1/systems/crm", json={"name": "CRM"}).status_code == 200
        imported = api.post("/api/v1/subjects/import", content=PEOPLE.encode(),
                            headers={"content-type": "text/csv"})
        assert imported.json()["imported"] == 51, imported.text
    with server.api(staff["responder"]) as api:
        assert api.put(f"/api/v1/incidents/{reference}/scope", json={}).status_code == 200
        assert api.post(f"/api/v1/incidents/{reference}/affected").status_code == 201
        assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200
        base = f"/api/v1/incidents/{reference}/notifications"
        drafted = api.post(base, json={"obligation": "gdpr/data-subjects"})
        assert drafted.status_code == 201, drafted.text
        draft = drafted.json()
    with server.api(staff["approver"]) as api:
        approved = api.post(f"{base}/{draft['id']}/approve",
                            json={"content_hash": draft["content_hash"]})
        assert approved.status_code == 200, approved.text
    return f"/incidents/{reference}/notifications/{draft['id']}"


def test_a_notice_to_51_people_is_counted_tested_and_sent_with_its_number_typed(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder = staff["responder"]
    reference, _ = incident_aware_hours_ago(server, responder, 1, "Newsletter list exposed")
    url = approved_notice(server, staff, reference)
    sign_in(page, responder, url)

    # Before the send: how many, in which language, by which channel, and who has no address.
    expect(page.locator("#send-count")).to_contain_text("Sending reaches 51 recipients")
    expect(page.locator('#send-languages tr[data-locale="en"] .recipients')).to_have_text("51")
    expect(page.locator('#send-channels tr[data-channel="email"] .recipients')).to_have_text("50")
    expect(page.locator('#send-channels tr[data-channel="none"] .recipients')).to_have_text("1")
    expect(page.locator("#no-address-people")).to_contain_text("Nora Noaddress")
    assert unlabelled_controls(page) == []

    # A test of each language, to the responder alone.
    page.get_by_role("button", name="E-mail me a test of each language").click()
    expect(page.locator("#tested")).to_contain_text("Test letters (en)")
    expect(page.locator("#notification-status")).to_have_text("approved")

    # The wrong number: refused inline, what was typed kept, nothing sent.
    confirm = page.get_by_label("Type 51 to send to 51 people")
    confirm.fill("50")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#confirm-error")).to_have_text(
        "Not sent: type 51 to send to 51 people (50 was typed).")
    expect(page.get_by_label("Type 51 to send to 51 people")).to_have_value("50")
    expect(page.locator("#notification-status")).to_have_text("approved")

    page.get_by_label("Type 51 to send to 51 people").fill("51")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#progress-status")).to_have_text("done", timeout=30_000)
    expect(page.locator('#progress-counts li[data-state="failed"] .count-value')).to_have_text("1")
    expect(page.locator('#progress-counts li[data-state="sent"] .count-value')).to_have_text("50")

    # The Mailbox: the test letter went to the responder only, marked as a test.
    page.goto("/mailbox")
    test_rows = page.locator("tr", has_text="[TEST]")
    expect(test_rows).to_have_count(1)
    expect(test_rows).to_contain_text(responder.email)
