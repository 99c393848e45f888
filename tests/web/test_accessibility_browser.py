"""Every page, as axe-core sees it: no serious or critical violations, at desktop and phone
widths. The checks run in Chromium against a real `breach serve`.

SQLite only: accessibility depends on the pages, not on the database.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize

from tests.factories import Person
from tests.web.chromium import Server, accessibility_violations, incident_aware_hours_ago, sign_in

PHONE: ViewportSize = {"width": 390, "height": 844}


def test_the_sign_in_page_has_no_serious_accessibility_violations(page: Page) -> None:
    page.goto("/login")
    assert accessibility_violations(page) == []


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_pages_of_an_incident_have_no_serious_accessibility_violations(
        page: Page, server: Server, staff: dict[str, Person],
        viewport: ViewportSize | None) -> None:
    if viewport:
        page.set_viewport_size(viewport)
    reference, _ = incident_aware_hours_ago(server, staff["responder"], 2, "Stolen laptop")
    sign_in(page, staff["responder"], "/incidents")
    found: dict[str, list[str]] = {}
    for path in ("/incidents", f"/incidents/{reference}", "/incidents/new", "/reminders"):
        page.goto(path)
        found[path] = accessibility_violations(page)
    assert found == {path: [] for path in found}

