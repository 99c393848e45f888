"""The incident page's parties part, over HTTP on both lanes: the role the organisation acts in,
the counterparties with their contracts' clocks, and the form that records them."""

from __future__ import annotations

import html
import re

import httpx

from tests.factories import PROFILE, Person, new_incident
from tests.sessions import Browser

ACME = {"id": "acme-health", "name": "Acme Health Ltd", "role": "controller", "hours": 24,
        "trigger": "aware_at", "contract": "DPA s. 7.2", "email": "security@acme-health.example"}


def section(page: httpx.Response) -> str:
    found = re.search(r'<section[^>]*id="parties".*?</section>', page.text, re.S)
    assert found is not None, "no parties section"
    return html.unescape(found.group(0))


async def test_the_page_shows_and_records_the_parties(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        auditor: Browser) -> None:
    await client.put("/api/v1/organisation", json={**PROFILE, "counterparties": [ACME]},
                     headers=people["admin"].headers)
    reference = await new_incident(client, people["responder"])
    shown = section(await auditor.page(reference))
    assert "controller, covered entity, data owner" in shown and "assumed" in shown
    assert "No counterparty's data recorded" in shown
    assert "Record parties" not in shown  # the auditor reads only

    form = section(await responder.page(reference))
    assert 'value="acme-health"' in form and "DPA s. 7.2: 24 h" in form
    done = await responder.client.post(
        f"/incidents/{reference}/parties", follow_redirects=False,
        data={"csrf_token": responder.csrf, "roles_from": "incident", "roles": ["processor"],
              "counterparties": ["acme-health"]})
    assert done.status_code in (302, 303), done.text
    assert done.headers["location"] == f"/incidents/{reference}#parties"
    shown = section(await auditor.page(reference))
    assert re.search(r'id="parties-roles">processor\s*<span class="muted">\(recorded for this '
                     r"incident\)</span></strong>", shown)
    row = re.search(r'<tr data-counterparty="acme-health">.*?</tr>', shown, re.S)
    assert row is not None
    assert "Acme Health Ltd" in row.group(0) and "24 hours after awareness" in row.group(0)
    assert "contract/acme-health" in row.group(0)
    duties = (await client.get(f"/api/v1/incidents/{reference}/obligations",
                               headers=people["auditor"].headers)).json()["obligations"]
    assert "contract/acme-health" in {d["ref"] for d in duties if d["applies"]}

    # Nothing ticked for this incident: refused beside the form, nothing recorded.
    refused = await responder.sent_back(f"/incidents/{reference}/parties",
                                        {"roles_from": "incident"},
                                        to=f"/incidents/{reference}#parties")
    notice = section(refused)
    assert 'role="alert"' in notice and "tick at least one role for this incident" in notice
    forged = await responder.client.post(f"/incidents/{reference}/parties",
                                         data={"roles_from": "profile"}, follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token
    denied = await auditor.client.post(
        f"/incidents/{reference}/parties", follow_redirects=False,
        data={"csrf_token": auditor.csrf, "roles_from": "profile"})
    assert denied.status_code == 403
    events = (await client.get(f"/api/v1/incidents/{reference}/timeline",
                               headers=people["auditor"].headers)).json()
    assert [e["kind"] for e in events].count("parties_set") == 1
