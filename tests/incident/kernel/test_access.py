"""Who may do what: every route against every role and no credentials; bad credentials, CSRF,
safe sign-in redirects and security headers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.accounts import service as accounts
from incident.accounts.models import ApiToken
from incident.kernel.access import handler_permission, is_public
from incident.kernel.auth import PERMISSIONS, READ_PERMISSIONS, Permission, Role, secret_digest
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from tests.factories import CONSOLE, Person, incident_body, make_person
from tests.incident.accounts.samples import csrf_of, sign_in

P = Permission
EXPECTED: dict[tuple[str, str], Permission | None] = {
    ("GET", "/health"): None,
    ("GET", "/ready"): None,
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("GET", "/login/sso"): None,
    ("GET", "/login/sso/callback"): None,
    ("GET", "/api/v1/incidents"): P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}"): P.READ_INCIDENTS,
    ("PATCH", "/api/v1/incidents/{key:str}"): P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/status"): P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notes"): P.WRITE_INCIDENTS,
    ("PUT", "/api/v1/incidents/{key:str}/circumstances"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/timeline"): P.READ_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/timeline/verify"): P.VERIFY_TIMELINE,
    ("GET", "/api/v1/incidents/{key:str}/timeline/export"): P.READ_INCIDENTS,
    ("GET", "/api/v1/audit/verify"): P.VERIFY_TIMELINE,
    ("GET", "/api/v1/audit/public-key"): P.VERIFY_TIMELINE,
    ("GET", "/api/v1/incidents/{key:str}/evidence-pack"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/runbooks"): P.READ_INCIDENTS,
    ("GET", "/api/v1/runbooks/{runbook_id:str}"): P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/runbooks"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/steps"): P.READ_INCIDENTS,
    ("PATCH", "/api/v1/incidents/{key:str}/steps/{step_row_id:int}"): P.WRITE_INCIDENTS,
    ("PUT", "/api/v1/incidents/{key:str}/steps/{step_row_id:int}/assignee"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/steps/overdue"): P.READ_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/evidence"): P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/evidence"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/evidence/{evidence_id:int}"): P.READ_EVIDENCE,
    ("GET", "/api/v1/systems"): P.READ_INCIDENTS,
    ("PUT", "/api/v1/systems/{key:str}"): P.MANAGE_INVENTORY,
    ("GET", "/api/v1/inventory"): P.READ_INCIDENTS,
    ("POST", "/api/v1/subjects/import"): P.MANAGE_INVENTORY,
    ("PUT", "/api/v1/incidents/{key:str}/scope"): P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/affected"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/affected"): P.READ_PERSONAL_DATA,
    ("GET", "/api/v1/incidents/{key:str}/affected.csv"): P.READ_PERSONAL_DATA,
    ("GET", "/api/v1/incidents/{key:str}/affected/summary"): P.READ_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/affected/snapshots"): P.READ_INCIDENTS,
    ("GET", "/api/v1/organisation"): P.READ_INCIDENTS,
    ("PUT", "/api/v1/organisation"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/incidents/{key:str}/assessment"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/assessment"): P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/assessment/override"): P.APPROVE,
    ("POST", "/api/v1/incidents/{key:str}/assessments/{number:int}/confirm"): P.APPROVE,
    ("PUT", "/api/v1/incidents/{key:str}/milestones"): P.WRITE_INCIDENTS,
    ("PUT", "/api/v1/incidents/{key:str}/parties"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/parties"): P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/parties"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/obligations"): P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/obligations/{regime:str}/{obligation:str}"):
        P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications"): P.READ_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}"): P.READ_INCIDENTS,
    ("PATCH", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}"): P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/preview"):
        P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/approve"): P.APPROVE,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/send"):
        P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/send-preview"):
        P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/test-send"):
        P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/pause"):
        P.WRITE_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/resume"):
        P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/deliveries"):
        P.READ_PERSONAL_DATA,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/bounces"):
        P.READ_INCIDENTS,
    ("GET", "/api/v1/bounces/{report_id:int}/raw"): P.READ_PERSONAL_DATA,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/not-reached"):
        P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/other-contacts"):
        P.WRITE_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/not-reached/"
            "public-communication"): P.READ_INCIDENTS,
    ("GET",
     "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/not-reached/letters.csv"):
        P.READ_PERSONAL_DATA,
    ("GET",
     "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/not-reached/letters.pdf"):
        P.READ_PERSONAL_DATA,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/report.pdf"):
        P.READ_INCIDENTS,
    ("GET", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/sheet"):
        P.READ_INCIDENTS,
    ("POST", "/api/v1/incidents/{key:str}/notifications/{notification_id:int}/submitted"):
        P.WRITE_INCIDENTS,
    ("GET", "/api/v1/me"): P.SELF_SERVICE,
    ("GET", "/api/v1/users"): P.MANAGE_USERS,
    ("GET", "/api/v1/tokens"): P.SELF_SERVICE,
    ("POST", "/api/v1/tokens"): P.SELF_SERVICE,
    ("DELETE", "/api/v1/tokens/{token_id:int}"): P.SELF_SERVICE,
    ("POST", "/api/v1/users"): P.MANAGE_USERS,
    ("PATCH", "/api/v1/users/{user_id:int}"): P.MANAGE_USERS,
    ("POST", "/api/v1/users/{user_id:int}/password-reset"): P.MANAGE_USERS,
    ("GET", "/api/v1/sessions"): P.SELF_SERVICE,
    ("DELETE", "/api/v1/sessions/{session_id:str}"): P.SELF_SERVICE,
    ("GET", "/users"): P.MANAGE_USERS,
    ("POST", "/users"): P.MANAGE_USERS,
    ("POST", "/users/{user_id:int}/role"): P.MANAGE_USERS,
    ("POST", "/users/{user_id:int}/active"): P.MANAGE_USERS,
    ("POST", "/users/{user_id:int}/password-reset"): P.MANAGE_USERS,
    ("GET", "/account"): P.SELF_SERVICE,
    ("POST", "/account/tokens"): P.SELF_SERVICE,
    ("POST", "/account/tokens/{token_id:int}/revoke"): P.SELF_SERVICE,
    ("POST", "/account/sessions/{session_id:str}/revoke"): P.SELF_SERVICE,
    ("DELETE", "/api/v1/users/{user_id:int}/totp"): P.MANAGE_USERS,
    ("POST", "/users/{user_id:int}/totp-reset"): P.MANAGE_USERS,
    ("POST", "/account/totp"): P.SELF_SERVICE,
    ("GET", "/account/totp"): P.SELF_SERVICE,
    ("POST", "/account/totp/confirm"): P.SELF_SERVICE,
    ("GET", "/"): P.READ_INCIDENTS,
    ("GET", "/incidents"): P.READ_INCIDENTS,
    ("GET", "/incidents/new"): P.WRITE_INCIDENTS,
    ("GET", "/inventory"): P.READ_INCIDENTS,
    ("GET", "/inventory/imports/{import_id:str}"): P.MANAGE_INVENTORY,
    ("POST", "/inventory/import"): P.MANAGE_INVENTORY,
    ("GET", "/inventory/systems"): P.READ_INCIDENTS,
    ("POST", "/inventory/systems"): P.MANAGE_INVENTORY,
    ("GET", "/inventory/systems/{key:str}"): P.MANAGE_INVENTORY,
    ("POST", "/inventory/systems/{key:str}"): P.MANAGE_INVENTORY,
    ("POST", "/incidents/{key:str}/scope"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/affected"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/affected"): P.READ_PERSONAL_DATA,
    ("POST", "/incidents"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}"): P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/status"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/notes"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/circumstances"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/runbooks"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/steps/{step_row_id:int}"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/steps/{step_row_id:int}/assignee"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/edit"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/edit"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/evidence"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/notifications"): P.READ_INCIDENTS,
    ("GET", "/incidents/{key:str}/assessment"): P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/assessments/{number:int}/confirm"): P.APPROVE,
    ("POST", "/incidents/{key:str}/notifications"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/notifications/{notification_id:int}"): P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/notifications/{notification_id:int}/preview.html"):
        P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/approve"): P.APPROVE,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/send"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/other-contacts"):
        P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/notifications/{notification_id:int}/public-communication"):
        P.READ_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/test-send"):
        P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/pause"): P.WRITE_INCIDENTS,
    ("POST", "/incidents/{key:str}/notifications/{notification_id:int}/resume"): P.WRITE_INCIDENTS,
    ("GET", "/incidents/{key:str}/notifications/{notification_id:int}/deliveries"):
        P.READ_PERSONAL_DATA,
    ("GET", "/mailbox"): P.READ_PERSONAL_DATA,
    ("GET", "/mailbox/{message_id:int}"): P.READ_PERSONAL_DATA,
    ("GET", "/mailbox/{message_id:int}/body.html"): P.READ_PERSONAL_DATA,
    ("GET", "/reminders"): P.READ_INCIDENTS,
    ("GET", "/api/v1/register"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/register.csv"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/register.pdf"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/compliance"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/compliance.csv"): P.AUDIT_REPORTS,
    ("GET", "/api/v1/compliance.pdf"): P.AUDIT_REPORTS,
    ("GET", "/register"): P.AUDIT_REPORTS,
    ("GET", "/compliance"): P.AUDIT_REPORTS,
    ("GET", "/dashboard"): P.READ_INCIDENTS,
    ("GET", "/regimes"): P.READ_INCIDENTS,
    ("GET", "/setup"): P.READ_INCIDENTS,
    ("POST", "/setup"): P.MANAGE_ORGANISATION,
    ("POST", "/logout"): P.SELF_SERVICE,
    ("GET", "/account/password"): P.SELF_SERVICE,
    ("POST", "/account/password"): P.SELF_SERVICE,
    ("GET", "/api/v1/webhooks/events"): P.MANAGE_ORGANISATION,
    ("GET", "/api/v1/webhooks"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks"): P.MANAGE_ORGANISATION,
    ("GET", "/api/v1/webhooks/{endpoint_id:int}"): P.MANAGE_ORGANISATION,
    ("PATCH", "/api/v1/webhooks/{endpoint_id:int}"): P.MANAGE_ORGANISATION,
    ("DELETE", "/api/v1/webhooks/{endpoint_id:int}"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks/{endpoint_id:int}/rotate"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks/{endpoint_id:int}/pause"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks/{endpoint_id:int}/resume"): P.MANAGE_ORGANISATION,
    ("GET", "/api/v1/webhooks/{endpoint_id:int}/deliveries"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks/{endpoint_id:int}/ping"): P.MANAGE_ORGANISATION,
    ("POST", "/api/v1/webhooks/{endpoint_id:int}/deliveries/{delivery_id:int}/resend"):
        P.MANAGE_ORGANISATION,
    ("GET", "/webhooks"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks"): P.MANAGE_ORGANISATION,
    ("GET", "/webhooks/{endpoint_id:int}"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks/{endpoint_id:int}/rotate"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks/{endpoint_id:int}/pause"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks/{endpoint_id:int}/remove"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks/{endpoint_id:int}/ping"): P.MANAGE_ORGANISATION,
    ("POST", "/webhooks/{endpoint_id:int}/deliveries/{delivery_id:int}/resend"):
        P.MANAGE_ORGANISATION,
}
"""The intended matrix, written out so that a changed guard or a new route fails a test."""

ROLE_CAN = {
    Role.ADMIN: set(Permission),
    Role.RESPONDER: {P.READ_INCIDENTS, P.WRITE_INCIDENTS, P.READ_EVIDENCE, P.READ_PERSONAL_DATA,
                     P.VERIFY_TIMELINE, P.SELF_SERVICE},
    Role.APPROVER: {P.READ_INCIDENTS, P.WRITE_INCIDENTS, P.DISMISS_INCIDENTS, P.APPROVE,
                    P.READ_EVIDENCE, P.READ_PERSONAL_DATA, P.VERIFY_TIMELINE,
                    P.AUDIT_REPORTS, P.SELF_SERVICE},
    Role.AUDITOR: {P.READ_INCIDENTS, P.READ_EVIDENCE, P.VERIFY_TIMELINE, P.AUDIT_REPORTS,
                   P.SELF_SERVICE},
}


def routes(app: Litestar) -> dict[tuple[str, str], Permission | None]:
    found: dict[tuple[str, str], Permission | None] = {}
    for route in app.routes:
        if route.path.startswith(("/schema", "/static")):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method in ("OPTIONS", "HEAD"):
                    continue
                found[(method, route.path)] = (None if is_public(route.path)
                                               else handler_permission(handler))
    return found


def test_every_route_has_the_intended_guard(app: Litestar) -> None:
    assert routes(app) == EXPECTED


def test_roles_grant_the_intended_permissions() -> None:
    assert {role: set(perms) for role, perms in PERMISSIONS.items()} == ROLE_CAN


async def _fixtures(client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
                    people: dict[str, Person]) -> dict[str, str]:
    responder = people["responder"].headers
    created = await client.post("/api/v1/incidents", json=incident_body(), headers=responder)
    reference = created.json()["reference"]
    checklist = await client.post(f"/api/v1/incidents/{reference}/runbooks",
                                  json={"runbook": "lost-device"}, headers=responder)
    step = checklist.json()["steps"][0]["id"]
    evidence = await client.post(f"/api/v1/incidents/{reference}/evidence", headers=responder,
                                 files={"file": ("log.txt", b"wipe confirmed", "text/plain")})
    victim = await make_person(engine, clock, "responder")
    async with session_factory(engine)() as db:
        token = (await db.exec(select(ApiToken).where(
            ApiToken.token_hash == secret_digest(victim.token)))).one()
    return {"{key:str}": reference, "{token_id:int}": str(token.id),
            "{user_id:int}": str(token.user_id), "{session_id:str}": "0" * 64,
            "{runbook_id:str}": "ransomware", "{step_row_id:int}": str(step),
            "{evidence_id:int}": str(evidence.json()["id"]), "{regime:str}": "gdpr",
            "{obligation:str}": "authority", "{notification_id:int}": "1", "{message_id:int}": "1",
            "{number:int}": "1", "{report_id:int}": "1", "{import_id:str}": "0" * 32,
            "{endpoint_id:int}": "1", "{delivery_id:int}": "1"}


def _url(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: values[m.group(0)], path)


async def test_matrix_enforced_for_every_route_role_and_anonymous(
        app: Litestar, client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    values = await _fixtures(client, engine, clock, people)
    failures: list[str] = []
    for (method, path), permission in sorted(EXPECTED.items()):
        url = _url(path, values)
        body: Any = {} if method in ("POST", "PATCH") else None
        if permission is None:
            continue
        anonymous = await client.request(method, url, json=body, follow_redirects=False)
        if path.startswith("/api/"):
            ok = anonymous.status_code == 401 and anonymous.headers["content-type"].startswith(
                "application/problem+json")
        elif method == "GET":
            ok = anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith(
                "/login")
        else:
            ok = anonymous.status_code == 401
        if not ok:
            failures.append(f"anonymous {method} {url} -> {anonymous.status_code}")
        for role in Role:
            response = await client.request(method, url, json=body, follow_redirects=False,
                                            headers=people[role.value].headers)
            allowed = permission in ROLE_CAN[role]
            if allowed and response.status_code in (401, 403):
                failures.append(f"{role} {method} {url} refused: {response.status_code}")
            if not allowed and response.status_code != 403:
                failures.append(f"{role} {method} {url} not refused: {response.status_code}")
    assert failures == []


async def test_public_routes_answer_without_credentials(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/login")).status_code == 200
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/incidents" in schema.json()["paths"]


async def test_bad_credentials_are_401(client: httpx.AsyncClient, engine: AsyncEngine,
                                       clock: FixedClock, people: dict[str, Person]) -> None:
    for header in ("Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "bd_abc",
                   "Bearer bd_" + "x" * 43):
        response = await client.get("/api/v1/incidents", headers={"Authorization": header})
        assert response.status_code == 401, header
    person = people["responder"]
    async with session_factory(engine)() as db:
        tokens = [t.token for t in await accounts.list_tokens(db, clock=clock, actor=CONSOLE,
                                                              email=person.email)]
    async with session_factory(engine)() as db:
        await accounts.revoke_token(db, clock=clock, actor=CONSOLE, token_id=tokens[0].id)  # type: ignore[arg-type]
    revoked = await client.get("/api/v1/incidents", headers=person.headers)
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


async def test_cookie_session_needs_csrf_for_changes(client: httpx.AsyncClient,
                                                     people: dict[str, Person]) -> None:
    person = people["responder"]
    signed = await sign_in(client, person.email, person.password)
    assert signed.status_code in (302, 303)
    assert signed.headers["location"] == "/incidents"
    cookie = signed.cookies.get("breach_session") or client.cookies.get("breach_session")
    assert cookie and "httponly" in signed.headers["set-cookie"].lower()
    listed = await client.get("/api/v1/incidents")
    assert listed.status_code == 200
    refused = await client.post("/api/v1/incidents", json=incident_body())
    assert refused.status_code == 403
    assert refused.json()["type"].endswith(":csrf")
    page = await client.get("/incidents")
    accepted = await client.post("/api/v1/incidents", json=incident_body(),
                                 headers={"X-CSRF-Token": csrf_of(page)})
    assert accepted.status_code == 201
    forged = await client.post(f"/incidents/{accepted.json()['reference']}/notes",
                               data={"text": "forged", "csrf_token": "wrong"})
    assert forged.status_code == 403
    real = await client.post(f"/incidents/{accepted.json()['reference']}/notes",
                             data={"text": "real", "csrf_token": csrf_of(page)},
                             follow_redirects=False)
    assert real.status_code in (302, 303)
    out = await client.post("/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert out.status_code in (302, 303)
    client.cookies.clear()
    client.cookies.set("breach_session", cookie)  # a stolen cookie dies with its session
    assert (await client.get("/api/v1/incidents")).status_code == 401


async def test_login_form_needs_its_own_csrf_token(client: httpx.AsyncClient,
                                                   people: dict[str, Person]) -> None:
    person = people["responder"]
    response = await client.post("/login", data={"email": person.email,
                                                 "password": person.password,
                                                 "csrf_token": "guess"})
    assert response.status_code == 303  # back to a fresh form, which says why
    assert response.headers["location"] == "/login?next=%2F&expired=1"
    assert "breach_session" not in response.cookies
    again = await client.get(response.headers["location"])
    assert "The sign-in form expired; please try again." in again.text
    assert "The sign-in form expired" not in (await client.get("/login")).text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient,
                                                people: dict[str, Person], target: str) -> None:
    person = people["auditor"]
    response = await sign_in(client, person.email, person.password, next_path=target)
    assert response.headers["location"] == "/"


async def test_security_headers_on_pages_and_api(client: httpx.AsyncClient,
                                                 people: dict[str, Person]) -> None:
    for response in (await client.get("/login"),
                     await client.get("/api/v1/incidents", headers=people["auditor"].headers)):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])


async def test_a_read_token_keeps_only_the_read_permissions_on_every_api_route(
        client: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock,
        people: dict[str, Person]) -> None:
    values = await _fixtures(client, engine, clock, people)
    admin = people["admin"]
    async with session_factory(engine)() as db:
        _, secret = await accounts.create_token(db, clock=clock, actor=CONSOLE, email=admin.email,
                                                name="read", scope="read")
    read_only = {"Authorization": f"Bearer {secret}"}
    failures: list[str] = []
    for (method, path), permission in sorted(EXPECTED.items()):
        if permission is None or not path.startswith("/api/"):
            continue
        url = _url(path, values)
        body: Any = {} if method in ("POST", "PATCH") else None
        response = await client.request(method, url, json=body, headers=read_only)
        kept = permission in READ_PERMISSIONS
        if kept and response.status_code in (401, 403):
            failures.append(f"read {method} {url} refused: {response.status_code}")
        if not kept and response.status_code != 403:
            failures.append(f"read {method} {url} not refused: {response.status_code}")
    assert failures == []
