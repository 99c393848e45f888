"""The notification pages and the Mailbox, over HTTP with a signed-in browser's cookie and CSRF
token: the form flows, what each refusal looks like, the sandboxed documents' own policy,
escaping everywhere, and who may read what."""

from __future__ import annotations

import re

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import FixedClock
from notifications.drafting.pages import SANDBOX_POLICY, edited_fields
from tests.factories import REPORT_TEXT, Person, dispatcher, make_person
from tests.notifications.drafting.samples import DESCRIPTION, affected_incident, escaped
from tests.sessions import Browser, signed_in

HIDDEN = re.compile(r'name="(version|content_hash)" value="([^"]+)"')
MAILBOX_ROW = re.compile(
    r'<tr id="message-(\d+)">\s*<td>.*?</td>\s*<td class="recipient"><bdi>([^<]+)</bdi></td>', re.DOTALL)
FRAME_POLICY = SANDBOX_POLICY + "; frame-ancestors 'self'"


def hidden(page: httpx.Response, name: str) -> str:
    values = {m.group(1): m.group(2) for m in HIDDEN.finditer(page.text)}
    return values[name]


def sandboxed(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers.get_list("content-security-policy") == [FRAME_POLICY]
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"


async def page(browser: Browser, path: str, status: int = 200) -> httpx.Response:
    response = await browser.client.get(path)
    assert response.status_code == status, response.text
    return response


async def test_a_notice_is_drafted_edited_approved_sent_and_logged_through_the_pages(
        app: Litestar, client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, responder: Browser, approver: Browser, auditor: Browser) -> None:
    reference = await affected_incident(client, people)
    listing = await page(responder, f"/incidents/{reference}/notifications")
    escaped(listing.text)
    assert 'value="gdpr/data-subjects"' in listing.text and 'value="gdpr/authority"' in listing.text
    assert "Nothing drafted yet." in listing.text
    assert 'name="obligation"' not in (await page(auditor, f"/incidents/{reference}/notifications")).text

    unknown = await responder.sent_back(f"/incidents/{reference}/notifications",
                                        {"obligation": "gdpr/nothing"},
                                        to=f"/incidents/{reference}/notifications#notice")
    assert "has no obligation" in unknown.text
    created = await responder.post(f"/incidents/{reference}/notifications",
                                   {"obligation": "gdpr/data-subjects"})
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    assert re.fullmatch(rf"/incidents/{reference}/notifications/\d+", url)
    again = await responder.sent_back(f"/incidents/{reference}/notifications",
                                      {"obligation": "gdpr/data-subjects"})
    assert "is still a draft: edit it" in again.text

    draft = await page(responder, url)
    escaped(draft.text)
    assert hidden(draft, "version") == "1"
    assert 'name="content_hash"' not in draft.text  # responders do not approve
    assert '<iframe sandbox src="' + url + '/preview.html?locale=en"' in draft.text
    assert 'id="preview-text">' in draft.text

    measures = "We locked the laptop remotely.\r\nWe changed every password it held."
    saved = await responder.post(url, {"version": "1", "description": DESCRIPTION,
                                       "consequences": "Phishing e-mails.", "measures": measures})
    assert saved.status_code == 303, saved.text
    draft = await page(responder, url)
    assert hidden(draft, "version") == "2"
    shown = (await client.get(f"/api/v1{url}", headers=people["responder"].headers)).json()
    assert shown["fields"]["measures"] == measures.replace("\r\n", "\n")
    assert shown["fields"]["description"] == DESCRIPTION

    stale = await responder.sent_back(url, {"version": "1", "consequences": "Lost my edit?"},
                                      to=f"{url}?lang=en#fields")
    assert "someone saved this draft after you opened it" in stale.text
    assert "you read version 1, it is now version 2" in stale.text
    assert 'id="unsaved"' in stale.text and "Lost my edit?" in stale.text
    assert hidden(stale, "version") == "2"

    unapproved = await responder.sent_back(f"{url}/send")
    assert "only an approved draft, unchanged since its approval, is sent" in unapproved.text

    # The approver who edits becomes an author, and is refused with the server's message.
    edited = await approver.post(url, {"version": "2", "consequences": "Phishing e-mails using your name."})
    assert edited.status_code == 303
    own_page = await page(approver, url)
    own = await approver.sent_back(f"{url}/approve",
                                   {"content_hash": hidden(own_page, "content_hash")},
                                   to=f"{url}#approval")
    assert "You wrote or edited this draft: another approver must approve it." in own.text
    escaped(own.text)

    second = await make_person(engine, clock, "approver")
    async for other in signed_in(app, second):
        fresh = await page(other, url)
        approved = await other.post(f"{url}/approve", {"content_hash": hidden(fresh, "content_hash")})
        assert approved.status_code == 303, approved.text
        assert "Approved for hash" in (await page(other, url)).text

    languages = await page(responder, url)
    assert 'id="fallback"' in languages.text and "<strong>missing</strong>" in languages.text
    refused = await responder.sent_back(f"{url}/send", to=f"{url}#approval")
    assert "Text in pl: 1 recipient read it, and it has no" in refused.text
    sent = await responder.post(f"{url}/send", {"fallback": "en"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("#progress")
    sending = await page(responder, url)
    assert 'data-status="sending"' in sending.text and 'id="progress-bar" value="1" max="3"' in sending.text
    assert ">Pause</button>" in sending.text and f'href="{url}/deliveries"' in sending.text

    assert await dispatcher(engine, clock).run_once() == 2
    done = await page(responder, url)
    assert 'data-status="done"' in done.text and 'id="progress-bar" value="3" max="3"' in done.text
    assert ">Pause</button>" not in done.text
    listing = await page(responder, f"/incidents/{reference}/notifications")
    assert "1 failed" in listing.text and "2 sent" in listing.text
    assert f'<a href="{url}">Notice #' in listing.text and 'value="gdpr/data-subjects"' not in listing.text

    log = await page(responder, f"{url}/deliveries")
    escaped(log.text)
    assert "anna@example.com" in log.text and "no e-mail address on record" in log.text
    assert "kept by the embedded mail capture" in log.text
    assert re.search(r"&lt;breachdesk\.\d+\.\d+@[^&]+&gt;", log.text)
    assert (await page(responder, f"{url}/deliveries?after=999999")).text.count("<tbody") == 0
    await page(auditor, f"{url}/deliveries", 403)

    mailbox = await page(responder, "/mailbox")
    rows = dict(MAILBOX_ROW.findall(mailbox.text))
    assert sorted(rows.values()) == ["anna@example.com", "bernd@example.com"]
    assert list(rows) == sorted(rows, key=int, reverse=True)  # newest first
    bernd = next(ident for ident, to in rows.items() if to == "bernd@example.com")
    message = await page(responder, f"/mailbox/{bernd}")
    escaped(message.text)
    assert f'<iframe sandbox src="/mailbox/{bernd}/body.html"' in message.text
    assert "Message-ID" in message.text and 'id="message-text">' in message.text
    body = await responder.client.get(f"/mailbox/{bernd}/body.html")
    sandboxed(body)
    escaped(body.text)
    assert "Bernd Müller" in body.text
    for path in ("/mailbox", f"/mailbox/{bernd}", f"/mailbox/{bernd}/body.html"):
        await page(auditor, path, 403)
    await page(responder, "/mailbox/999999", 404)


async def test_the_preview_is_a_sandboxed_document_in_the_chosen_language(
        client: httpx.AsyncClient, people: dict[str, Person], responder: Browser,
        auditor: Browser) -> None:
    reference = await affected_incident(client, people)
    created = await responder.post(f"/incidents/{reference}/notifications",
                                   {"obligation": "gdpr/data-subjects"})
    url = created.headers["location"]
    german = await auditor.client.get(f"{url}/preview.html", params={"locale": "de"})
    sandboxed(german)
    escaped(german.text)
    assert '<html lang="de">' in german.text
    page_de = await page(auditor, f"{url}?locale=de")
    assert '<option value="de" selected>' in page_de.text
    assert f'src="{url}/preview.html?locale=de"' in page_de.text
    escaped(page_de.text)
    assert 'id="draft-form"' not in page_de.text  # auditors read, never edit
    swahili = await page(auditor, f"{url}?locale=sw")
    assert "No template in sw: shown in en" in swahili.text
    bad = await auditor.client.get(f"{url}/preview.html", params={"locale": "<x>"})
    assert bad.status_code == 400 and "content-security-policy" in bad.headers
    assert "sandbox" not in bad.headers["content-security-policy"]
    pages = await page(auditor, "/incidents")
    assert "sandbox" not in pages.headers["content-security-policy"]


async def test_a_report_is_paused_and_resumed_from_its_page(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine,
        clock: FixedClock, responder: Browser, approver: Browser) -> None:
    reference = await affected_incident(client, people)
    created = await responder.post(f"/incidents/{reference}/notifications",
                                   {"obligation": "gdpr/authority"})
    url = created.headers["location"]
    report = await page(responder, url)
    assert 'id="field-measures_proposed"' in report.text
    unchanged = await responder.post(url, {"version": "1"})
    assert unchanged.status_code == 303 and hidden(await page(responder, url), "version") == "1"
    refused = await approver.post(f"{url}/approve", {"content_hash": hidden(
        await page(approver, url), "content_hash")})
    assert refused.status_code == 303
    refused = await approver.client.get(refused.headers["location"])
    assert "is empty: the likely consequences" in refused.text
    assert (await responder.post(url, {"version": "1", **REPORT_TEXT})).status_code == 303
    assert (await approver.post(f"{url}/approve", {"content_hash": hidden(
        await page(approver, url), "content_hash")})).status_code == 303
    resumed = await responder.post(f"{url}/resume")  # not paused: refused, sent back
    assert resumed.status_code == 303 and resumed.headers["location"] == f"{url}#progress"
    assert (await responder.post(f"{url}/send")).status_code == 303
    assert (await responder.post(f"{url}/pause")).status_code == 303
    paused = await page(responder, url)
    assert 'data-status="paused"' in paused.text and ">Resume</button>" in paused.text
    refused = await responder.sent_back(f"{url}/pause")
    assert "is paused, not sending" in refused.text
    assert await dispatcher(engine, clock).run_once() == 0
    assert (await responder.post(f"{url}/resume")).status_code == 303
    assert await dispatcher(engine, clock).run_once() == 1
    assert 'data-status="done"' in (await page(responder, url)).text
    listing = await page(responder, f"/incidents/{reference}/notifications")
    assert ">Draft a supplement</button>" in listing.text
    supplement = await responder.post(f"/incidents/{reference}/notifications",
                                      {"obligation": "gdpr/authority"})
    assert supplement.status_code == 303
    assert "(supplement 1)" in (await page(responder, supplement.headers["location"])).text


def test_only_changed_fields_are_saved_with_unix_line_ends() -> None:
    read = {"description": "Stolen.", "measures": "Locked.\nWiped."}
    form = {"description": "Stolen.", "measures": "Locked.\r\nWiped.", "consequences": "Phishing.",
            "version": "2", "subject": "not a field"}
    allowed = ("description", "consequences", "measures")
    assert edited_fields(form, read, allowed) == {"consequences": "Phishing."}
    assert edited_fields({"measures": "Locked."}, read, allowed) == {"measures": "Locked."}
