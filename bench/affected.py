"""Benchmark: inventory import and affected-set computation against hand-written baselines.

    .venv/bin/python bench/affected.py                       # SQLite, 1,000,000 subjects
    .venv/bin/python bench/affected.py --database postgresql # a throwaway PostgreSQL cluster
    .venv/bin/python bench/affected.py --subjects 100000     # a quicker run

It generates its own data (each subject held by two of five systems, so
2 x subjects lines), then measures in the same process and on the same kind
of database:

- import: `import_subjects` (parsing and validation included) of the CSV file,
  against the raw bulk load of the same rows, already parsed (executemany in
  one transaction on SQLite, COPY on PostgreSQL). Target: at least 0.25 of
  the raw rate, with the import's peak memory (RSS of a child process) under
  300 MB.
- compute: `compute_affected` (snapshot, digest, counts, timeline event)
  against one hand-written INSERT … SELECT of the same rows. Target: at most
  1.5 x the baseline's time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from incident.affected import service as affected
from incident.affected.schemas import Scope
from incident.inventory import service as subjects
from incident.inventory.rules import Format, categories_mask
from incident.kernel import auth
from incident.kernel.clock import FixedClock
from incident.kernel.db import create_engine, session_factory, upgrade
from incident.lifecycle import service as incident_service
from incident.lifecycle.schemas import IncidentCreate

ACTOR = auth.cli_actor("bench")
SYSTEMS = ["crm", "shop", "billing", "support", "newsletter"]
CATEGORIES = ["contact", "identity", "financial", "location", "behavioural", "health"]
COUNTRIES = ["PL", "DE", "FR", "IE", "GB", "US", "ES", "IT", "NL", "SE"]
US_REGIONS = ["US-CA", "US-TX", "US-NY", "US-FL", None]
LOCALES = ["pl", "de", "fr", "en", "en_US", "es", "it", "nl", "sv", ""]
EPOCH0 = datetime(2023, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SCOPE = Scope(systems=["crm", "billing", "support"],
              exposure_from=datetime(2025, 6, 1, tzinfo=UTC),
              exposure_to=datetime(2025, 12, 31, tzinfo=UTC),
              data_categories=["contact", "financial", "health"])


def generate(path: Path, subjects_count: int) -> int:
    """Write the import file; returns its number of lines (holdings)."""
    rng = random.Random(7)
    lines = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "email", "name", "locale", "country", "region", "system",
                         "categories", "first_seen", "last_seen"])
        for n in range(subjects_count):
            country = COUNTRIES[n % len(COUNTRIES)]
            region = rng.choice(US_REGIONS) if country == "US" else None
            person = [f"cust-{n:08d}", f"customer{n}@example.com", f"Customer {n}",
                      LOCALES[n % len(LOCALES)], country, region or ""]
            for system in rng.sample(SYSTEMS, 2):
                start = EPOCH0 + timedelta(days=rng.randrange(0, 1100))
                end = "" if rng.random() < 0.4 else \
                    (start + timedelta(days=rng.randrange(0, 400))).date().isoformat()
                writer.writerow([*person, system, ";".join(rng.sample(CATEGORIES, 2)),
                                 start.date().isoformat(), end])
                lines += 1
    return lines


def parsed_rows(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The file's rows as ready-made tuples for the raw load (parsing not timed)."""
    people: dict[str, tuple[object, ...]] = {}
    holdings: list[tuple[object, ...]] = []
    ids = {s: i + 1 for i, s in enumerate(SYSTEMS)}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ident = people.setdefault(row["external_id"], (
                len(people) + 1, row["external_id"], row["email"], row["name"],
                row["locale"] or None, row["country"], row["region"] or None))[0]
            first = int(datetime.fromisoformat(row["first_seen"]).replace(tzinfo=UTC).timestamp())
            last = (int(datetime.fromisoformat(row["last_seen"]).replace(tzinfo=UTC).timestamp())
                    if row["last_seen"] else None)
            holdings.append((ident, ids[row["system"]], categories_mask(row["categories"].split(";")),
                             first, last))
    return list(people.values()), holdings


class Database:
    """A fresh migrated database per use: SQLite files, or databases in one PostgreSQL cluster."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind, self.workdir, self.count = kind, workdir, 0
        self.cluster = None
        if kind == "postgresql":
            from tests import pgcluster

            reason = pgcluster.unavailable_reason()
            if reason:
                raise SystemExit(f"bench: error: {reason}")
            self.cluster = pgcluster.start()

    def fresh(self) -> str:
        self.count += 1
        if self.cluster is None:
            url = f"sqlite+aiosqlite:///{self.workdir / f'bench{self.count}.sqlite3'}"
        else:
            self.cluster.psql(f"CREATE DATABASE bench{self.count}")
            url = self.cluster.url(f"bench{self.count}")
        upgrade(url)
        return url

    def close(self) -> None:
        if self.cluster is not None:
            from tests import pgcluster

            pgcluster.stop(self.cluster)


async def add_systems(url: str) -> None:
    engine = create_engine(url)
    clock = FixedClock(NOW)
    try:
        for key in SYSTEMS:
            async with session_factory(engine)() as db:
                await subjects.save_system(db, clock=clock, actor=ACTOR, key=key, name=key.title(),
                                           data_categories=["contact"])
    finally:
        await engine.dispose()


async def timed_import(url: str, path: Path) -> float:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            with path.open("rb") as stream:
                started = time.perf_counter()
                report = await subjects.import_subjects(db, clock=FixedClock(NOW), actor=ACTOR,
                                                        stream=stream, fmt=Format.CSV)
                elapsed = time.perf_counter() - started
        assert report.rejected == 0, report.errors[:3]
        return elapsed
    finally:
        await engine.dispose()


def import_child(url: str, path: str, results: multiprocessing.Queue[tuple[float, float]]) -> None:
    elapsed = asyncio.run(timed_import(url, Path(path)))
    results.put((elapsed, peak_rss_mb()))


def peak_rss_mb() -> float:
    """This process's peak resident memory. (Not ru_maxrss: Linux carries that over exec, so a
    spawned child would report its parent's peak.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def raw_load(url: str, people: list[tuple[object, ...]],
                   holdings: list[tuple[object, ...]]) -> float:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            started = time.perf_counter()
            if url.startswith("sqlite"):
                await raw.execute("BEGIN")
                await raw.executemany("INSERT INTO subjects (id, external_id, email, name, locale, "
                                      "country, region) VALUES (?, ?, ?, ?, ?, ?, ?)", people)
                await raw.executemany("INSERT INTO holdings (subject_id, system_id, categories, "
                                      "first_seen, last_seen) VALUES (?, ?, ?, ?, ?)", holdings)
                await raw.execute("COMMIT")
            else:
                async with raw.transaction():
                    await raw.copy_records_to_table("subjects", records=people, columns=[
                        "id", "external_id", "email", "name", "locale", "country", "region"])
                    await raw.copy_records_to_table("holdings", records=holdings, columns=[
                        "subject_id", "system_id", "categories", "first_seen", "last_seen"])
            return time.perf_counter() - started
    finally:
        await engine.dispose()


def baseline_sql(postgresql: bool, system_ids: list[int]) -> str:
    """The same snapshot rows, written by hand."""
    mask = categories_mask(c.value for c in SCOPE.data_categories)
    parts = (f"bit_or(h.categories & {mask})" if postgresql else
             " | ".join(f"MAX(h.categories & {mask} & {1 << b})" for b in range(10)))
    systems = ("bit_or(CAST(1 AS BIGINT) << (h.system_id - 1))" if postgresql
               else "SUM(1 << (h.system_id - 1))")
    assert SCOPE.exposure_from is not None and SCOPE.exposure_to is not None
    start, end = int(SCOPE.exposure_from.timestamp()), int(SCOPE.exposure_to.timestamp())
    return ("INSERT INTO bench_affected (snapshot_id, external_id, subject_id, jurisdiction, "
            f"locale, categories, systems) SELECT :n, s.external_id, s.id, "
            f"COALESCE(s.region, s.country), COALESCE(s.locale, 'en'), {parts}, {systems} "
            "FROM holdings h JOIN subjects s ON s.id = h.subject_id "
            f"WHERE h.system_id IN ({', '.join(map(str, system_ids))}) "
            f"AND (h.first_seen IS NULL OR h.first_seen <= {end}) "
            f"AND (h.last_seen IS NULL OR h.last_seen >= {start}) "
            f"AND (h.categories & {mask}) <> 0 GROUP BY s.id")


async def compare_compute(url: str, rounds: int) -> tuple[list[float], list[float], int]:
    engine = create_engine(url)
    clock = FixedClock(NOW)
    postgresql = not url.startswith("sqlite")
    sessions = session_factory(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "CREATE TABLE bench_affected (snapshot_id INTEGER NOT NULL, external_id VARCHAR(200) "
                + ('COLLATE "C" ' if postgresql else "") +
                "NOT NULL, subject_id INTEGER NOT NULL, jurisdiction VARCHAR(6) NOT NULL, "
                "locale VARCHAR(35) NOT NULL, categories INTEGER NOT NULL, systems BIGINT NOT NULL, "
                "PRIMARY KEY (snapshot_id, external_id))" + ("" if postgresql else " WITHOUT ROWID")))
            ids = (await conn.execute(text(
                "SELECT id FROM systems WHERE key IN ('crm', 'billing', 'support') ORDER BY id"))
                   ).scalars().all()
            if postgresql:
                await conn.execute(text("ANALYZE"))
        async with sessions() as db:
            incident = await incident_service.create_incident(
                db, clock=clock, actor=ACTOR,
                rules=incident_service.Rules(zone=ZoneInfo("UTC"), skew=timedelta(minutes=5)),
                data=IncidentCreate(title="Benchmark", kind="unauthorized_access",
                                    detected_at=NOW, aware_at=NOW))
        async with sessions() as db:
            await affected.set_scope(db, clock=clock, actor=ACTOR, key=incident.id, scope=SCOPE)
        baseline, ours, total = [], [], 0
        for n in range(rounds):
            async with engine.begin() as conn:
                started = time.perf_counter()
                await conn.execute(text(baseline_sql(postgresql, list(ids))), {"n": n})
            baseline.append(time.perf_counter() - started)
            async with sessions() as db:
                started = time.perf_counter()
                snapshot, _ = await affected.compute_affected(
                    db, clock=clock, actor=ACTOR, key=incident.id, default_locale="en")
                ours.append(time.perf_counter() - started)
                total = snapshot.total
            async with engine.connect() as conn:
                same = (await conn.execute(text(
                    "SELECT COUNT(*) FROM bench_affected b JOIN affected_subjects a ON "
                    "a.external_id = b.external_id AND a.categories = b.categories "
                    "AND a.jurisdiction = b.jurisdiction AND a.locale = b.locale "
                    "AND a.systems = b.systems "
                    "WHERE b.snapshot_id = :n AND a.snapshot_id = :s"),
                    {"n": n, "s": snapshot.id})).scalar_one()
            assert same == total, f"the baseline and the snapshot differ ({same} vs {total})"
        return baseline, ours, total
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="breach-bench-"))
    database = Database(args.database, workdir)
    try:
        path = workdir / "subjects.csv"
        started = time.perf_counter()
        lines = generate(path, args.subjects)
        print(f"data: {args.subjects:,} subjects, {lines:,} holdings, "
              f"{path.stat().st_size / 1e6:.0f} MB CSV ({time.perf_counter() - started:.1f} s "
              f"to generate); database: {args.database}")

        people, holdings = parsed_rows(path)
        raw_url = database.fresh()
        asyncio.run(add_systems(raw_url))
        raw = asyncio.run(raw_load(raw_url, people, holdings))
        del people, holdings

        url = database.fresh()
        asyncio.run(add_systems(url))
        results: multiprocessing.Queue[tuple[float, float]] = multiprocessing.get_context(
            "spawn").Queue()
        child = multiprocessing.get_context("spawn").Process(
            target=import_child, args=(url, str(path), results))
        child.start()
        imported, peak_mb = results.get()
        child.join()
        ratio = (lines / imported) / (lines / raw)
        print(f"import: {lines / imported:,.0f} lines/s ({imported:.1f} s, peak {peak_mb:.0f} MB); "
              f"raw bulk load {lines / raw:,.0f} rows/s ({raw:.1f} s); "
              f"ratio {ratio:.2f} (target ≥ 0.25, peak < 300 MB) "
              f"{'OK' if ratio >= 0.25 and peak_mb < 300 else 'MISSED'}")

        baseline, ours, total = asyncio.run(compare_compute(url, args.rounds))
        best_base, best_ours = min(baseline), min(ours)
        ratio = best_ours / best_base
        print(f"compute: {total:,} affected; snapshot {best_ours:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in ours)}), hand-written INSERT … SELECT "
              f"{best_base:.2f} s (runs {', '.join(f'{t:.2f}' for t in baseline)}); "
              f"ratio {ratio:.2f} (target ≤ 1.5) {'OK' if ratio <= 1.5 else 'MISSED'}")
    finally:
        database.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
