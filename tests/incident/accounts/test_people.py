"""People and roles: creating users, changing roles, disabling, password resets started by an
admin, and sessions; each change on the organisation timeline; the last admin stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.accounts import service as accounts
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Conflict, Forbidden, NotFound
from incident.timeline.models import ORGANISATION_CHAIN
from incident.timeline.service import events, payload_of
from tests.factories import CONSOLE, Person
from tests.incident.accounts.samples import csrf_of, sign_in, sign_in_refused


async def org_events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with session_factory(engine)() as db:
        return [payload_of(e) | {"actor": e.actor} for e in await events(db, ORGANISATION_CHAIN)
                if e.kind == kind]


async def user_id(engine: AsyncEngine, email: str) -> int:
    async with session_factory(engine)() as db:
        user = await accounts.user_by_email(db, email)
    assert user is not None and user.id is not None
    return user.id


async def test_an_admin_creates_a_user_over_the_api_and_changes_their_role(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    admin = people["admin"].headers
    bad = await client.post("/api/v1/users", json={"email": "x@example.com", "role": "boss"},
                            headers=admin)
    assert bad.status_code in (400, 422)
    refused = await client.post("/api/v1/users", json={"email": "x@example.com",
                                                       "role": "auditor"},
                                headers=people["approver"].headers)
    assert refused.status_code == 403
    created = await client.post("/api/v1/users", json={"email": "Kim@Example.com",
                                                        "role": "auditor", "name": "Kim"},
                                headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "kim@example.com" and body["must_change_password"] is True
    assert len(body["password"]) >= 12
    again = await client.post("/api/v1/users", json={"email": "kim@example.com",
                                                     "role": "auditor"}, headers=admin)
    assert again.status_code == 409

    changed = await client.patch(f"/api/v1/users/{body['id']}", json={"role": "approver"},
                                 headers=admin)
    assert changed.json()["role"] == "approver"
    assert await org_events(engine, "user_role_changed") == [
        {"user_id": body["id"], "from": "auditor", "to": "approver",
         "actor": people["admin"].email}]
    listed = (await client.get("/api/v1/users", headers=admin)).json()
    assert {"kim@example.com", people["admin"].email} <= {u["email"] for u in listed}


async def test_the_last_admin_can_be_neither_demoted_nor_disabled(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    admin = people["admin"]
    me = await user_id(engine, admin.email)
    demote = await client.patch(f"/api/v1/users/{me}", json={"role": "responder"},
                                headers=admin.headers)
    assert demote.status_code == 409
    assert "last active admin" in demote.json()["detail"]
    disable = await client.patch(f"/api/v1/users/{me}", json={"active": False},
                                 headers=admin.headers)
    assert disable.status_code == 409
    async with session_factory(engine)() as db:
        with pytest.raises(Conflict):
            await accounts.set_active(db, clock=clock, actor=CONSOLE, email=admin.email,
                                      active=False)
    # With a second admin, either may step down, but not both.
    second = await user_id(engine, people["responder"].email)
    assert (await client.patch(f"/api/v1/users/{second}", json={"role": "admin"},
                               headers=admin.headers)).status_code == 200
    assert (await client.patch(f"/api/v1/users/{me}", json={"role": "approver"},
                               headers=admin.headers)).status_code == 200
    async with session_factory(engine)() as db:
        with pytest.raises(Conflict):
            await accounts.set_role(db, clock=clock, actor=CONSOLE, user_id=second,
                                    role="auditor")
    assert await org_events(engine, "user_disabled") == []


async def test_a_role_and_a_disabling_in_one_request_happen_together_or_not_at_all(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    admin = people["admin"]
    me = await user_id(engine, admin.email)
    # The only admin, demoted and disabled at once: refused whole, nothing recorded.
    both = await client.patch(f"/api/v1/users/{me}", json={"role": "auditor", "active": False},
                              headers=admin.headers)
    assert both.status_code == 409, both.text
    mine = (await client.get("/api/v1/me", headers=admin.headers)).json()
    assert mine["role"] == "admin" and mine["active"] is True
    assert await org_events(engine, "user_role_changed") == []
    assert await org_events(engine, "user_disabled") == []
    # Another person, both at once: one answer, both events.
    other = await user_id(engine, people["responder"].email)
    done = await client.patch(f"/api/v1/users/{other}", json={"role": "auditor",
                                                              "active": False},
                              headers=admin.headers)
    assert done.status_code == 200, done.text
    assert (done.json()["role"], done.json()["active"]) == ("auditor", False)
    assert await org_events(engine, "user_role_changed") == [
        {"user_id": other, "from": "responder", "to": "auditor", "actor": admin.email}]
    assert await org_events(engine, "user_disabled") == [
        {"user_id": other, "actor": admin.email}]


async def test_an_admin_resets_a_forgotten_password(
        client: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, Person]) -> None:
    person = people["responder"]
    assert (await sign_in(client, person.email, person.password)).status_code in (302, 303)
    assert (await client.get("/api/v1/incidents")).status_code == 200
    target = await user_id(engine, person.email)
    not_allowed = await client.post(f"/api/v1/users/{target}/password-reset",
                                    headers=people["approver"].headers)
    assert not_allowed.status_code == 403
    reset = await client.post(f"/api/v1/users/{target}/password-reset",
                              headers=people["admin"].headers)
    assert reset.status_code == 200
    one_time = reset.json()["password"]
    assert reset.json()["user"]["must_change_password"] is True
    assert (await client.get("/api/v1/incidents")).status_code == 401  # the session ended
    client.cookies.clear()
    assert "password" in await sign_in_refused(client, person.email, person.password)
    signed = await sign_in(client, person.email, one_time)
    assert signed.headers["location"] == "/account/password"
    assert await org_events(engine, "password_reset") == [
        {"user_id": target, "actor": people["admin"].email}]


async def test_sessions_are_listed_and_ended_by_their_owner_or_an_admin(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    person = people["approver"]
    await sign_in(client, person.email, person.password)
    page = await client.get("/account")
    assert page.status_code == 200
    mine = (await client.get("/api/v1/sessions")).json()
    assert [s["email"] for s in mine] == [person.email]
    everyone = await client.get("/api/v1/sessions?all=true")
    assert everyone.status_code == 403
    session_id = mine[0]["id"]
    other = people["responder"]
    assert (await client.delete(f"/api/v1/sessions/{session_id}",
                                headers=other.headers)).status_code == 404
    async with session_factory(engine)() as db:
        listed = await accounts.list_sessions(db, clock=clock, actor=CONSOLE, all_users=True)
    assert [s.id for s in listed] == [session_id]
    async with session_factory(engine)() as db:
        with pytest.raises(Forbidden):
            await accounts.list_sessions(db, clock=clock, actor=accounts.user_actor(
                await accounts.user_by_email(db, other.email), "session"), all_users=True)  # type: ignore[arg-type]
    ended = await client.post(f"/account/sessions/{session_id}/revoke",
                              data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert ended.status_code == 303
    assert (await client.get("/api/v1/incidents")).status_code == 401
    assert await org_events(engine, "session_revoked") == [
        {"user_id": await user_id(engine, person.email), "actor": person.email}]
    async with session_factory(engine)() as db:
        with pytest.raises(NotFound):
            await accounts.revoke_session(db, clock=clock, actor=CONSOLE, session_id=session_id)


async def test_admins_list_everyones_tokens_and_others_only_their_own(
        client: httpx.AsyncClient, people: dict[str, Person]) -> None:
    everyone = (await client.get("/api/v1/tokens?all=true",
                                 headers=people["admin"].headers)).json()
    assert len(everyone) == len(people)
    refused = await client.get("/api/v1/tokens?all=true", headers=people["auditor"].headers)
    assert refused.status_code == 403
    own = (await client.get("/api/v1/tokens", headers=people["auditor"].headers)).json()
    assert len(own) == 1
