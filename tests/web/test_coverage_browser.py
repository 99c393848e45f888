"""The coverage page in Chromium: a DPO finds which laws cover a state, filters by confidence,
is told inline when a place matches nothing, and the page fits a phone.

Indiana: "without unreasonable delay, but not more than forty-five (45) days after the
discovery of the breach" (IC 24-4.9-3-3(a)); the disclosure is owed to "an Indiana resident"
(IC 24-4.9-3-1(a)). HIPAA (45 CFR 164.404(b)) is a federal law: it shows beside a state looked
up by its code.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)


def test_a_state_is_looked_up_filtered_by_confidence_and_a_bad_place_is_refused(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    sign_in(page, staff["auditor"], "/incidents")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coverage").click()
    expect(page).to_have_url(re.compile(r"/regimes$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Legal coverage")
    # Every US state, DC and the three territories are listed, covered or not.
    for code in ("US-OH", "US-DC", "US-PR", "US-GU", "US-VI", "EU"):
        expect(page.locator(f'#coverage tbody[data-code="{code}"]')).to_have_count(1)
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    page.get_by_label("Country or state").fill("us-in")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/regimes\?place=us-in"))
    expect(page.locator("#coverage tbody")).to_have_count(2)  # Indiana and the federal laws
    indiana = page.locator('tr[data-regime="us-in"]')
    expect(indiana.locator('li[data-ref="us-in/individuals"]')).to_contain_text(
        "without undue delay, at most 45 days from discovered at")
    expect(indiana).to_contain_text("IC 24-4.9-3-1(a)")
    expect(page.locator('tr[data-regime="hipaa"]')).to_have_count(1)
    expect(page.get_by_label("Country or state")).to_have_value("us-in")

    page.get_by_label("Country or state").fill("")
    page.get_by_label("Confidence").select_option("low")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('tr[data-regime="qa-pdppl"]')).to_have_count(1)  # the whole regime: low
    expect(page.locator('tr[data-regime="gdpr"]')).to_have_count(0)
    expect(page.locator("tbody.not-covered")).to_have_count(0)

    page.get_by_label("Country or state").fill("Atlantis")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("No country or state matches 'Atlantis'")
    expect(page.get_by_label("Country or state")).to_have_value("Atlantis")
    expect(page.get_by_label("Country or state")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Confidence")).to_have_value("low")
    assert accessibility_violations(page) == []

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    page.goto("/regimes")
    assert wider_than_viewport(page) == []
    assert accessibility_violations(page) == []
