"""A report to an authority, where it is drafted and approved: the pages say where it goes (the
contact the organisation profile names, the one used) beside the regime catalogue's entry for
the authority, and where the profile has no e-mail address for it, the refusal (the API's
problem details, the pages) says how that authority takes reports, so that a report made
through a portal is filed there by hand and recorded.

The regime is the organisation's own (tests/notifications/obligations/authorities.py): a
demo authority that takes reports only through its portal."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.app import create_app
from incident.containment.runbooks import Catalogue as Runbooks
from incident.kernel.clock import FixedClock
from incident.kernel.settings import Settings
from notifications.drafting.requirements import filing_advice
from notifications.obligations.regime_loader import load_catalogue
from notifications.obligations.service import configure_regimes
from tests.factories import PROFILE, Person, client_for, new_incident
from tests.notifications.obligations.authorities import (
    AUTHORITY,
    FILING,
    REGIME_ID,
    REPORT,
    regime_folder,
)
from tests.sessions import signed_in

ADVICE = (f"how {AUTHORITY['name']} takes reports, according to the regime catalogue (checked on "
          f"2026-12-01): {FILING} (website {AUTHORITY['website']}, phone {AUTHORITY['phone']}). "
          "Where that is a portal or a form, file the report there by hand and record the "
          "obligation as met, saying how it was filed; where it takes reports by e-mail, add "
          "that address to the organisation profile")
CONTACT = {"name": "Demo authority, breach desk", "email": "breach@authority.example.org",
           "address": "PO Box 7, 10115 Berlin"}


@pytest.fixture(autouse=True)
def catalogue_restored() -> Iterator[None]:
    yield
    configure_regimes(Settings(secret_key="restore", regimes_dir=None))


@pytest.fixture
def own_app(tmp_path: Path, settings: Settings, clock: FixedClock, engine: AsyncEngine,
            catalogue: Runbooks) -> Litestar:
    return create_app(settings.model_copy(update={"regimes_dir": regime_folder(tmp_path)}),
                      clock=clock, engine=engine, catalogue=catalogue)


def test_the_advice_names_the_authority_its_filing_and_what_to_do(tmp_path: Path) -> None:
    found = load_catalogue(regime_folder(tmp_path)).catalogue.obligation(REPORT)
    assert found is not None
    assert filing_advice(found[1].authority) == ADVICE
    assert filing_advice(None) == ""


async def save_profile(client: httpx.AsyncClient, admin: Person, **authorities: object) -> None:
    saved = await client.put("/api/v1/organisation", headers=admin.headers, json={
        **PROFILE, "authorities": {**PROFILE["authorities"], **authorities}})
    assert saved.status_code == 200, saved.text


async def test_a_report_with_no_address_is_refused_saying_how_the_authority_takes_reports(
        own_app: Litestar, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    async with client_for(own_app) as client:
        await save_profile(client, admin)  # no contact for the demo authority at all
        reference = await new_incident(client, responder)
        refused = await client.post(f"/api/v1/incidents/{reference}/notifications",
                                    json={"obligation": REPORT}, headers=responder.headers)
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["detail"].startswith("the notice cannot be drafted: ")
        assert (f"authorities.{REPORT}.email: the report is sent to it by e-mail; {ADVICE}"
                in problem["detail"])
        assert {"field": f"authorities.{REPORT}.email",
                "message": f"the report is sent to it by e-mail; {ADVICE}"} in problem["errors"]
        # A report the catalogue names no authority for says only what it lacks.
        await save_profile(client, admin, **{"gdpr/authority": {"name": "BlnBDI"}})
        plain = await client.post(f"/api/v1/incidents/{reference}/notifications",
                                  json={"obligation": "gdpr/authority"},
                                  headers=responder.headers)
        assert plain.status_code == 409, plain.text
        gdpr = next(e for e in plain.json()["errors"]
                    if e["field"] == "authorities.gdpr/authority.email")
        assert gdpr["message"].startswith("the report is sent to it by e-mail")
        assert AUTHORITY["name"] not in gdpr["message"]

        # The incident's notifications page says so before anyone tries, for each report.
        async for browser in signed_in(own_app, responder):
            listing = await browser.client.get(f"/incidents/{reference}/notifications")
            assert listing.status_code == 200, listing.text
            text = html.unescape(listing.text)
            note = text[text.index('id="authority-acme-dpa-report"'):]
            note = note[:note.index("</div>")]
            assert ("The organisation profile has no e-mail address for this authority, so the "
                    "report is not sent from here.") in note
            assert f"{AUTHORITY['name']} takes reports as follows" in note and FILING in note
            assert f'href="/incidents/{reference}#obligations"' in note
            assert f'<a href="{AUTHORITY["website"]}" rel="noopener noreferrer">' in note
            assert f"<dd>{AUTHORITY['address']}</dd>" in note
            assert f"checked on 2026-12-01 · <a href=\"{AUTHORITY['source']}\"" in note
            assert "Sent to" not in note  # the profile names nobody for it
            gdpr = text[text.index('id="authority-gdpr-authority"'):]
            assert gdpr.startswith('id="authority-gdpr-authority" data-ref="gdpr/authority">')
            assert "Sent to <strong>BlnBDI</strong>" in gdpr[:gdpr.index("</div>")]


async def test_the_report_page_names_the_contact_used_and_the_catalogues_entry(
        own_app: Litestar, people: dict[str, Person]) -> None:
    admin, responder, approver = people["admin"], people["responder"], people["approver"]
    async with client_for(own_app) as client:
        await save_profile(client, admin, **{REGIME_ID: CONTACT})
        reference = await new_incident(client, responder)
        base = f"/api/v1/incidents/{reference}/notifications"
        created = await client.post(base, json={"obligation": REPORT}, headers=responder.headers)
        assert created.status_code == 201, created.text
        draft = created.json()
        written = await client.patch(f"{base}/{draft['id']}", headers=responder.headers, json={
            "version": draft["version"], "fields": {"consequences": "Phishing.",
                                                    "measures_taken": "Laptop wiped."}})
        assert written.status_code == 200, written.text
        page_url = f"/incidents/{reference}/notifications/{draft['id']}"
        async for browser in signed_in(own_app, responder):
            shown = html.unescape((await browser.client.get(page_url)).text)
            assert (f"Sent to <strong>{CONTACT['name']}, {CONTACT['email']}, "
                    f"{CONTACT['address']}</strong>") in shown
            assert "the catalogue's entry below is for reference" in shown
            assert f"<dd class=\"filing\">{FILING}</dd>" in shown
            assert "no e-mail address for this authority" not in shown
            listing = html.unescape((await browser.client.get(
                f"/incidents/{reference}/notifications")).text)
            assert f"Sent to <strong>{CONTACT['name']}" in listing

            # The address is taken out of the profile: approval is refused, saying how the
            # authority takes reports, and the page says what to do.
            await save_profile(client, admin, **{REGIME_ID: {"name": CONTACT["name"]}})
            hashed = (await client.get(f"{base}/{draft['id']}", headers=approver.headers)).json()
            refused = await client.post(f"{base}/{draft['id']}/approve", headers=approver.headers,
                                        json={"content_hash": hashed["content_hash"]})
            assert refused.status_code == 409, refused.text
            assert refused.json()["detail"].startswith(
                f"notification {draft['id']} cannot be approved: ")
            assert ADVICE in refused.json()["detail"]
            shown = html.unescape((await browser.client.get(page_url)).text)
            assert ("The organisation profile has no e-mail address for this authority, so the "
                    "report is not sent from here.") in shown
            assert f"Sent to <strong>{CONTACT['name']}</strong>" in shown
