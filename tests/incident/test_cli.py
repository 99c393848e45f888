"""The `breach` command as an operator uses it: in-process on both lanes, plus a few real
processes (the console script, `serve`, migrations, settings from the environment)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from incident.kernel.db import head_revision
from incident.kernel.settings import Settings
from tests.cli_support import Breach, breach, one_line_error  # noqa: F401  (fixture)

BREACH = str(Path(sys.executable).with_name("breach"))


def test_users_tokens_and_incidents(breach: Breach) -> None:  # noqa: F811
    created = breach("users", "create", "Dana@Example.com", "--role", "responder")
    password = created.stdout.strip().splitlines()[-1]
    assert len(password) >= 20 and " " not in password
    assert "already exists" in breach.error("users", "create", "dana@example.com",
                                            "--role", "auditor")
    usage = breach.error("users", "create", "x@example.com", "--role", "king")
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
    error = breach.error("incidents", "status", reference, "closed")
    assert error.startswith("breach: error:") and "allowed: contained, dismissed, notifying" in error
    assert "needs a reason" in breach.error("incidents", "status", reference, "dismissed")
    breach("incidents", "note", reference, "Recipient confirmed deletion by phone.")
    assert reference in breach("incidents", "list", "--status", "assessing").stdout
    assert breach("incidents", "list", "--status", "closed").stdout == ""
    assert "no incident" in breach.error("incidents", "show", "BR-1999-0001")

    verified = breach("audit", "verify")
    assert f"ok      {reference}: 3 events" in verified.stdout
    exported = breach("audit", "export", reference, "--format", "csv").stdout.splitlines()
    assert exported[0] == "seq,at,actor,kind,payload,prev_hash,hash" and len(exported) == 4


def test_bad_input_is_one_line(breach: Breach) -> None:  # noqa: F811
    for args in (["incidents", "create", "--title", "t", "--kind", "other", "--aware-at", "soon"],
                 ["incidents", "create", "--title", " ", "--kind", "other"],
                 ["incidents", "create", "--title", "t", "--kind", "other",
                  "--aware-at", "2099-01-01T00:00:00Z"],
                 ["incidents", "note", "BR-2026-0001", "  "],
                 ["tokens", "create", "ghost@example.com"],
                 ["users", "create", "not-an-address", "--role", "auditor"]):
        assert breach.error(*args).startswith("breach: error:"), args
    assert breach("incidents", "list").stdout == ""  # nothing was half-written


def test_audit_verify_names_the_broken_event(breach: Breach, lane: str,  # noqa: F811
                                             settings: Settings) -> None:
    if lane != "sqlite":
        pytest.skip("tampering by raw SQL is covered on both lanes in timeline/test_service.py")
    reference = breach("incidents", "create", "--title", "t", "--kind", "other").stdout.strip()
    assert reference == "BR-2026-0001"  # the clock decides the year
    breach("incidents", "note", reference, "first")
    database = sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    with database:
        database.execute("DROP TRIGGER timeline_events_no_update")
        database.execute("UPDATE timeline_events SET payload = '{\"text\":\"changed\"}' "
                         "WHERE kind = 'note'")
    database.close()
    done = breach("audit", "verify", ok=False)
    assert f"BROKEN  {reference}: event 2: its content does not match its hash" in done.stdout
    assert done.stderr.strip() == "breach: error: 1 of 2 timelines do not hold"
    assert json.loads(breach("audit", "verify", "--incident", reference, "--json",
                             ok=False).stdout)["chains"][0]["first_bad_seq"] == 2


# --- the console script itself, in real processes ----------------------------------------------

def environment(var_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACH_")}
    env.update(BREACH_VAR_DIR=str(var_dir), BREACH_TIMEZONE="Europe/Warsaw")
    if database_url:
        env["BREACH_DATABASE_URL"] = database_url
    return env


def script(*args: str, env: dict[str, str], cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BREACH, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_help_and_version_need_no_settings(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    env["BREACH_TIMEZONE"] = "Mars/Olympus"  # never read: nothing here touches the settings
    shown = script("--help", env=env)
    assert shown.returncode == 0 and "--as EMAIL" in shown.stdout and "incidents" in shown.stdout
    assert "BREACH_USER" in shown.stdout
    version = script("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("breach, version ")
    listed = script("incidents", "--help", env=env).stdout.splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  runbook ")] == ["runbook"]
    assert not (tmp_path / "var").exists()


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    nowhere = tmp_path / "no" / "such" / "folder" / "breach.sqlite3"
    done = script("--as", "you@example.com", "incidents", "list",
                  env=environment(tmp_path / "var", f"sqlite+aiosqlite:///{nowhere}"))
    assert done.returncode == 1
    assert done.stderr == (f"breach: error: the database at sqlite+aiosqlite:///{nowhere} "
                           f"cannot be opened: its folder {nowhere.parent} does not exist\n")
    refused = script("--as", "you@example.com", "incidents", "list",
                     env=environment(tmp_path / "var", "postgresql+asyncpg://breach:s3cret@"
                                                       f"127.0.0.1:{free_port()}/breach"))
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "s3cret" not in refused.stderr and "breach:***@" in refused.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_creates_the_embedded_database_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = environment(tmp_path / "var")
    server = subprocess.Popen([BREACH, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "`breach serve` did not answer within 30 s"
                # Between probes, wait on the process itself: one that exits is reported at once.
                try:
                    server.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                raise AssertionError(server.communicate()[1]) from None
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
    done = script("serve", "--port", str(free_port()), env=environment(tmp_path / "var", url))
    assert done.returncode == 1  # after the start's own log lines, one error line
    assert done.stderr.strip().splitlines()[-1].startswith("breach: error: the database has no "
                                                           "Breachdesk tables")
    assert "Run `breach db upgrade`" in done.stderr


def test_commands_refuse_an_unmigrated_database(breach: Breach, tmp_path: Path,  # noqa: F811
                                                settings: Settings) -> None:
    empty = settings.model_copy(update={
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.sqlite3'}"})
    assert "has no Breachdesk tables" in breach.error("incidents", "list", settings=empty)


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    env = environment(tmp_path / "var", f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert "database: empty" in script("db", "current", env=env).stdout
    upgraded = script("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    head = head_revision()
    assert f"database: {head}; needed: {head}" in script("db", "current", env=env).stdout


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    env["BREACH_TIMEZONE"] = "Mars/Olympus"
    done = script("--as", "dana@example.com", "incidents", "list", env=env)
    assert done.returncode == 1
    assert one_line_error_of(done).startswith("breach: error: BREACH_TIMEZONE")
    env["BREACH_TIMEZONE"] = "UTC"
    env["BREACH_DATABASE_URL"] = "mysql://root@localhost/db"
    done = script("--as", "dana@example.com", "incidents", "list", env=env)
    assert "BREACH_DATABASE_URL" in one_line_error_of(done)
    usage = script("incidents", "list", "--limit", "0", env=env)
    assert usage.returncode == 2 and "breach incidents list --help" in one_line_error_of(usage)


def one_line_error_of(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
