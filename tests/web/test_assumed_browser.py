"""The incident page marks a due time counted from awareness until the incident is classified
("assumed"), in a real Chromium against `breach serve`; the real clock replaces it once the
classification is recorded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.factories import Person
from tests.web.chromium import Console, Server, incident_aware_hours_ago, sign_in

ZONE = ZoneInfo("Europe/Helsinki")
PROFILE = {"name": "Example Oy", "country": "FI", "timezone": "Europe/Helsinki",
           "flags": ["nis2_essential"]}


def wall(at: datetime) -> str:
    return at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def test_an_assumed_due_time_is_marked_until_the_incident_is_classified(
        server: Server, staff: dict[str, Person], page: Page, console: Console) -> None:
    with server.api(staff["admin"]) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
    responder = staff["responder"]
    reference, aware = incident_aware_hours_ago(server, responder, 2, "Ransomware on file server")
    sign_in(page, responder, f"/incidents/{reference}")

    # NIS2 Art. 23(4)(a): 24 hours from awareness of the significant incident; not yet
    # classified, so counted from awareness and marked assumed.
    early = page.locator('#obligations tbody.obligation[data-ref="nis2/early-warning"]')
    due = early.locator(".due")
    expect(due).to_contain_text(wall(aware + timedelta(hours=24)))
    expect(due.locator(".assumed")).to_have_text("assumed")
    gdpr = page.locator('#obligations tbody.obligation[data-ref="gdpr/authority"] .due')
    expect(gdpr).to_contain_text(wall(aware + timedelta(hours=72)))
    expect(gdpr.locator(".assumed")).to_have_count(0)
    early.get_by_text("Why / basis").click()
    basis = early.locator(".basis-list")
    expect(basis).to_contain_text("assumed: not yet classified (NIS2 significant)")
    expect(basis).to_contain_text(re.compile(r"Confidence(high|medium|low), sources last checked"))

    # Classified an hour ago: the real clock replaces the assumed one.
    classified = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    with server.api(responder) as api:
        saved = api.put(f"/api/v1/incidents/{reference}/milestones",
                        json={"classified_major_at": classified.isoformat()})
    assert saved.status_code == 200, saved.text
    page.reload()
    expect(due).to_contain_text(wall(classified + timedelta(hours=24)))
    expect(due.locator(".assumed")).to_have_count(0)
