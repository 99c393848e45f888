"""A real `breach serve` process on a copy of the migrated SQLite template, and one Chromium.

Both are module-scoped: starting a server and a browser per test would make the
suite slow. Each test gets its own browser context (cookies, storage), so tests
do not share a session. The server runs on the system clock, so tests choose
times relative to now.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine
from tests.factories import Person, one_per_role
from tests.web.chromium import (
    BROWSER_ZONE,
    CHROMIUM,
    CHROMIUM_ARGS,
    Console,
    Server,
    serving,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives Chromium: mark it `browser`, skip it where the
    machine has no Chromium (CI installs Debian's), and keep each module on one worker."""
    missing = pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason=f"browser tests need Chromium at {CHROMIUM}")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(missing)
            # One worker runs a module's tests, so its server and browser start once.
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.fixture(scope="module", params=["sqlite"])
def lane(request: pytest.FixtureRequest) -> str:
    """The SQLite lane only (the pages call the use cases both lanes test through the API);
    the parameter puts `sqlite` in the test ids, so `-k sqlite` selects these tests."""
    return str(request.param)


@pytest.fixture(scope="module")
def server(lane: str, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    with serving(tmp_path_factory.mktemp("server"), sqlite_template) as running:
        yield running


@pytest.fixture(scope="module")
def staff(server: Server) -> dict[str, Person]:
    """One person per role who has chosen a password, with an API token, keyed by role."""

    async def create() -> dict[str, Person]:
        engine = create_engine(server.database_url)
        try:
            return await one_per_role(engine, FixedClock(datetime.now(UTC)))
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop running in this thread; use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, create()).result()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=server.url, timezone_id=BROWSER_ZONE, locale="en-GB",
                              viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(5_000)
    yield ctx
    ctx.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(context: BrowserContext, console: Console) -> Iterator[Page]:
    page = context.new_page()
    page.on("console", console.record)
    page.on("pageerror", lambda error: console.errors.append(f"page error: {error}"))
    yield page
    assert not console.unexpected(), console.errors
