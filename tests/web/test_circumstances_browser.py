"""The incident page's circumstances, recorded in a real Chromium against `breach serve`.

An approver records encryption, a risk-of-harm determination and a law-enforcement delay; the
determination is shown in full as the incident's document. A refused form keeps every field
as typed and says why beside it.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Console,
    Server,
    incident_aware_hours_ago,
    sign_in,
    unlabelled_controls,
)

DETERMINATION = ("The laptop was recovered sealed; its disk is encrypted (AES-256) and the key\n"
                 "never left the vault. Misuse is not reasonably likely.")


def test_an_approver_records_circumstances_and_a_refused_form_keeps_what_was_typed(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    approver = staff["approver"]
    reference, aware = incident_aware_hours_ago(server, approver, 5, "Laptop left on a train")
    sign_in(page, approver, f"/incidents/{reference}")
    section = page.locator("#circumstances")
    expect(section.locator("#circumstances-none")).to_be_visible()
    section.locator("summary").click()
    assert unlabelled_controls(page) == []

    def local(hours_after_aware: float) -> str:
        at = aware + timedelta(hours=hours_after_aware)
        return at.astimezone(server.zone).strftime("%Y-%m-%dT%H:%M")

    form = section.locator("form")
    form.get_by_label("Encryption", exact=True).select_option("all")
    form.get_by_label("The encryption met the standard the laws ask").check()
    form.get_by_label("Conclusion").select_option("misuse_not_reasonably_likely")
    form.get_by_label("The written determination").fill(DETERMINATION)
    form.get_by_label("Determined at").fill(local(3))
    form.get_by_label("Determined by").fill("Dana Privacy (DPO)")
    form.get_by_label("Agency").fill("Metropolitan Police, cyber crime unit")
    form.get_by_label("Requested at").fill(local(2))
    form.get_by_label("Ended at").fill(local(1))  # before the request: refused
    form.get_by_role("button", name="Record circumstances").click()

    notice = section.locator("#circumstances-notice")
    expect(notice).to_have_text("Law enforcement delay, ended at: lies before requested at.")
    expect(form.get_by_label("The written determination")).to_have_value(DETERMINATION)
    expect(form.get_by_label("Agency")).to_have_value("Metropolitan Police, cyber crime unit")
    expect(form.get_by_label("Ended at")).to_have_value(local(1))
    expect(form.get_by_label("The encryption met the standard the laws ask")).to_be_checked()

    form.get_by_label("Ended at").fill(local(4))
    form.get_by_role("button", name="Record circumstances").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#circumstances$"))
    expect(section.locator("#determination")).to_have_text(DETERMINATION)
    expect(section.locator("#circumstance-harm")).to_contain_text("Misuse not reasonably likely")
    expect(section.locator("#circumstance-delay")).to_contain_text("Metropolitan Police")
    expect(section.locator("#circumstance-encryption")).to_contain_text(
        "All affected data encrypted, to the standard the laws ask")
    expect(page.locator("ol.timeline")).to_contain_text("circumstances recorded")
    assert console.unexpected() == []
