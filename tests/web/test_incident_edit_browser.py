"""Editing an incident, the moves that ask "when", the guard on finishing with duties pending,
a step's role and assignee, and the paged timeline, in a real Chromium against `breach serve`.

Times are typed and shown in the organisation's zone (Europe/Berlin, as the server's
BREACH_TIMEZONE; the browser itself runs in New York), stated once on the page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.factories import PROFILE, Person
from tests.web.chromium import (
    Console,
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    reloads_afresh,
    sent_back_to,
    shown,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)

DECIDE = "Decide whether the breach must be notified"  # the approver's step of lost-device


def local_input(at: datetime, server: Server) -> str:
    """How a datetime-local field holds an instant, in the organisation's zone."""
    return at.astimezone(server.zone).strftime("%Y-%m-%dT%H:%M")


def test_editing_the_facts_and_moving_to_contained_with_when(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder, approver = staff["responder"], staff["approver"]
    reference, aware = incident_aware_hours_ago(server, responder, 6, "Laptop stolen from a car")
    sign_in(page, responder, f"/incidents/{reference}")
    expect(page.locator("footer")).to_have_text(f"Times shown in {server.zone}.")  # stated once
    expect(page.locator("#obligations-zone")).to_have_count(0)

    page.get_by_role("link", name="Edit the incident's facts").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}/edit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {reference}")
    expect(page.get_by_label("Title")).to_have_value("Laptop stolen from a car")
    expect(page.get_by_label("Aware that personal data is involved")).to_have_value(
        local_input(aware, server))
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    # Bad input: an awareness time in the future is refused beside the field, all kept.
    future = local_input(datetime.now(UTC) + timedelta(days=2), server)
    page.get_by_label("Title").fill("Laptop and badge stolen from a car")
    page.get_by_label("Aware that personal data is involved").fill(future)
    page.get_by_label("Estimated records").fill("4000")
    page.get_by_role("button", name="Save changes").click()
    sent_back_to(page, f"/incidents/{reference}/edit#form-errors")  # to the summary
    expect(page.get_by_role("alert")).to_contain_text("The changes were not saved")
    expect(page.locator("#aware_at-error")).to_have_text("lies in the future")
    expect(page.get_by_label("Title")).to_have_value("Laptop and badge stolen from a car")
    expect(page.get_by_label("Aware that personal data is involved")).to_have_value(future)
    expect(page.get_by_label("Estimated records")).to_have_value("4000")
    expect(page.get_by_label("Aware that personal data is involved")).to_have_attribute(
        "aria-invalid", "true")
    expect(page.get_by_role("alert").get_by_role("link", name="Aware")).to_have_attribute(
        "href", "#aware_at")
    assert accessibility_violations(page) == []
    # A reload asks for the form again: the stored facts, no message, nothing posted twice.
    reloads_afresh(page, "#aware_at-error")
    expect(page.get_by_label("Title")).to_have_value("Laptop stolen from a car")
    page.get_by_label("Title").fill("Laptop and badge stolen from a car")
    page.get_by_label("Estimated records").fill("4000")

    # Corrected, with the lead and systems changed too: saved, and on the timeline.
    page.get_by_label("Aware that personal data is involved").fill(local_input(aware, server))
    page.get_by_label("Systems (comma-separated keys)").fill("crm, badge-system")
    page.get_by_label("Lead responder").select_option(approver.email)
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}$"))
    facts = page.locator("dl.facts")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Laptop and badge stolen")
    expect(facts).to_contain_text("crm, badge-system")
    expect(facts).to_contain_text(approver.email)
    expect(facts).to_contain_text("4000")
    expect(facts).to_contain_text(shown(aware, server.zone))
    update = page.locator("ol.timeline > li", has_text="incident updated")
    expect(update).to_have_count(1)
    expect(update).not_to_contain_text("aware_at")  # shown to the minute, kept to the second

    # Contained asks when (now by default); a time in the future is refused inline, kept.
    when = page.get_by_label("When containment was achieved")
    default = datetime.fromisoformat(when.input_value()).replace(tzinfo=server.zone)
    assert abs(default - datetime.now(UTC)) < timedelta(minutes=5)
    when.fill(future)
    page.locator("#move-contained").get_by_role("button", name="Contained").click()
    sent_back_to(page, f"/incidents/{reference}#notice")
    expect(page.locator("#notice")).to_have_text("The containment time lies in the future.")
    expect(page.get_by_label("When containment was achieved")).to_have_value(future)
    expect(page.locator("#status")).to_have_text("open")
    contained = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    page.get_by_label("When containment was achieved").fill(local_input(contained, server))
    page.locator("#move-contained").get_by_role("button", name="Contained").click()
    expect(page.locator("#status")).to_have_text("contained")
    expect(facts.locator("dt:text-is('Contained') + dd")).to_have_text(shown(contained,
                                                                              server.zone))
    expect(page.locator("ol.timeline > li").first).to_contain_text(
        f"Contained at {shown(contained, server.zone)}")
    assert console.unexpected() == []


def test_the_guards_the_step_roles_assignees_and_the_paged_timeline(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    admin, responder, approver = staff["admin"], staff["responder"], staff["approver"]
    reference, _ = incident_aware_hours_ago(server, responder, 30, "Tablet lost on a train")
    with server.api(admin) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
    with server.api(responder) as api:
        assert api.post(f"/api/v1/incidents/{reference}/runbooks",
                        json={"runbook": "lost-device"}).status_code == 201
        assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200
        assert api.post(f"/api/v1/incidents/{reference}/status",
                        json={"status": "contained"}).status_code == 200
        for n in range(24):
            api.post(f"/api/v1/incidents/{reference}/notes", json={"text": f"Call {n}"})

    # A step marked for the approver: shown with its guidance, not finished by a responder.
    sign_in(page, responder, f"/incidents/{reference}")
    decide = page.locator("li.step", has_text=DECIDE)
    expect(decide.locator(".step-facts")).to_contain_text("For the approver")
    expect(decide).to_contain_text("Only an approver marks this done.")
    expect(decide.get_by_role("button", name="Done")).to_have_count(0)
    expect(decide.get_by_role("button", name="Skip")).to_have_count(0)
    decide.get_by_text("How to do it").click()
    expect(decide.locator(".guidance p")).to_contain_text("Score the risk with the ENISA method")

    # Given to a person: shown, and on the timeline.
    decide.get_by_label("Assigned to").select_option(approver.email)
    decide.get_by_role("button", name="Assign").click()
    decide = page.locator("li.step", has_text=DECIDE)
    expect(decide.locator(".assignee")).to_have_text(approver.email)
    expect(page.locator("ol.timeline > li").first).to_contain_text(
        f"lost-device/decide-notifiable: nobody → {approver.email}")

    # Resolving with duties pending: the page says so; a responder is refused beside the move.
    pending = page.locator("#pending-duties")
    expect(pending).to_contain_text("still pending")
    expect(pending).to_contain_text("Berliner Beauftragte")
    page.locator("#move-resolved").get_by_role("button", name="Resolved").click()
    expect(page.locator("#notice")).to_contain_text("only an approver may move the incident to "
                                                    "resolved now")
    expect(page.locator("#status")).to_have_text("contained")
    assert accessibility_violations(page) == []

    # The timeline: twenty at a time, newest first, with a filter by kind.
    page.goto(f"/incidents/{reference}")
    expect(page.locator("ol.timeline > li")).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    page.get_by_role("link", name="Older events").click()
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    page.get_by_label("Show").select_option("step_assigned")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"events=step_assigned"))
    expect(page.locator("ol.timeline > li")).to_have_count(1)
    expect(page.locator("#timeline-range")).to_contain_text("Events 1\u20131 of 1 step assigned")
    expect(page.locator(".pager")).to_have_count(0)

    # An approver resolves, with a reason that goes on the timeline.
    page.context.clear_cookies()
    sign_in(page, approver, f"/incidents/{reference}")
    expect(page.locator("#pending-duties")).to_contain_text("needs your written reason")
    page.locator("#move-resolved").get_by_role("button", name="Resolved").click()
    expect(page.locator("#notice")).to_contain_text("needs a written reason")
    page.get_by_label("Why resolve with duties pending").fill("Told the authority by phone.")
    page.locator("#move-resolved").get_by_role("button", name="Resolved").click()
    expect(page.locator("#status")).to_have_text("resolved")
    latest = page.locator("ol.timeline > li").first
    expect(latest).to_contain_text("contained → resolved: Told the authority by phone.")
    expect(latest).to_contain_text("Duties left pending:")
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert wider_than_viewport(page) == []
    page.goto(f"/incidents/{reference}/edit")
    assert wider_than_viewport(page) == []
    assert console.unexpected() == []
