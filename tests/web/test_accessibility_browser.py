"""Every page, as axe-core and a phone see it: no serious or critical violations, nothing wider
than the viewport, at a desktop's 1280 px and a phone's 390 px; the main navigation reachable
by keyboard at both. The checks run in Chromium against a real `breach serve`.

One incident carries what the pages show: an organisation profile, three people affected, a
notice to them approved and sent (deliveries, the Mailbox) and a report to the authority in
draft; a second one, 80 hours old, has overdue duties. The admin, who may do everything and so
sees every link and every form, signs in once; each page is checked with every disclosure
(<details>) opened, so the forms behind them are checked too. A page added to the app belongs
in the test's list.

SQLite only: the layout and the markup depend on the pages, not on the database.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from playwright.sync_api import Page, ViewportSize, expect

from incident.kernel.settings import REPOSITORY
from tests.factories import PROFILE, Person
from tests.web.chromium import (
    Server,
    accessibility_violations,
    incident_aware_hours_ago,
    sign_in,
    wider_than_viewport,
)

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
PEOPLE = ("external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"
          "a-1,anna@example.com,Anna Nowak,en,DE,,crm,contact;financial,,\n"
          "a-2,bernd.mueller-lange.customer-relations@example.com,Bernd Müller-Lange,en,DE,,crm,"
          "contact,,\n"
          "a-3,,Carla Ruiz,en,DE,,crm,contact,,\n")
"""Three people in Germany who read English: one with a long address, one with none."""


def notice_sent(server: Server, staff: dict[str, Person], reference: str) -> tuple[int, int]:
    """The people affected told (drafted, approved, sent) and the authority's report drafted:
    the ids of the notice and of the report."""
    with server.api(staff["admin"]) as api:
        assert api.put("/api/v1/organisation", json=PROFILE).status_code == 200
        assert api.put("/api/v1/systems/crm", json={"name": "CRM"}).status_code == 200
        imported = api.post("/api/v1/subjects/import", content=PEOPLE.encode(),
                            headers={"content-type": "text/csv"})
        assert imported.json()["imported"] == 3, imported.text
    base = f"/api/v1/incidents/{reference}/notifications"
    with server.api(staff["responder"]) as api:
        assert api.put(f"/api/v1/incidents/{reference}/scope", json={}).status_code == 200
        assert api.post(f"/api/v1/incidents/{reference}/affected").status_code == 201
        assert api.get(f"/api/v1/incidents/{reference}/obligations").status_code == 200
        drafted = api.post(base, json={"obligation": "gdpr/data-subjects"})
        assert drafted.status_code == 201, drafted.text
        notice = drafted.json()
        report = api.post(base, json={"obligation": "gdpr/authority"})
        assert report.status_code == 201, report.text
    with server.api(staff["approver"]) as api:
        approved = api.post(f"{base}/{notice['id']}/approve",
                            json={"content_hash": notice["content_hash"]})
        assert approved.status_code == 200, approved.text
    with server.api(staff["responder"]) as api:
        sent = api.post(f"{base}/{notice['id']}/send", json={})
        assert sent.status_code == 202, sent.text
        # The server's own ticker delivers into the mail capture; wait until it has.
        deadline = time.monotonic() + 30
        while api.get(f"{base}/{notice['id']}").json()["status"] != "done":
            assert time.monotonic() < deadline, "the notice was not delivered"
            time.sleep(0.2)
    return int(notice["id"]), int(report.json()["id"])


def pack_summary(server: Server, person: Person, reference: str) -> str:
    """The evidence pack's summary page (its summary.pdf is printed from it), filled in from
    the pack's own files."""
    with server.api(person) as api:
        pack = api.get(f"/api/v1/incidents/{reference}/evidence-pack")
    assert pack.status_code == 200, pack.text
    files = zipfile.ZipFile(io.BytesIO(pack.content))
    names = files.namelist()

    def read(name: str) -> Any:
        return json.loads(files.read(next(n for n in names if n.endswith(name))))

    manifest = read("manifest.json")
    notifications = [read(n) for n in names if n.endswith("/notification.json")]
    values = {
        "incident": read("incident.json"), "obligations": read("obligations.json"),
        "evidence": read("evidence.json"), "keys": read("public-keys.json"),
        "events": len(files.read(next(n for n in names if n.endswith("timeline.jsonl")))
                      .splitlines()),
        "checkpoint": None, "signed_seq": None, "made_at": manifest["made_at"],
        "made_by": manifest["made_by"], "personal": manifest["personal_data"],
        "notifications": [{**n, "versions": len(n["versions"]), "deliveries": n["recipients"],
                           "messages_kept": n["recipients"], "bounces": 0}
                          for n in notifications]}
    environment = SandboxedEnvironment(loader=FileSystemLoader(REPOSITORY / "templates" / "web"),
                                       autoescape=True, undefined=StrictUndefined)
    return environment.get_template("pack_summary.html").render(values)


def scrolls_sideways(page: Page) -> list[str]:
    """Elements whose content scrolls sideways inside them (a table in a scroll box), as
    tag#id.class."""
    found: list[str] = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)
                     && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                  + [...e.classList].map(c => '.' + c).join(''))""")
    return found


def tables_past_the_column(page: Page) -> list[str]:
    """Tables reaching past the right edge of the page's text column (on a desktop the column
    is narrower than the window, so such a table may still be inside the viewport)."""
    found: list[str] = page.evaluate("""() => {
        const main = document.querySelector('main');
        if (!main) { return []; }
        const edge = main.getBoundingClientRect().right
            - parseFloat(getComputedStyle(main).paddingRight);
        return [...main.querySelectorAll('table')]
            .filter(t => t.getBoundingClientRect().right > edge + 1)
            .map(t => 'table' + (t.id ? '#' + t.id : '')
                      + [...t.classList].map(c => '.' + c).join(''));
    }""")
    return found


def problems(page: Page) -> list[str]:
    """What axe-core finds serious, what reaches past the viewport or the text column, what
    scrolls sideways."""
    return (accessibility_violations(page) + wider_than_viewport(page)
            + [f"past the column: {e}" for e in tables_past_the_column(page)]
            + [f"scrolls sideways: {e}" for e in scrolls_sideways(page)])


def open_every_disclosure(page: Page) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def nav_links_reached_by_tab(page: Page) -> list[str]:
    """The main navigation's links, in the order Tab reaches them from the top of the page;
    where the navigation sits behind its menu button, the button is pressed on the way."""
    page.locator("body").focus()
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused: dict[str, Any] = page.evaluate("""() => {
            const e = document.activeElement;
            return {nav: Boolean(e && e.closest('nav[aria-label="Main"]')),
                    text: e ? e.textContent.trim() : '',
                    menu: Boolean(e && e.matches('[aria-controls="main-nav"]')),
                    expanded: e ? e.getAttribute('aria-expanded') : null,
                    main: Boolean(e && e.closest('main'))};
        }""")
        if focused["menu"] and focused["expanded"] == "false":
            page.keyboard.press("Enter")
        elif focused["nav"]:
            reached.append(focused["text"])
        elif focused["main"]:
            break
    return reached


def test_every_page_is_accessible_and_fits_a_desktop_and_a_phone(
        page: Page, server: Server, staff: dict[str, Person]) -> None:
    started = time.monotonic()
    admin = staff["admin"]
    reference, _ = incident_aware_hours_ago(server, staff["responder"], 5,
                                            "Customer export e-mailed to the wrong recipient")
    notice, report = notice_sent(server, staff, reference)
    # Aware 80 hours ago: GDPR's 72 hours have run out, the widest the obligations table gets
    # (overdue countdowns, assumed due times, passed targets).
    overdue, _ = incident_aware_hours_ago(server, staff["responder"], 80,
                                          "Backup tape lost in transit")
    incident = f"/incidents/{reference}"
    failed_loads: list[str] = []
    page.on("response", lambda r: failed_loads.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/INC-0000-404") else None)
    found: dict[str, list[str]] = {}

    # Signed out: the sign-in page.
    page.goto("/login")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.reload()
        found[f"/login at {viewport['width']}"] = problems(page)

    sign_in(page, admin, "/incidents")
    page.goto("/mailbox")
    message = page.locator("table.mailbox tbody a").first.get_attribute("href")
    assert message and re.fullmatch(r"/mailbox/\d+", message), message
    pages = ["/incidents", "/incidents/new", incident, f"/incidents/{overdue}",
             f"{incident}/edit", f"{incident}/affected", f"{incident}/assessment",
             f"{incident}/notifications", f"{incident}/notifications/{notice}",
             f"{incident}/notifications/{notice}/deliveries",
             f"{incident}/notifications/{notice}/public-communication",
             f"{incident}/notifications/{report}", "/dashboard", "/reminders", "/register",
             "/compliance", "/inventory", "/inventory/systems", "/inventory/systems/crm",
             "/mailbox", message, "/setup", "/users", "/account", "/account/password",
             "/incidents/INC-0000-404"]
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for path in pages:
            page.goto(path)
            if path.removeprefix("/incidents/") in (reference, overdue):
                # The obligations section is drawn from the API once the page has loaded.
                expect(page.locator("#obligations tbody.obligation").first).to_be_visible()
            open_every_disclosure(page)
            found[f"{path} at {viewport['width']}"] = problems(page)

    # The evidence pack's summary, as printed into its PDF.
    page.goto("about:blank")  # a file of its own: no page's policy applies
    page.set_content(pack_summary(server, admin, reference))
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        found[f"pack summary at {viewport['width']}"] = problems(page)
    failing = {where: problems for where, problems in found.items() if problems}
    assert not failing, json.dumps(failing, indent=1)
    assert failed_loads == []  # no page asks for anything missing (a favicon, a style sheet)

    # Tab reaches every link of the main navigation, at both widths; on the phone through
    # the Menu button, which Enter opens.
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        page.goto("/incidents")
        nav = page.get_by_role("navigation", name="Main")
        links = page.locator('nav[aria-label="Main"] a').all_text_contents()
        assert {"Incidents", "New incident", "Reminders", "Register", "Mailbox"} <= set(links)
        assert nav_links_reached_by_tab(page) == links, viewport
        for link in nav.get_by_role("link").all():
            expect(link).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert problems(page) == []
    # Escape, pressed in the open menu, closes it; the focus goes back to the Menu button.
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Menu")).to_be_focused()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Reminders")).to_be_hidden()
    print(f"every page at two widths: {time.monotonic() - started:.1f} s")
