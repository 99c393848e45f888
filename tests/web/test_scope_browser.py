"""Who is affected, on the incident page, in a real Chromium against `breach serve`: the scope
set in its editor (a refused one keeps what was typed), computed, its counts by jurisdiction,
category and locale with their charts, the history of snapshots, and the people, paged, for
the roles that may read personal data; an auditor sees the counts and no one's name."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    sign_in,
    unlabelled_controls,
    wider_than_viewport,
)

HEADER = "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
CUSTOMERS = "".join(f"c-{i:03},c{i}@example.com,Customer {i},de,DE,,crm,contact,2026-01-01,\n"
                    for i in range(1, 56))
"""55 customers in Germany, in the CRM since January 2026: more than one page of people (50)."""
OTHERS = ("f-1,fr@example.com,Françoise Martin,fr,FR,,crm,contact;financial,2026-01-01,\n"
          "u-1,ca@example.com,Casey Jones,en-US,US,US-CA,crm,contact,2026-01-01,\n"
          "old,old@example.com,Olga Old,pl,PL,,crm,contact,2020-01-01,2020-12-31\n"
          "s-1,shop@example.com,Sam Shop,en,GB,,shop,contact,2026-01-01,\n")
"""Three more in the CRM (one left in 2020, outside the window), and one only in the shop."""


def inventory(server: Server, admin: Person) -> None:
    with server.api(admin) as api:
        for key, name in (("crm", "Customer records"), ("shop", "Web shop")):
            saved = api.put(f"/api/v1/systems/{key}",
                            json={"name": name, "data_categories": ["contact", "financial"]})
            assert saved.status_code == 200, saved.text
        imported = api.post("/api/v1/subjects/import", content=(HEADER + CUSTOMERS + OTHERS).encode(),
                            headers={"content-type": "text/csv"})
        assert imported.json()["imported"] == 59, imported.text


def test_a_responder_scopes_computes_and_reads_the_people_an_auditor_the_counts(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    inventory(server, staff["admin"])
    responder = staff["responder"]
    reference, _ = incident_aware_hours_ago(server, responder, 3, "CRM export left public")
    sign_in(page, responder, f"/incidents/{reference}")
    section = page.locator("#affected")
    expect(section.get_by_role("heading", name="Affected people")).to_be_visible()
    expect(page.locator("#scope-none")).to_be_visible()
    expect(page.locator("#compute-form")).to_have_count(0)  # nothing to compute without a scope

    # A window that ends before it begins: refused beside the form, everything typed kept.
    editor = page.locator("#scope-form")
    editor.get_by_label("Customer records crm").check()
    editor.get_by_label("Exposed from", exact=True).fill("2026-03-01T00:00")
    editor.get_by_label("Exposed until", exact=True).fill("2025-07-01T00:00")
    editor.get_by_label("contact", exact=True).check()
    editor.get_by_label(re.compile("^Also affected")).fill("s-1\nnobody@example.com")
    editor.get_by_label(re.compile("^Never affected")).fill("c-055")
    editor.get_by_role("button", name="Save the scope").click()
    expect(page.locator("#scope-notice")).to_have_text(
        "The scope was not saved. Exposed until: is before exposed from.")
    expect(editor.get_by_label("Customer records crm")).to_be_checked()
    expect(editor.get_by_label("Web shop shop")).not_to_be_checked()
    expect(editor.get_by_label("Exposed from", exact=True)).to_have_value("2026-03-01T00:00")
    expect(editor.get_by_label("Exposed until", exact=True)).to_have_value("2025-07-01T00:00")
    expect(editor.get_by_label("contact", exact=True)).to_be_checked()
    expect(editor.get_by_label(re.compile("^Also affected"))).to_have_value("s-1\nnobody@example.com")
    expect(editor.get_by_label(re.compile("^Never affected"))).to_have_value("c-055")
    assert accessibility_violations(page) == []

    # Corrected: saved, and shown as the incident's scope (times in the organisation's zone).
    editor.get_by_label("Exposed from", exact=True).fill("2025-07-01T00:00")
    editor.get_by_label("Exposed until", exact=True).fill("2026-03-01T00:00")
    editor.get_by_role("button", name="Save the scope").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#affected$"))
    recorded = page.locator("#scope-recorded")
    expect(recorded).to_contain_text("crm")
    expect(page.locator("#scope-window")).to_have_text(
        re.compile(r"from 2025-07-01 00:00 CEST to 2026-03-01 00:00 CET"))
    expect(recorded).to_contain_text("2 included, 1 excluded")
    expect(page.locator("#snapshot-none")).to_be_visible()

    # Compute: 54 customers + Françoise + Casey from the CRM window, Sam from the include list.
    page.get_by_role("button", name="Compute who is affected").click()
    expect(page.locator("#affected-total")).to_have_text("57")
    expect(page.locator("#snapshot-summary")).to_contain_text("1 from the include list")
    expect(page.locator("#snapshot-unmatched")).to_contain_text("1 included, 0 excluded")
    assert counts(page, "#affected-jurisdiction") == {"DE": "54", "FR": "1", "GB": "1", "US-CA": "1"}
    assert counts(page, "#affected-category") == {"contact": "57"}
    assert counts(page, "#affected-locale") == {"de": "54", "en": "1", "en_US": "1", "fr": "1"}
    bars = page.locator("#chart-jurisdiction g.bar")
    expect(bars).to_have_count(4)
    expect(bars.first).to_have_attribute("data-label", "DE")
    expect(page.locator("#chart-jurisdiction desc")).to_have_text("DE: 54; FR: 1; GB: 1; US-CA: 1")
    expect(page.locator("#snapshots tbody tr")).to_have_count(1)
    assert unlabelled_controls(page) == []
    assert accessibility_violations(page) == []

    # The people, 50 a page, in external-id order.
    page.locator("#affected-people-link").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}/affected\?snapshot=1$"))
    people = page.locator("#people tbody tr")
    expect(people).to_have_count(50)
    expect(people.first).to_contain_text("c-001")
    expect(people.first).to_contain_text("Customer 1")
    assert accessibility_violations(page) == []
    page.get_by_role("link", name="Next page").click()
    expect(people).to_have_count(7)
    expect(people.last).to_contain_text("u-1")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.get_by_role("link", name="First page").click()
    expect(people).to_have_count(50)
    page.set_viewport_size({"width": 390, "height": 844})
    assert wider_than_viewport(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    # A second snapshot without the include list; the first stays as it was.
    page.goto(f"/incidents/{reference}")
    page.locator("#scope-editor summary").click()
    editor.get_by_label(re.compile("^Also affected")).fill("")
    editor.get_by_role("button", name="Save the scope").click()
    page.get_by_role("button", name="Compute who is affected").click()
    expect(page.locator("#affected-total")).to_have_text("56")
    expect(page.locator("#snapshots tbody tr")).to_have_count(2)
    page.locator("#snapshots").get_by_role("link", name="1", exact=True).click()
    expect(page.locator("#snapshot-heading")).to_contain_text("Snapshot 1")
    expect(page.locator("#affected-total")).to_have_text("57")
    page.set_viewport_size({"width": 390, "height": 844})
    assert [e for e in wider_than_viewport(page) if "affected" in e or "snapshot" in e
            or "scope" in e or "chart" in e] == []

    # Each page read went on the timeline, with the snapshot and the count, never the people.
    with server.api(responder) as api:
        events = api.get(f"/api/v1/incidents/{reference}/timeline").json()
    reads = [e["payload"] for e in events if e["kind"] == "affected_read"]
    assert [(r["snapshot"], r["returned"]) for r in reads] == [(1, 50), (1, 7), (1, 50)]

    # The auditor: the counts and the history, no editor, no names, no way to the people.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    auditor = page
    sign_in(auditor, staff["auditor"], f"/incidents/{reference}")
    expect(auditor.locator("#affected-total")).to_have_text("56")
    expect(auditor.locator("#affected-jurisdiction")).to_be_visible()
    expect(auditor.locator("#scope-form")).to_have_count(0)
    expect(auditor.locator("#compute-form")).to_have_count(0)
    expect(auditor.locator("#affected-people-link")).to_have_count(0)
    expect(auditor.locator("#affected")).not_to_contain_text("Customer 1")
    assert accessibility_violations(auditor) == []
    refused = auditor.goto(f"/incidents/{reference}/affected?snapshot=1")
    assert refused is not None and refused.status == 403
    expect(auditor.locator("main")).not_to_contain_text("c-001")


def counts(page: Page, table: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for row in page.locator(f"{table} tbody tr").all():
        found[row.locator("th").inner_text().strip()] = row.locator("td").inner_text().strip()
    return found
