"""Single sign-on in the accounts service: people the identity provider vouches for are made
at their first sign-in, their role follows the provider's claims at each sign-in, no mapped
role means no access, the last admin stays, and passwords can be left to a break-glass admin.
Every outcome is on the organisation timeline."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.kernel.auth import Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Conflict, Unauthenticated
from incident.kernel.settings import Settings
from incident.timeline.models import ORGANISATION_CHAIN
from incident.timeline.service import events, payload_of
from tests.factories import CONSOLE, PASSWORD, Person


async def org_events(engine: AsyncEngine, *kinds: str) -> list[tuple[str, dict[str, Any]]]:
    async with session_factory(engine)() as db:
        return [(e.kind, payload_of(e)) for e in await events(db, ORGANISATION_CHAIN)
                if e.kind in kinds]


async def sso(engine: AsyncEngine, clock: FixedClock, *, subject: str = "sub-1",
              email: str = "ana@example.com", role: Role | None = Role.RESPONDER,
              verified: bool = True) -> accounts.SignedIn:
    async with session_factory(engine)() as db:
        return await accounts.sign_in_sso(db, clock=clock, subject=subject, email=email,
                                          email_verified=verified, name="Ana", role=role,
                                          session_hours=8)


async def test_a_person_is_made_at_first_sign_in_and_their_role_follows_the_provider(
        engine: AsyncEngine, clock: FixedClock) -> None:
    first = await sso(engine, clock, email="Ana@Example.com")
    user = first.user
    assert (user.email, user.role, user.source, user.sso_subject) == (
        "ana@example.com", "responder", "sso", "sub-1")
    assert user.must_change_password is False and user.password_hash == ""
    again = await sso(engine, clock, role=Role.APPROVER)
    assert again.user.id == user.id and again.user.role == "approver"
    assert await org_events(engine, "user_created", "user_role_changed", "signed_in") == [
        ("user_created", {"user_id": user.id, "role": "responder", "source": "sso"}),
        ("signed_in", {"user_id": user.id, "method": "sso"}),
        ("user_role_changed", {"user_id": user.id, "from": "responder", "to": "approver",
                               "by": "sso"}),
        ("signed_in", {"user_id": user.id, "method": "sso"}),
    ]
    # Their password is the provider's: none here to reset, none to sign in with.
    async with session_factory(engine)() as db:
        with pytest.raises(Conflict, match="signs in with the identity provider"):
            await accounts.reset_password(db, clock=clock, actor=CONSOLE, user_id=user.id)
    async with session_factory(engine)() as db:
        with pytest.raises(Unauthenticated):
            await accounts.sign_in(db, clock=clock, email="ana@example.com", password="",
                                   session_hours=8)


async def test_no_mapped_role_is_no_access_and_a_disabled_person_stays_out(
        engine: AsyncEngine, clock: FixedClock) -> None:
    with pytest.raises(accounts.NoAccess, match="no role in Breachdesk"):
        await sso(engine, clock, role=None)
    async with session_factory(engine)() as db:
        assert await accounts.user_by_email(db, "ana@example.com") is None
    made = (await sso(engine, clock)).user
    async with session_factory(engine)() as db:
        await accounts.set_active(db, clock=clock, actor=CONSOLE, user_id=made.id,
                                  active=False)
    with pytest.raises(accounts.NoAccess, match="disabled"):
        await sso(engine, clock)
    failed = await org_events(engine, "sign_in_failed")
    assert [(p["reason"], p["user_id"], p["method"]) for _, p in failed] == [
        ("no_role", None, "sso"), ("disabled", made.id, "sso")]


async def test_an_existing_account_is_linked_only_by_a_verified_address_and_the_last_admin_stays(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person]) -> None:
    admin = people["admin"].email
    with pytest.raises(accounts.NoAccess, match="exists already"):
        await sso(engine, clock, email=admin, role=Role.ADMIN, verified=False)
    linked = (await sso(engine, clock, email=admin, role=Role.ADMIN)).user
    assert (linked.source, linked.sso_subject, linked.role) == ("local", "sub-1", "admin")
    # Another subject claiming the same (now linked) address is refused.
    with pytest.raises(accounts.NoAccess, match="exists already"):
        await sso(engine, clock, subject="sub-2", email=admin, role=Role.ADMIN)
    # The only active admin: the provider's demotion is refused, not obeyed.
    with pytest.raises(accounts.NoAccess, match="last active admin"):
        await sso(engine, clock, email=admin, role=Role.AUDITOR)
    async with session_factory(engine)() as db:
        assert (await accounts.user_by_email(db, admin)).role == "admin"  # type: ignore[union-attr]
    reasons = [p["reason"] for _, p in await org_events(engine, "sign_in_failed")]
    assert reasons == ["address_taken", "address_taken", "last_admin"]


async def test_with_passwords_off_only_the_break_glass_admin_signs_in_with_one(
        engine: AsyncEngine, clock: FixedClock, people: dict[str, Person]) -> None:
    admin, responder = people["admin"], people["responder"]
    off = {"local_sign_in": False, "break_glass": admin.email, "provider": "Example ID"}
    async with session_factory(engine)() as db:
        with pytest.raises(Unauthenticated, match="sign in with Example ID"):
            await accounts.sign_in(db, clock=clock, email=responder.email, password=PASSWORD,
                                   session_hours=8, **off)  # type: ignore[arg-type]
    async with session_factory(engine)() as db:
        with pytest.raises(Unauthenticated, match="e-mail or password is wrong"):
            await accounts.sign_in(db, clock=clock, email=responder.email, password="wrong",
                                   session_hours=8, **off)  # type: ignore[arg-type]
    async with session_factory(engine)() as db:
        signed = await accounts.sign_in(db, clock=clock, email=admin.email, password=PASSWORD,
                                        session_hours=8, **off)  # type: ignore[arg-type]
    assert isinstance(signed, accounts.SignedIn)
    recorded = await org_events(engine, "sign_in_failed", "signed_in")
    assert [(k, p.get("reason"), p.get("break_glass")) for k, p in recorded] == [
        ("sign_in_failed", "passwords_off", None), ("sign_in_failed", "password", None),
        ("signed_in", None, True)]


def test_the_settings_refuse_a_half_set_up_single_sign_on() -> None:
    with pytest.raises(ValidationError, match="BREACH_OIDC_CLIENT_ID"):
        Settings(oidc_issuer="https://id.example.com")
    with pytest.raises(ValidationError, match="not value:role"):
        Settings(oidc_issuer="https://id.example.com", oidc_client_id="b",
                 oidc_roles="admins:boss")
    with pytest.raises(ValidationError, match="needs single sign-on"):
        Settings(local_sign_in="off")
    assert Settings(oidc_issuer="https://id.example.com", oidc_client_id="b",
                    oidc_roles="admins:admin", local_sign_in="off",
                    break_glass="root@example.com").single_sign_on
