"""Sign-in, sign-out, the password pages; one's own account (sessions, API tokens); and, for
admins, the people page (users and roles, one-time passwords, everyone's sessions and tokens).

Every change goes through the accounts service the API uses, so the same rules hold, and is
sent back to its page (303) with a line saying what was done. A refused form is sent back to
its page too, which then shows the message beside the form and what was typed, once
(incident.kernel.pages.send_back); passwords and codes are never kept, so they come back
empty. On the sign-in page, which has no session yet, what is kept is bound to the sign-in
form's own cookie. A new one-time password or API token is the one exception: it is shown
in the answer to the form that made it, once, since keeping it for a later page would mean
storing the secret.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery, PathParameter
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts import rules, totp
from incident.accounts import service as accounts
from incident.accounts.schemas import sign_in_of
from incident.accounts.sso import OidcClient, Pending, SsoRefused
from incident.kernel import auth
from incident.kernel.access import CSRF_FIELD, SESSION_COOKIE, requires
from incident.kernel.auth import Actor, Permission, Role, TokenScope
from incident.kernel.clock import Clock
from incident.kernel.errors import Conflict, DomainError, Invalid, TooManyAttempts, Unauthenticated
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import held_for, refusal_sentence, render_page, send_back
from incident.kernel.params import RowId
from incident.kernel.settings import Settings

SessionId = Annotated[str, PathParameter(max_length=64)]
Sso: TypeAlias = NamedDependency[OidcClient | None]
"""The identity provider's client (incident/plugin.py), None where single sign-on is off."""

DONE = {
    "role": "The role was changed.",
    "disabled": "The user was disabled: their sessions ended and their API tokens stopped working.",
    "enabled": "The user was enabled again.",
    "session": "The session was ended.",
    "token": "The API token was revoked: requests with it are refused from now on.",
    "totp": "Your second factor is set up: signing in asks for a code from your app.",
    "totp-reset": "The second factor was reset: they sign in with their password alone, or "
                  "set up a new one at their next sign-in if their role requires it.",
}
"""What a page says after a change it was sent back from (`?done=`)."""

LOGIN_CSRF_COOKIE = "breach_login_csrf"
SECOND_STEP_COOKIE = "breach_login_second"
"""A sign-in whose password was right and which waits for its code: the user, a proof tied to
their password, and when it expires, signed with the secret key."""
SECOND_STEP_SECONDS = 300


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` and `https://…` would leave it."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"  # the home page: the incident list, or the set-up while it is unfinished
    return target


class SignInController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                         settings: Config, next: FromQuery[str | None] = None,
                         step: FromQuery[str | None] = None,
                         expired: FromQuery[str | None] = None) -> Template:
        """The sign-in form; with `step=code`, the code form of the sign-in waiting for one.
        After a refusal, why (once), and the e-mail address as typed."""
        target = _safe_next(next)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        held = await held_for(request, db, clock, owner=_login_owner(cookie)) if cookie else {}
        error = held.get("error") or (FORM_EXPIRED if expired else None)
        if step == "code":
            pending = _second_step(request, settings, clock)
            if pending is None:
                return self._again(request, target, SIGN_IN_EXPIRED, 200)
            try:
                state = await accounts.second_factor(db, user_id=pending[0], proof=pending[1],
                                                     key=settings.secret_key,
                                                     totp_roles=settings.totp_roles)
            except Unauthenticated as stale:
                return self._again(request, target, refusal_sentence(stale), 200)
            return self._ask_code(request, target, state, held.get("code_error"), "", 200)
        return self._again(request, target, error, 200, email=str(held.get("email", "")))

    @get("/login/sso")
    async def sso_start(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                        settings: Config, sso: Sso,
                        next: FromQuery[str | None] = None) -> Response[Any]:
        """Leave for the identity provider, carrying (signed, in a cookie only the way back
        reads) the state, nonce and PKCE verifier the answer must match."""
        if sso is None:
            return self._again(request, "/incidents", "Single sign-on is not set up here.", 404)
        try:
            url, pending = await sso.begin(_safe_next(next))
        except SsoRefused as exc:
            await accounts.record_sso_failure(db, clock=clock, reason=exc.reason)
            return _refused(request, settings, str(exc), 502)
        expires = int(clock.now().timestamp()) + SSO_SECONDS
        value = ".".join([pending.state, pending.nonce, pending.verifier,
                          base64.urlsafe_b64encode(pending.next.encode()).decode().rstrip("="),
                          str(expires)])
        response: Response[Any] = Redirect(url, status_code=303)
        response.cookies.append(Cookie(key=SSO_COOKIE, value=auth.sign(value, _sso_key(settings)),
                                       httponly=True, samesite="lax",
                                       secure=settings.secure_cookies, path="/login/sso",
                                       max_age=SSO_SECONDS))
        return response

    @get("/login/sso/callback")
    async def sso_callback(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                           settings: Config, sso: Sso) -> Response[Any]:
        """Back from the identity provider: check, sign in (or say why not), forget the
        pending sign-in either way. (`state` is read from the query by hand: Litestar keeps
        that name for its own app state.)"""
        query = request.query_params
        code, state, error = (str(query.get(name) or "")[:2048]
                              for name in ("code", "state", "error"))
        if sso is None:
            return self._again(request, "/incidents", "Single sign-on is not set up here.", 404)
        pending = _pending(request, settings, clock.now().timestamp())
        try:
            if pending is None:
                raise SsoRefused("state", "The sign-in expired or did not start in this "
                                 "browser. Start again.")
            if error:
                shown = "".join(c for c in error[:60] if c.isalnum() or c in "_-")
                raise SsoRefused("provider", f"The identity provider did not sign you in "
                                 f"({shown}).")
            identity = await sso.finish(pending=pending, state=state, code=code)
        except SsoRefused as exc:
            await accounts.record_sso_failure(db, clock=clock, reason=exc.reason)
            return _refused(request, settings, str(exc),
                            502 if exc.reason == "unreachable" else 401)
        role = rules.mapped_role(identity.claims, settings.oidc_role_claim,
                                 rules.parse_role_mapping(settings.oidc_roles))
        try:
            signed_in = await accounts.sign_in_sso(
                db, clock=clock, subject=identity.subject, email=identity.email,
                email_verified=identity.email_verified, name=identity.name, role=role,
                session_hours=settings.session_hours)
        except accounts.NoAccess as exc:
            return _refused(request, settings, refusal_sentence(exc), 403, no_access=True)
        response = self._signed_in(signed_in, pending.next, settings)
        response.cookies.append(Cookie(key=SSO_COOKIE, value="", max_age=0, path="/login/sso"))
        return response

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                    settings: Config) -> Response[Any]:
        form = await request.form()
        target = _safe_next(str(form.get("next") or ""))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
            # Nothing is kept for a form that did not come from the page: the page says why.
            return Redirect(f"/login?{urlencode({'next': target, 'expired': '1'})}",
                            status_code=303)
        if form.get("step") == "code":
            return await self._code(request, db, clock, settings, target,
                                    str(form.get("code", ""))[:40])
        email = str(form.get("email", ""))
        try:
            outcome = await accounts.sign_in(db, clock=clock, email=email,
                                             password=str(form.get("password", "")),
                                             session_hours=settings.session_hours,
                                             totp_roles=settings.totp_roles,
                                             key=settings.secret_key,
                                             local_sign_in=settings.local_sign_in == "on",
                                             break_glass=settings.break_glass,
                                             provider=settings.oidc_provider_name)
        except (Unauthenticated, TooManyAttempts) as exc:
            return await self._back(request, db, clock, target, error=refusal_sentence(exc),
                                    email=email)
        if isinstance(outcome, accounts.SecondFactorNeeded):
            expires = int(clock.now().timestamp()) + SECOND_STEP_SECONDS
            pending = auth.sign(f"{outcome.user_id}-{outcome.proof}-{expires}",
                                settings.secret_key)
            response: Response[Any] = Redirect(
                f"/login?{urlencode({'next': target, 'step': 'code'})}", status_code=303)
            response.cookies.append(Cookie(key=SECOND_STEP_COOKIE, value=pending, httponly=True,
                                           samesite="strict", secure=settings.secure_cookies,
                                           path="/login", max_age=SECOND_STEP_SECONDS))
            return response
        return self._signed_in(outcome, target, settings)

    async def _code(self, request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                    settings: Settings, target: str, code: str) -> Response[Any]:
        """The second step: the code, for the sign-in the pending cookie names. A wrong code
        is sent back to the code form (the code itself is not kept)."""
        pending = _second_step(request, settings, clock)
        if pending is None:
            return await self._back(request, db, clock, target, error=SIGN_IN_EXPIRED)
        user_id, proof = pending
        try:
            signed_in = await accounts.sign_in_with_code(
                db, clock=clock, user_id=user_id, proof=proof, code=code,
                key=settings.secret_key, session_hours=settings.session_hours,
                local_sign_in=settings.local_sign_in == "on")
        except TooManyAttempts as exc:
            return await self._back(request, db, clock, target, error=refusal_sentence(exc))
        except Unauthenticated as exc:
            if exc.extensions.get("field") != "code":
                return await self._back(request, db, clock, target,
                                        error=refusal_sentence(exc))
            return await self._back(request, db, clock, target, step="code",
                                    code_error=refusal_sentence(exc))
        response = self._signed_in(signed_in, target, settings)
        response.cookies.append(Cookie(key=SECOND_STEP_COOKIE, value="", max_age=0,
                                       path="/login"))
        return response

    def _signed_in(self, signed_in: accounts.SignedIn, target: str,
                   settings: Settings) -> Response[Any]:
        destination = "/account/password" if signed_in.user.must_change_password else target
        response = Redirect(destination)
        response.cookies.append(Cookie(
            key=SESSION_COOKIE, value=auth.sign(signed_in.cookie_secret, settings.secret_key),
            httponly=True, samesite="lax", secure=settings.secure_cookies, path="/",
            max_age=settings.session_hours * 3600))
        response.cookies.append(Cookie(key=LOGIN_CSRF_COOKIE, value="", max_age=0, path="/login"))
        return response

    async def _back(self, request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                    target: str, *, step: str | None = None, **held: Any) -> Response[Any]:
        """Back to the sign-in page (or its code form, `step`) with why the sign-in was
        refused, kept for this browser's next sign-in form (a new one, bound to its cookie)."""
        token = secrets.token_urlsafe(24)
        query = {"next": target, **({"step": step} if step else {})}
        response = await send_back(request, db, clock, f"/login?{urlencode(query)}",
                                   owner=_login_owner(token), **held)
        response.cookies.append(_login_cookie(token))
        return response

    def _ask_code(self, request: Request[Any, Any, Any], target: str,
                  state: accounts.SecondFactorNeeded, error: str | None, typed: str,
                  status: int) -> Template:
        token = secrets.token_urlsafe(24)
        enrol = state.enrol_secret
        page = render_page(request, "login.html", status=status, next=target, login_csrf=token,
                           error=None, code_error=error, code=typed,
                           **_sign_in_options(request),
                           second={"email": state.email, "secret": totp.grouped(enrol) if enrol
                                   else None,
                                   "uri": totp.provisioning_uri(enrol, state.email) if enrol
                                   else None})
        page.cookies.append(_login_cookie(token))
        return page

    def _again(self, request: Request[Any, Any, Any], target: str, error: str | None,
               status: int, email: str = "") -> Template:
        token = secrets.token_urlsafe(24)
        page = render_page(request, "login.html", status=status, next=target, login_csrf=token,
                           error=error, email=email, **_sign_in_options(request))
        page.cookies.append(_login_cookie(token))
        return page


FORM_EXPIRED = "The sign-in form expired; please try again."
SIGN_IN_EXPIRED = "The sign-in expired; enter your e-mail and password again."


def _login_owner(token: str) -> str:
    """Whom a refused sign-in's message is kept for: the browser holding the sign-in form's
    cookie `token` (a digest of it: the token itself is a secret)."""
    return f"l:{auth.secret_digest(token)}"


def _second_step(request: Request[Any, Any, Any], settings: Settings,
                 clock: Clock) -> tuple[int, str] | None:
    """The sign-in waiting for its code that the pending cookie names (user id, proof), while
    it has not expired."""
    signed = request.cookies.get(SECOND_STEP_COOKIE, "")
    value = auth.unsign(signed, settings.secret_key) if signed else None
    parts = value.split("-") if value else []
    if (len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit()
            or int(parts[2]) < clock.now().timestamp()):
        return None
    return int(parts[0]), parts[1]


SSO_COOKIE = "breach_sso"
"""A sign-in gone to the identity provider: its state, nonce, PKCE verifier, where to go
after, and until when, signed with a key of its own derived from the secret key."""
SSO_SECONDS = 600


def _sso_key(settings: Settings) -> str:
    return f"{settings.secret_key}:single-sign-on"


def _pending(request: Request[Any, Any, Any], settings: Settings, now: float) -> Pending | None:
    signed = request.cookies.get(SSO_COOKIE, "")
    value = auth.unsign(signed, _sso_key(settings)) if signed else None
    parts = value.split(".") if value else []
    if len(parts) != 5 or not parts[4].isdigit() or int(parts[4]) < now:
        return None
    try:
        target = base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)).decode()
    except ValueError:
        return None
    return Pending(state=parts[0], nonce=parts[1], verifier=parts[2], next=_safe_next(target))


def _sign_in_options(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the sign-in page offers: the identity provider's button (when set up) and the
    password form (for everyone, or only the break-glass admin)."""
    settings: Settings = request.app.state["settings"]
    return {"sso": settings.oidc_provider_name if settings.single_sign_on else None,
            "passwords": settings.local_sign_in == "on"}


def _refused(request: Request[Any, Any, Any], settings: Settings, message: str, status: int,
             *, no_access: bool = False) -> Template:
    """The page of a sign-in with the identity provider that opened no session."""
    page = render_page(request, "login_refused.html", status=status, message=message,
                       no_access=no_access, provider=settings.oidc_provider_name)
    page.cookies.append(Cookie(key=SSO_COOKIE, value="", max_age=0, path="/login/sso"))
    return page


def _login_cookie(token: str) -> Cookie:
    return Cookie(key=LOGIN_CSRF_COOKIE, value=token, httponly=True, samesite="strict",
                  path="/login", max_age=3600)


class AccountPages(Controller):
    path = "/"
    include_in_schema = False
    guards = [requires(Permission.SELF_SERVICE)]

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any], db: Db,
                     settings: Config) -> Redirect:
        signed = request.cookies.get(SESSION_COOKIE, "")
        secret = auth.unsign(signed, settings.secret_key)
        if secret:
            await accounts.sign_out(db, secret=secret)
        response = Redirect("/login")
        response.cookies.append(Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"))
        return response

    @get("/account/password")
    async def password_form(self, request: Request[Any, Any, Any], db: Db,
                            clock: Now) -> Template:
        """The form; after a refusal, why (the passwords typed are never kept)."""
        error = (await held_for(request, db, clock)).get("error")
        return render_page(request, "password.html", error=error, done=False)

    @post("/account/password")
    async def change_password(self, request: Request[Any, Any, Any], db: Db,
                              clock: Now, actor: Who) -> Response[Any]:
        form = await request.form()
        new, again = str(form.get("new_password", "")), str(form.get("new_password_again", ""))
        if new != again:
            return await send_back(request, db, clock, "/account/password#password-error",
                                   error="The two new passwords differ.")
        try:
            await accounts.change_password(db, clock=clock, actor=actor,
                                           current=str(form.get("current_password", "")), new=new)
        except Invalid as exc:
            return await send_back(request, db, clock, "/account/password#password-error",
                                   error=exc.detail)
        return Redirect("/")


def _field_errors(exc: DomainError) -> dict[str, str]:
    """A refusal's messages by field (`errors` of an Invalid); a Conflict about an e-mail
    address or a role belongs to that field too."""
    errors = {e["field"]: e["message"] for e in exc.extensions.get("errors") or []}
    if not errors:
        errors["form"] = refusal_sentence(exc)
    return errors


def _back(target: str, done: str) -> Redirect:
    return Redirect(f"{target}?{urlencode({'done': done})}", status_code=303)


def _origin(form: Any) -> str:
    """Where a revoke form came from: the people page or one's own account page."""
    return "/users" if str(form.get("from", "")) == "/users" else "/account"


async def _current_session(request: Request[Any, Any, Any], settings: Settings) -> str:
    signed = request.cookies.get(SESSION_COOKIE, "")
    secret = auth.unsign(signed, settings.secret_key) if signed else None
    return auth.secret_digest(secret) if secret else ""


async def _users_page(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                      actor: Actor, settings: Settings, *, status: int = 200,
                      done: str | None = None, typed: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, notice: str | None = None,
                      ) -> Template:
    users = await accounts.list_users(db, actor=actor)
    sessions = await accounts.list_sessions(db, clock=clock, actor=actor, all_users=True)
    tokens = await accounts.list_tokens(db, clock=clock, actor=actor, all_users=True)
    await db.commit()
    emails = {u.id: u.email for u in users}
    # How each person signs in under these settings (password, single sign-on, break-glass).
    ways = {u.id: sign_in_of(u, settings) for u in users}
    words = {u.id: rules.sign_in_words(ways[u.id], source=u.source) for u in users}
    return render_page(request, "users.html", status=status, users=users, sessions=sessions,
                       totp_roles=settings.totp_roles, ways=ways, ways_words=words,
                       tokens=tokens, emails=emails, roles=[r.value for r in Role],
                       done=DONE.get(done or ""), notice=notice,
                       typed=typed or {"email": "", "name": "", "role": ""},
                       errors=errors or {},
                       current_session=await _current_session(request, settings))


class PeoplePages(Controller):
    """Admins: users and their roles, one-time passwords, everyone's sessions and tokens."""

    path = "/users"
    include_in_schema = False
    guards = [requires(Permission.MANAGE_USERS)]

    @get("/")
    async def users_page(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                         settings: Config, done: FromQuery[str | None] = None) -> Template:
        """Everyone, and the forms; after a refusal, why (once) and what was typed."""
        held = await held_for(request, db, clock)
        return await _users_page(request, db, clock, actor, settings, done=done,
                                 typed=held.get("typed"), errors=held.get("errors"),
                                 notice=held.get("notice"))

    @post("/")
    async def create_user(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                          actor: Who) -> Response[Any]:
        form = await request.form()
        typed = {name: str(form.get(name, "")) for name in ("email", "name", "role")}
        problems = []
        if not typed["email"].strip():
            problems.append(("email", "is required"))
        if not typed["role"]:
            problems.append(("role", "is required: choose one"))
        try:
            if problems:
                raise Invalid.fields(problems)
            user, password = await accounts.create_user(
                db, clock=clock, actor=actor, email=typed["email"], role=typed["role"],
                name=typed["name"])
        except (Invalid, Conflict) as exc:
            errors = _field_errors(exc)
            if "form" in errors and "already exists" in errors["form"]:
                errors = {"email": exc.detail}
            return await send_back(request, db, clock, "/users#new-user-heading", typed=typed,
                                   errors=errors)
        return render_page(request, "users_secret.html", status=201, user=user,
                           password=password, created=True)

    @post("/{user_id:int}/role")
    async def change_role(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                          actor: Who, user_id: RowId) -> Response[Any]:
        form = await request.form()
        try:
            await accounts.set_role(db, clock=clock, actor=actor, user_id=user_id,
                                    role=str(form.get("role", "")))
        except DomainError as exc:
            return await send_back(request, db, clock, "/users#users-notice",
                                   notice=refusal_sentence(exc))
        return _back("/users", "role")

    @post("/{user_id:int}/active")
    async def set_active(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                         actor: Who, user_id: RowId) -> Response[Any]:
        form = await request.form()
        wanted = str(form.get("active", ""))
        try:
            if wanted not in ("true", "false"):
                raise Invalid.fields([("active", "must be true or false")])
            await accounts.set_active(db, clock=clock, actor=actor, user_id=user_id,
                                      active=wanted == "true")
        except DomainError as exc:
            return await send_back(request, db, clock, "/users#users-notice",
                                   notice=refusal_sentence(exc))
        return _back("/users", "enabled" if wanted == "true" else "disabled")

    @post("/{user_id:int}/password-reset")
    async def reset_password(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                             actor: Who, user_id: RowId) -> Response[Any]:
        try:
            user, password = await accounts.reset_password(db, clock=clock, actor=actor,
                                                           user_id=user_id)
        except DomainError as exc:
            return await send_back(request, db, clock, "/users#users-notice",
                                   notice=refusal_sentence(exc))
        return render_page(request, "users_secret.html", user=user, password=password,
                           created=False)

    @post("/{user_id:int}/totp-reset")
    async def reset_totp(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                         actor: Who, user_id: RowId) -> Response[Any]:
        try:
            await accounts.reset_totp(db, clock=clock, actor=actor, user_id=user_id)
        except DomainError as exc:
            return await send_back(request, db, clock, "/users#users-notice",
                                   notice=refusal_sentence(exc))
        return _back("/users", "totp-reset")


async def _account_page(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                        actor: Actor, settings: Settings, *, status: int = 200,
                        done: str | None = None, typed: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, notice: str | None = None,
                        new_token: tuple[Any, str] | None = None) -> Template:
    user = await accounts.user_by_email(db, actor.label)
    sessions = await accounts.list_sessions(db, clock=clock, actor=actor)
    tokens = await accounts.list_tokens(db, clock=clock, actor=actor)
    await db.commit()
    scopes = sorted(auth.allowed_scopes(actor.role))
    second_factor = {"since": user.totp_enabled_at if user else None,
                     "pending": bool(user and user.totp_secret is None and user.totp_pending),
                     "required": actor.role.value in settings.totp_roles}
    return render_page(request, "account.html", status=status, user=user, sessions=sessions,
                       second_factor=second_factor,
                       tokens=tokens, scopes=scopes,
                       default_scope=auth.default_scope(actor.role).value,
                       done=DONE.get(done or ""), notice=notice,
                       typed=typed or {"name": "", "scope": "", "expires_in": ""},
                       errors=errors or {}, new_token=new_token,
                       current_session=await _current_session(request, settings))


class OwnCredentialPages(Controller):
    """One's own account: sessions and API tokens (admins may end anyone's from /users)."""

    path = "/account"
    include_in_schema = False
    guards = [requires(Permission.SELF_SERVICE)]

    @get("/")
    async def account_page(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                           actor: Who, settings: Config,
                           done: FromQuery[str | None] = None) -> Template:
        """One's sessions, tokens and second factor; after a refusal, why (once) and what was
        typed."""
        held = await held_for(request, db, clock)
        return await _account_page(request, db, clock, actor, settings, done=done,
                                   typed=held.get("typed"), errors=held.get("errors"),
                                   notice=held.get("notice"))

    @post("/tokens")
    async def create_token(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                           actor: Who, settings: Config) -> Response[Any]:
        form = await request.form()
        typed = {name: str(form.get(name, "")) for name in ("name", "scope", "expires_in")}
        days = typed["expires_in"].strip()
        try:
            if days and not (days.isascii() and days.isdigit() and 1 <= int(days) <= 3650):
                raise Invalid.fields([("expires_in", "must be a whole number of days, "
                                                     "1 to 3650, or empty for no expiry")])
            if typed["scope"] not in ("", *TokenScope):
                raise Invalid.fields([("scope", "must be read or write")])
            until = clock.now() + timedelta(days=int(days)) if days else None
            token, secret = await accounts.create_token(
                db, clock=clock, actor=actor, email=None, name=typed["name"],
                scope=typed["scope"] or None, expires_at=until)
        except DomainError as exc:
            errors = _field_errors(exc)
            if "form" in errors and exc.extensions.get("permission") == "write_scope":
                errors = {"scope": exc.detail}
            return await send_back(request, db, clock, "/account#new-token-heading",
                                   typed=typed, errors=errors)
        return await _account_page(request, db, clock, actor, settings, status=201,
                                   new_token=(token, secret))

    @post("/tokens/{token_id:int}/revoke")
    async def revoke_token(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                           actor: Who, token_id: RowId) -> Redirect:
        form = await request.form()
        await accounts.revoke_token(db, clock=clock, actor=actor, token_id=token_id)
        return _back(_origin(form), "token")

    @post("/totp")
    async def begin_totp(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                         settings: Config) -> Response[Any]:
        try:
            await accounts.begin_totp(db, clock=clock, actor=actor, key=settings.secret_key)
        except DomainError as exc:
            return await send_back(request, db, clock, "/account#account-notice",
                                   notice=refusal_sentence(exc))
        return Redirect("/account/totp", status_code=303)

    @get("/totp")
    async def totp_form(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                        settings: Config) -> Response[Any]:
        """The pending second factor to add to an app, and the form for its first code
        (after a wrong one, why: the code itself is not kept)."""
        error = (await held_for(request, db, clock)).get("error")
        secret = await accounts.pending_totp(db, actor=actor, key=settings.secret_key)
        if secret is None:
            return Redirect("/account", status_code=303)
        return _totp_page(request, actor, secret, error, "")

    @post("/totp/confirm")
    async def confirm_totp(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                           actor: Who, settings: Config) -> Response[Any]:
        form = await request.form()
        code = str(form.get("code", ""))[:40]
        try:
            await accounts.confirm_totp(db, clock=clock, actor=actor, key=settings.secret_key,
                                        code=code)
        except Invalid as exc:
            secret = await accounts.pending_totp(db, actor=actor, key=settings.secret_key)
            if secret is not None:
                return await send_back(request, db, clock, "/account/totp#code-error",
                                       error=refusal_sentence(exc))
            raise
        return _back("/account", "totp")

    @post("/sessions/{session_id:str}/revoke")
    async def revoke_session(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                             actor: Who, session_id: SessionId) -> Redirect:
        form = await request.form()
        await accounts.revoke_session(db, clock=clock, actor=actor, session_id=session_id)
        return _back(_origin(form), "session")


def _totp_page(request: Request[Any, Any, Any], actor: Actor, secret: str, error: str | None,
               typed: str, status: int = 200) -> Template:
    return render_page(request, "account_totp.html", status=status,
                       secret=totp.grouped(secret),
                       uri=totp.provisioning_uri(secret, actor.label), error=error, code=typed)
