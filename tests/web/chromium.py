"""What the browser tests share: the `breach serve` process they drive, the console they watch,
and the few steps every page test takes (sign in, create an incident, look for unlabelled
controls). A plain module: test modules import from here, never from one another."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.factories import Person

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
BREACH = str(Path(sys.executable).with_name("breach"))
SERVER_ZONE = "Europe/Berlin"
BROWSER_ZONE = "America/New_York"
"""The browser's own zone differs from the server's, so a test notices if the form's times
were read in the browser's zone instead of BREACH_TIMEZONE."""


@dataclass
class Server:
    """A running `breach serve`: its address, environment, zone, database and log."""

    url: str
    env: dict[str, str]
    zone: ZoneInfo
    database_url: str
    log: Path

    def breach(self, *args: str) -> str:
        """Run `breach …` against the server's database; return its stdout."""
        done = subprocess.run([BREACH, *args], env=self.env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def api(self, person: Person) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=person.headers, timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Probe /ready until it answers 200; between probes, wait on the process itself, so
    a server that exits is reported at once rather than after the deadline."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"`breach serve` did not become ready:\n{log.read_text()}")
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"`breach serve` exited with {process.returncode}:\n{log.read_text()}")


@contextmanager
def serving(directory: Path, sqlite_template: Path,
            settings: Callable[[str], dict[str, str]] = lambda url: {},
            before_start: Callable[[dict[str, str]], None] | None = None) -> Iterator[Server]:
    """`breach serve` on a copy of the migrated SQLite template in `directory`, with the
    settings every browser test uses and those `settings(url)` adds; `before_start(env)`
    may write to the database first. On the way out the server is stopped and must not
    have logged an error."""
    database = directory / "breach.sqlite3"
    shutil.copy(sqlite_template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    # One sending process: the pages send a few messages, and each module starts a server.
    env.update(BREACH_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
               BREACH_VAR_DIR=str(directory / "var"), BREACH_SECRET_KEY="browser-test-secret",
               BREACH_TIMEZONE=SERVER_ZONE, BREACH_OUTBOX_PROCESSES="1", **settings(url))
    if before_start is not None:
        before_start(env)
    log = directory / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([BREACH, "serve", "--port", str(port)], env=env,
                                   cwd=directory, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_until_ready(process, url, log)
        yield Server(url=url, env=env, zone=ZoneInfo(SERVER_ZONE),
                     database_url=env["BREACH_DATABASE_URL"], log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    errors = [line for line in log.read_text().splitlines() if '"level": "error"' in line]
    assert not errors, "the server logged errors:\n" + "\n".join(errors)


@dataclass
class Console:
    """What the page reported: console errors and uncaught exceptions (CSP violations land here)."""

    errors: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico on its own, whenever it gets round to it; no page does.
        if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"):
            self.errors.append(message.text)

    def unexpected(self) -> list[str]:
        """Errors other than Chromium's note on an HTTP error status some tests provoke."""
        return [e for e in self.errors if not e.startswith("Failed to load resource")]


def shown(at: datetime, zone: ZoneInfo) -> str:
    """How the pages show an instant (to the minute, in the organisation's zone)."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def sign_in(page: Page, person: Person, path: str) -> None:
    """Sign in through the login form and land on `path`."""
    page.goto(f"/login?next={path}")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def sent_back_to(page: Page, target: str) -> None:
    """A refused form's answer was a redirect to its page: the address bar shows `target` (the
    page, its query and its #anchor), not the address the form posted to."""
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def reloads_afresh(page: Page, gone: str) -> None:
    """Reloading the page a refused form was sent back to asks for the page again (a GET: the
    form is not posted twice), and the messages (`gone`, a selector) were shown once."""
    with page.expect_request(lambda r: r.is_navigation_request()) as reloaded:
        page.reload()
    assert reloaded.value.method == "GET"
    expect(page.locator(gone)).to_have_count(0)


def incident_aware_hours_ago(server: Server, person: Person, hours: float,
                             title: str) -> tuple[str, datetime]:
    """A lost-device incident whose team became aware `hours` ago (the server's clock is real)."""
    aware = datetime.now(UTC) - timedelta(hours=hours)
    body = {"title": title, "kind": "lost_device", "breach_types": ["confidentiality"],
            "data_categories": ["contact"], "detected_at": (aware - timedelta(hours=1)).isoformat(),
            "aware_at": aware.isoformat()}
    with server.api(person) as api:
        created = api.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["reference"]), aware


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls that no <label> names."""
    found: list[str] = page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.filter(e => !e.labels || e.labels.length === 0).map(e => e.outerHTML)")
    return found


AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
"""axe-core, installed from npm by the README's test command (`npm ci --prefix tests/web`)."""
SERIOUS = ("serious", "critical")


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each
    (rule, what it says, the first offending elements). Evaluated through the DevTools
    protocol, so the page's Content-Security-Policy stays as strict as users get it."""
    if not AXE.exists():
        raise RuntimeError(f"axe-core is missing at {AXE}: run `npm ci --prefix tests/web`")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
            for v in results["violations"] if v["impact"] in SERIOUS]


def wider_than_viewport(page: Page) -> list[str]:
    """Visible elements that reach past the right edge of the viewport (a page that scrolls
    sideways on a phone), outermost first, as tag#id.class."""
    found: list[str] = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.body.querySelectorAll('*')].filter(e => {
            const box = e.getBoundingClientRect();
            return box.width > 0 && box.right > width + 1
                && getComputedStyle(e).visibility !== 'hidden';
        });
        return wide.filter(e => !wide.includes(e.parentElement)).map(e =>
            e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + [...e.classList].map(c => '.' + c).join(''));
    }""")
    return found


def form_values(page: Page, selector: str) -> dict[str, Any]:
    """The named controls of a form, as the browser would submit them."""
    values: dict[str, Any] = page.eval_on_selector(
        selector, "f => Object.fromEntries(new FormData(f).entries())")
    return values
