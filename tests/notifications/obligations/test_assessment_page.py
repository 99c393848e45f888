"""The risk-assessment page, over HTTP on both lanes: each factor's weight, each rule with its
source and sentence, and an approver's confirmation of an assessment that would end a duty."""

from __future__ import annotations

import html
import re

import httpx

from tests.factories import LOW_RISK, PROFILE, Person, new_incident
from tests.sessions import Browser

# EDPB Guidelines 01/2021 case 16: one policyholder's letter reached another customer.
LETTER = {"data_categories": ["identity", "contact", "financial"], "subjects": 1,
          "vulnerable_subjects": False, "identifiability": "maximum",
          "confidentiality": "known_recipients", "integrity": "none", "availability": "none",
          "malicious": False}


async def _text(browser: Browser, path: str, status: int = 200) -> str:
    response = await browser.client.get(path)
    assert response.status_code == status, response.text
    return html.unescape(response.text)


def _article(text: str, number: int) -> str:
    found = re.search(rf'<article[^>]*id="assessment-{number}".*?</article>', text, re.S)
    assert found is not None, f"assessment {number} not on the page"
    return found.group(0)


async def test_the_page_shows_each_weight_and_rule_and_takes_an_approvers_confirmation(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        approver: Browser, auditor: Browser) -> None:
    await client.put("/api/v1/organisation", json=PROFILE, headers=people["admin"].headers)
    reference = await new_incident(client, people["responder"])
    path = f"/incidents/{reference}/assessment"
    assert "No assessment yet" in await _text(auditor, path)
    incident_page = await _text(responder, f"/incidents/{reference}")
    assert f'href="/incidents/{reference}/assessment"' in incident_page

    letter = await client.post(f"/api/v1/incidents/{reference}/assessment", json=LETTER,
                               headers=people["responder"].headers)
    assert letter.json()["ends"] == ["gdpr/data-subjects"]

    first = _article(await _text(responder, path), 1)
    assert "awaits an approver's confirmation" in first
    assert "SE = 3 \u00d7 1 + 0.25 = <strong>3.25</strong>" in first
    assert re.search(r'data-category="financial"><th scope="row">financial</th><td>financial</td>'
                     r"<td>3</td><td>3</td>", first)
    assert re.search(r'data-part="confidentiality">.*?known_recipients.*?\+0.25', first, re.S)
    rule = re.search(r'<tr data-rule="misdelivered">.*?</tr>', first, re.S)
    assert rule is not None
    assert "EDPB Guidelines 01/2021 cases 13, 16" in rule.group(0)
    assert "Sent by mistake to known recipients" in rule.group(0)
    assert "notify the authority" in first
    assert "It would end gdpr/data-subjects" in first
    assert "Confirm assessment 1" not in first  # a responder cannot confirm

    refused = await responder.post(f"/incidents/{reference}/assessments/1/confirm")
    assert refused.status_code == 403
    forged = await approver.client.post(f"/incidents/{reference}/assessments/1/confirm",
                                        data={}, follow_redirects=False)
    assert forged.status_code == 403  # no CSRF token

    shown = _article(await _text(approver, path), 1)
    assert "Confirm assessment 1" in shown
    done = await approver.post(f"/incidents/{reference}/assessments/1/confirm")
    assert done.status_code in (302, 303), done.text
    assert done.headers["location"] == f"/incidents/{reference}/assessment#assessment-1"
    settled = _article(await _text(auditor, path), 1)
    assert f"Confirmed by {people['approver'].email}" in settled
    assert 'data-state="in_force"' in settled

    # The approver's own assessment waits for someone else; the page says so, and why.
    mine = await client.post(f"/incidents/{reference}/assessment".replace("/incidents",
                             "/api/v1/incidents"), json=LOW_RISK,
                             headers=people["approver"].headers)
    assert mine.json()["pending"] is True
    second = _article(await _text(approver, path), 2)
    assert "You recorded this assessment: another approver must confirm it." in second
    assert "Confirm assessment 2" not in second
    own = await approver.sent_back(f"/incidents/{reference}/assessments/2/confirm",
                                   to=f"/incidents/{reference}/assessment#assessment-2")
    notice = _article(html.unescape(own.text), 2)
    assert "You recorded assessment 2: another approver must confirm it." in notice
    assert 'role="alert"' in notice


async def test_the_page_needs_a_signed_in_reader(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    reference = await new_incident(client, people["responder"])
    anonymous = await client.get(f"/incidents/{reference}/assessment", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
