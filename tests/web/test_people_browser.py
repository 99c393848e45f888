"""People and roles, one's own credentials, and the second factor, worked in a real Chromium
against `breach serve`: an admin adds a person and resets a password, a person chooses their
own password, creates and revokes an API token, and sets up a second factor (TOTP, RFC 6238)
that sign-in then asks for. The server requires a second factor of approvers
(BREACH_REQUIRE_TOTP_FOR), who set it up at their next sign-in.

The server runs on the system clock: codes are computed here with pyotp for the current time.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import Person
from tests.web.chromium import (
    BROWSER_ZONE,
    Console,
    Server,
    accessibility_violations,
    form_values,
    reloads_afresh,
    sent_back_to,
    serving,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)


@pytest.fixture(scope="module")
def server(lane: str, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[Server]:
    """`breach serve` as in tests/web/conftest.py, with BREACH_REQUIRE_TOTP_FOR=approver."""
    with serving(tmp_path_factory.mktemp("server"), sqlite_template,
                 lambda url: {"BREACH_REQUIRE_TOTP_FOR": "approver"}) as running:
        yield running


@pytest.fixture
def other(browser: Browser, server: Server) -> Iterator[Page]:
    """A second browser (its own cookies) for the person the admin manages."""
    ctx: BrowserContext = browser.new_context(base_url=server.url, timezone_id=BROWSER_ZONE,
                                              locale="en-GB", viewport={"width": 1280,
                                                                        "height": 900})
    ctx.set_default_timeout(5_000)
    yield ctx.new_page()
    ctx.close()


def key_shown(page: Page) -> pyotp.TOTP:
    """The authenticator app: the key as the page shows it (in groups of four), typed in."""
    uri = page.locator("#totp-uri").inner_text()
    assert uri.startswith("otpauth://totp/Breachdesk:") and "issuer=Breachdesk" in uri
    return pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))


def next_code(app: pyotp.TOTP) -> str:
    """The code of the next 30-second step: fresh whatever was used in this one, and within
    the step of drift the server allows."""
    return app.at(time.time() + 30)


def sign_in_as(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def choose_password(page: Page, current: str, chosen: str) -> None:
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(chosen)
    page.get_by_label("New password, again").fill(chosen)
    page.get_by_role("button", name="Save password").click()


def test_an_admin_adds_a_person_who_chooses_a_password_and_later_gets_a_reset(
        server: Server, staff: dict[str, Person], page: Page, other: Page,
        console: Console) -> None:
    admin = staff["admin"]
    sign_in(page, admin, "/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("People")

    # Bad input: an address that is none, and a role not chosen; what was typed stays.
    page.get_by_label("E-mail").fill("not an address")
    page.get_by_label("Name (optional)").fill("Robin Example")
    page.get_by_role("button", name="Add person").click()
    sent_back_to(page, "/users#new-user-heading")  # a redirect, not the answer to the post
    expect(page.locator("#new-role-error")).to_contain_text("is required")
    expect(page.get_by_label("Name (optional)")).to_have_value("Robin Example")
    page.get_by_label("Role", exact=True).select_option("responder")
    page.get_by_role("button", name="Add person").click()
    sent_back_to(page, "/users#new-user-heading")
    expect(page.locator("#new-email-error")).to_have_text("is not an e-mail address")
    assert form_values(page, "#new-user") | {"csrf_token": ""} == {
        "csrf_token": "", "email": "not an address", "name": "Robin Example", "role": "responder"}
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-describedby", "new-email-error")
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []
    reloads_afresh(page, "#new-email-error")
    expect(page.get_by_label("E-mail")).to_have_value("")
    expect(page.locator("tr[data-user]", has_text="Robin Example")).to_have_count(0)
    page.get_by_label("Name (optional)").fill("Robin Example")
    page.get_by_label("Role", exact=True).select_option("responder")

    # Created: the one-time password is shown once.
    email = f"robin-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Person added")
    one_time = page.locator("#one-time-password").inner_text()
    assert len(one_time) >= 12
    assert accessibility_violations(page) == []

    # A duplicate is refused beside the address.
    page.goto("/users")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Role", exact=True).select_option("auditor")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator("#new-email-error")).to_contain_text("already exists")

    # The person signs in with it and must choose their own.
    sign_in_as(other, email, one_time)
    choose_password(other, one_time, "my own long passphrase")
    expect(other).to_have_url(re.compile(r"/incidents$"))

    # The admin makes them an auditor, then resets their forgotten password.
    page.goto("/users")
    row = page.locator(f"tr[data-user='{email}']")
    row.get_by_label(f"Role of {email}").select_option("auditor")
    row.get_by_role("button", name=f"Change role of {email}").click()
    expect(page.locator("#users-done")).to_have_text("The role was changed.")
    expect(row.get_by_label(f"Role of {email}")).to_have_value("auditor")
    row.get_by_role("button", name=f"Reset password of {email}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password reset")
    reset = page.locator("#one-time-password").inner_text()
    assert reset != one_time

    other.goto("/incidents")  # their session ended with the reset
    expect(other).to_have_url(re.compile(r"/login"))
    sign_in_as(other, email, "my own long passphrase")
    expect(other.get_by_role("alert")).to_contain_text("wrong")
    sign_in_as(other, email, reset)
    choose_password(other, reset, "another long passphrase")
    expect(other).to_have_url(re.compile(r"/incidents$"))

    # Nobody can disable or demote the last admin.
    page.goto("/users")
    mine = page.locator(f"tr[data-user='{admin.email}']")
    mine.get_by_role("button", name=f"Disable {admin.email}").click()
    expect(page.locator("#users-notice")).to_contain_text("last active admin")
    page.locator(f"tr[data-user='{admin.email}']").get_by_label(
        f"Role of {admin.email}").select_option("auditor")
    page.locator(f"tr[data-user='{admin.email}']").get_by_role(
        "button", name=f"Change role of {admin.email}").click()
    expect(page.locator("#users-notice")).to_contain_text("last active admin")
    assert accessibility_violations(page) == []

    # Disabled: they cannot sign in.
    page.goto("/users")
    page.locator(f"tr[data-user='{email}']").get_by_role("button",
                                                          name=f"Disable {email}").click()
    expect(page.locator("#users-done")).to_contain_text("disabled")
    sign_in_as(other, email, "another long passphrase")
    expect(other.get_by_role("alert")).to_contain_text("wrong")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/users")
    assert wider_than_viewport(page) == []
    assert accessibility_violations(page) == []


def test_a_person_creates_and_revokes_an_api_token(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    auditor = staff["auditor"]
    sign_in(page, auditor, "/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("#sessions")).to_contain_text("(this browser)")

    page.get_by_label("Name", exact=True).fill("reporting")
    page.get_by_label("Expires after (days) (empty: never)").fill("ten")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#token-expires-error")).to_contain_text("whole number of days")
    expect(page.get_by_label("Name", exact=True)).to_have_value("reporting")
    expect(page.get_by_label("Expires after (days) (empty: never)")).to_have_value("ten")
    assert accessibility_violations(page) == []

    page.get_by_label("Expires after (days) (empty: never)").fill("30")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-secret").inner_text()
    assert secret.startswith("bd_")
    expect(page.locator("#new-token")).to_contain_text("(read)")  # an auditor's is read-only
    with httpx.Client(base_url=server.url, timeout=10) as api:
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["email"] == auditor.email
        page.goto("/account")  # shown once: not again
        expect(page.locator("#new-token-secret")).to_have_count(0)
        row = page.locator("#tokens tr", has_text="reporting")
        expect(row).to_contain_text("active")
        row.get_by_role("button", name="Revoke reporting").click()
        expect(page.locator("#account-done")).to_contain_text("revoked")
        expect(page.locator("#tokens tr", has_text="reporting")).to_contain_text("revoked")
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                       ).status_code == 401
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert wider_than_viewport(page) == []


def test_a_person_sets_up_a_second_factor_that_sign_in_then_asks_for(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder = staff["responder"]
    sign_in(page, responder, "/account")
    expect(page.locator("#second-factor")).to_contain_text("Off")
    page.get_by_role("button", name="Set up a second factor").click()
    expect(page).to_have_url(re.compile(r"/account/totp$"))
    app = key_shown(page)

    page.get_by_label("Code").fill("12345x")
    page.get_by_role("button", name="Confirm").click()
    sent_back_to(page, "/account/totp#code-error")
    expect(page.locator("#code-error")).to_contain_text("six digits")
    expect(page.get_by_label("Code")).to_have_value("")  # a code is never kept
    expect(page.get_by_label("Code")).to_have_attribute("aria-describedby", "code-error")
    assert accessibility_violations(page) == []
    used = app.now()
    page.get_by_label("Code").fill(used)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/account\?done=totp$"))
    expect(page.locator("#second-factor")).to_contain_text("On since")
    expect(page.locator("#totp-secret")).to_have_count(0)  # never shown again

    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in_as(page, responder.email, responder.password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.get_by_label("Code").fill(used)  # the code that confirmed the set-up: replayed
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("used already")
    expect(page.get_by_label("Code")).to_have_value("")
    assert accessibility_violations(page) == []
    page.get_by_label("Code").fill(f"{(int(next_code(app)) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("code is wrong")
    page.get_by_label("Code").fill(next_code(app))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/incidents$"))

    # Lost phone: an admin resets it; the password alone signs in again.
    admin = page.context.browser.new_context(base_url=server.url)  # type: ignore[union-attr]
    try:
        desk = admin.new_page()
        sign_in(desk, staff["admin"], "/users")
        row = desk.locator(f"tr[data-user='{responder.email}']")
        expect(row).to_contain_text("second factor on")
        row.get_by_role("button", name=f"Reset second factor of {responder.email}").click()
        expect(desk.locator("#users-done")).to_contain_text("second factor was reset")
        expect(desk.locator(f"tr[data-user='{responder.email}']")).to_contain_text(
            "no second factor")
    finally:
        admin.close()
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, responder, "/incidents")


def test_an_approver_must_set_up_a_second_factor_at_sign_in(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    approver = staff["approver"]
    sign_in_as(page, approver.email, approver.password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second factor")
    app = key_shown(page)
    page.get_by_label("Code").fill("")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("#code-error")).to_contain_text("code is wrong")
    assert key_shown(page).secret == app.secret  # the same key until it is confirmed
    assert accessibility_violations(page) == []
    page.get_by_label("Code").fill(app.now())
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page).to_have_url(re.compile(r"/incidents$"))
    page.goto("/account")
    expect(page.locator("#second-factor")).to_contain_text("On since")
    assert accessibility_violations(page) == []
