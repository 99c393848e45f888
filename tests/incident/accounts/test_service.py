"""Use cases for people and their credentials: tokens, disabling, throttled sign-in, one-time
passwords."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.accounts import service as accounts
from incident.accounts.models import ApiToken
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Conflict
from incident.kernel.held import HeldForm
from tests.factories import CONSOLE, Person
from tests.incident.accounts.samples import csrf_of, sign_in, sign_in_refused


async def test_a_disabled_users_token_stops_working(client: httpx.AsyncClient, engine: AsyncEngine,
                                                    clock: FixedClock,
                                                    people: dict[str, Person]) -> None:
    person = people["approver"]
    assert (await client.get("/api/v1/incidents", headers=person.headers)).status_code == 200
    async with session_factory(engine)() as db:
        await accounts.set_active(db, clock=clock, actor=CONSOLE, email=person.email, active=False)
    assert (await client.get("/api/v1/incidents", headers=person.headers)).status_code == 401


async def test_tokens_are_shown_once_and_stored_as_hashes(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    person = people["auditor"]
    created = await client.post("/api/v1/tokens", json={"name": "laptop"}, headers=person.headers)
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = (await client.get("/api/v1/tokens", headers=person.headers)).json()
    assert {t["name"] for t in listed} == {"tests", "laptop"}
    assert all("token" not in t for t in listed)
    async with session_factory(engine)() as db:
        stored = (await db.exec(select(ApiToken.token_hash))).all()
    assert secret not in stored and all(secret not in h for h in stored)
    new = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=new)).json()["email"] == person.email
    token_id = created.json()["id"]
    other = people["responder"]
    assert (await client.delete(f"/api/v1/tokens/{token_id}", headers=other.headers)
            ).status_code == 404
    assert (await client.delete(f"/api/v1/tokens/{token_id}", headers=person.headers)
            ).status_code == 200
    assert (await client.get("/api/v1/me", headers=new)).status_code == 401


async def test_repeated_failures_are_throttled(client: httpx.AsyncClient, clock: FixedClock,
                                               people: dict[str, Person]) -> None:
    person = people["approver"]
    for _ in range(accounts.FREE_FAILURES - 1):
        assert "password" in await sign_in_refused(client, person.email, "wrong password!")
    blocked = await sign_in_refused(client, person.email, "wrong password!")
    assert not blocked.startswith("Too many")
    assert (await sign_in_refused(client, person.email, person.password)).startswith(
        "Too many failed sign-ins")
    unknown = [await sign_in_refused(client, "nobody@example.com", "x") for _ in range(6)]
    assert unknown[-1].startswith("Too many")  # unknown addresses are throttled alike
    clock.advance(timedelta(seconds=31))
    assert (await sign_in(client, person.email, person.password)).status_code in (302, 303)


async def test_one_time_password_must_be_changed_first(client: httpx.AsyncClient,
                                                       engine: AsyncEngine,
                                                       clock: FixedClock) -> None:
    async with session_factory(engine)() as db:
        _, one_time = await accounts.create_user(db, clock=clock, actor=CONSOLE,
                                                 email="new@example.com", role="responder")
    signed = await sign_in(client, "new@example.com", one_time)
    assert signed.headers["location"] == "/account/password"
    api = await client.get("/api/v1/incidents")
    assert api.status_code == 403
    assert api.json()["type"].endswith(":password-change-required")
    page = await client.get("/account/password")
    short = await client.post("/account/password", data={
        "csrf_token": csrf_of(page), "current_password": one_time, "new_password": "short",
        "new_password_again": "short"}, follow_redirects=False)
    assert short.status_code == 303
    assert short.headers["location"] == "/account/password#password-error"
    async with session_factory(engine)() as db:  # why is kept for the page, no password
        [held] = (await db.exec(select(HeldForm))).all()
    assert set(held.held) == {"error"} and one_time not in str(held.held)
    shown = await client.get(short.headers["location"])
    assert 'id="password-error">' in shown.text and one_time not in shown.text
    done = await client.post("/account/password", data={
        "csrf_token": csrf_of(page), "current_password": one_time,
        "new_password": "a much longer passphrase", "new_password_again": "a much longer passphrase"},
        follow_redirects=False)
    assert done.status_code in (302, 303)
    assert (await client.get("/api/v1/incidents")).status_code == 200


async def test_two_bootstraps_at_once_make_one_admin(engine: AsyncEngine, clock: FixedClock) -> None:
    """The check that no user exists runs under a lock in the inserting transaction."""
    bootstrap = Actor(label="bootstrap:ops", role=Role.ADMIN, via="cli")

    async def create(email: str) -> str:
        async with session_factory(engine)() as db:
            try:
                await accounts.create_user(db, clock=clock, actor=bootstrap, email=email,
                                           role="admin", first=True)
            except Conflict as refused:
                return refused.detail
            return "created"

    outcomes = await asyncio.gather(create("a@example.com"), create("b@example.com"))
    assert sorted(outcomes) == ["created",
                                "there are users already: act as one of them to create more"]
    async with session_factory(engine)() as db:
        assert await accounts.count_users(db) == 1
