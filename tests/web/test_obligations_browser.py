"""The Obligations section of the incident page, in a real Chromium against `breach serve`.

The organisation profile is one row per server, and the server is shared by this module's
tests: the first test sees the page before any profile exists, then sets it. The profile's
zone differs from both BREACH_TIMEZONE and the browser's, so the tests notice if times were
shown or read in the wrong one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Console,
    Server,
    incident_aware_hours_ago,
    sign_in,
    unlabelled_controls,
)

ORGANISATION_ZONE = ZoneInfo("Europe/Helsinki")
PROFILE = {"name": "Example Oy", "country": "FI", "timezone": "Europe/Helsinki",
           "authorities": {"gdpr/authority": {"name": "Tietosuojavaltuutettu",
                                              "email": "tietosuoja@om.fi"}}}
COUNTDOWN = re.compile(r"^2 d \d\d:\d\d:\d\d left$")
OVERDUE = re.compile(r"\boverdue\b")


def set_profile(server: Server, admin: Person) -> None:
    with server.api(admin) as api:
        saved = api.put("/api/v1/organisation", json=PROFILE)
    assert saved.status_code == 200, saved.text


def wall(at: datetime) -> str:
    return at.astimezone(ORGANISATION_ZONE).strftime("%Y-%m-%d %H:%M")


def duty(page: Page, ref: str) -> Locator:
    return page.locator(f'#obligations tbody.obligation[data-ref="{ref}"]')


def obligations(server: Server, person: Person, reference: str) -> dict[str, dict[str, Any]]:
    with server.api(person) as api:
        found = api.get(f"/api/v1/incidents/{reference}/obligations")
    assert found.status_code == 200, found.text
    return {o["ref"]: o for o in found.json()["obligations"]}


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_deadlines_count_down_in_the_organisations_zone_and_a_notice_is_recorded(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder = staff["responder"]
    reference, aware = incident_aware_hours_ago(server, responder, 5, "Export sent to the wrong client")
    path = f"/incidents/{reference}"

    # 1. No organisation profile yet: nothing can be computed, and the page says why.
    sign_in(page, responder, path)
    section = page.locator("#obligations")
    problems = section.locator("#obligations-problems")
    expect(problems).to_contain_text("no organisation profile")
    expect(problems).to_contain_text("Ask an admin")
    expect(section.locator("tbody.obligation")).to_have_count(0)

    # 2. With a profile: GDPR's 72 hours, due and target in the organisation's zone, counting down.
    set_profile(server, staff["admin"])
    page.clock.install()  # the page's clock runs on, and the test can move it forward
    page.reload()
    authority = duty(page, "gdpr/authority")
    expect(section.locator("#obligations-problems")).to_have_count(0)
    expect(authority.locator(".due")).to_contain_text(wall(aware + timedelta(hours=72)))
    expect(authority.locator(".recipient")).to_contain_text("Contact: Tietosuojavaltuutettu")
    expect(section.locator("#obligations-assumptions")).to_contain_text("high risk assumed")
    countdown = authority.locator(".countdown")
    expect(countdown).to_have_text(COUNTDOWN)
    first = countdown.inner_text()
    page.clock.run_for(1100)  # past the next whole second: every countdown ticks
    expect(countdown).not_to_have_text(first)
    second = countdown.inner_text()
    assert COUNTDOWN.match(second) and second < first, (first, second)
    expect(authority).not_to_have_class(OVERDUE)
    expect(authority.locator(".obligation-status")).to_have_text("pending")
    subjects = duty(page, "gdpr/data-subjects")
    expect(subjects.locator(".due")).to_have_text("without undue delay (no fixed time)")
    expect(subjects.locator(".target")).to_contain_text(wall(aware + timedelta(hours=72)))

    basis = authority.locator(".basis-list")
    expect(basis).to_be_hidden()
    authority.get_by_text("Why / basis").click()
    expect(basis).to_contain_text("Art. 33(1)")
    expect(basis).to_contain_text("72 hours")

    # 3. A responder records notices but may not waive one, nor override the assessment.
    # A duty's forms wait behind its one "Update status" button.
    expect(section.locator("form.waive-form")).to_have_count(0)
    expect(section.locator("form.reopen-form")).to_have_count(0)
    expect(section.locator("#override-panel")).to_have_count(0)
    assert unlabelled_controls(page) == []
    expect(authority.get_by_label("How")).to_be_hidden()
    authority.get_by_text("Update status").click()

    met_at = authority.get_by_label("Met at")
    shown_now = datetime.fromisoformat(met_at.input_value()).replace(tzinfo=ORGANISATION_ZONE)
    assert abs(shown_now - datetime.now(UTC)) < timedelta(minutes=2)
    assert authority.get_by_label("Reason for delay").evaluate("e => e.required") is False
    authority.get_by_label("How").fill("Online form, receipt TSV-2026-118")
    authority.get_by_role("button", name="Mark met").click()
    status = authority.locator(".obligation-status")
    expect(status).to_contain_text("met at")
    expect(status).to_contain_text("Online form, receipt TSV-2026-118")
    expect(status).to_contain_text(responder.email)
    expect(authority.locator(".countdown")).to_have_count(0)
    expect(authority.get_by_role("button", name="Mark met")).to_have_count(0)
    recorded = obligations(server, responder, reference)["gdpr/authority"]
    assert recorded["status"] == "met" and recorded["how"] == "Online form, receipt TSV-2026-118"
    met = datetime.fromisoformat(recorded["met_at"])
    assert abs(met - datetime.now(UTC)) < timedelta(minutes=2)  # read in the section's zone

    # 4. A milestone, entered in the organisation's zone, is kept and shown after a reload.
    determined = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    page.locator("#milestones summary").click()
    page.get_by_label("Determined that a reportable breach occurred").fill(
        determined.astimezone(ORGANISATION_ZONE).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save milestones").click()
    expect(page.locator("#milestone-breach_determined_at")).to_contain_text(wall(determined))
    page.reload()
    expect(page.locator("#milestone-breach_determined_at")).to_contain_text(wall(determined))
    kinds = page.locator("ol.timeline .event-head strong").all_inner_texts()
    assert "milestones set" in kinds and "obligation met" in kinds
    assert console.unexpected() == []


def test_an_assessment_and_an_approvers_override_move_a_late_duty(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder, approver = staff["responder"], staff["approver"]
    set_profile(server, staff["admin"])
    reference, _ = incident_aware_hours_ago(server, responder, 80, "Backup tape lost in transit")
    path = f"/incidents/{reference}"

    sign_in(page, responder, path)
    authority = duty(page, "gdpr/authority")
    expect(authority).to_have_class(OVERDUE)
    expect(authority.locator(".countdown")).to_have_text(re.compile(r"^overdue by 8 h \d+ min$"))
    expect(page.locator("#assessment-none")).to_be_visible()

    # 1. A low-risk assessment (a safe key) by a responder: it would end the authority notice.
    page.locator("#assessment-panel summary").click()
    form = page.locator("#assessment-form")
    expect(form.get_by_label("contact", exact=True)).to_be_checked()  # from the incident
    form.get_by_label("People affected").fill("100")
    form.get_by_label("Identifiability").select_option("limited")
    form.get_by_label("Loss of confidentiality").select_option("at_risk")
    form.get_by_label("Loss of integrity").select_option("none")
    form.get_by_label("Loss of availability").select_option("none")
    form.get_by_label("Encryption").select_option("safe")
    form.get_by_role("button", name="Record assessment").click()
    expect(page.locator("#assessment-decided")).to_have_text("document only")
    expect(page.locator("#assessment-severity")).to_have_text("low")
    expect(page.locator("#assessment-latest .reasons li").first).to_be_visible()
    # It would end the duty: the duty stays until an approver who did not record it confirms.
    expect(page.locator("#assessment-pending")).to_contain_text("It would end gdpr/authority")
    expect(authority).to_have_class(OVERDUE)
    expect(page.locator("#override-panel")).to_have_count(0)
    sign_out(page)

    # 2. The approver confirms it on the assessment page: the authority need not be told.
    sign_in(page, approver, path)
    page.get_by_role("link", name=re.compile("^Risk assessment")).click()
    expect(page.get_by_role("heading", name="Assessment 1 awaits an approver's confirmation")
           ).to_be_visible()
    page.get_by_role("button", name="Confirm assessment 1").click()
    expect(page.locator("#assessment-1 .state")).to_have_text("in force")
    page.get_by_role("link", name=reference).click()
    expect(authority).to_have_count(0)
    gone = page.locator("#obligations-gone")
    expect(gone.locator("summary")).to_have_text(re.compile(r"^No longer applies \(\d+\)$"))
    gone_authority = gone.locator('li[data-ref="gdpr/authority"]')
    expect(gone_authority).to_be_hidden()  # collapsed
    gone.locator("summary").click()
    expect(gone_authority).to_be_visible()
    expect(gone_authority.locator(".why")).not_to_be_empty()

    # 3. The approver overrides it: the duty is back, still overdue; the approver may waive.
    expect(page.locator("#assessment-decided")).to_have_text("document only")
    page.locator("#override-panel summary").click()
    page.get_by_label("Recommendation to apply").select_option("notify_authority")
    page.get_by_label("Justification", exact=True).fill("Custody of the key at the courier is unclear.")
    page.get_by_role("button", name="Override recommendation").click()
    expect(page.locator("#assessment-decided")).to_have_text("notify the authority")
    expect(page.locator("#assessment-justification")).to_have_text(
        "Custody of the key at the courier is unclear.")
    expect(authority).to_have_class(OVERDUE)
    authority.get_by_text("Update status").click()
    expect(authority.get_by_role("button", name="Waive")).to_be_visible()
    expect(duty(page, "gdpr/data-subjects")).to_have_count(0)

    # 4. Met after the due time: the reasons for the delay are required, here and by the server.
    reason = authority.get_by_label("Reason for delay")
    assert reason.evaluate("e => e.required") is True
    expect(authority.locator(".hint")).to_contain_text("reasons for the delay are required")
    authority.get_by_label("How").fill("   ")
    authority.get_by_role("button", name="Mark met").click()
    assert reason.evaluate("e => e.validity.valueMissing") is True
    reason.fill("The courier reported the loss to us only on day 3.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        authority.get_by_role("button", name="Mark met").click()
    assert answer.value.status == 422
    # Refused: the form stays open, with the reason and what was typed.
    expect(authority.get_by_role("alert")).to_contain_text("say how it was done")
    expect(reason).to_have_value("The courier reported the loss to us only on day 3.")
    authority.get_by_label("How").fill("Online form, receipt TSV-2026-203")
    authority.get_by_role("button", name="Mark met").click()
    status = authority.locator(".obligation-status")
    expect(status).to_contain_text("late at")
    expect(status.locator(".late-reason")).to_have_text(
        "Reason for delay: The courier reported the loss to us only on day 3.")
    expect(authority).not_to_have_class(OVERDUE)
    expect(authority.get_by_role("alert")).to_have_count(0)

    # 5. Reopened: pending and overdue again. Saved, the form closed.
    expect(authority.get_by_label("Reason to reopen")).to_be_hidden()
    authority.get_by_text("Update status").click()
    authority.get_by_label("Reason to reopen").fill("Wrong receipt number")
    authority.get_by_role("button", name="Reopen").click()
    expect(status).to_have_text("pending")
    expect(authority).to_have_class(OVERDUE)
    found = obligations(server, approver, reference)["gdpr/authority"]
    assert found["status"] == "pending" and found["overdue"] is True
    assert console.unexpected() == []


def test_an_auditor_sees_obligations_and_the_assessment_but_no_forms(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder = staff["responder"]
    set_profile(server, staff["admin"])
    reference, aware = incident_aware_hours_ago(server, responder, 5, "Mailbox taken over")
    with server.api(responder) as api:
        assessed = api.post(f"/api/v1/incidents/{reference}/assessment", json={
            "data_categories": ["contact", "financial"], "subjects": 4000,
            "vulnerable_subjects": False, "identifiability": "maximum",
            "confidentiality": "unknown_recipients", "integrity": "none", "availability": "none",
            "malicious": True, "exfiltration": "confirmed"})
    assert assessed.status_code == 201, assessed.text

    sign_in(page, staff["auditor"], f"/incidents/{reference}")
    authority = duty(page, "gdpr/authority")
    expect(authority.locator(".due")).to_contain_text(wall(aware + timedelta(hours=72)))
    expect(authority.locator(".countdown")).to_have_text(COUNTDOWN)
    expect(page.locator("#assessment-decided")).to_have_text(
        "notify the authority and the people affected")
    expect(page.locator("#milestones")).to_be_visible()
    section = page.locator("#obligations")
    expect(section.locator("form")).to_have_count(0)
    expect(section.locator("button")).to_have_count(0)
    expect(section.locator("input, select, textarea")).to_have_count(0)
    expect(page.locator('main form:not([method="get"])')).to_have_count(0)  # a filter at most
    assert console.unexpected() == []
