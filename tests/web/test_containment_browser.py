"""The containment checklist on the incident page, worked in a real Chromium against `breach serve`.

The server runs on the system clock, so incidents are created with `aware_at` hours in the
past: the runbook's first steps are then already overdue.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from incident.kernel.auth import PERMISSIONS, Permission, Role
from incident.kernel.pages import filesize
from tests.factories import Person
from tests.web.chromium import (
    Console,
    Server,
    incident_aware_hours_ago,
    shown,
    sign_in,
    unlabelled_controls,
)

RUNBOOK_TITLE = "Lost or stolen device or paper records"
WIPE = "Lock or wipe the device remotely"  # contain, due 2h, evidence required
REVOKE = "Cut the device off from our systems"  # contain, due 4h, evidence required
THEFT = "Report a theft to the police"  # contain, due 24h, evidence required
RECORD = "Record what was lost, where and when"  # identify, due 2h
ASSET = "Update the asset register and replace the device"  # recover, due 7d, no evidence


def step(page: Page, title: str) -> Locator:
    return page.locator("li.step", has_text=title)


def steps_by_title(server: Server, person: Person, reference: str) -> dict[str, dict[str, Any]]:
    with server.api(person) as api:
        steps = api.get(f"/api/v1/incidents/{reference}/steps").json()["steps"]
    return {s["title"]: s for s in steps}


def test_an_admin_works_the_checklist_through_to_contained(
        server: Server, staff: dict[str, Person], page: Page, console: Console,
        tmp_path: Path) -> None:
    # The admin may finish a step of any role (a responder only the responder's steps:
    # tests/web/test_incident_edit_browser.py), so one person walks the whole checklist.
    responder = staff["admin"]
    reference, aware = incident_aware_hours_ago(server, responder, 5, "Laptop stolen from a car")
    sign_in(page, responder, f"/incidents/{reference}")
    section = page.locator("#containment")
    expect(section.get_by_role("heading", name="Containment")).to_be_visible()
    expect(section.locator(".empty").first).to_have_text("No runbook attached yet.")

    # 1. Attach the suggested runbook: it is pinned, and no longer suggested.
    suggestion = section.locator(".suggestions li", has_text=RUNBOOK_TITLE)
    suggestion.get_by_role("button", name="Attach").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#runbooks$"))
    expect(section.locator(".runbooks li")).to_contain_text(f"{RUNBOOK_TITLE} version 1")
    expect(section.locator(".suggestions li", has_text=RUNBOOK_TITLE)).to_have_count(0)
    assert unlabelled_controls(page) == []

    # 2. Grouped by phase with progress; due times in BREACH_TIMEZONE; overdue steps flagged.
    headings = section.locator(".phase h3").all_inner_texts()
    assert headings == ["Identify", "Contain", "Recover", "Notify", "Review"]
    expect(page.locator("#progress-contain")).to_have_text("0 of 3 finished")
    wipe = step(page, WIPE)
    expect(wipe).to_have_class(re.compile(r"\boverdue\b"))
    expect(wipe.locator(".overdue-flag")).to_have_text("overdue")
    expect(wipe).to_contain_text(f"due {shown(aware + timedelta(hours=2), server.zone)}")
    expect(wipe).to_contain_text("For the admin · assigned to nobody")
    expect(step(page, REVOKE)).to_have_class(re.compile(r"\boverdue\b"))
    expect(step(page, THEFT)).not_to_have_class(re.compile(r"\boverdue\b"))
    expect(step(page, THEFT).locator(".overdue-flag")).to_have_count(0)
    expect(section.locator(".overdue-count")).to_have_text("3 steps overdue")  # two contain, one identify
    page.screenshot(path=str(tmp_path / "checklist.png"), full_page=True)

    # 3. One click each: start, done; start and back to to-do.
    asset = step(page, ASSET)
    asset.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#step-\d+$"))
    expect(asset.locator(".state")).to_have_text("in progress")
    asset.get_by_role("button", name="Done").click()
    expect(asset.locator(".state")).to_have_text("done")
    expect(asset.locator(".changed")).to_contain_text(f"Done by {responder.email} at")
    expect(asset.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.locator("#progress-recover")).to_have_text("1 of 1 finished")
    record = step(page, RECORD)
    record.get_by_role("button", name="Start").click()
    expect(record.locator(".state")).to_have_text("in progress")
    expect(record.locator(".overdue-flag")).to_have_text("overdue")  # still open, still late
    record.get_by_role("button", name="Back to to-do").click()
    expect(record.locator(".state")).to_have_text("to do")

    # 4. Skipping needs a reason: the browser asks first, the server refuses a blank one.
    theft = step(page, THEFT)
    reason = theft.get_by_label("Reason to skip")
    theft.get_by_role("button", name="Skip").click()
    assert reason.evaluate("e => e.validity.valueMissing") is True
    expect(theft.locator(".state")).to_have_text("to do")
    reason.fill("   ")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        theft.get_by_role("button", name="Skip").click()
    assert answer.value.status == 303  # sent back to the step, which says why
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#step-\d+$"))
    expect(theft.get_by_role("alert")).to_have_text(
        "Skipping a step needs a reason: write why it does not apply, then skip it.")
    expect(theft.locator(".state")).to_have_text("to do")
    theft.get_by_label("Reason to skip").fill("Lost, not stolen: checked with lost property.")
    theft.get_by_role("button", name="Skip").click()
    expect(theft.locator(".state")).to_have_text("skipped")
    expect(theft.locator(".reason")).to_have_text("Lost, not stolen: checked with lost property.")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#progress-contain")).to_have_text("1 of 3 finished")

    # 5. Evidence for a step: the page shows the file's SHA-256, and the step may be done.
    expect(wipe.get_by_role("button", name="Done")).to_have_count(0)
    expect(wipe).to_contain_text("Attach evidence to mark it done.")
    proof = tmp_path / "mdm-wipe.log"
    proof.write_bytes(b"2026-11-24 10:02 wipe command acknowledged by laptop-42\n" * 20)
    expected = hashlib.sha256(proof.read_bytes()).hexdigest()
    page.get_by_label("File", exact=True).set_input_files(str(proof))
    page.get_by_label("For", exact=True).select_option(label=f"Contain: {WIPE}")
    page.get_by_label("Description (optional)").fill("Export from device management")
    page.get_by_role("button", name="Upload evidence").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{reference}#evidence$"))
    row = page.locator("table.evidence tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".sha256")).to_have_text(expected)
    expect(row).to_contain_text("mdm-wipe.log")
    expect(row).to_contain_text(WIPE)
    expect(row).to_contain_text(responder.email)
    expect(row).to_contain_text(filesize(proof.stat().st_size))
    expect(wipe).to_contain_text("evidence: 1 (required)")

    with page.expect_download() as download_info:
        row.get_by_role("link", name="mdm-wipe.log").click()
    download = download_info.value
    assert download.suggested_filename == "mdm-wipe.log"
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == expected

    page.reload()
    wipe.get_by_role("button", name="Done").click()
    expect(wipe.locator(".state")).to_have_text("done")
    expect(wipe.locator(".overdue-flag")).to_have_count(0)
    expect(page.locator("#progress-contain")).to_have_text("2 of 3 finished")
    expect(page.get_by_role("button", name="Move to contained")).to_have_count(0)

    # 6. The last contain step finished: the page offers to move to contained.
    revoke = step(page, REVOKE)
    revoke.get_by_label("Reason to skip").fill("The laptop never had VPN or certificates.")
    revoke.get_by_role("button", name="Skip").click()
    expect(page.locator("#progress-contain")).to_have_text("3 of 3 finished")
    move = page.get_by_role("button", name="Move to contained")
    expect(move).to_be_visible()
    expect(page.locator("#contained-ready")).to_contain_text(
        "Every containment step is done or skipped.")
    page.screenshot(path=str(tmp_path / "contained-ready.png"), full_page=True)
    move.click()
    expect(page.locator("#status")).to_have_text("contained")
    expect(page.get_by_role("button", name="Move to contained")).to_have_count(0)
    kinds = page.locator("ol.timeline .event-head strong").all_inner_texts()
    assert kinds[:2] == ["status changed", "step changed"]
    assert "evidence downloaded" in kinds and "evidence added" in kinds
    assert "runbook attached" in kinds
    events = page.locator("ol.timeline > li")
    expect(events.filter(has_text="evidence added")).to_contain_text(expected)
    expect(events.filter(has_text="evidence downloaded")).to_contain_text(expected)
    expect(events.filter(has_text="lost-device/report-theft: todo → skipped")).to_contain_text(
        "Lost, not stolen: checked with lost property.")
    expect(page.locator("#verification")).to_contain_text("chain intact")
    assert console.unexpected() == []


def test_an_auditor_sees_the_checklist_and_evidence_but_no_forms(
        server: Server, staff: dict[str, Person], page: Page) -> None:
    responder = staff["responder"]
    reference, _ = incident_aware_hours_ago(server, responder, 3, "Phone left in a taxi")
    content = b"carrier confirmed SIM blocked"
    with server.api(responder) as api:
        assert api.post(f"/api/v1/incidents/{reference}/runbooks",
                        json={"runbook": "lost-device"}).status_code == 201
        assert api.post(f"/api/v1/incidents/{reference}/evidence",
                        files={"file": ("sim.txt", content, "text/plain")}).status_code == 201
    steps = steps_by_title(server, responder, reference)
    with server.api(responder) as api:
        skipped = api.patch(f"/api/v1/incidents/{reference}/steps/{steps[THEFT]['id']}",
                            json={"state": "skipped", "reason": "not a theft", "version": 1})
        assert skipped.status_code == 200

    sign_in(page, staff["auditor"], f"/incidents/{reference}")
    section = page.locator("#containment")
    expect(section.locator(".runbooks li")).to_contain_text(f"{RUNBOOK_TITLE} version 1")
    expect(step(page, WIPE).locator(".overdue-flag")).to_have_text("overdue")
    expect(step(page, THEFT).locator(".state")).to_have_text("skipped")
    expect(step(page, THEFT).locator(".reason")).to_have_text("not a theft")
    expect(page.locator("#progress-contain")).to_have_text("1 of 3 finished")
    # Nothing that changes anything: the timeline's filter only asks to see less.
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.locator("main button:not(.timeline-filter *)")).to_have_count(0)
    expect(page.locator("main :is(input, select, textarea):not(.timeline-filter *)")).to_have_count(0)
    row = page.locator("table.evidence tbody tr")
    expect(row.locator(".sha256")).to_have_text(hashlib.sha256(content).hexdigest())
    # Download links follow the evidence permission; the auditor's role decides whether it has it.
    links = 1 if Permission.READ_EVIDENCE in PERMISSIONS[Role.AUDITOR] else 0
    expect(row.get_by_role("link")).to_have_count(links)

    csrf = page.locator("input[name=csrf_token]").first.input_value()  # the sign-out form's
    refused = page.request.post(f"/incidents/{reference}/steps/{steps[WIPE]['id']}",
                                form={"state": "in_progress", "version": "1", "csrf_token": csrf},
                                max_redirects=0)
    assert refused.status == 403
    assert steps_by_title(server, responder, reference)[WIPE]["state"] == "todo"
