"""The risk-assessment page in a real Chromium against `breach serve`: reached from the incident
page, each factor's weight and each rule with its source, and an approver's confirmation of an
assessment that would end a duty (four eyes: never its author), with no script error and
every control labelled.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import Console, Server, sign_in, unlabelled_controls

PROFILE = {"name": "Example GmbH", "country": "DE", "timezone": "Europe/Berlin"}
# EDPB Guidelines 01/2021 case 16: another policyholder's letter, sent by mistake.
LETTER = {"data_categories": ["identity", "contact", "financial"], "subjects": 1,
          "vulnerable_subjects": False, "identifiability": "maximum",
          "confidentiality": "known_recipients", "integrity": "none", "availability": "none",
          "malicious": False}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_an_approver_reads_the_weights_and_confirms_anothers_assessment(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    responder, approver = staff["responder"], staff["approver"]
    with server.api(staff["admin"]) as admin:
        _ok(admin.put("/api/v1/organisation", json=PROFILE))
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with server.api(responder) as api:
        reference = str(_ok(api.post("/api/v1/incidents", json={
            "title": "Policy letter sent to another customer", "kind": "other",
            "breach_types": ["confidentiality"], "data_categories": ["contact"],
            "estimated_subjects": 1, "detected_at": aware.isoformat(),
            "aware_at": aware.isoformat()}), 201)["reference"])
        recorded = _ok(api.post(f"/api/v1/incidents/{reference}/assessment", json=LETTER), 201)
    assert recorded["ends"] == ["gdpr/data-subjects"]

    sign_in(page, approver, f"/incidents/{reference}")
    page.get_by_role("link", name=re.compile("^Risk assessment")).click()
    expect(page).to_have_url(re.compile(f"/incidents/{reference}/assessment$"))
    article = page.locator("#assessment-1")
    expect(article.locator(".state")).to_have_text("awaits an approver's confirmation")
    expect(article.locator(".score")).to_contain_text("= 3.25, high")
    financial = article.locator('table.dpc tr[data-category="financial"]')
    expect(financial.locator("td")).to_have_text(["financial", "3", "3"])
    rule = article.locator('table.adjustments tr[data-rule="misdelivered"]')
    expect(rule.locator(".source")).to_have_text("EDPB Guidelines 01/2021 cases 13, 16")
    expect(rule.locator(".sentence")).to_contain_text("Sent by mistake to known recipients")
    expect(article.locator(".confirmation")).to_contain_text("It would end gdpr/data-subjects")
    assert unlabelled_controls(page) == []

    article.get_by_role("button", name="Confirm assessment 1").click()
    expect(page).to_have_url(re.compile(r"/assessment#assessment-1$"))
    expect(article.locator(".state")).to_have_text("in force")
    expect(article.locator(".confirmation")).to_contain_text(f"Confirmed by {approver.email}")
    expect(article.get_by_role("button")).to_have_count(0)

    # The approver's own lowering assessment waits for someone else, and the page says so.
    with server.api(approver) as api:
        low = dict(LETTER, data_categories=["contact"], identifiability="limited",
                   confidentiality="at_risk",
                   encrypted={"state_of_the_art": True, "key_compromised": False})
        _ok(api.post(f"/api/v1/incidents/{reference}/assessment", json=low), 201)
    page.reload()
    own = page.locator("#assessment-2")
    expect(own.locator(".own-assessment")).to_have_text(
        "You recorded this assessment: another approver must confirm it.")
    expect(own.get_by_role("button")).to_have_count(0)
    assert console.errors == []
