"""Single sign-on in a real Chromium against `breach serve` and a real OpenID provider on
loopback (tests/oidc_provider.py, built on authlib's server side).

The server is set up as an organisation would: BREACH_OIDC_ISSUER and its client, the role
claim `groups` mapped to roles, passwords turned off but for a break-glass admin. A person
signs in through the provider's own login form and lands with the role their groups give;
the people page says how each person signs in (made by SSO; the break-glass admin with a
password). The failures a person can meet: a token issued to another client (wrong
audience, OpenID Connect Core 1.0 §3.1.3.7 item 3), an expired or a replayed code (RFC 6749
§4.1.2: short-lived, used once), a state that does not match (RFC 6749 §10.12), and a person
whose groups map to no role (403, a page that says so).
Every outcome is on the organisation timeline.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine
from tests.factories import make_person
from tests.oidc_provider import CODE_SECONDS, Provider, running_provider
from tests.web.chromium import Server, accessibility_violations, serving

CLIENT_ID, CLIENT_SECRET = "breachdesk", "breachdesk-client-secret"
BREAK_GLASS = "break-glass@example.com"
PROVIDER_NAME = "Example ID"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        running.add_person("ana", email="ana@example.com", name="Ana Admin",
                           groups=["staff", "breach-admins"])
        running.add_person("rui", email="rui@example.com", name="Rui Responder",
                           groups=["breach-responders"])
        running.add_person("nora", email="nora@example.com", name="Nora Nobody",
                           groups=["marketing"])
        yield running


@pytest.fixture(scope="module")
def server(lane: str, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
           provider: Provider) -> Iterator[Server]:
    """`breach serve` as in tests/web/conftest.py, signing in with the provider."""

    def settings(url: str) -> dict[str, str]:
        provider.add_client(CLIENT_ID, CLIENT_SECRET, f"{url}/login/sso/callback")
        provider.add_client("another-client", "another-secret", f"{url}/login/sso/callback")
        return {"BREACH_OIDC_ISSUER": provider.url, "BREACH_OIDC_CLIENT_ID": CLIENT_ID,
                "BREACH_OIDC_CLIENT_SECRET": CLIENT_SECRET, "BREACH_OIDC_ROLE_CLAIM": "groups",
                "BREACH_OIDC_ROLES": "breach-admins:admin,breach-responders:responder",
                "BREACH_OIDC_PROVIDER_NAME": PROVIDER_NAME, "BREACH_LOCAL_SIGN_IN": "off",
                "BREACH_BREAK_GLASS": BREAK_GLASS}

    def break_glass_admin(env: dict[str, str]) -> None:
        """Made before the server starts (it writes to the database too)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _break_glass_admin(env["BREACH_DATABASE_URL"])).result()

    with serving(tmp_path_factory.mktemp("server"), sqlite_template, settings,
                 break_glass_admin) as running:
        yield running


async def _break_glass_admin(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await make_person(engine, FixedClock(datetime.now(UTC)), "admin", email=BREAK_GLASS)
    finally:
        await engine.dispose()


def sign_in_events(server: Server) -> list[tuple[str, dict[str, Any]]]:
    """The organisation timeline's sign-in events, oldest first."""
    path = server.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT kind, payload FROM timeline_events WHERE chain = "
                          "'organisation' AND kind IN ('signed_in', 'sign_in_failed', "
                          "'user_created') ORDER BY seq").fetchall()
    return [(kind, json.loads(payload) if isinstance(payload, str) else payload)
            for kind, payload in rows]


def at_provider(page: Page, username: str) -> None:
    """From the sign-in page, through the provider's login form."""
    page.goto("/login")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Provider password").fill("provider-password")


def held_callback(page: Page, provider: Provider, username: str) -> str:
    """Sign in at the provider but do not come back yet: the way back (the callback address,
    with its code and state) is returned instead of followed."""
    provider.hold = True
    try:
        at_provider(page, username)
        page.get_by_role("button", name="Continue").click()
        link = page.locator("#back").get_attribute("href")
    finally:
        provider.hold = False
    assert link is not None and "/login/sso/callback?" in link
    return link


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_a_person_signs_in_with_the_provider_and_gets_the_role_their_groups_give(
        page: Page, server: Server) -> None:
    page.goto("/login")
    expect(page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}")).to_be_visible()
    # Passwords are off: the form is kept for the break-glass admin, folded away.
    expect(page.get_by_label("Password", exact=True)).to_be_hidden()
    assert accessibility_violations(page) == []

    at_provider(page, "ana")
    page.get_by_role("button", name="Continue").click()
    # An admin lands on the home page, which is the set-up while no organisation profile exists.
    expect(page).to_have_url(re.compile(r"/setup$"))
    me = page.request.get("/api/v1/me").json()
    assert (me["email"], me["role"], me["source"]) == ("ana@example.com", "admin", "sso")

    page.goto("/users")
    row = page.locator("tr[data-user='ana@example.com']")
    expect(row.locator(".source")).to_contain_text("SSO")
    # How each person signs in: ana with the provider, the break-glass admin with a password.
    expect(row.locator(".source")).to_have_text(
        "Signs in with: single sign-on (SSO): made at first sign-in, role from the identity "
        "provider")
    expect(row.locator(".source")).to_have_attribute("data-sign-in", "sso")
    glass = page.locator(f"tr[data-user='{BREAK_GLASS}'] .source")
    expect(glass).to_have_text("Signs in with: local password; break-glass admin (a password "
                               "while passwords are off)")
    expect(glass).to_have_attribute("data-break-glass", "true")
    expect(row.get_by_role("button", name=re.compile("Reset password"))).to_have_count(0)
    assert ("user_created", {"user_id": me["id"], "role": "admin", "source": "sso"}) in \
        sign_in_events(server)
    assert ("signed_in", {"user_id": me["id"], "method": "sso"}) in sign_in_events(server)


def test_a_password_is_refused_but_for_the_break_glass_admin(
        page: Page, server: Server, staff: dict[str, Any]) -> None:
    for person, refused in ((staff["responder"].email, True), (BREAK_GLASS, False)):
        page.context.clear_cookies()
        page.goto("/login")
        page.get_by_text("Emergency sign-in with a password").click()
        page.get_by_label("E-mail").fill(person)
        page.get_by_label("Password", exact=True).fill(staff["responder"].password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        if refused:
            expect(page.get_by_role("alert")).to_contain_text(
                f"Passwords are turned off here: sign in with {PROVIDER_NAME}")
        else:
            expect(page).not_to_have_url(re.compile(r"/login"))
            assert page.request.get("/api/v1/me").json()["email"] == BREAK_GLASS
    kinds = [(k, p.get("reason"), p.get("break_glass")) for k, p in sign_in_events(server)
             if p.get("method") == "password"]
    assert kinds[-2:] == [("sign_in_failed", "passwords_off", None),
                          ("signed_in", None, True)]


def test_what_the_provider_or_the_browser_got_wrong_is_refused_with_a_clear_page(
        page: Page, context: BrowserContext, server: Server, provider: Provider) -> None:
    refusal = page.locator("#refusal")

    # A state that does not match the one this browser set out with (RFC 6749 §10.12).
    callback = held_callback(page, provider, "rui")
    page.goto(with_query(callback, state="forged-state"))
    expect(refusal).to_contain_text("its state does not match")

    # An expired code: the provider's clock moves past the code's lifetime.
    callback = held_callback(page, provider, "rui")
    provider.clock += CODE_SECONDS + 1
    try:
        page.goto(callback)
    finally:
        provider.clock = 0
    expect(refusal).to_contain_text("refused the sign-in code")

    # A replayed code: used once (signed in), then brought back with its browser's cookie.
    callback = held_callback(page, provider, "rui")
    pending = [c for c in context.cookies() if c["name"] == "breach_sso"]
    page.goto(callback)
    expect(page).to_have_url(re.compile(r"/incidents$"))
    assert page.request.get("/api/v1/me").json()["role"] == "responder"
    context.clear_cookies()
    context.add_cookies(pending)  # type: ignore[arg-type]
    page.goto(callback)
    expect(refusal).to_contain_text("refused the sign-in code")

    # An ID token for another client (OpenID Connect Core 1.0 §3.1.3.7: aud must be ours).
    provider.audience = "another-client"
    try:
        at_provider(page, "rui")
        page.get_by_role("button", name="Continue").click()
        expect(refusal).to_contain_text("ID token was not accepted")
    finally:
        provider.audience = None
    assert page.request.get("/api/v1/me").status == 401

    # Known to the provider, in no group that gives a role: 403 and a page that says so.
    at_provider(page, "nora")
    with page.expect_response(re.compile(r"/login/sso/callback")) as answer:
        page.get_by_role("button", name="Continue").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="No access to Breachdesk")).to_be_visible()
    expect(refusal).to_contain_text("no role in Breachdesk")
    assert accessibility_violations(page) == []

    failures = [p["reason"] for k, p in sign_in_events(server)
                if k == "sign_in_failed" and p["method"] == "sso"]
    assert failures[-5:] == ["state", "code", "code", "token", "no_role"]
