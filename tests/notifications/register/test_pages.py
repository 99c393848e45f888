"""The register and compliance pages over HTTP, as a signed-in browser gets them (no script
needed): the filters by day in BREACH_TIMEZONE, refusals shown above the form, the links to
the same reports as files, and the timeline pictures drawn as inline SVG."""

from __future__ import annotations

import re

import httpx
import pytest

from incident.kernel.clock import FixedClock
from tests.factories import Person
from tests.notifications.register.samples import (
    DISMISSAL,
    DISMISSED,
    FIRST,
    HARMLESS,
    LATE,
    LATE_REASON,
    OVERDUE,
    seed,
)
from tests.sessions import Browser

ARTICLES = re.compile(r'<article class="register-entry" id="([^"]+)"')
SECTIONS = re.compile(r'<section class="compliance-incident" id="([^"]+)"')


@pytest.fixture
async def seeded(client: httpx.AsyncClient, people: dict[str, Person],
                 clock: FixedClock) -> None:
    await seed(client, people, clock)


async def test_the_register_page_shows_every_incident_and_filters_by_day(
        auditor: Browser, seeded: None) -> None:
    page = await auditor.client.get("/register")
    assert page.status_code == 200, page.text
    assert ARTICLES.findall(page.text) == [FIRST, LATE, DISMISSED, HARMLESS, OVERDUE]
    assert 'href="/register" aria-current="page"' in page.text  # in the navigation
    assert DISMISSAL in page.text and LATE_REASON in page.text
    assert "late by 1 d 2 h 30 min" in page.text
    assert "3, counted (affected-people snapshot 1)" in page.text
    assert "250, estimated (no affected-people snapshot yet)" in page.text
    assert "The device was locked or wiped remotely." in page.text

    # Days in BREACH_TIMEZONE, both included: 2 February 00:00 to 11 February 00:00 in Berlin.
    february = await auditor.client.get("/register", params={"from": "2026-02-02",
                                                             "to": "2026-02-10"})
    assert ARTICLES.findall(february.text) == [DISMISSED, HARMLESS]
    assert 'value="2026-02-02"' in february.text  # the form keeps what was asked
    links = re.findall(r'<a href="(/api/v1/register[^"]*)">(CSV|PDF|JSON)</a>', february.text)
    csv_url = next(url for url, name in links if name == "CSV").replace("&amp;", "&")
    assert csv_url == ("/api/v1/register.csv?from=2026-02-01T23%3A00%3A00%2B00%3A00"
                       "&to=2026-02-10T23%3A00%3A00%2B00%3A00")
    download = await auditor.client.get(csv_url)
    assert download.status_code == 200 and DISMISSED in download.text and FIRST not in download.text

    dismissed = await auditor.client.get("/register", params={"status": "dismissed"})
    assert ARTICLES.findall(dismissed.text) == [DISMISSED]


@pytest.mark.parametrize(("query", "says"), [
    ({"from": "2026-03-01", "to": "2026-02-01"}, "From: must be before to."),
    ({"from": "1st of May"}, "From: must be a day, as in 2026-03-10."),
    ({"from": "0001-01-01"}, "From: must be between 1970-01-01 and 9998-12-31 (UTC)."),
    ({"to": "9998-12-31"}, "To: must be between 1970-01-01 and 9998-12-31 (UTC)."),
    ({"status": "archived"}, "Status: must be one of open, assessing"),
])
async def test_a_refused_filter_is_said_above_the_form(
        auditor: Browser, query: dict[str, str], says: str) -> None:
    page = await auditor.client.get("/register", params=query)
    assert page.status_code == 422
    assert says in page.text
    assert 'id="notice"' in page.text and "register-entry" not in page.text


async def test_the_compliance_page_sums_up_periods_and_draws_each_incident(
        approver: Browser, seeded: None) -> None:
    page = await approver.client.get("/compliance")
    assert page.status_code == 200, page.text
    assert SECTIONS.findall(page.text) == [FIRST, LATE, DISMISSED, HARMLESS, OVERDUE]
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5
    assert 'class="lane lane-late" data-ref="gdpr/authority"' in page.text
    assert 'class="lane lane-overdue" data-ref="gdpr/authority"' in page.text
    assert 'class="lane lane-waived" data-ref="gdpr/data-subjects"' in page.text
    row = re.search(r'<tr data-period="2026-01">(.*?)</tr>', page.text, re.S)
    assert row is not None and '<td class="count share">67 %</td>' in row.group(1)
    assert "<script" not in page.text.split("<main", 1)[1]  # drawn on the server, no script

    quarters = await approver.client.get("/compliance", params={"per": "quarter",
                                                                "from": "2026-01-01"})
    assert 'data-period="2026-Q1"' in quarters.text
    refused = await approver.client.get("/compliance", params={"per": "week"})
    assert refused.status_code == 422 and "Per: must be one of month, quarter, year." in refused.text


async def test_the_auditor_s_reports_are_for_admins_approvers_and_auditors(
        responder: Browser, approver: Browser, auditor: Browser) -> None:
    for browser in (approver, auditor):
        listed = await browser.client.get("/incidents")
        assert '<a href="/register"' in listed.text and '<a href="/compliance"' in listed.text
        assert (await browser.client.get("/compliance")).status_code == 200
    listed = await responder.client.get("/incidents")
    assert '<a href="/register"' not in listed.text
    assert (await responder.client.get("/register")).status_code == 403
