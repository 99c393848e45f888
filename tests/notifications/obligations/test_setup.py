"""First run: the set-up page edits the organisation profile under the rules of PUT
/api/v1/organisation; until the profile exists no notice can be drafted, by any lane.

A notice names the contact point of the organisation and comes from it: GDPR Art. 33(3)(b)
("communicate the name and contact details of the data protection officer or other contact
point") and Art. 34(2) (the communication to the data subject describes at least the
information of Art. 33(3)(b)). Without the profile nothing of that is known, so no draft.
"""

from __future__ import annotations

import html
from typing import Any

import httpx
from litestar import Litestar

from notifications.obligations.setup_pages import SetupState, authority_choices, setup_state
from tests.factories import PROFILE, Person, new_incident
from tests.sessions import Browser, signed_in


def _form(browser: Browser, **values: str) -> dict[str, str]:
    form = {"name": "Example GmbH", "country": "DE", "timezone": "Europe/Berlin",
            "language": "en", "sender.name": "Privacy Team", "sender.email": "privacy@example.com",
            "sender.reply_to": "", "dpo.name": "Dana Privacy", "dpo.email": "dpo@example.com",
            "dpo.phone": "+49 30 1234", "authorities.0.key": "gdpr/authority",
            "authorities.0.name": "Berliner Beauftragte für Datenschutz",
            "authorities.0.email": "mailbox@datenschutz-berlin.de",
            "authorities.1.key": "", "authorities.1.name": "", "authorities.1.email": ""}
    form.update(values)
    return form


async def test_a_notice_is_refused_before_set_up_and_drafted_after(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    responder, admin = people["responder"], people["admin"]
    reference = await new_incident(client, responder)
    base = f"/api/v1/incidents/{reference}/notifications"

    refused = await client.post(base, json={"obligation": "gdpr/authority"},
                                headers=responder.headers)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["detail"].startswith("no notice can be drafted before the organisation's "
                                        "set-up is finished")
    assert "/setup" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["organisation profile"]

    assert (await client.put("/api/v1/organisation", json=PROFILE,
                             headers=admin.headers)).status_code == 200
    await client.get(f"/api/v1/incidents/{reference}/obligations", headers=responder.headers)
    drafted = await client.post(base, json={"obligation": "gdpr/authority"},
                                headers=responder.headers)
    assert drafted.status_code == 201, drafted.text


def test_set_up_is_complete_with_the_profile_its_sender_and_its_contact_point() -> None:
    assert setup_state(None) == SetupState(missing=True)

    class Stored:
        sender: dict[str, Any] = {}
        dpo: dict[str, Any] = {"email": "dpo@example.com"}

    state = setup_state(Stored())  # type: ignore[arg-type]
    assert not state.complete and len(state.gaps) == 1 and "sender address" in state.gaps[0]
    Stored.sender = {"email": "privacy@example.com"}
    assert setup_state(Stored()).complete  # type: ignore[arg-type]


def test_the_authorities_offered_are_the_catalogue_s_reports() -> None:
    from notifications.obligations.service import shipped_regimes

    choices = dict(authority_choices(shipped_regimes(), ["gdpr"]))
    assert "gdpr/authority" in choices and "uk-gdpr/authority" in choices
    assert "gdpr/data-subjects" not in choices  # owed to people: no authority's address
    assert choices["gdpr"] == "gdpr"  # a key stored under the regime stays editable
    # A row left empty on a refused form is not offered as a duty of its own.
    assert "" not in dict(authority_choices(shipped_regimes(), ["", "gdpr"]))


async def test_an_admin_lands_on_set_up_and_saves_the_profile_the_api_reads(
        app: Litestar, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    async for admin in signed_in(app, people["admin"]):
        landing = await admin.client.get("/", follow_redirects=False)
        assert landing.status_code == 303 and landing.headers["location"] == "/setup"
        page = await admin.client.get("/incidents")
        assert 'id="setup-banner"' in page.text and 'href="/setup"' in page.text

        # Refused as the API refuses it; each message beside its field, everything as typed.
        bad = await admin.sent_back("/setup", _form(admin, country="Germany",
                                                    timezone="Mars/Base",
                                                    **{"dpo.email": "dana at example"}),
                                    to="/setup#setup-errors")
        text = html.unescape(bad.text)
        assert 'id="country-error"' in text and "two capital letters" in text
        assert 'id="timezone-error"' in text and "unknown time zone 'Mars/Base'" in text
        assert 'id="dpo-email-error"' in text and "is not an e-mail address" in text
        assert 'value="Germany"' in text and 'value="Mars/Base"' in text
        assert 'value="dana at example"' in text and 'value="Privacy Team"' in text
        nameless = await admin.sent_back("/setup", _form(admin, name=""), to="/setup#setup-errors")
        assert 'id="name-error"' in nameless.text and "is required" in nameless.text
        assert " ()</option>" not in nameless.text  # no empty duty offered for an empty row
        assert (await client.get("/api/v1/organisation", headers=people["admin"].headers)
                ).status_code == 404

        again = await admin.client.get("/setup")  # shown once: a reload shows what is stored
        assert 'id="setup-errors"' not in again.text and "Mars/Base" not in again.text
        twice = await admin.sent_back("/setup", _form(admin, **{
            "authorities.1.key": "gdpr/authority", "authorities.1.name": "Another"}))
        assert "is chosen on another row already" in twice.text

        saved = await admin.post("/setup", _form(admin, flags="nis2_important"))
        assert saved.status_code in (302, 303) and saved.headers["location"] == "/setup?saved=true"
        profile = (await client.get("/api/v1/organisation",
                                    headers=people["admin"].headers)).json()
        assert (profile["name"], profile["country"], profile["timezone"]) == (
            "Example GmbH", "DE", "Europe/Berlin")
        assert profile["sender"]["email"] == "privacy@example.com"
        assert profile["dpo"]["email"] == "dpo@example.com" and profile["flags"] == ["nis2_important"]
        assert profile["authorities"]["gdpr/authority"]["email"] == "mailbox@datenschutz-berlin.de"
        assert profile["updated_by"] == people["admin"].email

        landing = await admin.client.get("/", follow_redirects=False)
        assert landing.headers["location"] == "/incidents"
        assert 'id="setup-banner"' not in (await admin.client.get("/incidents")).text


async def test_the_page_keeps_what_it_does_not_show(
        app: Litestar, client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    admin = people["admin"]
    stored = {**PROFILE, "targets": {"gdpr/authority": 24}, "roles": ["controller"],
              "authorities": {"gdpr/authority": {**PROFILE["authorities"]["gdpr/authority"],
                                                 "language": "de"}}}
    assert (await client.put("/api/v1/organisation", json=stored,
                             headers=admin.headers)).status_code == 200
    async for session in signed_in(app, admin):
        page = html.unescape((await session.client.get("/setup")).text)
        assert 'value="Example GmbH"' in page and 'value="dpo@example.com"' in page
        saved = await session.post("/setup", _form(session, name="Example AG"))
        assert saved.status_code in (302, 303)
    profile = (await client.get("/api/v1/organisation", headers=admin.headers)).json()
    assert profile["name"] == "Example AG"
    assert profile["targets"] == {"gdpr/authority": 24.0} and profile["roles"] == ["controller"]
    assert profile["authorities"]["gdpr/authority"]["language"] == "de"
    assert profile["authorities"]["gdpr/authority"]["website"] == "https://www.datenschutz-berlin.de"


async def test_only_an_admin_sets_up_everyone_else_is_told_to_ask_one(
        app: Litestar, people: dict[str, Person], responder: Browser) -> None:
    page = await responder.client.get("/setup")
    assert page.status_code == 200
    assert "an admin must complete the organisation profile" in page.text
    assert "<form method=\"post\" action=\"/setup\"" not in page.text
    landing = await responder.client.get("/", follow_redirects=False)
    assert landing.headers["location"] == "/incidents"
    assert "an admin must complete the organisation profile" in (
        await responder.client.get("/incidents")).text
    refused = await responder.post("/setup", {"name": "Example GmbH"})
    assert refused.status_code == 403
