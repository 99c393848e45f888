"""The incident page's parties, recorded in a real Chromium against `breach serve`.

A responder records that the organisation acts as processor for a client in this incident;
the page shows the role and the client's contractual clock, the obligations list gains the
contract's duty and the processor's duty to its controller, and a form with no role ticked is
refused beside it.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import PROFILE, Person
from tests.web.chromium import (
    Console,
    Server,
    incident_aware_hours_ago,
    sign_in,
    unlabelled_controls,
)

ACME = {"id": "acme-health", "name": "Acme Health Ltd", "role": "controller", "hours": 24,
        "trigger": "aware_at", "contract": "DPA s. 7.2"}


def test_a_responder_records_that_the_organisation_acts_as_processor_for_a_client(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    with server.api(staff["admin"]) as api:
        saved = api.put("/api/v1/organisation", json={**PROFILE, "counterparties": [ACME]})
    assert saved.status_code == 200, saved.text
    responder = staff["responder"]
    reference, _ = incident_aware_hours_ago(server, responder, 2, "Client portal exposed")
    sign_in(page, responder, f"/incidents/{reference}")
    section = page.locator("#parties")
    expect(section.locator("#parties-roles")).to_contain_text("assumed")
    expect(section.locator("#parties-none")).to_be_visible()
    section.locator("summary").click()
    assert unlabelled_controls(page) == []

    form = section.locator("form")
    form.get_by_label("For this incident:").check()
    form.get_by_role("button", name="Save parties").click()
    expect(section.locator("#parties-notice")).to_contain_text(
        "tick at least one role for this incident, or choose the organisation profile's")

    form.get_by_label("For this incident:").check()
    form.get_by_label("Processor (processes it for a controller)").check()
    form.get_by_label(re.compile("Acme Health Ltd")).check()
    form.get_by_role("button", name="Save parties").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#parties$"))
    expect(section.locator("#parties-roles")).to_contain_text("processor")
    expect(section.locator("#parties-roles")).to_contain_text("recorded for this incident")
    row = section.locator('tr[data-counterparty="acme-health"]')
    expect(row).to_contain_text("24 hours after awareness")
    obligations = page.locator("#obligations-body")
    expect(obligations).to_contain_text("contract/acme-health")
    expect(obligations).to_contain_text("gdpr/controller")
    expect(page.locator("ol.timeline")).to_contain_text("parties set")
    assert console.unexpected() == []
