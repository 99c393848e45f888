"""Who takes a report to an authority, and how, where a person decides or files it: the
incident's Obligations section, the notification pages and the coverage page, in Chromium
against `breach serve`.

The server runs with BREACH_REGIMES_DIR holding the organisation's own demo regime
(tests/notifications/obligations/authorities.py): its report goes to a demo authority that
takes reports only through its portal. The organisation profile first names no contact for
it, then one with an e-mail address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PROFILE, Person
from tests.notifications.obligations.authorities import (
    AUTHORITY,
    FILING,
    REGIME_ID,
    REPORT,
    regime_folder,
)
from tests.web.chromium import (
    CHROMIUM,
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    serving,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)

CONTACT = {"name": "Demo authority, breach desk", "email": "breach@authority.example.org"}


@pytest.fixture(scope="module")
def server(lane: str, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[Server]:
    """`breach serve` with the demo regime as the organisation's own."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    directory = tmp_path_factory.mktemp("server")
    folder = regime_folder(directory)
    with serving(directory, sqlite_template,
                 settings=lambda url: {"BREACH_REGIMES_DIR": str(folder)}) as running:
        yield running


def set_profile(server: Server, admin: Person, **authorities: object) -> None:
    with server.api(admin) as api:
        saved = api.put("/api/v1/organisation", json={
            **PROFILE, "authorities": {**PROFILE["authorities"], **authorities}})
    assert saved.status_code == 200, saved.text


def test_the_obligations_section_says_who_takes_a_report_and_how(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder = staff["responder"]
    set_profile(server, staff["admin"])  # no contact for the demo authority
    reference, _ = incident_aware_hours_ago(server, responder, 5, "Backup tape lost in transit")
    sign_in(page, responder, f"/incidents/{reference}")

    # 1. The catalogue's entry, shown with the duty; the profile names no address for it, so
    #    the page says the report is filed as the authority asks and recorded as met.
    duty = page.locator(f'#obligations tbody.obligation[data-ref="{REPORT}"]')
    block = duty.locator("#authority-acme-dpa-report")
    expect(block).to_be_visible()
    expect(block.locator(".authority-heading")).to_have_text("Who takes this report, and how")
    entries = block.locator("dl.authority-list")
    expect(entries).to_contain_text(AUTHORITY["name"])
    expect(entries).to_contain_text(AUTHORITY["address"])
    expect(entries.locator(".filing")).to_have_text(FILING)
    expect(entries).to_contain_text(AUTHORITY["phone"])
    expect(entries.get_by_role("link", name=AUTHORITY["website"])).to_have_attribute(
        "href", AUTHORITY["website"])
    expect(entries).to_contain_text("checked on 2026-12-01")
    expect(entries.get_by_role("link", name="authority.example.org", exact=True)).to_have_attribute(
        "href", AUTHORITY["source"])
    expect(block.locator(".authority-by-hand")).to_contain_text(
        "no e-mail address for this authority, so the report is not sent from here")
    expect(block.locator(".authority-used")).to_have_count(0)
    # A duty with no authority shows none.
    expect(page.locator(f'#obligations tbody.obligation[data-ref="{REGIME_ID}/board"] '
                        ".duty-authority")).to_have_count(0)
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    # 2. The profile names the contact: that is the address used, the catalogue's for reference.
    set_profile(server, staff["admin"], **{REGIME_ID: CONTACT})
    page.reload()
    used = block.locator(".authority-used")
    expect(used).to_contain_text(f"Address used: {CONTACT['name']}, {CONTACT['email']}")
    expect(used).to_contain_text("the organisation profile's contact")
    expect(block.locator(".authority-heading")).to_have_text(
        "The catalogue's entry, for reference")
    expect(block.locator(".filing")).to_have_text(FILING)
    expect(block.locator(".authority-by-hand")).to_have_count(0)
    assert accessibility_violations(page) == []

    # 3. On a phone, the entry wraps rather than widening the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(block).to_be_visible()
    assert wider_than_viewport(page) == []
    assert accessibility_violations(page) == []

    # 4. Once filed through the portal and recorded, the duty no longer asks for it.
    page.set_viewport_size({"width": 1280, "height": 900})
    set_profile(server, staff["admin"])
    page.reload()
    expect(block.locator(".authority-by-hand")).to_be_visible()
    duty.get_by_text("Update status").click()
    duty.get_by_label("How").fill("The authority's portal, receipt 2026-118")
    duty.get_by_role("button", name="Mark met").click()
    expect(duty.locator(".obligation-status")).to_contain_text("receipt 2026-118")
    expect(block.locator(".authority-by-hand")).to_have_count(0)
    expect(block.locator(".filing")).to_have_text(FILING)  # still there, for the record


def test_the_notification_pages_name_where_a_report_goes(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder = staff["responder"]
    set_profile(server, staff["admin"])
    reference, _ = incident_aware_hours_ago(server, responder, 2, "Misdirected export")
    sign_in(page, responder, f"/incidents/{reference}/notifications")
    note = page.locator("#authority-acme-dpa-report")
    expect(note.locator(".authority-by-hand")).to_contain_text(
        f"{AUTHORITY['name']} takes reports as follows, according to the regime catalogue: "
        f"{FILING}")
    expect(note.get_by_role("link", name="the incident page")).to_have_attribute(
        "href", f"/incidents/{reference}#obligations")
    expect(note.locator(".filing")).to_be_visible()  # open: the profile names nobody
    assert accessibility_violations(page) == []

    set_profile(server, staff["admin"], **{REGIME_ID: CONTACT})
    with server.api(responder) as api:
        created = api.post(f"/api/v1/incidents/{reference}/notifications",
                           json={"obligation": REPORT})
    assert created.status_code == 201, created.text
    page.goto(f"/incidents/{reference}/notifications/{created.json()['id']}")
    note = page.locator("#authority-report")
    expect(note.locator(".authority-used")).to_contain_text(
        f"Sent to {CONTACT['name']}, {CONTACT['email']}")
    expect(note.locator(".filing")).to_be_hidden()  # the catalogue's entry, closed
    note.get_by_text(f"{AUTHORITY['name']}: address and how to file").click()
    expect(note.locator(".filing")).to_have_text(FILING)
    expect(note.locator(".authority-by-hand")).to_have_count(0)
    assert accessibility_violations(page) == []


def test_the_coverage_page_says_who_takes_each_report_and_how(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    sign_in(page, staff["auditor"], "/regimes")
    page.goto("/regimes?place=DE")
    expect(page).to_have_url(re.compile(r"/regimes\?place=DE$"))
    duty = page.locator(f'li[data-ref="{REPORT}"]')
    filing = duty.locator("details.duty-filing")
    expect(filing.locator("summary")).to_have_text(
        f"Reported to {AUTHORITY['name']}: how to file")
    expect(filing.locator(".filing")).to_be_hidden()
    filing.locator("summary").click()
    expect(filing.locator(".filing")).to_have_text(FILING)
    expect(filing.get_by_role("link", name="source")).to_have_attribute("href", AUTHORITY["source"])
    expect(filing).to_contain_text("checked on 2026-12-01")
    expect(page.locator(f'li[data-ref="{REGIME_ID}/board"] details.duty-filing')).to_have_count(0)
    assert accessibility_violations(page) == []
