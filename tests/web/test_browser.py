"""The web pages as a new user meets them: a real `breach serve` process and a headless Chromium.

SQLite only: the pages run the same use cases as the API, which both lanes cover.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.factories import Person
from tests.web.chromium import Console, Server, form_values, shown, unlabelled_controls

LIFECYCLE = ["assessing", "contained", "notifying", "resolved", "closed"]


# --- helpers ----------------------------------------------------------------------------------

def local_input(at: datetime, zone: ZoneInfo) -> str:
    """The value a person types into a datetime-local field, in the organisation's zone."""
    return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def sign_in(page: Page, person: Person | tuple[str, str], path: str = "/login") -> None:
    email, password = (person.email, person.password) if isinstance(person, Person) else person
    page.goto(path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def create_incident(server: Server, person: Person, title: str = "Laptop left on a train") -> str:
    """An incident made through the API (the browser flow is tested on its own)."""
    now = datetime.now(UTC)
    body = {"title": title, "kind": "lost_device", "breach_types": ["confidentiality"],
            "data_categories": ["contact"], "detected_at": (now - timedelta(hours=2)).isoformat(),
            "aware_at": (now - timedelta(hours=1)).isoformat()}
    with server.api(person) as api:
        created = api.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["reference"])


def count_titled(server: Server, person: Person, title: str) -> int:
    with server.api(person) as api:
        found = api.get("/api/v1/incidents", params={"q": title})
    assert found.status_code == 200, found.text
    return int(found.json()["total"])


def csrf_token(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def check_landmarks(page: Page) -> None:
    assert page.locator("h1").count() == 1, page.url
    assert page.get_by_role("main").count() == 1, page.url
    assert unlabelled_controls(page) == [], page.url


# --- 1. first sign-in ---------------------------------------------------------------------------

def test_a_new_user_signs_in_with_a_one_time_password_and_must_choose_their_own(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    email = f"newcomer-{uuid.uuid4().hex[:6]}@example.com"
    one_time = server.breach("--as", staff["admin"].email, "users", "create", email,
                             "--role", "responder").strip().splitlines()[-1]

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    check_landmarks(page)
    sign_in(page, (email, one_time), path=page.url)
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    check_landmarks(page)

    page.goto("/incidents")  # nothing else opens until the password is changed
    expect(page).to_have_url(re.compile(r"/account/password$"))

    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("New password, again").fill("too short")
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(re.compile(r"/account/password$"))  # minlength stops the form

    chosen = "a long passphrase of my own"
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen + " typo")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("alert")).to_have_text("The two new passwords differ.")

    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen)
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(re.compile(r"/incidents$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Incidents")
    expect(page.locator(".who")).to_contain_text(f"{email} (responder)")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    sign_in(page, (email, one_time))
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    sign_in(page, (email, chosen))
    expect(page).to_have_url(re.compile(r"/incidents$"))
    assert console.unexpected() == []


# --- 2. an incident from the form to closed ------------------------------------------------------

def test_an_incident_from_the_form_through_its_lifecycle_with_a_verified_timeline(
        server: Server, staff: dict[str, Person], page: Page, console: Console,
        tmp_path: Path) -> None:
    zone, now = server.zone, datetime.now(UTC)
    began, detected, aware = (now - timedelta(hours=26), now - timedelta(hours=3),
                              now - timedelta(hours=2))
    sign_in(page, staff["responder"])
    expect(page).to_have_url(re.compile(r"/incidents$"))
    page.get_by_role("link", name="New incident").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New incident")

    page.get_by_label("Title").fill("Stolen laptop with a customer export")
    page.get_by_label("Kind").select_option("lost_device")
    page.get_by_label("What happened").fill("Laptop taken from a car.\nDisk not encrypted.")
    page.get_by_label("confidentiality").check()
    page.get_by_label("contact", exact=True).check()
    page.get_by_label("financial").check()
    page.get_by_label("Systems (comma-separated keys)").fill("crm, laptop-42")
    page.get_by_label("Began").fill(local_input(began, zone))
    page.get_by_label("Detected").fill(local_input(detected, zone))
    page.get_by_label("Aware that personal data is involved").fill(local_input(aware, zone))
    page.get_by_label("Estimated people affected").fill("1200")
    page.get_by_role("button", name="Record incident").click()

    reference = f"BR-{now.astimezone(zone).year}-0001"
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{reference} Stolen laptop with a customer export")
    expect(page.locator("#status")).to_have_text("open")
    facts = page.locator("dl.facts")
    # Typed in BREACH_TIMEZONE (the browser runs in New York) and shown back in it.
    expect(facts).to_contain_text(shown(aware, zone))
    expect(facts).to_contain_text(shown(began, zone))
    expect(facts).to_contain_text("contact, financial")
    expect(facts).to_contain_text("crm, laptop-42")
    expect(page.locator(".description")).to_have_text("Laptop taken from a car.\nDisk not encrypted.")
    expect(page.get_by_role("button", name="Dismissed")).to_have_count(0)  # a responder may not

    for target in LIFECYCLE:
        page.get_by_role("button", name=target.capitalize(), exact=True).click()
        expect(page.locator("#status")).to_have_text(target)
    expect(page.get_by_role("heading", name="Move to")).to_have_count(0)  # closed: nowhere to go
    expect(facts.locator("dt:text-is('Contained') + dd")).not_to_have_text("—")

    note = "Police report filed <b>today</b>; ref 4711."
    page.get_by_label("Add a note").fill(note)
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".note-text")).to_have_text(note)  # shown as typed, not as markup

    events = page.locator("ol.timeline > li")
    expect(events).to_have_count(7)
    heads = events.locator(".event-head").all_inner_texts()
    kinds = [re.search(r"· (.+?) ·", head).group(1) for head in heads]  # type: ignore[union-attr]
    assert kinds == ["note", *["status changed"] * 5, "incident created"]
    assert all(staff["responder"].email in head for head in heads)
    moves = events.locator("p").all_inner_texts()[1:]  # after the note
    assert moves == [f"{a} → {b}" for a, b in zip(["open", *LIFECYCLE], LIFECYCLE, strict=False)][::-1]
    expect(page.locator("#verification")).to_have_text("Verified: 7 events, chain intact")

    href = page.get_by_role("link", name="JSON Lines").get_attribute("href")
    assert href is not None
    exported = page.request.get(href)
    assert exported.ok and "attachment" in exported.headers["content-disposition"]
    lines = exported.text().splitlines()
    assert len(lines) == 7
    rows = [json.loads(line) for line in lines]
    assert [r["seq"] for r in rows] == list(range(1, 8))
    assert rows[0]["kind"] == "incident_created" and rows[-1]["kind"] == "note"
    assert all(r["prev_hash"] == before["hash"] for before, r in itertools.pairwise(rows))
    csv_href = page.get_by_role("link", name="CSV").get_attribute("href")
    assert csv_href is not None and len(page.request.get(csv_href).text().splitlines()) == 8

    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)

    page.get_by_role("link", name="Incidents", exact=True).click()
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/incidents\?.*status=closed"))
    rows_shown = page.locator("tbody tr")
    expect(rows_shown).to_have_count(1)
    expect(rows_shown).to_contain_text(reference)
    page.get_by_label("Status").select_option("open")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".empty")).to_have_text("No incidents match these filters.")
    assert console.errors == []


def test_the_list_pages_through_many_incidents_keeping_the_filter(
        server: Server, staff: dict[str, Person], page: Page, tmp_path: Path) -> None:
    tag = f"paging-{uuid.uuid4().hex[:6]}"
    for n in range(27):
        create_incident(server, staff["responder"], title=f"{tag} phishing wave {n:02d}")
    sign_in(page, staff["auditor"], path=f"/login?next=/incidents%3Fq%3D{tag}")
    expect(page.locator("caption")).to_have_text("27 incidents")
    expect(page.locator("tbody tr")).to_have_count(25)
    expect(page.get_by_label("Pages")).to_contain_text("Page 1 of 2")
    page.screenshot(path=str(tmp_path / "incidents.png"), full_page=True)
    page.get_by_role("link", name="Next").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value(tag)
    expect(page.get_by_label("Pages")).to_contain_text("Page 2 of 2")
    page.get_by_role("link", name="Previous").click()
    expect(page.locator("tbody tr")).to_have_count(25)


# --- 3. access: passwords, throttling, next, CSRF, roles ---------------------------------------

def test_a_wrong_password_is_refused_and_repeated_failures_are_throttled(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    admin = staff["admin"]  # used by no other test: its throttle must not disturb them
    for _ in range(5):
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            sign_in(page, (admin.email, "not the password"))
        assert answer.value.status == 303  # sent back to a fresh form, which says why
        expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
        expect(page.get_by_role("alert")).to_have_text("The e-mail or password is wrong.")
        expect(page.get_by_label("E-mail")).to_have_value(admin.email)
        expect(page.get_by_label("Password")).to_have_value("")  # never kept, never echoed
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        sign_in(page, admin)  # now even the right password waits
    assert answer.value.status == 303
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins; try again in")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    with page.expect_request(lambda r: r.is_navigation_request()) as reloaded:
        page.reload()  # asks for the form again: the password is not posted twice
    assert reloaded.value.method == "GET"
    expect(page.get_by_role("alert")).to_have_count(0)


def test_an_anonymous_visit_signs_in_and_returns_to_the_page_asked_for(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    page.goto("/incidents?status=closed&kind=lost_device")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("E-mail").fill(staff["auditor"].email)
    page.get_by_label("Password").fill(staff["auditor"].password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/incidents\?status=closed&kind=lost_device$"))
    expect(page.get_by_label("Status")).to_have_value("closed")
    expect(page.get_by_label("Kind")).to_have_value("lost_device")

    page.context.clear_cookies()
    sign_in(page, staff["auditor"], path="/login?next=https://evil.example/")
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/incidents$"))  # never off-site


def test_a_post_without_the_csrf_field_is_refused(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    reference = create_incident(server, staff["responder"])
    sign_in(page, staff["responder"], path=f"/login?next=/incidents/{reference}")
    expect(page.locator("#status")).to_have_text("open")
    token = csrf_token(page)

    forged = page.request.post(f"/incidents/{reference}/notes", form={"text": "forged"},
                               max_redirects=0)
    assert forged.status == 403
    assert "did not come from this site" in forged.text()
    wrong = page.request.post(f"/incidents/{reference}/status",
                              form={"status": "assessing", "csrf_token": "x" * 43},
                              max_redirects=0)
    assert wrong.status == 403
    real = page.request.post(f"/incidents/{reference}/notes",
                             form={"text": "real", "csrf_token": token}, max_redirects=0)
    assert real.status in (302, 303)

    page.reload()
    expect(page.locator("#status")).to_have_text("open")
    expect(page.locator(".note-text")).to_have_text(["real"])


def test_an_auditor_reads_and_verifies_but_sees_nothing_to_change(
        server: Server, staff: dict[str, Person], page: Page, tmp_path: Path) -> None:
    reference = create_incident(server, staff["responder"], title="Misdirected payroll e-mail")
    sign_in(page, staff["auditor"])
    expect(page.get_by_role("link", name="New incident")).to_have_count(0)
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Misdirected payroll e-mail")
    expect(page.locator("#verification")).to_have_text("Verified: 1 event, chain intact")
    expect(page.get_by_role("link", name="JSON Lines")).to_be_visible()
    # The evidence pack, downloaded and checked with its own verifier.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Evidence pack (signed zip, with its verifier)").click()
    download = download_info.value
    assert download.suggested_filename == f"{reference}-evidence-pack.zip"
    unpacked = tmp_path / "pack"
    zipfile.ZipFile(download.path()).extractall(unpacked)
    checked = subprocess.run([sys.executable, "verify.py"], capture_output=True, text=True,
                             cwd=unpacked / f"{reference}-evidence-pack")
    assert checked.returncode == 0 and "OK: everything holds" in checked.stdout, checked.stdout
    expect(page.get_by_role("heading", name="Move to")).to_have_count(0)
    # Nothing that changes anything: the timeline's filter only asks to see less.
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.locator("main button:not(.timeline-filter *)")).to_have_count(0)
    expect(page.locator("textarea")).to_have_count(0)
    check_landmarks(page)

    refused = page.request.post(f"/incidents/{reference}/status",
                                form={"status": "assessing", "csrf_token": csrf_token(page)},
                                max_redirects=0)
    assert refused.status == 403
    answer = page.goto("/incidents/new")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")


def test_dismissal_needs_an_approver_and_a_reason(
        server: Server, staff: dict[str, Person], page: Page, tmp_path: Path) -> None:
    reference = create_incident(server, staff["responder"], title="Suspicious login, test account")
    sign_in(page, staff["approver"], path=f"/login?next=/incidents/{reference}")
    dismiss = page.get_by_role("button", name="Dismissed")
    reason = page.get_by_label("Why this is not a personal-data breach")
    page.screenshot(path=str(tmp_path / "incident-open.png"), full_page=True)

    dismiss.click()  # the browser keeps the form until a reason is given
    expect(page.locator("#status")).to_have_text("open")
    assert reason.evaluate("e => e.validity.valueMissing") is True

    bypass = page.request.post(f"/incidents/{reference}/status", max_redirects=0,
                               form={"status": "dismissed", "reason": " ",
                                     "csrf_token": csrf_token(page)})
    assert bypass.status == 303  # sent back to the incident page, which says why once
    assert bypass.headers["location"] == f"/incidents/{reference}#notice"
    assert "needs a reason" in page.request.get(bypass.headers["location"]).text()

    reason.fill("Only a test account with no personal data was reached.")
    dismiss.click()
    expect(page.locator("#status")).to_have_text("dismissed")
    expect(page.locator("ol.timeline > li").first).to_contain_text(
        "open → dismissed: Only a test account with no personal data was reached.")
    expect(page.get_by_role("button", name="Open", exact=True)).to_be_visible()  # can be reopened


# --- 4. form validation ----------------------------------------------------------------------

@pytest.mark.parametrize(("aware_offset", "field_message"), [
    (timedelta(hours=-30), "is before the breach began (occurred_from)"),
    (timedelta(days=1), "lies in the future"),
], ids=["aware-before-start", "aware-in-future"])
def test_bad_times_re_render_the_form_with_the_typed_values_and_save_nothing(
        server: Server, staff: dict[str, Person], page: Page, aware_offset: timedelta,
        field_message: str, tmp_path: Path) -> None:
    zone, now = server.zone, datetime.now(UTC)
    title = f"Ransomware on file server {uuid.uuid4().hex[:6]}"
    typed = {"occurred_from": local_input(now - timedelta(hours=24), zone),
             "detected_at": local_input(now - timedelta(hours=2), zone),
             "aware_at": local_input(now + aware_offset, zone)}
    sign_in(page, staff["responder"], path="/login?next=/incidents/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Kind").select_option("ransomware")
    page.get_by_label("availability").check()
    page.get_by_label("health").check()
    page.get_by_label("Systems (comma-separated keys)").fill("files")
    page.get_by_label("Began").fill(typed["occurred_from"])
    page.get_by_label("Detected").fill(typed["detected_at"])
    page.get_by_label("Aware that personal data is involved").fill(typed["aware_at"])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Record incident").click()

    assert answer.value.status == 303  # sent back to the form's page, which says why
    expect(page).to_have_url(re.compile(r"/incidents/new#form-errors$"))
    expect(page.get_by_role("alert")).to_contain_text("The incident was not saved")
    aware = page.get_by_label("Aware that personal data is involved")
    expect(aware).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#aware_at-error")).to_contain_text(field_message)
    expect(aware).to_have_accessible_description(re.compile(re.escape(field_message)))
    values: dict[str, Any] = form_values(page, "form.incident-form")
    assert values["title"] == title and values["kind"] == "ransomware"
    assert values["breach_types"] == "availability" and values["data_categories"] == "health"
    assert values["systems"] == "files"
    assert {name: values[name] for name in typed} == typed
    check_landmarks(page)
    page.screenshot(path=str(tmp_path / "form-errors.png"), full_page=True)
    assert count_titled(server, staff["auditor"], title) == 0


# --- 5. accessibility, headers, console --------------------------------------------------------

def test_pages_are_accessible_keyboard_usable_and_sent_with_protective_headers(
        server: Server, staff: dict[str, Person], context: BrowserContext, page: Page,
        console: Console) -> None:
    reference = create_incident(server, staff["responder"], title="Keyboard-only responder")
    login = page.goto("/login")
    assert login is not None
    check_landmarks(page)
    sign_in(page, staff["responder"])
    answer = page.goto("/incidents")
    assert answer is not None and answer.status == 200
    headers = answer.headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    check_landmarks(page)
    page.goto("/incidents/new")
    check_landmarks(page)

    page.goto(f"/incidents/{reference}")
    check_landmarks(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.target || ''") == "assessing":
            break
    else:
        pytest.fail("Tab never reached the 'Assessing' button")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("assessing")
    expect(page.locator("#verification")).to_have_text("Verified: 2 events, chain intact")
    assert console.errors == []
