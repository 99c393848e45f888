"""Least privilege for API tokens: read and write scopes, expiry, auditors' read-only tokens,
disabled owners, the log line of each use, and the migration that gave old tokens a scope."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.accounts.models import ApiToken
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission, Role, TokenScope
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory, upgrade
from incident.kernel.errors import Forbidden
from tests import pgcluster
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import CONSOLE, Person, incident_body

# --- the rule, pure -------------------------------------------------------------------------------

def test_a_read_scope_keeps_only_reading_of_its_role() -> None:
    for role in Role:
        actor = Actor(label="x", role=role, user_id=1, via="token", scope=TokenScope.READ)
        assert actor.permissions == auth.PERMISSIONS[role] & auth.READ_PERMISSIONS
        assert not actor.can(Permission.WRITE_INCIDENTS)
        assert Actor(label="x", role=role, via="token", scope=TokenScope.WRITE
                     ).permissions == auth.PERMISSIONS[role]
    assert auth.READ_PERMISSIONS.isdisjoint({Permission.WRITE_INCIDENTS, Permission.APPROVE,
                                             Permission.MANAGE_USERS, Permission.MANAGE_INVENTORY,
                                             Permission.MANAGE_ORGANISATION,
                                             Permission.DISMISS_INCIDENTS})


def test_auditors_hold_read_tokens_and_others_write_by_default() -> None:
    assert auth.default_scope(Role.AUDITOR) is TokenScope.READ
    assert auth.allowed_scopes(Role.AUDITOR) == {TokenScope.READ}
    assert auth.effective_scope(Role.AUDITOR, TokenScope.WRITE) is TokenScope.READ
    for role in (Role.ADMIN, Role.RESPONDER, Role.APPROVER):
        assert auth.default_scope(role) is TokenScope.WRITE
        assert auth.effective_scope(role, TokenScope.READ) is TokenScope.READ


def test_a_read_token_is_told_why_it_may_not_write() -> None:
    actor = Actor(label="x", role=Role.RESPONDER, user_id=1, via="token", scope=TokenScope.READ)
    with pytest.raises(Forbidden, match="read-scoped API token may not write incidents"):
        auth.require(actor, Permission.WRITE_INCIDENTS)
    with pytest.raises(Forbidden, match="role auditor may not write incidents"):
        auth.require(Actor(label="x", role=Role.AUDITOR), Permission.WRITE_INCIDENTS)


# --- over the API, on both lanes -----------------------------------------------------------------

def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_a_read_token_reads_but_may_not_write(client: httpx.AsyncClient,
                                                    people: dict[str, Person]) -> None:
    person = people["responder"]
    created = await client.post("/api/v1/tokens", json={"name": "dashboard", "scope": "read"},
                                headers=person.headers)
    assert created.status_code == 201 and created.json()["scope"] == "read"
    read_only = bearer(created.json()["token"])
    assert (await client.get("/api/v1/incidents", headers=read_only)).status_code == 200
    refused = await client.post("/api/v1/incidents", json=incident_body(), headers=read_only)
    assert refused.status_code == 403
    assert "read-scoped API token may not write incidents" in refused.json()["detail"]
    # The owner's write token still writes; the read token never mints a wider token.
    assert (await client.post("/api/v1/incidents", json=incident_body(),
                              headers=person.headers)).status_code == 201
    wider = await client.post("/api/v1/tokens", json={"name": "more", "scope": "write"},
                              headers=read_only)
    assert wider.status_code == 403
    assert "may create only read-scoped tokens" in wider.json()["detail"]
    narrow = await client.post("/api/v1/tokens", json={"name": "more"}, headers=read_only)
    assert narrow.status_code == 201 and narrow.json()["scope"] == "read"
    assert (await client.get("/api/v1/me", headers=read_only)).json()["email"] == person.email


async def test_an_expired_token_fails_like_a_revoked_one(client: httpx.AsyncClient,
                                                         clock: FixedClock,
                                                         people: dict[str, Person]) -> None:
    person = people["approver"]
    until = (clock.now() + timedelta(hours=1)).isoformat()
    created = await client.post("/api/v1/tokens", json={"name": "ci", "expires_at": until},
                                headers=person.headers)
    assert created.status_code == 201 and created.json()["scope"] == "write"
    short = bearer(created.json()["token"])
    assert (await client.get("/api/v1/incidents", headers=short)).status_code == 200
    clock.advance(timedelta(hours=1))
    expired = await client.get("/api/v1/incidents", headers=short)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    listed = {t["name"]: t for t in
              (await client.get("/api/v1/tokens", headers=person.headers)).json()}
    assert (listed["ci"]["state"], listed["ci"]["active"]) == ("expired", False)
    assert (listed["tests"]["state"], listed["tests"]["active"]) == ("active", True)
    past = await client.post("/api/v1/tokens", json={"name": "old", "expires_at": until},
                             headers=person.headers)
    assert past.status_code == 422 and "expires_at" in past.text


async def test_an_auditor_may_not_hold_a_write_token(client: httpx.AsyncClient,
                                                     engine: AsyncEngine, clock: FixedClock,
                                                     people: dict[str, Person]) -> None:
    auditor = people["auditor"]
    refused = await client.post("/api/v1/tokens", json={"name": "w", "scope": "write"},
                                headers=auditor.headers)
    assert refused.status_code == 403
    assert "may hold only read-scoped tokens" in refused.json()["detail"]
    async with session_factory(engine)() as db:
        user = await accounts.user_by_email(db, auditor.email)
        assert user is not None
        user_id = user.id
        await db.commit()  # end the read: a use case opens its own transaction
        # Signed in (no token scope), an auditor gets a read token by default.
        made, _ = await accounts.create_token(db, clock=clock, email=None, name="r",
                                              actor=accounts.user_actor(user, "session"))
        assert made.scope == "read"
        with pytest.raises(Forbidden):
            await accounts.create_token(db, clock=clock, actor=CONSOLE, email=auditor.email,
                                        name="w", scope="write")
    # A write token stored for an auditor (a role changed later, a hand-made row) acts read-only.
    secret = auth.generate_token()
    async with session_factory(engine)() as db:
        db.add(ApiToken(user_id=user_id, name="legacy", prefix=secret[:10],  # type: ignore[arg-type]
                        token_hash=auth.secret_digest(secret), scope="write",
                        created_at=clock.now()))
        await db.commit()
    async with session_factory(engine)() as db:
        actor = await accounts.actor_for_token(db, clock=clock, secret=secret)
    assert actor is not None and actor.scope is TokenScope.READ
    assert (await client.get("/api/v1/incidents", headers=bearer(secret))).status_code == 200


async def test_a_disabled_users_tokens_are_listed_inactive_and_refused(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    person = people["responder"]
    async with session_factory(engine)() as db:
        await accounts.set_active(db, clock=clock, actor=CONSOLE, email=person.email,
                                  active=False)
    assert (await client.get("/api/v1/incidents", headers=person.headers)).status_code == 401
    async with session_factory(engine)() as db:
        listed = await accounts.list_tokens(db, clock=clock, actor=CONSOLE, email=person.email)
    assert [t.state for t in listed] == ["user disabled"]
    async with session_factory(engine)() as db:
        await accounts.set_active(db, clock=clock, actor=CONSOLE, email=person.email, active=True)
    active = (await client.get("/api/v1/tokens", headers=person.headers)).json()
    assert [(t["state"], t["active"]) for t in active] == [("active", True)]


async def test_each_token_use_is_logged_by_id_never_by_secret(
        client: httpx.AsyncClient, people: dict[str, Person],
        caplog: pytest.LogCaptureFixture) -> None:
    person = people["auditor"]
    own = (await client.get("/api/v1/tokens", headers=person.headers)).json()
    caplog.set_level(logging.INFO, logger="breachdesk.tokens")
    caplog.clear()
    assert (await client.get("/api/v1/incidents", headers=person.headers)).status_code == 200
    used = [r for r in caplog.records if r.name == "breachdesk.tokens"]
    assert len(used) == 1
    fields = used[0].fields  # type: ignore[attr-defined]
    assert fields["token_id"] == own[0]["id"] and fields["user_id"] == own[0]["user_id"]
    assert fields["path"] == "/api/v1/incidents"
    for record in caplog.records:
        assert person.token not in record.getMessage()
        assert person.token not in repr(getattr(record, "fields", {}))


# --- at the command line -------------------------------------------------------------------------

def test_tokens_are_created_with_a_scope_and_expiry_and_listed_by_state(
        breach: Breach, clock: FixedClock) -> None:  # noqa: F811
    auditor = breach.person("auditor")
    responder = breach.person("responder")
    assert "may hold only read-scoped tokens" in breach.error(
        "tokens", "create", auditor, "--scope", "write")
    made = breach("tokens", "create", auditor, "--name", "audit").stdout
    assert ", read)" in made
    made = breach("tokens", "create", responder, "--name", "ci", "--expires-in", "7").stdout
    assert ", write, expires " in made
    breach("tokens", "create", responder, "--name", "ro", "--scope", "read",
           "--expires-at", "2099-01-01T00:00")
    listed = {t["name"]: t for t in breach.json("tokens", "list")}
    assert (listed["audit"]["scope"], listed["ci"]["scope"], listed["ro"]["scope"]) == (
        "read", "write", "read")
    assert listed["ci"]["expires_at"] == str(clock.now() + timedelta(days=7))
    clock.advance(timedelta(days=8))
    breach("users", "disable", auditor)
    lines = breach("tokens", "list").stdout.splitlines()
    states = {line.split("\t")[2]: line.split("\t")[-1] for line in lines}
    assert states == {"audit": "user disabled", "ci": "expired", "ro": "active"}


# --- the migration that gave every token a scope -------------------------------------------------

def test_tokens_made_before_scopes_become_write_tokens_without_expiry(
        lane: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    insert = ("INSERT INTO users (id, email, name, role, password_hash, must_change_password, "
              "active, created_at) VALUES (7, 'old@example.com', '', 'responder', '', false, "
              "true, '2026-01-01 00:00:00');",
              "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) "
              "VALUES (3, 7, 'old', 'bd_abcdefg', 'ab12', '2026-01-01 00:00:00');")
    select = "SELECT scope, expires_at FROM api_tokens WHERE id = 3"
    if lane == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
        upgrade(url, "0006")
        with sqlite3.connect(tmp_path / "old.sqlite3") as connection:
            for statement in insert:
                connection.execute(statement.replace("false", "0").replace("true", "1"))
        upgrade(url, "head")
        with sqlite3.connect(tmp_path / "old.sqlite3") as connection:
            assert connection.execute(select).fetchall() == [("write", None)]
        return
    pg: pgcluster.Cluster | None = request.getfixturevalue("pg")
    if pg is None:
        pytest.skip(f"PostgreSQL lane: {pgcluster.unavailable_reason()}")
    name = f"old_{uuid.uuid4().hex[:8]}"
    pg.psql(f"CREATE DATABASE {name}")
    try:
        upgrade(pg.url(name), "0006")
        pg.psql(*insert, database=name)
        upgrade(pg.url(name), "head")
        assert pg.psql(f"COPY ({select}) TO STDOUT", database=name).strip() == "write\t\\N"
    finally:
        pg.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.parametrize("token_id", ["99999999999999999999", str(2**63), "0", "-1"])
async def test_revoking_a_token_id_no_column_holds_is_a_clean_refusal(
        client: httpx.AsyncClient, people: dict[str, Person], token_id: str) -> None:
    response = await client.delete(f"/api/v1/tokens/{token_id}", headers=people["admin"].headers)
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_cli_refuses_a_token_id_no_column_holds(breach: Breach) -> None:  # noqa: F811
    done = breach("tokens", "revoke", "99999999999999999999", ok=False)
    assert done.exit_code == 2 and "99999999999999999999" in done.stderr
