"""Notifications, the Mailbox and the reminders dashboard in a real Chromium against `breach serve`.

The server runs with no BREACH_SMTP_URL, so its own ticker sends through the embedded mail
capture: a notice sent from the page reaches the Mailbox without anything else running.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage

from playwright.sync_api import Dialog, Page, expect

from incident.kernel.db import create_engine, session_factory, transaction
from notifications.delivery.models import CapturedMessage
from tests.factories import Person
from tests.web.chromium import (
    Console,
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    reloads_afresh,
    sent_back_to,
    sign_in,
    unlabelled_controls,
)

PROFILE = {"name": "Example GmbH", "country": "DE", "timezone": "Europe/Berlin",
           "dpo": {"name": "Dana Privacy", "email": "dpo@example.com"},
           "sender": {"email": "privacy@example.com"},
           "authorities": {"gdpr/authority": {"name": "BlnBDI", "email": "mailbox@datenschutz-berlin.de",
                                              "website": "https://www.datenschutz-berlin.de"}}}
EVE = "Eve <script>document.title='pwned'</script>"
PEOPLE = ("external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
          "c-1,anna@example.com,Anna Nowak,pl,PL,,crm,contact;financial,,\n"
          "c-2,bernd@example.com,Bernd Müller,de,DE,,crm,contact,,\n"
          f"c-3,eve@example.com,{EVE},fr,FR,,crm,contact,,\n")
CONSEQUENCES = "Phishing e-mails that use your name and your order history."
BLOCKED = re.compile(r"^Blocked script execution in '[^']+/mailbox/\d+/body\.html' because the "
                     r"document's frame is sandboxed")


def set_up_people(server: Server, admin: Person) -> None:
    """The organisation, one system and three people in it, imported as CSV."""
    with server.api(admin) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
        assert api.put("/api/v1/systems/crm", json={"name": "CRM"}).status_code == 200
        imported = api.post("/api/v1/subjects/import", content=PEOPLE.encode(),
                            headers={"content-type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["imported"] == 3, imported.text


def affected(server: Server, responder: Person, reference: str) -> None:
    with server.api(responder) as api:
        assert api.put(f"/api/v1/incidents/{reference}/scope", json={}).status_code == 200
        assert api.post(f"/api/v1/incidents/{reference}/affected").status_code == 201
        assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200


def plant_message(server: Server) -> int:
    """A message in the capture whose HTML carries scripts, as a hostile message would."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ("x@example.com", "dpo@example.com",
                                                          "Planted message")
    message.set_content("planted text")
    message.add_alternative(
        "<p id='planted'>planted</p><script>document.body.append('SCRIPT RAN');"
        "parent.document.title='pwned';alert('ran')</script>"
        "<img src='data:,' onerror=\"parent.document.title='pwned'\">", subtype="html")

    async def insert() -> int:
        engine = create_engine(server.database_url)
        try:
            async with session_factory(engine)() as db, transaction(db):
                row = CapturedMessage(message_id="<planted@example.com>", sender="x@example.com",
                                      recipient="dpo@example.com", subject="Planted message",
                                      raw=message.as_bytes(), received_at=datetime.now(UTC))
                db.add(row)
                await db.flush()
                assert row.id is not None
                return row.id
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, insert()).result()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_notice_is_drafted_approved_sent_and_read_in_the_mailbox(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder, approver = staff["responder"], staff["approver"]
    set_up_people(server, staff["admin"])
    reference, _ = incident_aware_hours_ago(server, responder, 1, "Customer database copied")
    affected(server, responder, reference)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)

    # 1. The responder drafts the notice to the people affected and edits it.
    sign_in(page, responder, f"/incidents/{reference}/notifications")
    duty = page.locator('li[data-ref="gdpr/data-subjects"]')
    expect(duty).to_contain_text("gdpr/data-subjects")
    duty.get_by_role("button", name="Draft").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}/notifications/\d+$"))
    draft_url = page.url
    expect(page.locator("#notification-status")).to_have_text("draft")
    expect(page.locator("#notification-version")).to_have_text("1")
    assert unlabelled_controls(page) == []
    page.get_by_label("Likely consequences").fill(CONSEQUENCES)
    page.get_by_label("What we have done (one per line)").fill(
        "We cut the copied account off.\nChange your password.")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.locator("#notification-version")).to_have_text("2")
    expect(page.get_by_label("Likely consequences")).to_have_value(CONSEQUENCES)
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    # The preview: a sandboxed frame in the chosen language, and the text beside it.
    frame = page.locator("#preview-frame")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("#preview-frame").locator("body")).to_contain_text(CONSEQUENCES)
    page.get_by_label("Language", exact=True).select_option("de")
    expect(frame).to_have_attribute("src", re.compile(r"/preview\.html\?locale=de$"))
    expect(page.frame_locator("#preview-frame").locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#preview-text")).to_contain_text("Change your password.")
    sign_out(page)

    # 2. An approver, who wrote none of it, approves this exact version. A version saved
    # after the page was opened is not approved: the form is sent back to its part of the
    # page, which says why once; a reload asks for the page (the form is not posted again).
    path = draft_url.removeprefix(server.url)
    sign_in(page, approver, path)
    with server.api(responder) as api:
        edited = api.patch(f"/api/v1{path}", json={"version": 2, "fields": {
            "measures": "We cut the copied account off.\nChange your password.\n"
                        "We ended every session."}})
    assert edited.status_code == 200, edited.text
    page.get_by_role("button", name="Approve version 2").click()
    sent_back_to(page, f"{path}#approval")
    expect(page.locator("#approval #notice")).to_contain_text(
        "The draft changed since you read it (version 3")
    expect(page.locator("#notification-status")).to_have_text("draft")
    assert accessibility_violations(page) == []
    reloads_afresh(page, "#notice")
    approve = page.get_by_role("button", name="Approve version 3")
    approve.click()
    sent_back_to(page, f"{path}#approval")
    expect(page.locator("#notification-status")).to_have_text("approved")
    expect(page.locator("#approved")).to_contain_text(f"by {approver.email}")
    sign_out(page)

    # 3. The responder sends it; the ticker of `breach serve` delivers it into the capture.
    sign_in(page, responder, draft_url.removeprefix(server.url))
    # Anna reads Polish and Bernd German; the text is written in English only.
    expect(page.locator('#languages tr[data-locale="pl"] .text-state')).to_contain_text("missing")
    page.get_by_label(re.compile("They get their letter in")).select_option("en")
    page.get_by_role("button", name="Send").click()
    box = page.locator("#progress")
    expect(box).to_be_visible()
    expect(page.locator("#progress-status")).to_have_text("done", timeout=30_000)
    expect(page.locator("#notification-status")).to_have_text("done")
    expect(page.frame_locator("#preview-frame").locator("body")).to_contain_text(CONSEQUENCES)
    expect(page.locator("#progress-summary")).to_have_text("3 of 3 finished")
    expect(page.locator('#progress-counts li[data-state="sent"] .count-value')).to_have_text("3")
    bar = page.locator("#progress-bar")
    assert bar.evaluate("b => [b.value, b.max]") == [3, 3]
    expect(box.get_by_role("button", name="Pause")).to_be_hidden()
    box.get_by_role("link", name="Delivery log").click()
    expect(page.locator("tbody.delivery")).to_have_count(3)
    expect(page.locator("tbody.delivery", has_text="eve@example.com")).to_contain_text(
        "kept by the embedded mail capture")

    # 4. The Mailbox shows each message; its HTML runs sandboxed, its text is shown as text.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mailbox").click()
    expect(page).to_have_url(re.compile(r"/mailbox$"))
    for address in ("anna@example.com", "bernd@example.com", "eve@example.com"):
        expect(page.locator("td.recipient", has_text=address)).to_have_count(1)
    page.locator("tr", has_text="eve@example.com").get_by_role("link").click()
    expect(page.locator("#message-headers")).to_contain_text("eve@example.com")
    title = page.title()
    message_frame = page.locator("#message-frame")
    expect(message_frame).to_have_attribute("sandbox", "")
    body = page.frame_locator("#message-frame").locator("body")
    expect(body).to_contain_text(CONSEQUENCES)
    expect(body).to_contain_text(EVE)  # the name is text in the message, not markup
    expect(page.locator("#message-text")).to_contain_text(EVE)
    assert page.title() == title and "pwned" not in title

    planted = plant_message(server)
    # Chromium reports each script the sandbox blocks: once it has, the script has had its
    # only chance to run.
    with page.expect_console_message(lambda m: BLOCKED.match(m.text) is not None):
        page.goto(f"/mailbox/{planted}")
    planted_body = page.frame_locator("#message-frame").locator("body")
    expect(planted_body.locator("#planted")).to_have_text("planted")
    expect(planted_body).not_to_contain_text("SCRIPT RAN")
    assert page.title() == "Planted message · Mailbox · Breachdesk"
    assert dialogs == []
    # Chromium reports the blocked script; that report is the expected outcome here.
    blocked = [e for e in console.errors if BLOCKED.match(e)]
    assert blocked, console.errors
    console.errors[:] = [e for e in console.errors if not BLOCKED.match(e)]


def test_the_reminders_page_lists_what_fired_for_an_overdue_incident(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder, auditor = staff["responder"], staff["auditor"]
    with server.api(staff["admin"]) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
    # Aware four days ago: the 72 hours to notify the authority ran out a day ago.
    reference, _ = incident_aware_hours_ago(server, responder, 96, "Payroll file e-mailed out")
    with server.api(responder) as api:
        duties = {o["ref"]: o for o in api.get(f"/api/v1/incidents/{reference}/obligations").json()[
            "obligations"]}
    assert duties["gdpr/authority"]["overdue"] is True
    server.breach("scheduler", "run", "--once")

    sign_in(page, auditor, "/incidents")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Mailbox")).to_have_count(0)  # no personal data for auditors
    nav.get_by_role("link", name="Reminders").click()
    expect(page).to_have_url(re.compile(r"/reminders$"))
    expect(nav.get_by_role("link", name="Reminders")).to_have_attribute("aria-current", "page")
    fired = page.locator("#fired tbody tr", has_text=reference)
    overdue = fired.filter(has_text="obligation overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("Payroll file e-mailed out")
    expect(overdue.locator(".lateness")).to_have_text(re.compile(r"^(1 d|23 h \d+ min) late$"))
    expect(overdue.locator(".worker")).not_to_be_empty()
    # The duty in words, with the authority's name from the profile, as the e-mails say it.
    expect(overdue.locator(".what")).to_have_text(
        "Notify the supervisory authority: initial notification (BlnBDI, EU General Data "
        "Protection Regulation)")
    leads = fired.filter(has_text="reminder before the due time")
    expect(leads).to_have_count(0)  # 48, 24, 6 and 1 hours before: all passed, none sent late
    skipped = page.locator("#skipped tbody tr", has_text=reference).filter(has_text="BlnBDI")
    expect(skipped).to_have_count(4)  # listed, each with why
    for lead in ("48 h", "24 h", "6 h", "1 h"):
        row = skipped.filter(has_text=f"{lead} before it is due")
        expect(row).to_have_count(1)
        expect(row.locator(".reason")).to_contain_text(
            "before it could be sent; a reminder is never sent late")
    assert accessibility_violations(page) == []
    expect(page.locator("#outbox-queue")).to_contain_text("queued")
    overdue.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}$"))
