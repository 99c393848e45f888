"""The deadline dashboard and the incident list's "next due" in Chromium: open duties soonest
first, each urgency said in words beside its colour, each linked to its duty; the list filtered
to overdue incidents.

GDPR Art. 33(1): the report to the supervisory authority is due "not later than 72 hours after
having become aware of" the breach. Aware 80 hours ago: overdue; 68 hours ago: 4 hours left
(under 6 h); 60 hours ago: 12 hours left (under 24 h); 1 hour ago: 71 hours left.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import PROFILE, Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)


def test_open_duties_soonest_first_with_their_urgency_and_the_overdue_filter(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder, admin = staff["responder"], staff["admin"]
    with server.api(admin) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
    hours = {"later": 1, "today": 60, "overdue": 80, "soon": 68}
    found = {level: incident_aware_hours_ago(server, responder, ago, f"Aware {ago} h ago")[0]
             for level, ago in hours.items()}
    with server.api(responder) as api:
        for reference in found.values():
            assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200

    sign_in(page, responder, "/incidents")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Deadline dashboard")
    expect(page.locator("#dashboard-zone")).to_contain_text("Times in Europe/Berlin")
    reports = page.locator('tr.due-row[data-ref="gdpr/authority"]')
    expect(reports).to_have_count(4)
    assert reports.evaluate_all("rows => rows.map(r => r.dataset.incident)") == [
        found["overdue"], found["soon"], found["today"], found["later"]]
    for position, words in enumerate(("Overdue", "Due in under 6 h", "Due in under 24 h",
                                      "Due later")):
        expect(reports.nth(position).locator("span.urgency")).to_have_text(words)
    expect(reports.nth(0)).to_contain_text(re.compile(r"overdue by 8 h 0\d min"))
    expect(reports.nth(1)).to_contain_text(re.compile(r"3 h 5\d min left"))
    expect(page.locator("#count-overdue")).to_contain_text("Overdue:")
    assert accessibility_violations(page) == []

    reports.nth(0).get_by_role("link", name="gdpr/authority").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{found['overdue']}#obligation-gdpr-authority$"))

    # The incident list: each incident's next due time with its urgency, and a filter.
    page.goto("/incidents")
    expect(page.get_by_role("columnheader", name="Next due")).to_be_visible()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=found["overdue"]))
    expect(row.locator(".next-due")).to_contain_text("Overdue")
    later = page.locator("tbody tr", has=page.get_by_role("link", name=found["later"]))
    expect(later.locator(".next-due")).to_contain_text("Due later")
    page.get_by_label("Overdue only").check()
    page.get_by_label("Status").select_option("open")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/incidents\?.*overdue=1"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name=found["overdue"])).to_be_visible()
    expect(page.get_by_label("Overdue only")).to_be_checked()
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("p.empty")).to_have_text("No incidents match these filters.")

    # On a phone: the dashboard and the list fit the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/dashboard", "/incidents"):
        page.goto(path)
        assert wider_than_viewport(page) == [], path
