"""How each person signs in is shown wherever people are listed: the API (`sign_in`,
`break_glass`, beside `source`) and `breach users list`, under the service's own settings:
a local password, single sign-on (made at first sign-in, or linked), the break-glass admin."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.app import create_app
from incident.containment.runbooks import Catalogue
from incident.kernel.auth import Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.settings import Settings
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)
from tests.factories import Person, client_for


def with_single_sign_on(settings: Settings, break_glass: str) -> Settings:
    """The settings of an organisation whose people sign in with its provider."""
    return Settings.model_validate(settings.model_dump() | {
        "oidc_issuer": "https://id.example.com/realms/acme", "oidc_client_id": "breachdesk",
        "oidc_roles": "breach-responders:responder", "local_sign_in": "off",
        "break_glass": break_glass})


async def by_provider(engine: AsyncEngine, clock: FixedClock, email: str, subject: str) -> None:
    """`email` signs in once with the identity provider (made, or linked by that address)."""
    async with session_factory(engine)() as db:
        await accounts.sign_in_sso(db, clock=clock, subject=subject, email=email,
                                   email_verified=True, name="", role=Role.RESPONDER,
                                   session_hours=8)


def shown(listed: list[dict[str, Any]]) -> dict[str, tuple[str, list[str], bool]]:
    return {u["email"]: (u["source"], u["sign_in"], u["break_glass"]) for u in listed}


async def test_the_api_says_how_each_person_signs_in_under_the_services_settings(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock, settings: Settings,
        people: dict[str, Person], catalogue: Catalogue) -> None:
    admin, responder = people["admin"], people["responder"]
    await by_provider(engine, clock, "ana@example.com", "sub-ana")  # made at first sign-in
    await by_provider(engine, clock, responder.email, "sub-rui")   # a local account, linked

    # Passwords on, no provider set up here: the passwords are the way in.
    listed = shown((await client.get("/api/v1/users", headers=admin.headers)).json())
    assert listed[admin.email] == ("local", ["password"], False)
    assert listed[responder.email] == ("local", ["password"], False)
    assert listed["ana@example.com"] == ("sso", [], False)

    # The same people where the provider is set up and passwords are off but for one admin.
    sso_app = create_app(with_single_sign_on(settings, admin.email), clock=clock,
                         engine=engine, catalogue=catalogue)
    async with client_for(sso_app) as sso_client:
        listed = shown((await sso_client.get("/api/v1/users", headers=admin.headers)).json())
        me = (await sso_client.get("/api/v1/me", headers=admin.headers)).json()
    assert listed[admin.email] == ("local", ["password"], True)
    assert listed[responder.email] == ("local", ["sso"], False)
    assert listed[people["approver"].email] == ("local", ["sso"], False)  # linked at first
    assert listed["ana@example.com"] == ("sso", ["sso"], False)
    assert (me["sign_in"], me["break_glass"]) == (["password"], True)


async def test_breach_users_list_says_how_each_person_signs_in(
        breach: Breach, engine: AsyncEngine, clock: FixedClock,  # noqa: F811
        settings: Settings) -> None:
    responder = await asyncio.to_thread(breach.person, "responder")
    await by_provider(engine, clock, "ana@example.com", "sub-ana")

    async def run(*args: str, **options: Any) -> Result:
        return await asyncio.to_thread(breach, *args, **options)

    lines = (await run("users", "list")).stdout.splitlines()
    assert lines == ["admin@example.com\tadmin\tactive\tlocal password",
                     f"{responder}\tresponder\tactive\tlocal password",
                     "ana@example.com\tresponder\tactive\tnone here: no password, and single "
                     "sign-on is not set up"]

    sso = with_single_sign_on(settings, "admin@example.com")
    lines = (await run("users", "list", settings=sso)).stdout.splitlines()
    assert lines == [
        "admin@example.com\tadmin\tactive\tlocal password; break-glass admin (a password "
        "while passwords are off)",
        f"{responder}\tresponder\tactive\tsingle sign-on (SSO), linked at first sign-in",
        "ana@example.com\tresponder\tactive\tsingle sign-on (SSO): made at first sign-in, "
        "role from the identity provider"]
    listed = json.loads((await run("users", "list", "--json", settings=sso)).stdout)
    assert [(u["email"], u["source"], u["sign_in"], u["break_glass"]) for u in listed] == [
        ("admin@example.com", "local", ["password"], True),
        (responder, "local", ["sso"], False),
        ("ana@example.com", "sso", ["sso"], False)]
