"""The breach register and the deadline-compliance pages in a real Chromium against
`breach serve`: reached from the navigation by admins, approvers and auditors, filtered with
the form, the timeline pictures drawn (inline SVG, no script, nothing the page's
Content-Security-Policy refuses), and the PDF behind the page's link.

The server runs on the real clock, so the incidents are placed relative to now: one notified
an hour late with the reasons, one notified on time with its notice to people waived, one
dismissed, one whose authority notice is eight hours overdue.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import Server, sign_in, unlabelled_controls

PROFILE = {"name": "Example GmbH", "country": "DE", "timezone": "Europe/Berlin",
           "authorities": {"gdpr/authority": {"name": "Berliner Beauftragte",
                                              "email": "mailbox@datenschutz-berlin.de"}}}
LATE_REASON = "The forensic report confirming the access arrived a day late."
WAIVER = "The data was encrypted and the key kept apart: no risk to the people."
DISMISSAL = "Only synthetic test accounts were exposed."


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def incidents(server: Server, staff: dict[str, Person]) -> dict[str, str]:
    """Four incidents, by what became of them: `late`, `on_time`, `dismissed`, `overdue`."""
    responder, approver = staff["responder"], staff["approver"]
    now = datetime.now(UTC).replace(microsecond=0)
    found: dict[str, str] = {}
    with server.api(staff["admin"]) as admin:
        _ok(admin.put("/api/v1/organisation", json=PROFILE))
    with server.api(responder) as api, server.api(approver) as approving:
        for name, hours, title in [("late", 100, "Intrusion into the support desk"),
                                   ("on_time", 10, "Stolen laptop"),
                                   ("dismissed", 5, "Test accounts exposed"),
                                   ("overdue", 80, "Customer list sent to the wrong partner")]:
            aware = now - timedelta(hours=hours)
            body = {"title": title, "kind": "other", "breach_types": ["confidentiality"],
                    "data_categories": ["contact"], "estimated_subjects": 120,
                    "detected_at": (aware - timedelta(hours=1)).isoformat(),
                    "aware_at": aware.isoformat()}
            reference = str(_ok(api.post("/api/v1/incidents", json=body), 201)["reference"])
            _ok(api.get(f"/api/v1/incidents/{reference}/obligations"))
            found[name] = reference
            url = f"/api/v1/incidents/{reference}/obligations"
            if name == "late":  # due 72 h after awareness, met an hour after that
                _ok(api.post(f"{url}/gdpr/authority", json={
                    "status": "met", "at": (aware + timedelta(hours=73)).isoformat(),
                    "how": "Authority portal", "reason": LATE_REASON}))
            elif name == "on_time":
                _ok(api.post(f"{url}/gdpr/authority", json={
                    "status": "met", "at": (aware + timedelta(hours=1)).isoformat(),
                    "how": "Authority portal"}))
                _ok(approving.post(f"{url}/gdpr/data-subjects",
                                   json={"status": "waived", "reason": WAIVER}))
            elif name == "dismissed":
                _ok(approving.post(f"/api/v1/incidents/{reference}/status",
                                   json={"status": "dismissed", "reason": DISMISSAL}))
    return found


def test_admins_approvers_and_auditors_reach_both_reports_from_the_navigation(
        server: Server, staff: dict[str, Person], incidents: dict[str, str], page: Page) -> None:
    for role in ("admin", "approver", "auditor"):
        sign_in(page, staff[role], "/incidents")
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Register").click()
        expect(page).to_have_url(re.compile(r"/register$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Breach register")
        expect(page.locator("article.register-entry")).to_have_count(4)
        nav.get_by_role("link", name="Deadlines").click()
        expect(page).to_have_url(re.compile(r"/compliance$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Deadline compliance")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login$"))


def test_an_auditor_reads_the_register_and_filters_it(
        server: Server, staff: dict[str, Person], incidents: dict[str, str], page: Page) -> None:
    sign_in(page, staff["auditor"], "/register")
    late = page.locator(f'article#{incidents["late"]}')
    authority = late.locator('tr[data-ref="gdpr/authority"]')
    expect(authority.locator(".decision")).to_contain_text("late by 1 h")
    expect(authority.locator(".decision")).to_contain_text(LATE_REASON)
    on_time = page.locator(f'article#{incidents["on_time"]}')
    expect(on_time.locator('tr[data-ref="gdpr/data-subjects"] .decision')).to_contain_text(
        f"Waived by {staff['approver'].email}")
    dismissed = page.locator(f'article#{incidents["dismissed"]}')
    expect(dismissed.locator(".dismissal")).to_contain_text(DISMISSAL)
    expect(dismissed.locator('tr[data-ref="gdpr/authority"] .decision')).to_contain_text(
        "Not owed")
    overdue = page.locator(f'article#{incidents["overdue"]}')
    expect(overdue.locator('tr[data-ref="gdpr/authority"] .overdue-flag')).to_have_text("overdue")
    expect(overdue.locator(".people")).to_contain_text("120, estimated")
    assert unlabelled_controls(page) == []

    page.get_by_label("Status").select_option("dismissed")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"status=dismissed"))
    expect(page.locator("article.register-entry")).to_have_count(1)
    expect(page.locator(f'article#{incidents["dismissed"]}')).to_be_visible()

    # A day after today: nothing became known yet.
    tomorrow = (datetime.now(server.zone) + timedelta(days=1)).date().isoformat()
    page.get_by_label("Became known from").fill(tomorrow)
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#register-empty")).to_be_visible()

    page.get_by_label("Became known from").fill(tomorrow)
    page.get_by_label("to (included)").fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#notice")).to_have_text("From: must be before to.")


def test_the_compliance_page_draws_each_incident_and_its_pdf_prints(
        server: Server, staff: dict[str, Person], incidents: dict[str, str], page: Page) -> None:
    sign_in(page, staff["auditor"], "/compliance")
    expect(page.locator("section.compliance-incident")).to_have_count(4)
    everything = page.locator('#periods tfoot tr[data-period="all"]')
    # On time: one; late: one; overdue: one (the waived one and the open ones not yet due are
    # left out of the share).
    expect(everything.locator("td.share")).to_have_text("33 %")
    expect(everything.locator("td.open")).to_contain_text("(1 overdue)")

    picture = page.locator(f'section#{incidents["overdue"]} figure.chart svg')
    expect(picture).to_be_visible()
    expect(picture).to_have_attribute("role", "img")
    lane = picture.locator('g.lane[data-ref="gdpr/authority"]')
    expect(lane).to_have_class(re.compile(r"\blane-overdue\b"))
    expect(picture.locator("g.now")).to_have_count(1)
    box = picture.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 60, box
    late_lane = page.locator(f'section#{incidents["late"]} g.lane[data-ref="gdpr/authority"]')
    expect(late_lane).to_have_class(re.compile(r"\blane-late\b"))
    due = late_lane.locator("line.due").bounding_box()
    met = late_lane.locator("circle.met").bounding_box()
    assert due is not None and met is not None
    assert met["x"] + met["width"] / 2 > due["x"] + due["width"] / 2  # met after its due time
    expect(page.locator(f'section#{incidents["late"]} tr[data-ref="gdpr/authority"] .outcome')
           ).to_contain_text("late by 1 h")

    link = page.get_by_role("link", name="PDF")
    pdf = page.request.get(str(link.get_attribute("href")))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
