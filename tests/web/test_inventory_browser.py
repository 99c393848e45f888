"""The data inventory in a real Chromium against `breach serve`: systems added and changed,
people imported from a file with a progress bar and the report of rejected lines, the
inventory's counts; refused forms are sent back to their page (a redirect: a reload posts
nothing again) and keep what was typed; an import's report is kept for the roles that may
import, whatever process shows the page; an auditor sees counts, no forms."""

from __future__ import annotations

import re

from playwright.sync_api import FilePayload, Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    reloads_afresh,
    sent_back_to,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)

PEOPLE = ("external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
          "p-1,anna@example.com,Anna Nowak,pl,PL,,crm,contact;financial,2025-01-01,\n"
          "p-2,ben@example.com,Ben Smith,en-US,US,US-CA,crm,contact,,\n"
          "p-3,not-an-address,Carla Ruiz,es,ES,,crm,contact,,\n"
          "p-4,dana@example.com,Dana Roy,fr,FR,,shop,contact,,\n")
"""Four lines; the third (line 4 of the file) has an e-mail that is not one."""


def test_systems_are_added_and_changed_and_people_imported_with_a_report(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    admin = staff["admin"]
    sign_in(page, admin, "/inventory/systems")
    expect(page.locator("#systems-none")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Inventory")).to_have_attribute("aria-current", "page")

    # A key the import could not name: refused beside the form, everything typed kept.
    form = page.locator("#add-system")
    form.get_by_label("Key").fill("Customer CRM")
    form.get_by_label("Name").fill("Customer records")
    form.get_by_label("contact").check()
    form.get_by_role("button", name="Add the system").click()
    sent_back_to(page, "/inventory/systems#add-system")
    expect(page.locator("#notice")).to_contain_text("Key: must be 1 to 64 characters")
    expect(form.get_by_label("Key")).to_have_value("Customer CRM")
    expect(form.get_by_label("Key")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Name")).to_have_value("Customer records")
    expect(form.get_by_label("contact")).to_be_checked()
    assert accessibility_violations(page) == []

    form.get_by_label("Key").fill("crm")
    form.get_by_role("button", name="Add the system").click()
    expect(page).to_have_url(re.compile(r"/inventory/systems#system-crm$"))
    expect(page.locator("#system-crm")).to_contain_text("Customer records")
    expect(page.locator("#system-crm")).to_contain_text("contact")
    form.get_by_label("Key").fill("shop")
    form.get_by_label("Name").fill("Web shop")
    form.get_by_role("button", name="Add the system").click()
    expect(page.locator("#system-shop")).to_contain_text("Web shop")
    # The same key again: the form says so instead of changing the system.
    form.get_by_label("Key").fill("shop")
    form.get_by_label("Name").fill("Another shop")
    form.get_by_role("button", name="Add the system").click()
    expect(page.locator("#notice")).to_contain_text("exists already")
    expect(form.get_by_label("Name")).to_have_value("Another shop")

    # Change crm's categories; a blank name is refused and the ticks kept.
    page.get_by_role("link", name="Change crm").click()
    expect(page).to_have_url(re.compile(r"/inventory/systems/crm$"))
    page.get_by_label("financial").check()
    page.get_by_label("Name").fill("   ")
    page.get_by_role("button", name="Save the system").click()
    sent_back_to(page, "/inventory/systems/crm#notice")
    expect(page.locator("#notice")).to_contain_text("The name is missing")
    expect(page.get_by_label("financial")).to_be_checked()
    assert accessibility_violations(page) == []
    reloads_afresh(page, "#notice")  # the stored system again: nothing was saved
    expect(page.get_by_label("financial")).not_to_be_checked()
    page.get_by_label("financial").check()
    page.get_by_label("Name").fill("Customer records")
    page.get_by_role("button", name="Save the system").click()
    expect(page.locator("#system-crm")).to_contain_text("contact, financial")
    with server.api(admin) as api:
        crm = {s["key"]: s for s in api.get("/api/v1/systems").json()}["crm"]
    assert crm["data_categories"] == ["contact", "financial"]

    # A file the import cannot read: refused, the choices kept, nothing imported.
    page.goto("/inventory")
    section = page.locator("#import")
    section.get_by_label("File").set_input_files(file("people.txt", "text/plain"))
    section.get_by_label("System of lines that name none").select_option("shop")
    section.get_by_label("Import nothing if any line is rejected").check()
    section.get_by_role("button", name="Import").click()
    expect(page.locator("#import-refused")).to_contain_text("must be a CSV")
    expect(section.get_by_label("System of lines that name none")).to_have_value("shop")
    expect(section.get_by_label("Import nothing if any line is rejected")).to_be_checked()
    expect(page.locator("#subjects-total")).to_have_text("0")

    # The CSV: strict refuses it whole, naming the bad line.
    section.get_by_label("File").set_input_files(file("people.csv", "text/csv"))
    section.get_by_role("button", name="Import").click()
    expect(page.locator("#import-refused")).to_contain_text("1 of 4 rows rejected")
    expect(page.locator("#import-refused")).to_contain_text("Line 4: invalid email 'not-an-address'")
    expect(page.locator("#subjects-total")).to_have_text("0")
    # The answer was a redirect to the report: a reload asks for it again (a GET, the file is
    # not sent twice) and still shows it, from the database; an approver, who may not import,
    # is shown no report at that address.
    expect(page).to_have_url(re.compile(r"/inventory\?import_id=[0-9a-f]{32}#import$"))
    refused_report = page.url
    with page.expect_request(lambda r: r.is_navigation_request()) as reloaded:
        page.reload()
    assert reloaded.value.method == "GET"
    expect(page.locator("#import-refused")).to_contain_text("Line 4: invalid email")
    assert accessibility_violations(page) == []
    approver = page.context.browser.new_context(base_url=server.url)  # type: ignore[union-attr]
    try:
        desk = approver.new_page()
        sign_in(desk, staff["approver"], "/inventory")
        desk.goto(refused_report)
        expect(desk.locator("#inventory-totals")).to_be_visible()
        expect(desk.locator("#import-refused")).to_have_count(0)
        expect(desk.get_by_text("not-an-address")).to_have_count(0)
    finally:
        approver.close()
    section.get_by_label("Import nothing if any line is rejected").check()

    # Without strict: the good lines are imported, the bad one reported by line.
    section.get_by_label("Import nothing if any line is rejected").uncheck()
    section.get_by_label("System of lines that name none").select_option("")
    section.get_by_label("File").set_input_files(file("people.csv", "text/csv"))
    with page.expect_request(lambda r: r.url.endswith("/inventory/import")) as posted:
        section.get_by_role("button", name="Import").click()
    # Sent in the background (the progress bar's way), not by a page load.
    assert posted.value.resource_type == "xhr"
    expect(page.locator("#import-summary")).to_contain_text("3 of 4 lines imported, 1 rejected")
    expect(page).to_have_url(re.compile(r"/inventory\?import_id=[0-9a-f]{32}#import$"))
    rejected = page.locator("#rejections tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first).to_contain_text("4")
    expect(rejected.first).to_contain_text("invalid email 'not-an-address'")

    # The counts: by system, by jurisdiction (region where given), by locale.
    expect(page.locator("#subjects-total")).to_have_text("3")
    expect(page.locator("#holdings-total")).to_have_text("3")
    assert rows(page, "#by-system") == [["Customer records crm", "2"], ["Web shop shop", "1"]]
    assert rows(page, "#by-jurisdiction") == [["FR", "1"], ["PL", "1"], ["US-CA", "1"]]
    assert rows(page, "#by-locale") == [["en_US", "1"], ["fr", "1"], ["pl", "1"]]
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert wider_than_viewport(page) == []

    # The import went on the organisation's timeline; its report is the importer's alone.
    report_url = page.url.split("#")[0]
    with server.api(staff["approver"]) as api:
        progress = api.get("/inventory/imports/" + report_url.rsplit("=", 1)[1])
    assert progress.status_code == 403  # the approver may not manage the inventory


def file(name: str, media_type: str) -> FilePayload:
    return {"name": name, "mimeType": media_type, "buffer": PEOPLE.encode()}


def rows(page: Page, table: str) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("th, td").all_inner_texts()]
            for row in page.locator(f"{table} tbody tr").all()]


def test_an_auditor_sees_the_counts_but_no_form(server: Server, staff: dict[str, Person],
                                                page: Page) -> None:
    sign_in(page, staff["auditor"], "/inventory")
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    expect(page.locator("#by-jurisdiction")).to_be_visible()
    expect(page.locator("#import-form")).to_have_count(0)
    page.get_by_role("link", name="Systems").click()
    expect(page).to_have_url(re.compile(r"/inventory/systems$"))
    expect(page.locator("#add-system")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Change"))).to_have_count(0)
    assert accessibility_violations(page) == []
