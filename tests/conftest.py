"""Shared fixtures: real databases (SQLite and a throwaway PostgreSQL), a moved clock, the app.

Every database test runs in two lanes, `sqlite` and `postgresql` (select one
with `-k sqlite` or `-k postgresql`). Each test gets a fresh database copied
from one migrated template, so migrations run once per lane per worker.
"""

from __future__ import annotations

import functools
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts import service as accounts
from incident.accounts.models import User
from incident.app import create_app
from incident.kernel import auth
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory, upgrade
from incident.kernel.settings import Settings
from tests import pgcluster

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LANES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg() -> Iterator[pgcluster.Cluster | None]:
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
def pg_template(pg: pgcluster.Cluster | None) -> str | None:
    if pg is None:
        return None
    pg.psql("CREATE DATABASE breach_template")
    upgrade(pg.url("breach_template"))
    return "breach_template"


@pytest.fixture(params=LANES)
def lane(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(lane: str, tmp_path: Path, sqlite_template: Path,
                 pg: pgcluster.Cluster | None, pg_template: str | None) -> Iterator[str]:
    if lane == "sqlite":
        path = tmp_path / "breach.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if pg is None or pg_template is None:
        pytest.skip(f"PostgreSQL lane: {pgcluster.unavailable_reason()}")
    name = f"t_{uuid.uuid4().hex[:16]}"
    pg.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield pg.url(name)
    pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key", var_dir=tmp_path,
                    timezone="Europe/Berlin")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings, clock: FixedClock, engine: AsyncEngine) -> Litestar:
    return create_app(settings, clock=clock, engine=engine)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Requests straight into the app, on the test's own event loop.

    (Litestar's AsyncTestClient runs the lifespan on another loop, whose pooled
    asyncpg connections would then be reused on this one.) Start-up checks are
    tested on their own, against a real server process.
    """
    async with client_for(app) as client:
        yield client


def client_for(app: Litestar) -> httpx.AsyncClient:
    """An HTTP client that calls `app` in-process."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@dataclass
class Person:
    email: str
    role: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


CONSOLE = auth.cli_actor("tests")


PASSWORD = "correct horse battery"


@functools.cache
def password_hash(password: str) -> str:
    """argon2 is slow by design; hash each test password once per session."""
    return auth.hash_password(password)


async def make_person(engine: AsyncEngine, clock: FixedClock, role: str,
                      email: str | None = None, password: str = PASSWORD) -> Person:
    """A user who has already chosen their password, with an API token.

    Inserted directly (the sign-up path itself is tested in test_accounts.py).
    """
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    sessions = session_factory(engine)
    async with sessions() as db:
        db.add(User(email=email, role=role, password_hash=password_hash(password),
                    must_change_password=False, created_at=clock.now()))
        await db.commit()
    async with sessions() as db:
        _, token = await accounts.create_token(db, clock=clock, actor=CONSOLE, email=email,
                                               name="tests")
    return Person(email=email, role=role, password=password, token=token)


@pytest.fixture
async def people(engine: AsyncEngine, clock: FixedClock) -> dict[str, Person]:
    """One person per role, keyed by role."""
    return {role.value: await make_person(engine, clock, role.value) for role in auth.Role}


def incident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Stolen laptop with customer export",
        "kind": "lost_device",
        "breach_types": ["confidentiality"],
        "data_categories": ["contact", "financial"],
        "systems": ["crm"],
        "occurred_from": "2026-03-09T18:00:00Z",
        "detected_at": "2026-03-10T08:00:00Z",
        "aware_at": "2026-03-10T09:30:00Z",
        "estimated_subjects": 1200,
    }
    body.update(overrides)
    return body
