"""First run in Chromium: before the organisation profile exists, everyone is told set-up is
unfinished and no notice can be drafted; an admin who signs in lands on the set-up page, gets
bad input back beside its fields as typed, saves the profile, and a notice can be drafted.

A report names the organisation's contact point (GDPR Art. 33(3)(b)) and goes to the
supervisory authority (Art. 33(1)): without the profile's DPO, sender and authority, none can
be written.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    sent_back_to,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)


def test_set_up_from_the_first_sign_in_to_the_first_draft(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder, admin = staff["responder"], staff["admin"]
    reference, _ = incident_aware_hours_ago(server, responder, 2, "Laptop left on a train")

    # A responder is told that an admin must finish set-up, and cannot draft yet.
    sign_in(page, responder, f"/incidents/{reference}/notifications")
    expect(page.locator("#setup-banner")).to_contain_text(
        "an admin must complete the organisation profile")
    expect(page.locator("#setup-pointer")).to_contain_text(
        "No notice can be drafted until the organisation's set-up is finished")
    expect(page.get_by_role("button", name="Draft")).to_have_count(0)
    with server.api(responder) as api:
        refused = api.post(f"/api/v1/incidents/{reference}/notifications",
                           json={"obligation": "gdpr/authority"})
    assert refused.status_code == 409 and "set-up is finished" in refused.json()["detail"]
    page.goto("/setup")
    expect(page.locator("#setup-needed")).to_contain_text(
        "an admin must complete the organisation profile")
    expect(page.locator("form.setup-form")).to_have_count(0)
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Sign out").click()

    # The admin signs in and lands on the set-up page.
    page.goto("/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(admin.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation set-up")
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    page.get_by_label("Organisation name").fill("Example GmbH")
    page.get_by_label("Country").fill("Germany")
    page.get_by_label("Principal place of business").fill("Berlin")
    page.get_by_label("Entity type").select_option("credit_institution")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Sender address").fill("privacy@example.com")
    page.get_by_label("DPO name").fill("Dana Privacy")
    page.get_by_label("DPO e-mail").fill("dana at example")
    page.get_by_label("Authority 1: duty").select_option("gdpr/authority")
    page.get_by_label("Authority 1: name").fill("Berliner Beauftragte für Datenschutz")
    page.get_by_label("Authority 1: e-mail").fill("mailbox@datenschutz-berlin.de")
    page.get_by_label("nis2 important").check()
    page.get_by_role("button", name="Save the organisation profile").click()

    # Sent back to the form's page (a redirect: the address is the page's, at the summary),
    # which shows each message beside its field and everything as typed.
    sent_back_to(page, "/setup#setup-errors")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The profile was not saved")
    expect(alert).to_contain_text("Country: must be two capital letters (ISO 3166-1), as in DE")
    expect(alert).to_contain_text("DPO e-mail: is not an e-mail address")
    expect(alert).to_contain_text("Principal place of business: 'Berlin' is not a jurisdiction")
    expect(page.locator("#principal_place-error")).to_contain_text(
        "use ISO 3166-1 alpha-2 (DE) or ISO 3166-2 (US-CA)")
    expect(page.get_by_label("Principal place of business")).to_have_attribute(
        "aria-invalid", "true")
    expect(page.get_by_label("Principal place of business")).to_have_value("Berlin")
    expect(page.get_by_label("Entity type")).to_have_value("credit_institution")
    expect(page.locator("#country-error")).to_have_text(
        "must be two capital letters (ISO 3166-1), as in DE")
    expect(page.get_by_label("Country")).to_have_attribute("aria-describedby", "country-error")
    expect(page.get_by_label("Country")).to_have_value("Germany")
    expect(page.get_by_label("DPO e-mail")).to_have_value("dana at example")
    expect(page.get_by_label("Organisation name")).to_have_value("Example GmbH")
    expect(page.get_by_label("Authority 1: duty")).to_have_value("gdpr/authority")
    expect(page.get_by_label("nis2 important")).to_be_checked()
    expect(alert.get_by_role("link", name="Country")).to_have_attribute("href", "#country")
    assert accessibility_violations(page) == []
    # Once: the same page opened again (a GET, in another tab of this session) shows the
    # stored profile, none yet, and no message.
    again = page.context.new_page()
    try:
        with again.expect_request(lambda r: r.is_navigation_request()) as asked:
            again.goto(page.url)
        assert asked.value.method == "GET"
        expect(again.locator("#setup-errors")).to_have_count(0)
        expect(again.get_by_label("Country")).to_have_value("")
    finally:
        again.close()
    with server.api(admin) as api:
        assert api.get("/api/v1/organisation").status_code == 404  # nothing was saved

    page.get_by_label("Country").fill("DE")
    page.get_by_label("DPO e-mail").fill("dpo@example.com")
    page.get_by_label("Principal place of business").fill("de-be")
    page.get_by_role("button", name="Save the organisation profile").click()
    expect(page).to_have_url(re.compile(r"/setup\?saved=true$"))
    expect(page.locator("#setup-saved")).to_contain_text("Organisation profile saved")
    expect(page.get_by_label("Country")).to_have_value("DE")
    expect(page.get_by_label("Principal place of business")).to_have_value("DE-BE")
    expect(page.get_by_label("Entity type")).to_have_value("credit_institution")
    with server.api(admin) as api:
        profile = api.get("/api/v1/organisation").json()
    assert (profile["principal_place"], profile["entity_type"]) == ("DE-BE", "credit_institution")
    assert profile["dpo"]["email"] == "dpo@example.com" and profile["flags"] == ["nis2_important"]
    assert profile["authorities"]["gdpr/authority"]["name"] == "Berliner Beauftragte für Datenschutz"

    # A principal place of business outside the profile's country is refused beside its field,
    # as typed, and nothing is saved.
    page.get_by_label("Principal place of business").fill("US-WI")
    page.get_by_role("button", name="Save the organisation profile").click()
    sent_back_to(page, "/setup#setup-errors")
    expect(page.locator("#principal_place-error")).to_have_text(
        "US-WI is not in DE, the profile's country: give a region of DE (ISO 3166-2, as US-WI "
        "in US), or none")
    expect(page.get_by_label("Principal place of business")).to_have_value("US-WI")
    assert accessibility_violations(page) == []
    with server.api(admin) as api:
        assert api.get("/api/v1/organisation").json()["principal_place"] == "DE-BE"

    # Set-up is done: no prompt, and the report to the authority can be drafted.
    page.goto(f"/incidents/{reference}/notifications")
    expect(page.locator("#setup-banner")).to_have_count(0)
    expect(page.locator("#setup-pointer")).to_have_count(0)
    page.locator('li[data-ref="gdpr/authority"]').get_by_role("button", name="Draft").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}/notifications/\d+$"))
    expect(page.locator("#notification-status")).to_have_text("draft")

    # Later edits happen on the same page, reached from the navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organisation").click()
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_label("Organisation name")).to_have_value("Example GmbH")

    # On a phone: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert wider_than_viewport(page) == []
    assert accessibility_violations(page) == []
