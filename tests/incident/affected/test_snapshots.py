"""Filling a snapshot against a brute-force computation in Python, on random inventories.

Hypothesis draws systems, people, holdings (with or without first/last seen),
and a scope (systems, window, categories, include and exclude lists); the
snapshot's rows, its digest and its counts must equal what a plain loop over the
same data decides. Each example runs through the use cases that set the scope and
compute the snapshot, on both database lanes.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from incident.affected import service as affected
from incident.affected.models import AffectedSubject
from incident.affected.schemas import AffectedScope
from incident.inventory import service as subjects
from incident.inventory.rules import CATEGORY_BITS, Format, categories_mask, category_names, epoch, overlaps
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle import service as incident_service
from incident.lifecycle.schemas import IncidentCreate
from tests import pgcluster
from tests.factories import CONSOLE, START

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)
SYSTEMS = ["crm", "shop", "hr"]
CATEGORIES = [c.value for c in DataCategory][:4]
COUNTRIES = [("PL", None), ("US", "US-CA"), ("US", None), ("DE", "DE-BY")]


@dataclass(frozen=True)
class Holding:
    person: int
    system: str
    categories: tuple[str, ...]
    first: int | None
    last: int | None


def day(n: int | None) -> datetime | None:
    return None if n is None else DAY0 + timedelta(days=n)


@st.composite
def holdings(draw: st.DrawFn) -> list[Holding]:
    found: dict[tuple[int, str], Holding] = {}
    for _ in range(draw(st.integers(0, 25))):
        person = draw(st.integers(0, 11))
        system = draw(st.sampled_from(SYSTEMS))
        first = draw(st.none() | st.integers(0, 30))
        last = draw(st.none() | st.integers(first or 0, 40))
        found[(person, system)] = Holding(person, system, tuple(draw(st.lists(
            st.sampled_from(CATEGORIES), max_size=3, unique=True))), first, last)
    return list(found.values())


@st.composite
def scopes(draw: st.DrawFn) -> AffectedScope:
    start = draw(st.none() | st.integers(0, 40))
    end = draw(st.none() | st.integers(start or 0, 45))
    people = st.lists(st.integers(0, 13).map(lambda n: f"p-{n}" if n % 2 else f"p{n}@example.com"),
                      max_size=4, unique=True)
    return AffectedScope(systems=draw(st.lists(st.sampled_from(SYSTEMS), max_size=2, unique=True)),
                 exposure_from=day(start), exposure_to=day(end),
                 data_categories=draw(st.lists(st.sampled_from(CATEGORIES), max_size=2,
                                               unique=True)),
                 include=draw(people), exclude=draw(people))


def csv_file(rows: list[Holding]) -> bytes:
    lines = ["external_id,email,locale,country,region,system,categories,first_seen,last_seen"]
    for h in rows:
        country, region = COUNTRIES[h.person % len(COUNTRIES)]
        first, last = day(h.first), day(h.last)
        lines.append(",".join([
            f"p-{h.person}", f"p{h.person}@example.com", "pl" if h.person % 3 else "",
            country, region or "", h.system, ";".join(h.categories),
            first.date().isoformat() if first else "",
            # last_seen as an instant, so the window's edges are exercised to the second.
            last.isoformat() if last else ""]))
    return ("\n".join(lines) + "\n").encode()


def brute_force(rows: list[Holding], scope: AffectedScope) -> dict[str, tuple[str, str, int]]:
    """The same rules as the README states them, one person at a time."""
    system_masks = {"crm": 1, "shop": 2, "hr": 4}
    explicit = categories_mask(c.value for c in scope.data_categories)
    mask = explicit or sum(CATEGORY_BITS.values())
    window_from, window_to = epoch(scope.exposure_from), epoch(scope.exposure_to)

    def held(h: Holding) -> int:
        return categories_mask(h.categories) or system_masks[h.system]

    def first_seen(h: Holding) -> int | None:
        return epoch(day(h.first))

    def last_seen(h: Holding) -> int | None:
        return epoch(day(h.last))

    def in_systems(h: Holding) -> bool:
        return not scope.systems or h.system in scope.systems

    def who(entries: list[str]) -> set[int]:
        found = set()
        for entry in entries:
            for n in range(12):
                if entry in (f"p-{n}", f"p{n}@example.com"):
                    found.add(n)
        return found

    people = {h.person for h in rows}
    excluded, included = who(scope.exclude) & people, who(scope.include) & people
    result: dict[str, tuple[str, str, int]] = {}
    for person in sorted(people):
        if person in excluded:
            continue
        mine = [h for h in rows if h.person == person and in_systems(h)]
        exposed = 0
        for h in mine:
            if held(h) & mask and overlaps(first_seen(h), last_seen(h), window_from, window_to):
                exposed |= held(h) & mask
        if not exposed and person in included:
            exposed = 0
            for h in mine:
                exposed |= held(h) & mask
            exposed = exposed or explicit
        elif not exposed:
            continue
        country, region = COUNTRIES[person % len(COUNTRIES)]
        result[f"p-{person}"] = (region or country, "pl" if person % 3 else "en", exposed)
    return result


async def scenario(url: str, rows: list[Holding], scope: AffectedScope) -> None:
    clock = FixedClock(START)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as db:
            for key, mask in (("crm", ["contact"]), ("shop", ["identity"]), ("hr", ["official_id"])):
                await subjects.save_system(db, clock=clock, actor=CONSOLE, key=key, name=key,
                                           data_categories=mask)
        async with sessions() as db:
            if rows:
                await subjects.import_subjects(db, clock=clock, actor=CONSOLE, fmt=Format.CSV,
                                               stream=io.BytesIO(csv_file(rows)), strict=True)
        async with sessions() as db:
            incident = await incident_service.create_incident(
                db, clock=clock, actor=CONSOLE,
                rules=incident_service.Rules(zone=ZoneInfo("UTC"), skew=timedelta(minutes=5)),
                data=IncidentCreate(title="t", kind="other", detected_at=START, aware_at=START))
        async with sessions() as db:
            await affected.set_scope(db, clock=clock, actor=CONSOLE, key=incident.id, scope=scope)
        async with sessions() as db:
            snapshot, _ = await affected.compute_affected(db, clock=clock, actor=CONSOLE,
                                                          key=incident.id, default_locale="en")
        async with sessions() as db:
            found = (await db.exec(select(AffectedSubject).where(
                AffectedSubject.snapshot_id == snapshot.id))).all()
        got = {a.external_id: (a.jurisdiction, a.locale, a.categories) for a in found}
        expected = brute_force(rows, scope)
        assert got == expected, (
            {k: (v[0], v[1], category_names(v[2])) for k, v in got.items()},
            {k: (v[0], v[1], category_names(v[2])) for k, v in expected.items()})
        assert snapshot.total == len(expected)
        lines = "".join(f"{external_id}\t{where}\t{locale}\t{';'.join(category_names(mask))}\n"
                        for external_id, (where, locale, mask) in sorted(expected.items()))
        assert snapshot.digest == hashlib.sha256(lines.encode()).hexdigest()
        people = expected.values()
        assert snapshot.summary["by_jurisdiction"] == Counter(where for where, _, _ in people)
        assert snapshot.summary["by_locale"] == Counter(locale for _, locale, _ in people)
        assert snapshot.summary["by_category"] == Counter(
            name for _, _, mask in people for name in category_names(mask))
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_databases(request: pytest.FixtureRequest, lane: str, tmp_path: Path,
                    sqlite_template: Path) -> Iterator[Callable[[], str]]:
    """A new migrated database per call: each Hypothesis example starts from nothing.

    The PostgreSQL cluster is asked for only in its own lane, so `-k sqlite` never starts it.
    """
    pg: pgcluster.Cluster | None = None
    pg_template: str | None = None
    if lane == "postgresql":
        pg, pg_template = request.getfixturevalue("pg"), request.getfixturevalue("pg_template")
    if lane == "postgresql" and (pg is None or pg_template is None):
        pytest.skip(f"PostgreSQL lane: {pgcluster.unavailable_reason()}")
    made: list[str] = []

    def make() -> str:
        name = f"p_{uuid.uuid4().hex[:16]}"
        if lane == "sqlite":
            path = tmp_path / f"{name}.sqlite3"
            shutil.copy(sqlite_template, path)
            return f"sqlite+aiosqlite:///{path}"
        assert pg is not None
        pg.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return pg.url(name)

    yield make
    for name in made:
        assert pg is not None
        pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=holdings(), scope=scopes())
def test_compute_equals_brute_force(fresh_databases: Callable[[], str], rows: list[Holding],
                                    scope: AffectedScope) -> None:
    asyncio.run(scenario(fresh_databases(), rows, scope))
