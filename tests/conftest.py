"""Shared fixtures: real databases (SQLite and a throwaway PostgreSQL), a moved clock, the app.

Every database test runs in two lanes, `sqlite` and `postgresql` (select one with
`-k sqlite` or `-k postgresql`); the PostgreSQL cluster starts only when a test of its
lane runs. Each test gets a fresh database: a copy of one migrated template, so
migrations run once per lane per worker.

Building the web app costs far more than a fresh database (every route's signature is
inspected, runbooks and message templates are read), so each worker builds one app per
lane and keeps it; the app's database is renewed under the same URL before every test
and its clock set back to START. Whatever a test changes is in that database, which
the next test never sees.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.app import create_app
from incident.containment.runbook_loader import load_catalogue
from incident.containment.runbooks import Catalogue
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory, upgrade
from incident.kernel.settings import REPOSITORY, Settings
from tests import pgcluster
from tests.factories import (
    START,
    Person,
    client_for,
    one_per_role,
)
from tests.sessions import Browser, signed_in
from tests.smtp_server import smtp_server_fixture, tls_certificate_fixture  # noqa: F401  (fixtures)

LANES = ["sqlite", "postgresql"]
SECRET_KEY = "test-secret-key"
TIMEZONE = "Europe/Berlin"


SLOW_FIRST = ("incident/kernel/test_api_fuzzing.py", "web/",
              "notifications/scheduler/test_restart.py")
"""The longest tests (the API fuzzed, minutes per lane; each browser module, its own server),
relative to this folder: started first, so the workers do not end waiting on one of them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent

    def slow(item: pytest.Item) -> bool:
        return (item.path.is_relative_to(here)
                and str(item.path.relative_to(here)).startswith(SLOW_FIRST))

    items.sort(key=lambda item: not slow(item))  # stable: each keeps its order otherwise


# --- the PostgreSQL cluster and the templates ----------------------------------------------------

@pytest.fixture(scope="session")
def pg() -> Iterator[pgcluster.Cluster | None]:
    """The throwaway cluster, or None where PostgreSQL's tools are missing."""
    if pgcluster.unavailable_reason():
        yield None
        return
    cluster = pgcluster.start()
    try:
        yield cluster
    finally:
        pgcluster.stop(cluster)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest) -> str | None:
    """A migrated database to copy from; the cluster is asked for only here, when needed."""
    pg: pgcluster.Cluster | None = request.getfixturevalue("pg")
    if pg is None:
        return None
    pg.psql("CREATE DATABASE breach_template")
    upgrade(pg.url("breach_template"))
    return "breach_template"


# --- one database URL, engine and app per lane and worker ----------------------------------------

@dataclass
class Lane:
    """What a worker keeps for one lane: the database URL and what is built on it."""

    name: str
    url: str
    renew: Callable[[], None]
    """Give `url` a fresh copy of the migrated template (after the test closed its pool)."""
    settings: Settings
    engine: AsyncEngine
    app: Litestar


@pytest.fixture(scope="session")
def shared_clock() -> FixedClock:
    """The clock every kept app reads; the `clock` fixture sets it back to START per test."""
    return FixedClock(START)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The repository's runbooks, read once (an app built without them reads the folder)."""
    return load_catalogue(REPOSITORY / "runbooks")


def _lane(name: str, url: str, renew: Callable[[], None], var_dir: Path, clock: FixedClock,
          catalogue: Catalogue) -> Lane:
    settings = Settings(database_url=url, secret_key=SECRET_KEY, var_dir=var_dir,
                        timezone=TIMEZONE)
    engine = create_engine(url)
    app = create_app(settings, clock=clock, engine=engine, catalogue=catalogue)
    return Lane(name, url, renew, settings, engine, app)


@pytest.fixture(scope="session")
def sqlite_lane(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
                shared_clock: FixedClock, catalogue: Catalogue) -> Lane:
    directory = tmp_path_factory.mktemp("sqlite-lane")
    path = directory / "breach.sqlite3"

    def renew() -> None:
        # WAL mode: a -wal file left beside the new copy would be replayed into it.
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        # A new file (not an overwrite): a connection someone forgot keeps the old one.
        handle, copy = tempfile.mkstemp(dir=directory, suffix=".sqlite3")
        os.close(handle)
        shutil.copyfile(sqlite_template, copy)
        os.replace(copy, path)

    return _lane("sqlite", f"sqlite+aiosqlite:///{path}", renew, directory / "var", shared_clock,
                 catalogue)


@pytest.fixture(scope="session")
def postgresql_lane(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                    shared_clock: FixedClock, catalogue: Catalogue) -> Lane:
    pg: pgcluster.Cluster | None = request.getfixturevalue("pg")
    template: str | None = request.getfixturevalue("pg_template")
    if pg is None or template is None:
        pytest.skip(f"PostgreSQL lane: {pgcluster.unavailable_reason()}")
    name = "breach_test"

    def renew() -> None:
        # FORCE: a connection a test or a killed process left open must not keep the old one.
        pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                f"CREATE DATABASE {name} TEMPLATE {template}")

    return _lane("postgresql", pg.url(name), renew,
                 tmp_path_factory.mktemp("postgresql-lane") / "var", shared_clock, catalogue)


@pytest.fixture(params=LANES)
def lane(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def this_lane(lane: str, request: pytest.FixtureRequest) -> Lane:
    """This test's lane, its database renewed: only the lane the test runs in is started."""
    kept: Lane = request.getfixturevalue(f"{lane}_lane")
    kept.renew()
    # What lives beside the database goes with it: the checkpoints and the key signing them.
    for folder in (kept.settings.checkpoint_log.parent, kept.settings.signing_key_path.parent):
        shutil.rmtree(folder, ignore_errors=True)
    return kept


@pytest.fixture
def database_url(this_lane: Lane) -> str:
    """A fresh, migrated database for this test (the same URL each time in a worker)."""
    return this_lane.url


@pytest.fixture
def clock(shared_clock: FixedClock) -> FixedClock:
    shared_clock.set(START)
    return shared_clock


@pytest.fixture
def settings(this_lane: Lane, tmp_path: Path) -> Settings:
    """The lane's settings, with this test's own var_dir."""
    return this_lane.settings.model_copy(update={"var_dir": tmp_path})


@pytest.fixture
async def engine(this_lane: Lane) -> AsyncIterator[AsyncEngine]:
    """The lane's engine; its pooled connections are closed after the test, before the next
    test's database replaces this one; and checks that each notification's delivery tallies
    still say what its deliveries say, whatever the test did."""
    yield this_lane.engine
    try:
        await tallies_agree(this_lane.engine)
    finally:
        await this_lane.engine.dispose()


async def tallies_agree(engine: AsyncEngine) -> None:
    """Every notification's tallies (`notifications/drafting/tallies.py`) equal its deliveries
    counted by state."""
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda c: inspect(c).has_table("delivery_tallies")):
            return
        tallied = {(n, s): c for n, s, c in (await conn.execute(text(
            "SELECT notification_id, state, count FROM delivery_tallies WHERE count <> 0"))).all()}
        counted = {(n, s): c for n, s, c in (await conn.execute(text(
            "SELECT notification_id, state, COUNT(*) FROM deliveries "
            "GROUP BY notification_id, state"))).all()}
    assert tallied == counted, f"delivery tallies {tallied} disagree with the deliveries {counted}"


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(this_lane: Lane, clock: FixedClock, engine: AsyncEngine) -> Litestar:
    """The lane's app, on this test's fresh database, its clock at START."""
    return this_lane.app


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Requests straight into the app, on the test's own event loop.

    (Litestar's AsyncTestClient runs the lifespan on another loop, whose pooled
    asyncpg connections would then be reused on this one.) Start-up checks are
    tested on their own, against a real server process.
    """
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def people(engine: AsyncEngine, clock: FixedClock) -> dict[str, Person]:
    """One person per role, keyed by role."""
    return await one_per_role(engine, clock)


# --- signed-in page sessions (HTTP, in-process): one per role that works the pages ---------------

@pytest.fixture
async def responder(app: Litestar, people: dict[str, Person]) -> AsyncIterator[Browser]:
    """A responder signed in to the pages, with the session's CSRF token at hand."""
    async for browser in signed_in(app, people["responder"]):
        yield browser


@pytest.fixture
async def approver(app: Litestar, people: dict[str, Person]) -> AsyncIterator[Browser]:
    """An approver signed in to the pages."""
    async for browser in signed_in(app, people["approver"]):
        yield browser


@pytest.fixture
async def auditor(app: Litestar, people: dict[str, Person]) -> AsyncIterator[Browser]:
    """An auditor signed in to the pages."""
    async for browser in signed_in(app, people["auditor"]):
        yield browser
