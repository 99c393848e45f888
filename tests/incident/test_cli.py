"""The `breach` command as an operator uses it: real processes, real databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from incident.kernel.db import head_revision

BREACH = str(Path(sys.executable).with_name("breach"))
Run = Callable[..., subprocess.CompletedProcess[str]]


def environment(var_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_VAR_DIR=str(var_dir), BREACH_TIMEZONE="Europe/Warsaw")
    if database_url:
        env["BREACH_DATABASE_URL"] = database_url
    return env


@pytest.fixture
def breach(tmp_path: Path, lane: str, database_url: str) -> Run:
    """Runs `breach …`; on the SQLite lane with no BREACH_DATABASE_URL (the embedded default)."""
    env = environment(tmp_path / "var", database_url if lane == "postgresql" else None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([BREACH, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_users_tokens_and_incidents(breach: Run) -> None:
    created = breach("users", "create", "Dana@Example.com", "--role", "responder")
    password = created.stdout.strip().splitlines()[-1]
    assert len(password) >= 20 and " " not in password
    assert "already exists" in one_line_error(
        breach("users", "create", "dana@example.com", "--role", "auditor", ok=False))
    usage = one_line_error(breach("users", "create", "x@example.com", "--role", "king", ok=False))
    assert "'king' is not one of 'admin'" in usage and "breach users create --help" in usage
    token = breach("tokens", "create", "dana@example.com", "--name", "ci").stdout.splitlines()[-1]
    assert token.startswith("bd_")
    listed = breach("tokens", "list").stdout
    assert "ci" in listed and token not in listed

    reference = breach("incidents", "create", "--title", "Misdirected payroll e-mail",
                       "--kind", "misdirected_email", "--aware-at", "2026-03-10T09:00",
                       "--detected-at", "2026-03-10T08:30", "--category", "financial",
                       "--lead", "dana@example.com").stdout.strip()
    assert reference.startswith("BR-") and reference.endswith("-0001")
    shown = breach("incidents", "show", reference).stdout
    assert "09:00 CET" in shown  # entered and shown in BREACH_TIMEZONE
    assert "dana@example.com" in shown
    breach("incidents", "status", reference, "assessing")
    error = one_line_error(breach("incidents", "status", reference, "closed", ok=False))
    assert error.startswith("breach: error:") and "allowed: contained, dismissed, notifying" in error
    assert "needs a reason" in one_line_error(
        breach("incidents", "status", reference, "dismissed", ok=False))
    breach("incidents", "note", reference, "Recipient confirmed deletion by phone.")
    assert reference in breach("incidents", "list", "--status", "assessing").stdout
    assert breach("incidents", "list", "--status", "closed").stdout == ""
    assert "no incident" in one_line_error(breach("incidents", "show", "BR-1999-0001", ok=False))

    verified = breach("audit", "verify")
    assert f"ok      {reference}: 3 events" in verified.stdout
    exported = breach("audit", "export", reference, "--format", "csv").stdout.splitlines()
    assert exported[0] == "seq,at,actor,kind,payload,prev_hash,hash" and len(exported) == 4


def test_bad_input_is_one_line(breach: Run) -> None:
    for args in (["incidents", "create", "--title", "t", "--kind", "other", "--aware-at", "soon"],
                 ["incidents", "create", "--title", " ", "--kind", "other"],
                 ["incidents", "create", "--title", "t", "--kind", "other",
                  "--aware-at", "2099-01-01T00:00:00Z"],
                 ["tokens", "create", "ghost@example.com"],
                 ["users", "create", "not-an-address", "--role", "auditor"]):
        assert one_line_error(breach(*args, ok=False)).startswith("breach: error:"), args
    assert breach("incidents", "list").stdout == ""  # nothing was half-written


def test_audit_verify_names_the_broken_event(breach: Run, lane: str, tmp_path: Path) -> None:
    if lane != "sqlite":
        pytest.skip("tampering by raw SQL is covered on both lanes in test_tamper.py")
    breach("incidents", "create", "--title", "t", "--kind", "other")
    breach("incidents", "note", "BR-2026-0001", "first")  # the clock decides the year
    import sqlite3

    database = sqlite3.connect(tmp_path / "var" / "breachdesk.sqlite3")
    with database:
        database.execute("DROP TRIGGER timeline_events_no_update")
        database.execute("UPDATE timeline_events SET payload = '{\"text\":\"changed\"}' "
                         "WHERE kind = 'note'")
    database.close()
    done = breach("audit", "verify", ok=False)
    assert "BROKEN  BR-" in done.stdout and "event 2" in done.stdout
    assert done.stderr.strip() == "breach: error: 1 of 1 timelines are broken"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_creates_the_embedded_database_and_answers(tmp_path: Path, lane: str) -> None:
    if lane != "sqlite":
        pytest.skip("the embedded database is SQLite")
    port = free_port()
    env = environment(tmp_path / "var", None)
    server = subprocess.Popen([BREACH, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert ready.json() == {"status": "ready"}
        assert (tmp_path / "var" / "breachdesk.sqlite3").exists()
        secret = tmp_path / "var" / "secret_key"
        assert secret.stat().st_mode & 0o077 == 0
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/incidents").status_code == 401
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert "breach users create" in log  # a new install says how to make the first user
    assert secret.read_text().strip() not in log


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, lane: str,
                                              database_url: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    if lane == "postgresql":
        # An empty database on the same cluster.
        url = database_url.rsplit("/", 1)[0] + "/postgres"
    env = environment(tmp_path / "var", url)
    done = subprocess.run([BREACH, "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Run `breach db upgrade`" in done.stderr
    assert "has no Breachdesk tables" in done.stderr


def test_db_upgrade_then_current(tmp_path: Path, lane: str) -> None:
    if lane != "sqlite":
        pytest.skip("migrations run on PostgreSQL in every PostgreSQL-lane test")
    env = environment(tmp_path / "var", f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
    before = subprocess.run([BREACH, "db", "current"], env=env, capture_output=True, text=True)
    assert "database: empty" in before.stdout
    upgraded = subprocess.run([BREACH, "db", "upgrade"], env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    after = subprocess.run([BREACH, "db", "current"], env=env, capture_output=True, text=True)
    head = head_revision()
    assert f"database: {head}; needed: {head}" in after.stdout


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", None)
    env["BREACH_TIMEZONE"] = "Mars/Olympus"
    done = subprocess.run([BREACH, "incidents", "list"], env=env, capture_output=True, text=True)
    assert one_line_error(done).startswith("breach: error: BREACH_TIMEZONE")
    env["BREACH_TIMEZONE"] = "UTC"
    env["BREACH_DATABASE_URL"] = "mysql://root@localhost/db"
    done = subprocess.run([BREACH, "incidents", "list"], env=env, capture_output=True, text=True)
    assert "BREACH_DATABASE_URL" in one_line_error(done)
