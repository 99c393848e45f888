"""Benchmark: a notice to people, end to end through `breach serve`, beside a hand-written sender and Postfix.

    .venv/bin/python bench/notices.py                            # SQLite, 20,000 people, 2 rounds
    .venv/bin/python bench/notices.py --people 20000 100000      # both sizes: is memory flat?
    .venv/bin/python bench/notices.py --database postgresql      # a throwaway PostgreSQL cluster
    .venv/bin/python bench/notices.py --people 5000 --rounds 1   # a quicker run
    .venv/bin/python bench/notices.py --set outbox_batch=1000 --set smtp_connections=8
    .venv/bin/python bench/notices.py --sink aiosmtpd --no-load  # the Python sink, no API load

It generates its own data: people with e-mail addresses in four languages (en, de, fr,
pl), imported into the inventory of a fresh database, an incident that affects them all,
the GDPR's notice to the people (Art. 34) drafted with its text in each language and
approved by a second user. That database is copied for each round. Then, in alternating
rounds:

- product: `breach serve` (at its defaults, or with the settings given by `--set`) is
  started on a copy; the clock runs from `POST …/notifications/{id}/send` (a real HTTP request with
  an API token) until the SMTP sink has accepted every message and every delivery's outcome
  is committed (`sent` or `failed` in the deliveries table, polled).
- hand-written: a careful script in this file (run as its own process): Jinja2 templates
  per language rendered per person with babel-formatted dates, an EmailMessage built per
  person, 4 persistent aiosmtplib connections, each outcome recorded in a plain SQLite
  table (on either --database), committed per 100. Its messages are padded to the
  product's average size.
- postfix: Postfix's `smtp-source` sending to `smtp-sink` over 4 persistent connections,
  messages of the same size: what the wire and a C SMTP stack do on this machine. Skipped,
  and said so, where the `postfix` package (which installs both in /usr/sbin) is missing.

The product and the hand-written script send to the same SMTP sink (`--sink`):

- postfix (the default where /usr/sbin/smtp-sink exists): Postfix's `smtp-sink`, a C
  server that advertises PIPELINING, accepts everything and throws it away, taking up to
  1,000 connections at once (`-m 1000`, backlog 1000). It counts the messages it accepted
  (`-c`, read from its output); the bytes are those it read from the network (its
  /proc/PID/io rchar) less an estimate of the SMTP commands around each message. It cannot
  tell mail to the people from other mail: a run's note says so when it accepted another
  number of messages than those whose 250 reply was committed (or the script counted).
- aiosmtpd: an aiosmtpd server in its own process (on uvloop), counting the messages to
  the people and their bytes exactly; it costs far more CPU per message, which on a small
  machine it takes from the senders.

Either way a run is done when every delivery's outcome is committed (the product) or the
script reports its count (hand-written) and the sink holds every message sent.

For each run the table shows messages per second, CPU time per message of the sending
process (with its children: /proc/PID/stat, from the start signal to the end) and its peak
RSS (VmHWM), how busy the sink's core was, how long `POST …/send` took to answer and, on
PostgreSQL, the CPU time per message of the server's processes (its cluster runs autovacuum,
as a real one does).

While the product sends, the service must stay responsive (unless `--no-load`): a load
generator in its own process (its CPU is not the product's) sends, open-loop at fixed rates
over keep-alive connections with the responder's API token, 50 reads a second (in turn the
incident list, the incident, and the notification with its delivery counts: its progress)
and 5 writes a second (a note on the incident's timeline). Each request is started on its
schedule whether or not earlier ones have finished, and its latency is measured from the
scheduled start, so time spent queueing behind a slow answer is counted. It is measured
for a few seconds before the send (idle, `--load-idle`) and from the send until every
outcome is committed. The notes are timeline events, not deliveries: the completion
polling, which counts the notification's deliveries, does not see them. Answering the
load is the product's own work, so the product's CPU per message includes it; the round's
line shows the share of a core it took while idle. A table shows, per phase, the requests,
the p50/p95/p99/max latency of reads and of writes, the failed requests (non-2xx or
errors, with their status codes) and the writes over a second; a round's line says when the
requests over a second were scheduled (seconds after the send).

Targets (issue 18): the product at least 2 x the hand-written script in messages/s and in
CPU per message (half of its CPU or less), at least 10 % of Postfix's rate, peak memory
flat from 20,000 to 100,000 people, so that 1,000,000 people take under 15 minutes. And,
measured during the 100,000-person run: while it sends, the API's p99 latency under 100 ms
for reads and for writes, and no write refused or taking over a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.factories import PROFILE  # the same organisation the tests use

ROOT = Path(__file__).resolve().parent.parent
BREACH = str(Path(sys.executable).with_name("breach"))
SENDER = "Example GmbH Privacy Team <privacy@example.com>"
PEOPLE_DOMAIN = "people.example.com"
LOCALES = ["en", "de", "fr", "pl"]
COUNTRIES = {"en": "IE", "de": "DE", "fr": "FR", "pl": "PL"}
FIRST = ["Anna", "Bernd", "Chloé", "Dorota", "Eamon", "Frieda", "Gaëlle", "Henryk", "Ines", "Jürgen"]
LAST = ["Nowak", "Müller", "Lefèvre", "Kowalska", "Byrne", "Schäfer", "Dubois", "Wiśniewski"]
HAND_CONNECTIONS = 4
COMMIT_EVERY = 100
CLK_TCK = os.sysconf("SC_CLK_TCK")
STALL_SECONDS = 300.0
"""A run that makes no progress for this long is stopped, with what the process logged."""


TEXTS: dict[str, dict[str, str]] = {
    "description": {
        "en": "On 9 March an attacker copied part of our customer database.",
        "de": "Am 9. März hat ein Angreifer einen Teil unserer Kundendatenbank kopiert.",
        "fr": "Le 9 mars, un attaquant a copié une partie de notre base de données clients.",
        "pl": "9 marca atakujący skopiował część naszej bazy danych klientów."},
    "consequences": {
        "en": "You may receive phishing e-mails that use your name and address.",
        "de": "Sie könnten Phishing-E-Mails erhalten, die Ihren Namen und Ihre Adresse verwenden.",
        "fr": "Vous pourriez recevoir des courriels d'hameçonnage utilisant votre nom et votre adresse.",
        "pl": "Możesz otrzymać wiadomości phishingowe, w których użyto Twojego imienia i adresu."},
    "measures": {
        "en": "We closed the access, reset every session and reported the breach to the authority.",
        "de": "Wir haben den Zugang geschlossen, alle Sitzungen beendet und die Verletzung gemeldet.",
        "fr": "Nous avons fermé l'accès, réinitialisé les sessions et signalé la violation à l'autorité.",
        "pl": "Zamknęliśmy dostęp, zresetowaliśmy sesje i zgłosiliśmy naruszenie organowi."},
}
"""The notice's own words in each language (the rest comes from the product's templates)."""


# --- measuring a process ---------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from the third (state) on


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(_children(current))
    return pids


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid`, its live descendants and the children it reaped."""
    total = 0
    for index, member in enumerate(tree(pid)):
        fields = _stat(member)
        if fields is None:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if index == 0:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    """The summed peak resident memory (VmHWM) of `pid` and its live descendants."""
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the SMTP sink ---------------------------------------------------------------------------------

class _Counting:
    def __init__(self, people: Synchronized[int], size: Synchronized[int],
                 others: Synchronized[int]) -> None:
        self.people, self.size, self.others = people, size, others

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if all(str(to).endswith("@" + PEOPLE_DOMAIN) for to in envelope.rcpt_tos):
            with self.people.get_lock():
                self.people.value += len(envelope.rcpt_tos)
            with self.size.get_lock():
                self.size.value += len(envelope.original_content or b"")
        else:
            with self.others.get_lock():
                self.others.value += 1
        return "250 2.0.0 Ok: queued"


def _sink(sock: socket.socket, people: Synchronized[int], size: Synchronized[int],
          others: Synchronized[int]) -> None:
    from aiosmtpd.smtp import SMTP

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    loop = asyncio.new_event_loop()
    handler = _Counting(people, size, others)
    loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", loop=loop, data_size_limit=0), sock=sock,
        backlog=512))
    loop.run_forever()


class Sink(Protocol):
    """The SMTP server the product and the hand-written script send to."""

    name: str
    port: int

    @property
    def url(self) -> str: ...

    def counts(self) -> tuple[int, int]:
        """Messages accepted (to the people, where the sink can tell) and their bytes, so far."""
        ...

    def cpu(self) -> float: ...

    def check(self, accepted: int, sent: int) -> str:
        """What to say of `accepted` messages in a run whose `sent` outcomes were committed."""
        ...

    def stop(self) -> None: ...


class AiosmtpdSink:
    """An aiosmtpd server in its own process, counting the messages to people and their bytes."""

    name = "aiosmtpd"

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self.people: Synchronized[int] = context.Value("q", 0)
        self.bytes: Synchronized[int] = context.Value("q", 0)
        self.others: Synchronized[int] = context.Value("q", 0)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self.port = int(sock.getsockname()[1])
        self.process = context.Process(target=_sink, args=(sock, self.people, self.bytes, self.others),
                                       daemon=True)
        self.process.start()
        sock.close()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def counts(self) -> tuple[int, int]:
        return self.people.value, self.bytes.value

    def cpu(self) -> float:
        assert self.process.pid is not None
        return cpu_seconds(self.process.pid)

    def check(self, accepted: int, sent: int) -> str:
        return "" if accepted == sent else f"the sink accepted {accepted:,} messages to people, {sent:,} sent"

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()


SMTP_SINK = Path("/usr/sbin/smtp-sink")
SMTP_SINK_CONNECTIONS = 1000
"""Connections Postfix's smtp-sink serves at once (-m), and its listen backlog."""
ENVELOPE_BYTES = 110
"""About what a client sends around each message (MAIL FROM with SIZE and BODY, RCPT TO,
DATA, the final dot), taken off the bytes smtp-sink read to estimate the messages' size."""


class PostfixSink:
    """Postfix's smtp-sink in its own process: every message it accepts counted (`-c`, its
    counters written to a file at each message), its bytes from what it read off the network."""

    name = "postfix"

    def __init__(self, workdir: Path) -> None:
        self.port = unused_port()
        self.counters = workdir / "smtp-sink.counters"
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        log = workdir / "smtp-sink.log"
        with self.counters.open("wb") as out, log.open("wb") as errors:
            self.process = subprocess.Popen(
                [str(SMTP_SINK), *user, "-c", "-h", "sink.test", "-m", str(SMTP_SINK_CONNECTIONS),
                 f"127.0.0.1:{self.port}", str(SMTP_SINK_CONNECTIONS)],
                stdout=out, stderr=errors, start_new_session=True)
        began = time.monotonic()
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
                break
            if self.process.poll() is not None or time.monotonic() - began > 10:
                self.stop()
                raise SystemExit(f"bench: error: smtp-sink did not start:\n{_log_tail(log)}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> int:
        """The last counter line: `sess=N quit=N mesg=N`, each ended by a carriage return."""
        with self.counters.open("rb") as counters:
            counters.seek(0, os.SEEK_END)
            counters.seek(max(0, counters.tell() - 200))
            tail = counters.read().split(b"\r")[:-1]  # the last piece may be half written
        for line in reversed(tail):
            for part in line.split():
                if part.startswith(b"mesg="):
                    return int(part[5:])
        return 0

    def counts(self) -> tuple[int, int]:
        messages, read = self.messages(), 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/io").read_text().splitlines():
                if line.startswith("rchar:"):
                    read = int(line.split()[1])
        return messages, read - messages * ENVELOPE_BYTES

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def check(self, accepted: int, sent: int) -> str:
        if accepted == sent:
            return ""
        return (f"smtp-sink accepted {accepted:,} messages, {sent:,} sent"
                + (" (the rest other mail?)" if accepted > sent else ""))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the data --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    number: int
    email: str
    name: str
    locale: str


def people(count: int) -> Iterator[Person]:
    rng = random.Random(18)
    for n in range(count):
        yield Person(n, f"person{n:07d}@{PEOPLE_DOMAIN}", f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     LOCALES[n % len(LOCALES)])


def inventory_csv(count: int) -> bytes:
    lines = ["external_id,email,name,locale,country,region,system,categories,first_seen,last_seen"]
    lines.extend(f"p-{p.number:07d},{p.email},{p.name},{p.locale},{COUNTRIES[p.locale]},,crm,"
                 "contact;identity,,"
                 for p in people(count))
    return ("\n".join(lines) + "\n").encode()


class Database:
    """Migrated databases: SQLite files, or databases in one throwaway PostgreSQL cluster. A
    prepared database is the template each round's copy is made from."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind, self.workdir, self.count = kind, workdir, 0
        self.cluster: Any = None
        if kind == "postgresql":
            from tests import pgcluster

            reason = pgcluster.unavailable_reason()
            if reason:
                raise SystemExit(f"bench: error: {reason}")
            self.cluster = pgcluster.start(autovacuum=True)

    def _name(self) -> str:
        self.count += 1
        return f"bench{self.count}"

    def fresh(self) -> str:
        from incident.kernel.db import upgrade

        name = self._name()
        if self.cluster is None:
            url = f"sqlite+aiosqlite:///{self.workdir / f'{name}.sqlite3'}"
        else:
            self.cluster.psql(f"CREATE DATABASE {name}")
            url = str(self.cluster.url(name))
        upgrade(url)
        return url

    def copy(self, template: str) -> str:
        name = self._name()
        if self.cluster is None:
            source = Path(template.removeprefix("sqlite+aiosqlite:///"))
            target = self.workdir / f"{name}.sqlite3"
            shutil.copyfile(source, target)
            for suffix in ("-wal",):
                if source.with_name(source.name + suffix).exists():
                    shutil.copyfile(source.with_name(source.name + suffix),
                                    target.with_name(target.name + suffix))
            return f"sqlite+aiosqlite:///{target}"
        self.cluster.psql(f"CREATE DATABASE {name} TEMPLATE {template.rsplit('/', 1)[1]}")
        return str(self.cluster.url(name))

    def drop(self, url: str) -> None:
        if self.cluster is None:
            path = Path(url.removeprefix("sqlite+aiosqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        else:
            self.cluster.psql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def cpu(self) -> float | None:
        """CPU seconds so far of the PostgreSQL server (its postmaster and every backend);
        None on SQLite, whose work is done inside the sending process."""
        if self.cluster is None:
            return None
        pid = int((self.cluster.directory / "data" / "postmaster.pid").read_text().split()[0])
        return cpu_seconds(pid)

    def close(self) -> None:
        if self.cluster is not None:
            from tests import pgcluster

            pgcluster.stop(self.cluster)


@dataclass
class Prepared:
    """A database with an approved notice waiting to be sent, and who may send it."""

    url: str
    send_path: str
    notification_id: int
    token: str
    recipients: int

    @property
    def notification_path(self) -> str:
        return self.send_path.removesuffix("/send")

    @property
    def incident_path(self) -> str:
        return self.notification_path.rsplit("/notifications/", 1)[0]


def _ok(response: Any, what: str, *codes: int) -> Any:
    if response.status_code not in (codes or (200, 201)):
        raise SystemExit(f"bench: error: {what}: {response.status_code} {response.text[:500]}")
    return response.json()


async def prepare(url: str, count: int, workdir: Path) -> Prepared:
    """Users, organisation, inventory, incident, affected set, obligations and an approved notice
    to the people, made through the product's services and API (in this process)."""
    import httpx

    from incident.accounts import service as accounts
    from incident.app import create_app
    from incident.kernel import auth
    from incident.kernel.clock import SystemClock
    from incident.kernel.db import create_engine, session_factory
    from incident.kernel.settings import Settings

    clock = SystemClock()
    console = auth.cli_actor("bench")
    engine = create_engine(url)
    sessions = session_factory(engine)
    tokens: dict[str, str] = {}
    try:
        for role in ("admin", "responder", "approver"):
            async with sessions() as db:
                await accounts.create_user(db, clock=clock, actor=console, email=f"{role}@example.org",
                                           role=role)
            async with sessions() as db:
                _, tokens[role] = await accounts.create_token(db, clock=clock, actor=console,
                                                              email=f"{role}@example.org", name="bench")
        settings = Settings(database_url=url, secret_key="bench", var_dir=workdir / "prepare",
                            timezone="Europe/Berlin")
        app = create_app(settings, clock=clock, engine=engine)
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     timeout=600) as client:
            def as_(role: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[role]}"}

            _ok(await client.put("/api/v1/organisation", json=PROFILE, headers=as_("admin")),
                "organisation profile")
            _ok(await client.put("/api/v1/systems/crm", json={"name": "CRM"}, headers=as_("admin")),
                "system")
            imported = _ok(await client.post(
                "/api/v1/subjects/import", content=inventory_csv(count),
                headers={**as_("admin"), "content-type": "text/csv"}), "inventory import")
            if imported.get("imported") != count:
                raise SystemExit(f"bench: error: imported {imported.get('imported')} of {count} people")
            now = datetime.now(UTC).replace(microsecond=0)
            incident = _ok(await client.post("/api/v1/incidents", headers=as_("responder"), json={
                "title": "Customer database copied", "kind": "unauthorized_access",
                "breach_types": ["confidentiality"], "data_categories": ["contact", "identity"],
                "systems": ["crm"], "occurred_from": (now - timedelta(days=1)).isoformat(),
                "detected_at": (now - timedelta(hours=2)).isoformat(),
                "aware_at": (now - timedelta(hours=1)).isoformat(),
                "estimated_subjects": count}), "incident")
            base = f"/api/v1/incidents/{incident['reference']}"
            _ok(await client.put(f"{base}/scope", json={}, headers=as_("responder")), "scope")
            _ok(await client.post(f"{base}/affected", headers=as_("responder")), "affected set")
            _ok(await client.get(f"{base}/obligations", headers=as_("responder")), "obligations")
            draft = _ok(await client.post(f"{base}/notifications", json={"obligation": "gdpr/data-subjects"},
                                          headers=as_("responder")), "draft")
            url_of = f"{base}/notifications/{draft['id']}"
            draft = _ok(await client.patch(url_of, headers=as_("responder"),
                                           json={"version": draft["version"], "fields": TEXTS}), "text")
            _ok(await client.post(f"{url_of}/approve", json={"content_hash": draft["content_hash"]},
                                  headers=as_("approver")), "approval")
            # What the sender sees before sending, and types to confirm it.
            preview = _ok(await client.get(f"{url_of}/send-preview", headers=as_("responder")),
                          "send preview")
            count = int(preview["recipients"])
        return Prepared(url, f"{url_of}/send", int(draft["id"]), tokens["responder"], count)
    finally:
        await engine.dispose()


async def outcomes(url: str, notification_id: int) -> dict[str, int]:
    from sqlalchemy import text

    from incident.kernel.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT state, COUNT(*) FROM deliveries WHERE notification_id = :n GROUP BY state"),
                {"n": notification_id})).all()
        return {str(state): int(n) for state, n in rows}
    finally:
        await engine.dispose()


# --- the runs --------------------------------------------------------------------------------------

@dataclass
class Result:
    run: str
    people: int
    seconds: float
    cpu: float | None
    peak_mb: float | None
    sink_cpu: float | None = None
    note: str = ""
    mean_bytes: int = 0
    round_number: int = 0
    load: LoadReport | None = None
    queued_seconds: float | None = None
    """How long `POST …/send` took to answer (the deliveries queued)."""
    database_cpu: float | None = None
    """CPU seconds of the PostgreSQL server's processes during the run."""

    @property
    def database_cpu_ms(self) -> float | None:
        return None if self.database_cpu is None else self.database_cpu / self.people * 1000

    @property
    def rate(self) -> float:
        return self.people / self.seconds

    @property
    def cpu_ms(self) -> float | None:
        return None if self.cpu is None else self.cpu / self.people * 1000


@dataclass
class Children:
    """Every process started here, stopped on the way out however it is taken."""

    running: list[subprocess.Popen[Any]] = field(default_factory=list)

    def start(self, argv: list[str], **options: Any) -> subprocess.Popen[Any]:
        # A session of its own: Ctrl-C reaches this script, which stops them in order.
        process = subprocess.Popen(argv, start_new_session=True, **options)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[Any], grace: float = 10) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process, grace=5)


def _log_tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def run_product(prepared: Prepared, database: Database, sink: Sink, children: Children,
                workdir: Path, label: str, settings: dict[str, str],
                load_idle: float | None) -> Result:
    """One send by `breach serve`; with `load_idle` (seconds), the API measured under a steady
    load for that long before the send and while it sends."""
    import httpx

    url = database.copy(prepared.url)
    port = unused_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_DATABASE_URL=url, BREACH_SMTP_URL=sink.url, BREACH_MAIL_FROM=SENDER,
               BREACH_VAR_DIR=str(workdir / f"var-{label}"), BREACH_SECRET_KEY="bench",
               BREACH_TIMEZONE="Europe/Berlin", BREACH_LOG_LEVEL="WARNING",
               BREACH_BASE_URL=f"http://127.0.0.1:{port}")
    env.update({f"BREACH_{name.upper()}": value for name, value in settings.items()})
    log = workdir / f"serve-{label}.log"
    with log.open("wb") as out:
        serve = children.start([BREACH, "serve", "--port", str(port)], env=env, cwd=workdir,
                               stdout=out, stderr=subprocess.STDOUT)
    load: ApiLoad | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600) as client:
            began = time.monotonic()
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/health").status_code == 200:
                        break
                if serve.poll() is not None or time.monotonic() - began > 60:
                    raise SystemExit(f"bench: error: breach serve did not start:\n{_log_tail(log)}")
                time.sleep(0.1)
            if load_idle is not None:
                load = ApiLoad(children, base, prepared)
                load.go()
            # What it does on start (the scheduler's first pass) is not timed; nor is the load's
            # warm-up.
            time.sleep(max(2, LOAD_WARMUP_SECONDS))
            idle_at, idle_cpu0 = time.monotonic(), cpu_seconds(serve.pid)
            if load_idle is not None:
                time.sleep(load_idle)  # the load's idle phase
            serve_idle_cpu = (cpu_seconds(serve.pid) - idle_cpu0) / max(time.monotonic() - idle_at, 1e-3)
            people0, bytes0 = sink.counts()
            cpu0, sink0, database0 = cpu_seconds(serve.pid), sink.cpu(), database.cpu()
            send_at = time.monotonic()
            started = time.perf_counter()
            sent = client.post(prepared.send_path, json={"confirm": prepared.recipients},
                               headers={"Authorization": f"Bearer {prepared.token}"})
            queued = time.perf_counter() - started
        if sent.status_code != 202:
            raise SystemExit(f"bench: error: send: {sent.status_code} {sent.text[:500]}")
        recipients = int(sent.json().get("recipients", prepared.recipients))
        # Done when every outcome is committed and the sink holds every message sent. The
        # database is read each second, and at once when the sink has them all.
        progress, progressed, state, read_at = -1, time.monotonic(), dict[str, int](), 0.0
        while True:
            accepted = sink.counts()[0] - people0
            if accepted >= recipients or time.monotonic() - read_at >= 1:
                state, read_at = asyncio.run(outcomes(url, prepared.notification_id)), time.monotonic()
                done = state.get("sent", 0) + state.get("failed", 0)
                if done >= recipients and accepted >= state.get("sent", 0):
                    break
                if accepted + done > progress:
                    progress, progressed = accepted + done, time.monotonic()
            if time.monotonic() - progressed > STALL_SECONDS or serve.poll() is not None:
                raise SystemExit(f"bench: error: no progress for {STALL_SECONDS:.0f} s or breach "
                                 f"serve exited (sink {accepted} of {recipients}, deliveries "
                                 f"{state}):\n{_log_tail(log)}")
            time.sleep(0.05)
        seconds, end_at = time.perf_counter() - started, time.monotonic()
        cpu, peak, sink_cpu = cpu_seconds(serve.pid) - cpu0, peak_rss_mb(serve.pid), sink.cpu() - sink0
        database_cpu = None if database0 is None else (database.cpu() or 0.0) - database0
        accepted, size = (now - before for now, before in zip(sink.counts(), (people0, bytes0),
                                                                 strict=True))
        measured = None if load is None else load.finish(idle_at, send_at, end_at, serve_idle_cpu)
    finally:
        if load is not None:
            load.stop()
        children.stop(serve)
        database.drop(url)
    notes = [f"{state['failed']} failed" if state.get("failed", 0) else "",
             sink.check(accepted, state.get("sent", 0))]
    return Result("product", recipients, seconds, cpu, peak, sink_cpu, ", ".join(n for n in notes if n),
                  mean_bytes=size // max(accepted, 1), load=measured, queued_seconds=queued,
                  database_cpu=database_cpu)


def run_hand_written(prepared: Prepared, sink: Sink, children: Children, workdir: Path,
                     size: int, uvloop: bool) -> Result:
    people_db = workdir / f"hand-{prepared.recipients}.sqlite3"
    if not people_db.exists():
        with contextlib.closing(sqlite3.connect(people_db)) as db:
            db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL, "
                       "name TEXT NOT NULL, locale TEXT NOT NULL)")
            db.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                           ((p.number, p.email, p.name, p.locale) for p in people(prepared.recipients)))
            db.commit()
    argv = [sys.executable, str(Path(__file__).resolve()), "--hand-written", str(people_db),
            str(sink.port), str(size), *(["--uvloop"] if uvloop else [])]
    child = children.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("bench: error: the hand-written script did not start")
        people0, bytes0 = sink.counts()
        cpu0, sink0 = cpu_seconds(child.pid), sink.cpu()
        started = time.perf_counter()
        child.stdin.write("go\n")
        child.stdin.flush()
        report = child.stdout.readline().split()
        if not report or report[0] != "done":
            raise SystemExit(f"bench: error: the hand-written script stopped: {report}")
        while sink.counts()[0] - people0 < int(report[1]) and time.perf_counter() - started < 3600:
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        cpu, peak, sink_cpu = cpu_seconds(child.pid) - cpu0, peak_rss_mb(child.pid), sink.cpu() - sink0
        accepted, total = (now - before for now, before in zip(sink.counts(), (people0, bytes0),
                                                                  strict=True))
        child.stdin.close()
        child.wait(30)
    finally:
        children.stop(child)
    failed = int(report[2])
    notes = [f"{failed} failed" if failed else "", sink.check(accepted, int(report[1]))]
    return Result("hand-written", prepared.recipients, seconds, cpu, peak, sink_cpu,
                  ", ".join(n for n in notes if n), mean_bytes=total // max(accepted, 1))


def run_postfix(count: int, size: int, children: Children) -> Result | str:
    source, sink_tool = Path("/usr/sbin/smtp-source"), Path("/usr/sbin/smtp-sink")
    if not (source.exists() and sink_tool.exists()):
        return ("skipped: smtp-source and smtp-sink not found (install Debian's postfix package: "
                "apt-get install --no-install-recommends postfix)")
    port = unused_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = children.start([str(sink_tool), *user, f"127.0.0.1:{port}", "512"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        began = time.monotonic()
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if sink.poll() is not None or time.monotonic() - began > 10:
                return "skipped: smtp-sink did not start"
            time.sleep(0.05)
        started = time.perf_counter()
        sender = children.start([str(source), "-d", "-s", str(HAND_CONNECTIONS), "-m", str(count),
                                 "-l", str(size), "-f", "privacy@example.com",
                                 "-t", f"person@{PEOPLE_DOMAIN}", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(sender.pid, 0)
        seconds = time.perf_counter() - started
        sender.returncode = os.waitstatus_to_exitcode(status)
        children.running.remove(sender)
        if sender.returncode != 0:
            assert sender.stderr is not None
            return f"failed: smtp-source exited {sender.returncode}: {sender.stderr.read()[:300]}"
        return Result("postfix", count, seconds, usage.ru_utime + usage.ru_stime, None,
                      mean_bytes=size)
    finally:
        children.stop(sink)


# --- the API under load (a process of its own) -----------------------------------------------------

READ_RATE = 50.0
"""Reads a second: in turn the incident list, the incident, the notification (its progress)."""
WRITE_RATE = 5.0
"""Writes a second: a note on the incident's timeline."""
LOAD_IDLE_SECONDS = 5.0
"""How long the load is measured before the send, by default."""
LOAD_WARMUP_SECONDS = 2.0
"""The load runs this long, unmeasured, before the idle phase (connections opened, caches warm)."""
LOAD_CONNECTIONS = 64
"""Keep-alive connections the load may hold; a request beyond them waits (and it is counted)."""
LOAD_TIMEOUT = 30.0
"""A request not answered in this time is a failure ("timeout")."""
LATENCY_TARGET_MS = 100.0
"""The p99 latency of reads and of writes while the product sends."""
WRITE_LIMIT_MS = 1000.0
"""No write may take longer while the product sends."""
PHASES = ("idle", "send")
KINDS = ("reads", "writes")


def _percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a sorted, non-empty list."""
    return ordered[max(0, min(len(ordered) - 1, int(fraction * len(ordered) + 0.999999) - 1))]


@dataclass
class Latency:
    """The requests of one kind in one phase, their latencies in milliseconds from their
    scheduled start, the failed ones by status code (or error), and the writes over a second."""

    requests: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    failed: dict[str, int]
    slow: int

    @classmethod
    def of(cls, samples: list[tuple[float, str]]) -> Latency:
        ordered = sorted(latency for latency, _ in samples)
        failed: dict[str, int] = {}
        for _, outcome in samples:
            if outcome:
                failed[outcome] = failed.get(outcome, 0) + 1

        def at(fraction: float) -> float | None:
            return round(_percentile(ordered, fraction), 2) if ordered else None

        return cls(len(samples), at(0.50), at(0.95), at(0.99), at(1.0), failed,
                   sum(1 for latency in ordered if latency > WRITE_LIMIT_MS))

    @property
    def failures(self) -> int:
        return sum(self.failed.values())


@dataclass
class LoadReport:
    """The API's latency under a steady load, idle and while the product sends."""

    phases: dict[str, dict[str, Latency]]
    seconds: dict[str, float]
    lag_p99_ms: float
    """How late the generator itself started its requests (its own slowness, not the product's)."""
    generator_cpu: float
    """The generator's share of a core."""
    serve_idle_cpu: float
    """The share of a core breach serve took while idle, answering the load."""
    slow_after_send: list[float] = field(default_factory=list)
    """When the requests over a second were scheduled, in seconds after the send."""

    def stalls(self, gap: float = 2.0) -> str:
        """The spans of the send in which requests took over a second, e.g. `+0.1 to 14.8 s (560)`."""
        spans: list[list[float]] = []
        for at in self.slow_after_send:
            if spans and at - spans[-1][1] <= gap:
                spans[-1][1], spans[-1][2] = at, spans[-1][2] + 1
            else:
                spans.append([at, at, 1])
        return ", ".join(f"+{low:.1f} to {high:.1f} s ({count:.0f})" for low, high, count in spans)

    def verdict(self, phase: str) -> tuple[bool, str]:
        reads, writes = self.phases[phase]["reads"], self.phases[phase]["writes"]
        problems = []
        for kind, stats in (("reads", reads), ("writes", writes)):
            if stats.requests and stats.p99 is not None and stats.p99 >= LATENCY_TARGET_MS:
                problems.append(f"{kind} p99 {stats.p99:,.0f} ms")
        if writes.failures:
            problems.append(f"{writes.failures} write(s) failed")
        if writes.slow:
            problems.append(f"{writes.slow} write(s) over 1 s")
        if reads.failures:
            problems.append(f"{reads.failures} read(s) failed")
        if not reads.requests or not writes.requests:
            problems.append("too short to measure")
        return not problems, "; ".join(problems)


def api_load(base: str, incident: str, notification: str) -> None:
    """Read and write through the API at fixed rates until told to stop, then report the
    latencies per phase. Speaks with the benchmark on stdin and stdout: ready, go,
    end IDLE SEND END (monotonic instants: the phases' bounds), then one line of JSON."""
    import json
    import resource

    import httpx

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it
    headers = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    reads = ["/api/v1/incidents", incident, notification]

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=LOAD_CONNECTIONS,
                              max_keepalive_connections=LOAD_CONNECTIONS)
        records: list[tuple[float, str, float, str]] = []  # scheduled, kind, ms, failure
        lags: list[float] = []
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                     timeout=LOAD_TIMEOUT) as client:
            async def request(kind: str, index: int) -> httpx.Response:
                if kind == "writes":
                    return await client.post(f"{incident}/notes",
                                             json={"text": f"Load check {index}: still answering."})
                return await client.get(reads[index % len(reads)])

            for kind, index in (("reads", 0), ("reads", 1), ("reads", 2), ("writes", 0)):
                response = await request(kind, index)
                if not response.is_success:
                    print(f"failed {kind} {response.request.url.path}: {response.status_code} "
                          f"{response.text[:300]}", flush=True)
                    return {}
            await asyncio.gather(*[client.get("/health") for _ in range(8)])  # a few connections
            print("ready", flush=True)
            if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
                return {}
            stop = asyncio.Event()
            pending: set[asyncio.Task[None]] = set()
            origin = time.monotonic()

            async def one(kind: str, index: int, scheduled: float) -> None:
                lags.append(time.monotonic() - scheduled)
                try:
                    response = await request(kind, index)
                    failure = "" if response.is_success else str(response.status_code)
                except httpx.TimeoutException:
                    failure = "timeout"
                except httpx.HTTPError as error:
                    failure = type(error).__name__
                records.append((scheduled, kind, (time.monotonic() - scheduled) * 1000, failure))

            async def schedule(kind: str, rate: float) -> None:
                index = 0
                while not stop.is_set():
                    scheduled = origin + index / rate
                    delay = scheduled - time.monotonic()
                    if delay > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), delay)
                        if stop.is_set():
                            break
                    task = asyncio.create_task(one(kind, index, scheduled))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    index += 1

            schedules = [asyncio.create_task(schedule("reads", READ_RATE)),
                         asyncio.create_task(schedule("writes", WRITE_RATE))]
            command = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            stop.set()
            await asyncio.gather(*schedules)
            if pending:
                await asyncio.wait(set(pending), timeout=LOAD_TIMEOUT + 5)
            for task in list(pending):  # should not happen: the client gives up first
                task.cancel()
        if len(command) != 4 or command[0] != "end":
            return {}
        idle, send, end = (float(value) for value in command[1:])
        bounds = {"idle": (idle, send), "send": (send, end)}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lags.sort()
        return {
            "phases": {phase: {kind: asdict(Latency.of([(ms, failure) for at, k, ms, failure in records
                                                         if k == kind and low <= at < high]))
                               for kind in KINDS}
                       for phase, (low, high) in bounds.items()},
            "seconds": {phase: high - low for phase, (low, high) in bounds.items()},
            "lag_p99_ms": _percentile(lags, 0.99) * 1000 if lags else 0.0,
            "slow_after_send": sorted(round(at - send, 2) for at, _, ms, _ in records
                                      if send <= at < end and ms > WRITE_LIMIT_MS),
            "generator_cpu": (usage.ru_utime + usage.ru_stime) / max(time.monotonic() - origin, 1e-9),
        }

    print(json.dumps(asyncio.run(main())), flush=True)


class ApiLoad:
    """The load generator, started against a running `breach serve`."""

    def __init__(self, children: Children, base: str, prepared: Prepared) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "--api-load", base,
                prepared.incident_path, prepared.notification_path]
        self.children = children
        self.process = children.start(argv, env={**os.environ, "BENCH_TOKEN": prepared.token},
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise SystemExit(f"bench: error: the API load did not start: {line or 'it exited'}")

    def _say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def go(self) -> None:
        self._say("go")

    def finish(self, idle: float, send: float, end: float, serve_idle_cpu: float) -> LoadReport:
        import json

        assert self.process.stdout is not None
        self._say(f"end {idle!r} {send!r} {end!r}")
        line = self.process.stdout.readline()
        self.stop()
        try:
            found = json.loads(line)
            phases = {phase: {kind: Latency(**found["phases"][phase][kind]) for kind in KINDS}
                      for phase in PHASES}
        except (ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"bench: error: the API load reported {line[:300]!r}: {error}") from None
        return LoadReport(phases, found["seconds"], found["lag_p99_ms"], found["generator_cpu"],
                          serve_idle_cpu, found.get("slow_after_send", []))

    def stop(self) -> None:
        self.children.stop(self.process)


# --- the hand-written script (a process of its own) ------------------------------------------------

HAND_SUBJECT = {
    "en": "Important: a breach of your personal data at {{ org }}",
    "de": "Wichtig: eine Verletzung des Schutzes Ihrer Daten bei {{ org }}",
    "fr": "Important : une violation de vos données personnelles chez {{ org }}",
    "pl": "Ważne: naruszenie ochrony Twoich danych osobowych w {{ org }}",
}
HAND_TEXT = {
    "en": "Dear {{ name }},\n\nOn {{ aware }} we learned that {{ description }}\n\n"
          "What this may mean for you: {{ consequences }}\n\nWhat we did: {{ measures }}\n\n"
          "{{ filler }}\n\nContact our data protection officer, {{ dpo }}, at {{ dpo_email }}.\n"
          "Reference: {{ reference }} ({{ sent }})\n",
    "de": "Guten Tag {{ name }},\n\nam {{ aware }} haben wir erfahren: {{ description }}\n\n"
          "Was das für Sie bedeuten kann: {{ consequences }}\n\nWas wir getan haben: {{ measures }}\n\n"
          "{{ filler }}\n\nIhre Datenschutzbeauftragte, {{ dpo }}, erreichen Sie unter {{ dpo_email }}.\n"
          "Zeichen: {{ reference }} ({{ sent }})\n",
    "fr": "Bonjour {{ name }},\n\nLe {{ aware }}, nous avons appris que {{ description }}\n\n"
          "Ce que cela peut signifier pour vous : {{ consequences }}\n\nCe que nous avons fait : "
          "{{ measures }}\n\n{{ filler }}\n\nContactez notre délégué à la protection des données, "
          "{{ dpo }}, à {{ dpo_email }}.\nRéférence : {{ reference }} ({{ sent }})\n",
    "pl": "Szanowni Państwo, {{ name }},\n\n{{ aware }} dowiedzieliśmy się, że {{ description }}\n\n"
          "Co to może dla Ciebie oznaczać: {{ consequences }}\n\nCo zrobiliśmy: {{ measures }}\n\n"
          "{{ filler }}\n\nSkontaktuj się z naszym inspektorem ochrony danych, {{ dpo }}: "
          "{{ dpo_email }}.\nSygnatura: {{ reference }} ({{ sent }})\n",
}
HAND_HTML = ("<!doctype html>\n<html lang=\"{{ locale }}\"><head><meta charset=\"utf-8\">"
             "<title>{{ subject }}</title></head>\n<body style=\"font-family: sans-serif\">\n"
             "{% for paragraph in text.split('\\n\\n') %}<p>{{ paragraph | replace('\\n', ' ') }}</p>\n"
             "{% endfor %}</body></html>\n")
FILLER = ("If you receive a message that claims to come from us and asks for your password or a "
          "payment, do not answer it and tell us. We will never ask for either by e-mail. ")


def hand_written(people_db: Path, port: int, size: int, use_uvloop: bool) -> None:
    """Send one notice to everyone in `people_db`: what a careful programmer would write by hand.
    Speaks with the benchmark on stdin and stdout: ready, go, done SENT FAILED."""
    import email.utils
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP

    import aiosmtplib
    from babel.dates import format_date, format_datetime
    from jinja2 import Environment

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it
    if use_uvloop:
        import uvloop

        uvloop.install()
    environment = Environment(autoescape=False, keep_trailing_newline=True)
    html_environment = Environment(autoescape=True, keep_trailing_newline=True)
    templates = {locale: (environment.from_string(HAND_SUBJECT[locale]),
                          environment.from_string(HAND_TEXT[locale]),
                          html_environment.from_string(HAND_HTML)) for locale in LOCALES}
    aware = datetime.now(UTC) - timedelta(hours=1)
    zone = ZoneInfo(PROFILE["timezone"])
    common = {locale: {"org": PROFILE["name"], "dpo": PROFILE["dpo"]["name"],
                       "dpo_email": PROFILE["dpo"]["email"], "reference": "BR-2026-0001",
                       "aware": format_date(aware, format="long", locale=locale),
                       **{key: words[locale] for key, words in TEXTS.items()}}
              for locale in LOCALES}
    filler = ""

    def message(number: int, to: str, name: str, locale: str) -> tuple[str, bytes]:
        subject, text, html = templates[locale]
        values = {**common[locale], "name": name, "filler": filler,
                  "sent": format_datetime(datetime.now(UTC), format="medium", locale=locale,
                                          tzinfo=zone)}
        title = subject.render(values)
        body = text.render(values)
        mail = EmailMessage(policy=SMTP)
        mail["From"] = SENDER
        mail["To"] = Address(display_name=name, addr_spec=to)
        mail["Subject"] = title
        mail["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        message_id = f"<hand.{number}@example.com>"
        mail["Message-ID"] = message_id
        mail.set_content(body)
        mail.add_alternative(html.render(subject=title, text=body, locale=locale), subtype="html")
        return message_id, mail.as_bytes()

    samples = list(itertools.islice(people(len(LOCALES) * 5), len(LOCALES) * 5))

    def mean_size() -> float:
        return statistics.mean(len(message(p.number, p.email, p.name, p.locale)[1]) for p in samples)

    if size:  # pad to the product's mean message size
        bare = mean_size()
        filler = FILLER * 20
        per_char = (mean_size() - bare) / len(filler)
        filler = (FILLER * 1000)[:max(0, int((size - bare) / per_char))]

    database = sqlite3.connect(people_db)
    database.execute("DROP TABLE IF EXISTS outcomes")
    database.execute("CREATE TABLE outcomes (person_id INTEGER PRIMARY KEY, state TEXT NOT NULL, "
                     "reply TEXT NOT NULL, message_id TEXT NOT NULL, at TEXT NOT NULL)")
    database.commit()

    async def main() -> tuple[int, int]:
        clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="hand.example.com",
                                   start_tls=False, timeout=60) for _ in range(HAND_CONNECTIONS)]
        await asyncio.gather(*[client.connect() for client in clients])
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        def pages() -> Iterator[tuple[int, str, str, str]]:
            last = -1
            while rows := database.execute("SELECT id, email, name, locale FROM people WHERE id > ? "
                                           "ORDER BY id LIMIT 1000", (last,)).fetchall():
                yield from rows
                last = rows[-1][0]

        queue = pages()
        pending: list[tuple[int, str, str, str, str]] = []
        tally = {"sent": 0, "failed": 0}

        def record(number: int, state: str, reply: str, message_id: str) -> None:
            pending.append((number, state, reply, message_id, datetime.now(UTC).isoformat()))
            tally[state] += 1
            if len(pending) >= COMMIT_EVERY:
                flush()

        def flush() -> None:
            database.executemany("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?)", pending)
            database.commit()
            pending.clear()

        async def work(client: aiosmtplib.SMTP) -> None:
            for number, to, name, locale in queue:
                message_id, data = message(number, to, name, locale)
                for attempt in range(2):
                    try:
                        _, reply = await client.sendmail("privacy@example.com", [to], data)
                        record(number, "sent", reply, message_id)
                        break
                    except aiosmtplib.SMTPRecipientsRefused as refused:
                        record(number, "failed", str(refused), message_id)
                        break
                    except aiosmtplib.SMTPResponseException as exc:
                        if exc.code >= 500 or attempt:
                            record(number, "failed", f"{exc.code} {exc.message}", message_id)
                            break
                    except aiosmtplib.SMTPServerDisconnected:
                        if attempt:
                            record(number, "failed", "disconnected", message_id)
                            break
                        await client.connect()

        await asyncio.gather(*[work(client) for client in clients])
        flush()
        await asyncio.gather(*[client.quit() for client in clients])
        return tally["sent"], tally["failed"]

    sent, failed = asyncio.run(main())
    database.close()
    print(f"done {sent} {failed}", flush=True)
    sys.stdin.read()  # measured before it exits


# --- the report ------------------------------------------------------------------------------------

def _fmt(value: float | None, pattern: str, unit: str = "") -> str:
    return "—" if value is None else format(value, pattern) + unit


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _failed(stats: Latency) -> str:
    if not stats.failures:
        return "0"
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(stats.failed.items()))
    return f"{stats.failures} ({codes})"


def load_line(result: Result) -> str:
    """One line for a round: each phase's p99s and failures, what answering the load cost, and
    the verdict while sending."""
    load = result.load
    assert load is not None
    parts = []
    for phase in PHASES:
        reads, writes = load.phases[phase]["reads"], load.phases[phase]["writes"]
        parts.append(f"{phase} reads p99 {_ms(reads.p99)} ms, writes p99 {_ms(writes.p99)} ms, "
                     f"{reads.failures + writes.failures} failed")
    cost = load.serve_idle_cpu * result.seconds / result.people * 1000
    passed, why = load.verdict("send")
    stalls = load.stalls()
    return (f"{'; '.join(parts)}; answering it took {load.serve_idle_cpu:.0%} of a core while "
            f"idle (≈ {cost:.2f} ms of the product's CPU/message), the generator "
            f"{load.generator_cpu:.0%}{'; requests over 1 s scheduled at ' + stalls if stalls else ''}"
            f" — {'PASS' if passed else 'FAIL: ' + why}")


def load_report(sizes: list[int], results: dict[int, list[Result]]) -> None:
    loaded = [(size, r) for size in sizes for r in results.get(size, []) if r.load is not None]
    if not loaded:
        return
    print()
    print(f"API latency under load ({READ_RATE:.0f} reads/s in turn: incident list, incident, "
          f"notification progress; {WRITE_RATE:.0f} writes/s: notes; open-loop, in ms from each "
          "request's scheduled start):")
    print(f"  {'people':>8}  {'round':>5}  {'phase':<5} {'kind':<6} {'requests':>8} {'p50':>7} "
          f"{'p95':>7} {'p99':>7} {'max':>8} {'> 1 s':>5}  failed")
    for size, result in loaded:
        assert result.load is not None
        for phase in PHASES:
            for kind in KINDS:
                stats = result.load.phases[phase][kind]
                print(f"  {size:>8,}  {result.round_number:>5}  {phase:<5} {kind:<6} "
                      f"{stats.requests:>8,} {_ms(stats.p50):>7} {_ms(stats.p95):>7} "
                      f"{_ms(stats.p99):>7} {_ms(stats.max):>8} {stats.slow:>5}  {_failed(stats)}")
    lag = max(r.load.lag_p99_ms for _, r in loaded if r.load is not None)
    print(f"  (the generator started its requests within {lag:.1f} ms of their schedule, p99; the "
          "product's CPU per message includes answering the load: --no-load leaves it out)")


def report(sizes: list[int], results: dict[int, list[Result]], postfix_note: str, database: str,
           rounds: int, sink: Sink) -> None:
    print()
    print(f"Summary ({database}, {rounds} round(s), sent to the {sink.name} sink; the best rate and "
          "the least CPU per message of each run; peak RSS the highest):")
    print(f"  {'people':>8}  {'run':<13} {'messages/s':>11} {'CPU/message':>12} {'peak RSS':>9}  "
          f"{'1,000,000 people':>16}")
    best: dict[tuple[int, str], tuple[float, float | None, float | None]] = {}
    for size in sizes:
        for run in ("product", "hand-written", "postfix"):
            mine = [r for r in results.get(size, []) if r.run == run]
            if not mine:
                continue
            rate = max(r.rate for r in mine)
            cpus = [r.cpu_ms for r in mine if r.cpu_ms is not None]
            peaks = [r.peak_mb for r in mine if r.peak_mb is not None]
            cpu, peak = (min(cpus) if cpus else None), (max(peaks) if peaks else None)
            best[(size, run)] = (rate, cpu, peak)
            million = timedelta(seconds=round(1_000_000 / rate))
            print(f"  {size:>8,}  {run:<13} {rate:>11,.0f} {_fmt(cpu, '.2f', ' ms'):>12} "
                  f"{_fmt(peak, '.0f', ' MB'):>9}  {million!s:>16}")
    if postfix_note:
        print(f"  postfix: {postfix_note}")
    if sink.name == "postfix":
        print("  (smtp-sink cannot tell mail to the people from other mail: a run is done when "
              "every outcome is committed, and the sink is checked to have accepted as many; "
              "bytes/message are estimated from what it read)")
    load_report(sizes, results)
    print()
    print("Targets (issue 18):")
    for size in sizes:
        product, hand = best.get((size, "product")), best.get((size, "hand-written"))
        postfix = best.get((size, "postfix"))
        if product is None:
            continue
        if hand is not None:
            ratio = product[0] / hand[0]
            print(f"  {size:>8,} people: throughput {ratio:.2f} x the hand-written script "
                  f"(target ≥ 2) {'met' if ratio >= 2 else 'MISSED'}")
            if product[1] is not None and hand[1] is not None:
                ratio = hand[1] / product[1]
                print(f"  {size:>8,} people: CPU per message {product[1]:.2f} ms against "
                      f"{hand[1]:.2f} ms, hand-written / product {ratio:.2f} (target ≥ 2) "
                      f"{'met' if ratio >= 2 else 'MISSED'}")
        if postfix is not None:
            ratio = product[0] / postfix[0]
            print(f"  {size:>8,} people: {ratio:.1%} of Postfix's rate (target ≥ 10 %) "
                  f"{'met' if ratio >= 0.1 else 'MISSED'}")
        minutes = 1_000_000 / product[0] / 60
        print(f"  {size:>8,} people: 1,000,000 people in {minutes:,.0f} min at this rate "
              f"(target < 15) {'met' if minutes < 15 else 'MISSED'}")
    for size in sizes:
        for result in results.get(size, []):
            if result.load is None:
                continue
            sending = result.load.phases["send"]
            passed, why = result.load.verdict("send")
            print(f"  {size:>8,} people, round {result.round_number}: API while sending: reads p99 "
                  f"{_ms(sending['reads'].p99)} ms, writes p99 {_ms(sending['writes'].p99)} ms "
                  f"(target < {LATENCY_TARGET_MS:.0f}); writes failed {sending['writes'].failures}, "
                  f"over 1 s {sending['writes'].slow} (target 0) "
                  f"{'PASS' if passed else 'FAIL: ' + why}")
    if len(sizes) > 1:
        small, large = best.get((sizes[0], "product")), best.get((sizes[-1], "product"))
        if small and large and small[2] and large[2]:
            growth = large[2] / small[2] - 1
            print(f"  memory from {sizes[0]:,} to {sizes[-1]:,} people: {small[2]:.0f} → "
                  f"{large[2]:.0f} MB, {growth:+.0%} (target: flat, within 10 %) "
                  f"{'met' if growth <= 0.10 else 'MISSED'}")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"bench: stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20_000],
                        help="recipients per notice; several sizes run one after another")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip", choices=["hand-written", "postfix"], action="append", default=[],
                        help="leave a baseline out")
    parser.add_argument("--uvloop", action="store_true",
                        help="run the hand-written script on uvloop (breach serve uses it when installed)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of breach serve (BREACH_NAME), e.g. outbox_batch=1000")
    parser.add_argument("--sink", choices=["aiosmtpd", "postfix"],
                        default="postfix" if SMTP_SINK.exists() else "aiosmtpd",
                        help="the SMTP server the product and the hand-written script send to "
                             "(default: Postfix's smtp-sink where installed, else aiosmtpd)")
    parser.add_argument("--no-load", action="store_true",
                        help="do not measure the API's latency under load while the product sends")
    parser.add_argument("--load-idle", type=float, default=LOAD_IDLE_SECONDS, metavar="SECONDS",
                        help="how long the load is measured before the send (default %(default)s)")
    parser.add_argument("--hand-written", nargs=3, metavar=("DB", "PORT", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--api-load", nargs=3, metavar=("BASE", "INCIDENT", "NOTIFICATION"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hand_written:
        people_db, port, size = args.hand_written
        hand_written(Path(people_db), int(port), int(size), args.uvloop)
        return
    if args.api_load:
        api_load(*args.api_load)
        return
    if args.sink == "postfix" and not SMTP_SINK.exists():
        parser.error(f"--sink postfix: {SMTP_SINK} not found (install Debian's postfix package: "
                     "apt-get install --no-install-recommends postfix)")
    if args.load_idle <= 0:
        parser.error("--load-idle takes a number of seconds above 0")
    load_idle = None if args.no_load else args.load_idle

    settings = dict(item.split("=", 1) for item in args.set if "=" in item)
    if len(settings) != len(args.set):
        parser.error("--set takes NAME=VALUE")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="breach-bench-notices-"))
    children = Children()
    sink: Sink | None = None
    database: Database | None = None
    results: dict[int, list[Result]] = {}
    postfix_note = ""
    try:
        database = Database(args.database, workdir)
        sink = PostfixSink(workdir) if args.sink == "postfix" else AiosmtpdSink()
        sink_said = ("Postfix's smtp-sink" if args.sink == "postfix" else "aiosmtpd (uvloop)")
        load_said = ("no API load" if load_idle is None else
                     f"API load {READ_RATE:.0f} reads/s + {WRITE_RATE:.0f} writes/s "
                     f"({load_idle:g} s idle, then while sending)")
        print(f"{args.database}, people in {', '.join(LOCALES)}; {sink_said} sink in its own process; "
              f"{load_said}; {os.cpu_count()} cores; breach serve "
              f"{', '.join(f'{k}={v}' for k, v in settings.items()) or 'at its defaults'}")
        for count in args.people:
            started = time.perf_counter()
            prepared = asyncio.run(prepare(database.fresh(), count, workdir))
            print(f"{count:,} people: an approved notice prepared in {time.perf_counter() - started:.0f} s")
            size = 0
            for round_number in range(1, args.rounds + 1):
                runs: list[Result | str] = []
                product = run_product(prepared, database, sink, children, workdir,
                                      f"{count}-{round_number}", settings, load_idle)
                product.round_number = round_number
                runs.append(product)
                size = size or product.mean_bytes
                if "hand-written" not in args.skip:
                    runs.append(run_hand_written(prepared, sink, children, workdir, size, args.uvloop))
                if "postfix" not in args.skip:
                    runs.append(run_postfix(count, size, children))
                load = os.getloadavg()[0]
                for run in runs:
                    if isinstance(run, str):
                        postfix_note = run
                        print(f"  round {round_number}: postfix       {run}")
                        continue
                    results.setdefault(count, []).append(run)
                    run.round_number = round_number
                    sink_busy = ("" if run.sink_cpu is None else
                                 f", {sink.name} sink core {run.sink_cpu / run.seconds:.0%} busy")
                    if run.queued_seconds is not None:
                        sink_busy += f", send answered in {run.queued_seconds:.1f} s"
                    if run.database_cpu_ms is not None:
                        sink_busy += f", PostgreSQL CPU {run.database_cpu_ms:.2f} ms/message"
                    print(f"  round {round_number}: {run.run:<13} {run.rate:>9,.0f} messages/s "
                          f"({run.seconds:,.1f} s), CPU {_fmt(run.cpu_ms, '.2f', ' ms')}/message, "
                          f"peak RSS {_fmt(run.peak_mb, '.0f', ' MB')}, {run.mean_bytes:,} bytes/message"
                          f"{sink_busy}{', ' + run.note if run.note else ''} (load {load:.1f})",
                          flush=True)
                    if run.load is not None:
                        print(f"  round {round_number}: {'API load':<13} {load_line(run)}",
                              flush=True)
            database.drop(prepared.url)
        report(args.people, results, postfix_note, args.database, args.rounds, sink)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not skip the cleanup
        children.stop_all()
        if sink is not None:
            sink.stop()
        if database is not None:
            database.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
