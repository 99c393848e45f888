"""The "Not reached" part of a notice's page and the public communication page, in a real
Chromium against `breach serve`: a notice sent to three people, one of whom has no e-mail
address, lists her; the drafted public communication shows its text and legal basis; a
letter recorded through the form (after a refusal that keeps what was typed) marks her
reached and meets the duty.

GDPR Art. 34(1): the controller "shall communicate the personal data breach to the data
subject"; Art. 34(3)(c): where that "would involve disproportionate effort", "a public
communication or similar measure whereby the data subjects are informed in an equally
effective manner"."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

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

HEADER = "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
PEOPLE = (HEADER + "r-1,rosa@example.com,Rosa Weber,en,DE,,crm,contact,,\n"
          "r-2,jonas@example.com,Jonas Berg,en,DE,,crm,contact,,\n"
          "r-3,,Nora Noaddress,en,DE,,crm,contact,,\n")
"""Three people in Germany who read English; Nora has no e-mail address."""
SUBJECTS = "gdpr/data-subjects"


def sent_notice(server: Server, staff: dict[str, Person], reference: str) -> str:
    """The incident's notice to people, drafted, approved and sent to the end: its page."""
    with server.api(staff["admin"]) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
        assert api.put("/api/v1/systems/crm", json={"name": "CRM"}).status_code == 200
        imported = api.post("/api/v1/subjects/import", content=PEOPLE.encode(),
                            headers={"content-type": "text/csv"})
        assert imported.json()["imported"] == 3, imported.text
    base = f"/api/v1/incidents/{reference}/notifications"
    with server.api(staff["responder"]) as api:
        assert api.put(f"/api/v1/incidents/{reference}/scope", json={}).status_code == 200
        assert api.post(f"/api/v1/incidents/{reference}/affected").status_code == 201
        assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200
        drafted = api.post(base, json={"obligation": SUBJECTS})
        assert drafted.status_code == 201, drafted.text
        draft = drafted.json()
    with server.api(staff["approver"]) as api:
        approved = api.post(f"{base}/{draft['id']}/approve",
                            json={"content_hash": draft["content_hash"]})
        assert approved.status_code == 200, approved.text
    with server.api(staff["responder"]) as api:
        sent = api.post(f"{base}/{draft['id']}/send")
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 30
        while api.get(f"{base}/{draft['id']}").json()["status"] != "done":
            assert time.monotonic() < deadline, "the notice was not sent within 30 seconds"
            time.sleep(0.2)
    return f"/incidents/{reference}/notifications/{draft['id']}"


def typed_time(at: datetime, server: Server) -> str:
    """An instant as a datetime-local field takes it, in the organisation's zone."""
    return at.astimezone(server.zone).strftime("%Y-%m-%dT%H:%M")


def test_a_person_without_an_address_is_listed_drafted_for_and_recorded_as_reached_by_letter(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    reference, aware = incident_aware_hours_ago(server, staff["responder"], 3,
                                                "Customer list exposed")
    url = sent_notice(server, staff, reference)
    sign_in(page, staff["approver"], url)

    # The section: the duty still open, one person missing, and who she is.
    section = page.locator("#not-reached")
    expect(section.get_by_role("heading", name="Not reached: 1 person")).to_be_visible()
    duty = page.locator(f"#reach-{SUBJECTS.replace('/', '-')}")
    expect(duty).to_contain_text("pending")
    expect(duty).to_contain_text("2 by e-mail")
    expect(duty.locator(".count-value")).to_have_text("1")
    nora = section.locator("tr", has_text="Nora Noaddress")
    expect(nora).to_contain_text("no address")
    expect(section.locator("#letters-pdf")).to_be_visible()
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    # The public communication, drafted from the notice's own text, with its legal basis.
    page.locator("#public-communication-link").get_by_role(
        "link", name="The notice as a public communication").click()
    expect(page).to_have_url(re.compile(re.escape(url) + "/public-communication$"))
    expect(page.get_by_role("heading", name="Public communication: draft")).to_be_visible()
    expect(page.locator("#public-people")).to_contain_text("1 person")
    basis = page.locator(f"#basis-{SUBJECTS.replace('/', '-')}")
    expect(basis).to_contain_text("GDPR Art. 34(3)(c)")
    expect(basis).to_contain_text("disproportionate effort")
    expect(basis).to_contain_text("equally effective manner")
    english = page.locator("#text-en")
    expect(english.get_by_role("heading")).to_have_text("Language en: 1 person")
    expect(english.locator("[lang=en]")).to_contain_text("were lost or stolen")
    expect(page.locator("#public-communication")).not_to_contain_text("Nora")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    assert wider_than_viewport(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Back to the people not reached").click()

    # A letter "posted" tomorrow is refused inline, and what was typed stays.
    page.get_by_label("Choose Nora Noaddress").check()
    page.get_by_label("How").select_option("postal")
    when = page.get_by_label("When (posted, called, published)")
    tomorrow = typed_time(datetime.now(aware.tzinfo) + timedelta(days=1), server)
    when.fill(tomorrow)
    page.get_by_label("Note").fill("Posted to the address on the contract")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#not-reached-error")).to_contain_text("future")
    expect(page.get_by_label("When (posted, called, published)")).to_have_value(tomorrow)
    expect(page.get_by_label("Note")).to_have_value("Posted to the address on the contract")
    expect(page.get_by_label("Choose Nora Noaddress")).to_be_checked()
    expect(page.get_by_label("How")).to_have_value("postal")
    expect(page.get_by_label("Note")).to_have_attribute("aria-describedby", "not-reached-error")
    assert accessibility_violations(page) == []

    # Posted an hour ago: Nora is reached, and the duty is met.
    posted = typed_time(datetime.now(aware.tzinfo) - timedelta(hours=1), server)
    page.get_by_label("When (posted, called, published)").fill(posted)
    page.get_by_role("button", name="Record").click()
    expect(page).to_have_url(re.compile(re.escape(url) + "(#not-reached)?$"))
    expect(page.locator("#everyone-reached")).to_be_visible()
    expect(duty).to_contain_text("1 by letter")
    expect(duty).to_contain_text("met")
    expect(page.locator("#other-contact-form")).to_have_count(0)
    with server.api(staff["responder"]) as api:
        obligations = api.get(f"/api/v1/incidents/{reference}/obligations").json()
    [row] = [o for o in obligations["obligations"] if o["ref"] == SUBJECTS]
    assert row["status"] == "met" and "1 by postal letter" in row["how"]
