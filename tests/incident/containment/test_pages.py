"""The containment part of the incident page, over HTTP with a signed-in browser's cookie and
CSRF token: forms that attach runbooks, move steps and upload evidence, and what each refusal
looks like on the page."""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.containment.runbooks import Catalogue
from incident.kernel.auth import PERMISSIONS, Permission, Role
from incident.kernel.clock import FixedClock
from incident.kernel.settings import Settings
from tests.factories import Person, client_for, new_incident
from tests.sessions import Browser, signed_in


async def checklist(client: httpx.AsyncClient, person: Person, reference: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/incidents/{reference}/steps", headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def with_runbook(client: httpx.AsyncClient, person: Person) -> tuple[str, dict[str, Any]]:
    reference = await new_incident(client, person)
    attached = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                                 json={"runbook": "lost-device"}, headers=person.headers)
    assert attached.status_code == 201, attached.text
    return reference, dict(attached.json())


def step_named(steps: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in steps["steps"] if s["step_id"] == step_id)


def step_html(page: httpx.Response, step_row_id: int) -> str:
    found = re.search(rf'<li id="step-{step_row_id}"(.*?)</li>', page.text, re.S)
    assert found is not None, page.text
    return found.group(0)


def alert(page: httpx.Response) -> str:
    found = re.search(r'<p class="alert" role="alert" id="notice">(.*?)</p>', page.text, re.S)
    assert found is not None, page.text
    return html.unescape(found.group(1))


# --- the forms that work ---------------------------------------------------------------------

async def test_attach_move_and_upload_through_the_forms(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    api = people["responder"]
    reference = await new_incident(client, api)
    page = await responder.page(reference)
    assert 'name="runbook" value="lost-device"' in page.text
    assert "No runbook attached yet." in page.text

    attached = await responder.post(f"/incidents/{reference}/runbooks", {"runbook": "lost-device"})
    assert attached.status_code == 303
    assert attached.headers["location"] == f"/incidents/{reference}#runbooks"
    page = await responder.page(reference)
    assert "Lost or stolen device or paper records" in page.text and "version 1" in page.text
    assert 'name="runbook" value="lost-device"' not in page.text  # attached: no longer suggested

    steps = await checklist(client, api, reference)
    asset = step_named(steps, "close-asset")  # needs no evidence
    started = await responder.post(f"/incidents/{reference}/steps/{asset['id']}",
                                   {"state": "in_progress", "version": str(asset["version"])})
    assert started.status_code == 303
    assert started.headers["location"] == f"/incidents/{reference}#step-{asset['id']}"
    # The step is marked for the admin: a responder may start it, not finish it.
    assert "Only an admin marks this done." in step_html(await responder.page(reference),
                                                         asset["id"])
    refused = await responder.sent_back(f"/incidents/{reference}/steps/{asset['id']}",
                                        {"state": "done", "version": str(asset["version"] + 1)},
                                        to=f"/incidents/{reference}#step-{asset['id']}")
    assert alert(refused) == "This step is for the admin: only an admin may mark it done."
    assert 'id="notice"' in step_html(refused, asset["id"])
    admin = people["admin"]
    done = await client.patch(f"/api/v1/incidents/{reference}/steps/{asset['id']}",
                              json={"state": "done", "version": asset["version"] + 1},
                              headers=admin.headers)
    assert done.status_code == 200
    now = step_named(await checklist(client, api, reference), "close-asset")
    assert (now["state"], now["version"], now["changed_by"]) == ("done", 3, admin.email)
    shown = step_html(await responder.page(reference), asset["id"])
    assert '<span class="state">done</span>' in shown and f"Done by {admin.email}" in shown
    assert ">Reopen</button>" in shown and ">Done</button>" not in shown

    wipe = step_named(steps, "remote-lock-wipe")
    assert "Only an admin marks this done." in step_html(page, wipe["id"])  # not a responder's
    content = b"MDM: wipe command acknowledged 10:02\n"
    uploaded = await responder.post(f"/incidents/{reference}/evidence",
                                    {"step": str(wipe["id"]), "description": "MDM export"},
                                    files={"file": ("wipe.log", content, "text/plain")})
    assert uploaded.status_code == 303, uploaded.text
    assert uploaded.headers["location"] == f"/incidents/{reference}#evidence"
    page = await responder.page(reference)
    digest = hashlib.sha256(content).hexdigest()
    row = re.search(r'<tr id="evidence-(\d+)">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert digest in row.group(2) and "wipe.log" in row.group(2) and "MDM export" in row.group(2)
    assert f'{len(content)} bytes' in row.group(2)
    assert "Lock or wipe the device remotely" in row.group(2) and api.email in row.group(2)
    assert f'href="/api/v1/incidents/{reference}/evidence/{row.group(1)}"' in row.group(2)
    assert ">Done</button>" not in step_html(page, wipe["id"])  # evidence, but the admin's step

    whole = await responder.post(f"/incidents/{reference}/evidence",
                                 files={"file": ("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")})
    assert whole.status_code == 303
    listed = (await client.get(f"/api/v1/incidents/{reference}/evidence",
                               headers=api.headers)).json()
    assert [(e["filename"], e["step"]) for e in listed] == [
        ("wipe.log", "lost-device/remote-lock-wipe"), ("photo.jpg", None)]


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
async def test_skipping_without_a_reason_shows_why_and_changes_nothing(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        reason: str) -> None:
    reference, steps = await with_runbook(client, people["responder"])
    step = step_named(steps, "report-theft")
    refused = await responder.sent_back(f"/incidents/{reference}/steps/{step['id']}",
                                        {"state": "skipped", "reason": reason, "version": "1"},
                                        to=f"/incidents/{reference}#step-{step['id']}")
    assert refused.headers["content-type"].startswith("text/html")
    assert alert(refused) == ("Skipping a step needs a reason: write why it does not apply, "
                              "then skip it.")
    assert 'id="notice"' in step_html(refused, step["id"])  # beside the step's own forms
    after = step_named(await checklist(client, people["responder"], reference), "report-theft")
    assert (after["state"], after["version"]) == ("todo", 1)
    assert 'id="notice"' not in (await responder.page(reference)).text  # shown once


async def test_a_stale_version_is_refused_and_the_current_state_shown(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    api = people["approver"]
    reference, steps = await with_runbook(client, api)
    step = step_named(steps, "close-asset")
    page = await responder.page(reference)
    assert f'name="version" value="{step["version"]}"' in step_html(page, step["id"])
    # Someone else starts the step after the page was loaded ...
    moved = await client.patch(f"/api/v1/incidents/{reference}/steps/{step['id']}",
                               json={"state": "in_progress", "version": 1}, headers=api.headers)
    assert moved.status_code == 200
    # ... so the page's form, still carrying version 1, must not overwrite that change.
    stale = await responder.sent_back(f"/incidents/{reference}/steps/{step['id']}",
                                      {"state": "todo", "version": "1"})
    assert alert(stale) == ("This step was changed after you opened the page: it is now in "
                            "progress (version 2). Its current state is shown here; choose again "
                            "if your change still applies.")
    shown = step_html(stale, step["id"])
    assert '<span class="state">in progress</span>' in shown and f"by {api.email}" in shown
    assert 'name="version" value="2"' in shown
    after = step_named(await checklist(client, api, reference), "close-asset")
    assert (after["state"], after["version"], after["changed_by"]) == ("in_progress", 2, api.email)
    again = await responder.post(f"/incidents/{reference}/steps/{step['id']}",
                                 {"state": "todo", "version": "2"})
    assert again.status_code == 303


async def test_other_refused_changes_are_explained_on_the_page(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser) -> None:
    reference, steps = await with_runbook(client, people["responder"])
    wipe = step_named(steps, "remote-lock-wipe")
    no_proof = await responder.sent_back(f"/incidents/{reference}/steps/{wipe['id']}",
                                         {"state": "done", "version": "1"})
    assert alert(no_proof) == "This step requires evidence: attach a file to it first."
    bad_state = await responder.sent_back(f"/incidents/{reference}/steps/{wipe['id']}",
                                          {"state": "finished", "version": "1"})
    assert alert(bad_state).startswith("State: ")
    twice = await responder.sent_back(f"/incidents/{reference}/runbooks",
                                      {"runbook": "lost-device"},
                                      to=f"/incidents/{reference}#runbooks")
    assert "already attached" in alert(twice)
    unknown = await responder.sent_back(f"/incidents/{reference}/runbooks", {"runbook": "nope"})
    assert alert(unknown).startswith("Runbook: no runbook 'nope'")
    no_file = await responder.sent_back(f"/incidents/{reference}/evidence", {"description": "x"},
                                        to=f"/incidents/{reference}#evidence")
    assert alert(no_file) == "The file is missing: choose a file to upload."
    empty = await responder.sent_back(f"/incidents/{reference}/evidence",
                                      files={"file": ("empty.txt", b"", "text/plain")})
    assert alert(empty) == "The file is empty."
    missing = await responder.post(f"/incidents/{reference}/steps/999999",
                                   {"state": "done", "version": "1"})
    assert missing.status_code == 404 and "no step 999999" in missing.text
    assert (await checklist(client, people["responder"], reference))["steps"] == steps["steps"]


async def test_an_oversize_upload_gets_a_clear_page_and_stores_nothing(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person],
        settings: Settings, catalogue: Catalogue) -> None:
    small = create_app(settings.model_copy(update={"evidence_max_bytes": 1000}), clock=clock,
                       engine=engine, catalogue=catalogue)
    api = people["responder"]
    async with client_for(small) as client:
        reference = await new_incident(client, api)
    async for browser in signed_in(small, api):
        over = await browser.sent_back(
            f"/incidents/{reference}/evidence",
            files={"file": ("big.bin", b"x" * 1500, "application/octet-stream")})
        assert alert(over) == "The file is larger than the limit of 1000 bytes."
        far_over = await browser.post(f"/incidents/{reference}/evidence",
                                      files={"file": ("huge.bin", b"x" * 200_000, "text/plain")})
        assert far_over.status_code == 413
        assert far_over.headers["content-type"].startswith("text/html")
        assert "<h1>Too large</h1>" in far_over.text
        assert "an evidence file may be at most 1000 bytes" in far_over.text
        assert "Nothing was saved." in far_over.text
        assert "No evidence yet." in (await browser.page(reference)).text
        listed = await browser.client.get(f"/api/v1/incidents/{reference}/evidence")
        assert listed.json() == []


# --- who may ------------------------------------------------------------------------------------

async def test_an_auditor_reads_the_checklist_but_every_form_is_refused(
        client: httpx.AsyncClient, people: dict[str, Person], auditor: Browser) -> None:
    api = people["responder"]
    reference, steps = await with_runbook(client, api)
    await client.post(f"/api/v1/incidents/{reference}/evidence", headers=api.headers,
                      files={"file": ("log.txt", b"wipe confirmed", "text/plain")})
    page = await auditor.page(reference)
    main = page.text.split('<main id="main">', 1)[1]
    # Nothing that changes anything: only the timeline's filter, which asks nothing of the server.
    unfiltered = re.sub(r'<form method="get".*?</form>', "", main, flags=re.S)
    assert "<form" not in unfiltered and "<button" not in unfiltered
    assert "Record what was lost, where and when" in main
    assert hashlib.sha256(b"wipe confirmed").hexdigest() in main
    assert "/evidence/" in main  # the auditor's role may read evidence: the file is linked
    step = steps["steps"][0]
    attempts = [
        (f"/incidents/{reference}/runbooks", {"runbook": "ransomware"}, None),
        (f"/incidents/{reference}/steps/{step['id']}", {"state": "in_progress", "version": "1"},
         None),
        (f"/incidents/{reference}/evidence", {}, {"file": ("x.txt", b"x", "text/plain")}),
    ]
    for path, data, files in attempts:
        refused = await auditor.post(path, data, files)
        assert refused.status_code == 403, path
        assert "<h1>Forbidden</h1>" in refused.text
    after = await checklist(client, api, reference)
    assert after["steps"] == steps["steps"] and len(after["runbooks"]) == 1
    listed = (await client.get(f"/api/v1/incidents/{reference}/evidence", headers=api.headers)).json()
    assert len(listed) == 1


async def test_the_evidence_list_links_files_exactly_for_roles_that_may_read_them(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    """Every role that reads incidents sees each file's name and digest; only a role with
    READ_EVIDENCE gets a link to the file, and that link serves it."""
    api = people["responder"]
    reference = await new_incident(client, api)
    await client.post(f"/api/v1/incidents/{reference}/evidence", headers=api.headers,
                      files={"file": ("log.txt", b"confidential", "text/plain")})
    for role in Role:
        person = people[role.value]
        page = await client.get(f"/incidents/{reference}", headers=person.headers)
        assert page.status_code == 200, page.text
        row = re.search(r'<tr id="evidence-\d+">(.*?)</tr>', page.text, re.S)
        assert row is not None, role
        assert "log.txt" in row.group(1) and hashlib.sha256(b"confidential").hexdigest() in row.group(1)
        link = re.search(r'<a href="([^"]+)" download>log.txt</a>', row.group(1))
        assert (link is not None) == (Permission.READ_EVIDENCE in PERMISSIONS[role]), role
        if link is not None:
            served = await client.get(link.group(1), headers=person.headers)
            assert served.status_code == 200 and served.content == b"confidential", role
