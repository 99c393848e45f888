"""The second factor (RFC 6238 TOTP) of the web sign-in: set up from one's account, confirmed
by a first code, asked for after the password, never accepted twice, required for the roles
BREACH_REQUIRE_TOTP_FOR names, and reset by an admin."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pyotp
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.accounts import totp
from incident.accounts.models import User
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Invalid, TooManyAttempts, Unauthenticated
from incident.kernel.settings import Settings
from tests.factories import CONSOLE, Person
from tests.incident.accounts.test_people import org_events, user_id

KEY = "a secret key for the tests"


async def actor_of(engine: AsyncEngine, email: str) -> Actor:
    async with session_factory(engine)() as db:
        user = await accounts.user_by_email(db, email)
    assert user is not None
    return accounts.user_actor(user, "session")


async def stored(engine: AsyncEngine, email: str) -> User:
    async with session_factory(engine)() as db:
        user = await accounts.user_by_email(db, email)
    assert user is not None
    return user


async def sign_in(engine: AsyncEngine, clock: FixedClock, person: Person,
                  roles: frozenset[str] = frozenset()
                  ) -> accounts.SignedIn | accounts.SecondFactorNeeded:
    async with session_factory(engine)() as db:
        return await accounts.sign_in(db, clock=clock, email=person.email,
                                      password=person.password, session_hours=1,
                                      totp_roles=roles, key=KEY)


async def with_code(engine: AsyncEngine, clock: FixedClock, pending: accounts.SecondFactorNeeded,
                    code: str) -> accounts.SignedIn:
    async with session_factory(engine)() as db:
        return await accounts.sign_in_with_code(db, clock=clock, user_id=pending.user_id,
                                                proof=pending.proof, code=code, key=KEY,
                                                session_hours=1)


async def test_set_up_confirmed_by_a_first_code_then_asked_for_at_every_sign_in(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person]) -> None:
    person = people["responder"]
    actor = await actor_of(engine, person.email)
    async with session_factory(engine)() as db:
        await accounts.begin_totp(db, clock=clock, actor=actor, key=KEY)
    async with session_factory(engine)() as db:
        secret = await accounts.pending_totp(db, actor=actor, key=KEY)
    assert secret is not None
    assert isinstance(await sign_in(engine, clock, person), accounts.SignedIn)  # not yet on
    app = pyotp.TOTP(secret)
    wrong = f"{(int(app.at(clock.now())) + 1) % 1_000_000:06d}"
    async with session_factory(engine)() as db:
        with pytest.raises(Invalid):
            await accounts.confirm_totp(db, clock=clock, actor=actor, key=KEY, code=wrong)
    async with session_factory(engine)() as db:
        await accounts.confirm_totp(db, clock=clock, actor=actor, key=KEY,
                                    code=app.at(clock.now()))
    row = await stored(engine, person.email)
    assert row.totp_enabled_at is not None and row.totp_pending is None
    assert row.totp_secret is not None and secret not in row.totp_secret  # sealed
    assert totp.unseal(row.totp_secret, KEY) == secret
    async with session_factory(engine)() as db:  # never shown again
        assert await accounts.pending_totp(db, actor=actor, key=KEY) is None
    assert await org_events(engine, "totp_enrolled") == [
        {"user_id": row.id, "actor": person.email}]

    pending = await sign_in(engine, clock, person)
    assert isinstance(pending, accounts.SecondFactorNeeded) and pending.enrol_secret is None
    # RFC 6238 §5.2: a verifier must not accept the second attempt of the same OTP.
    with pytest.raises(Unauthenticated, match="used already"):
        await with_code(engine, clock, pending, app.at(clock.now()))
    with pytest.raises(Unauthenticated, match="code is wrong"):
        await with_code(engine, clock, pending, "12345")
    clock.advance(timedelta(seconds=30))
    signed = await with_code(engine, clock, pending, app.at(clock.now()))
    assert signed.user.email == person.email
    # A code one step old is still taken (a clock slightly off), once.
    clock.advance(timedelta(seconds=30))
    again = await sign_in(engine, clock, person)
    assert isinstance(again, accounts.SecondFactorNeeded)
    with pytest.raises(Unauthenticated, match="used already"):
        await with_code(engine, clock, again, app.at(clock.now() - timedelta(seconds=30)))
    await with_code(engine, clock, again, app.at(clock.now()))


async def test_wrong_codes_are_throttled_and_a_password_reset_voids_a_waiting_sign_in(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person]) -> None:
    person = people["approver"]
    pending = await sign_in(engine, clock, person, frozenset({"approver"}))
    assert isinstance(pending, accounts.SecondFactorNeeded)
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(Unauthenticated):
            await with_code(engine, clock, pending, "000000")
    with pytest.raises(TooManyAttempts):
        await with_code(engine, clock, pending, "000000")
    async with session_factory(engine)() as db:
        await accounts.reset_password(db, clock=clock, actor=CONSOLE,
                                      user_id=await user_id(engine, person.email))
    assert pending.enrol_secret is not None
    with pytest.raises(Unauthenticated, match="expired"):
        await with_code(engine, clock, pending, pyotp.TOTP(pending.enrol_secret).at(clock.now()))


async def test_a_role_that_requires_it_sets_it_up_at_sign_in(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person]) -> None:
    person = people["approver"]
    first = await sign_in(engine, clock, person, frozenset({"admin", "approver"}))
    assert isinstance(first, accounts.SecondFactorNeeded) and first.enrol_secret
    second = await sign_in(engine, clock, person, frozenset({"admin", "approver"}))
    assert isinstance(second, accounts.SecondFactorNeeded)
    assert second.enrol_secret == first.enrol_secret  # the same, until confirmed
    signed = await with_code(engine, clock, second,
                             pyotp.TOTP(first.enrol_secret).at(clock.now()))
    assert signed.user.totp_enabled_at is not None
    assert isinstance(await sign_in(engine, clock, people["responder"],
                                    frozenset({"admin", "approver"})), accounts.SignedIn)


async def test_an_admin_resets_a_lost_second_factor(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    person = people["auditor"]
    pending = await sign_in(engine, clock, person, frozenset({"auditor"}))
    assert isinstance(pending, accounts.SecondFactorNeeded) and pending.enrol_secret
    await with_code(engine, clock, pending, pyotp.TOTP(pending.enrol_secret).at(clock.now()))
    target = await user_id(engine, person.email)
    assert (await client.delete(f"/api/v1/users/{target}/totp",
                                headers=people["approver"].headers)).status_code == 403
    me = (await client.get("/api/v1/me", headers=person.headers)).json()
    assert me["totp_enabled_at"] is not None and "totp_secret" not in me
    reset = await client.delete(f"/api/v1/users/{target}/totp", headers=people["admin"].headers)
    assert reset.status_code == 200 and reset.json()["totp_enabled_at"] is None
    assert await org_events(engine, "totp_reset") == [
        {"user_id": target, "actor": people["admin"].email}]
    assert isinstance(await sign_in(engine, clock, person), accounts.SignedIn)


def test_the_setting_names_roles() -> None:
    assert Settings(require_totp_for="admin, approver").totp_roles == {"admin", "approver"}
    # The setting names the roles without importing them: every role is accepted.
    assert Settings(require_totp_for=",".join(Role)).totp_roles == set(Role)
    with pytest.raises(ValidationError, match="unknown role boss"):
        Settings(require_totp_for="admin,boss")
