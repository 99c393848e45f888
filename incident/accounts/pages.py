"""Sign-in, sign-out and the password pages."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from incident.accounts import service as accounts
from incident.kernel import auth
from incident.kernel.access import CSRF_FIELD, SESSION_COOKIE, requires
from incident.kernel.auth import Permission
from incident.kernel.errors import Invalid, TooManyAttempts, Unauthenticated
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import render_page

LOGIN_CSRF_COOKIE = "breach_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` and `https://…` would leave it."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/incidents"
    return target


class SignInController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
                         ) -> Template:
        token = secrets.token_urlsafe(24)
        page = render_page(request, "login.html", next=_safe_next(next), login_csrf=token, error=None)
        page.cookies.append(_login_cookie(token))
        return page

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                    settings: Config) -> Response[Any]:
        form = await request.form()
        target = _safe_next(str(form.get("next") or ""))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
            return self._again(request, target, "The sign-in form expired; please try again.", 403)
        try:
            signed_in = await accounts.sign_in(db, clock=clock, email=str(form.get("email", "")),
                                               password=str(form.get("password", "")),
                                               session_hours=settings.session_hours)
        except (Unauthenticated, TooManyAttempts) as exc:
            return self._again(request, target, str(exc), 401 if isinstance(
                exc, Unauthenticated) else 429)
        destination = "/account/password" if signed_in.user.must_change_password else target
        response = Redirect(destination)
        response.cookies.append(Cookie(
            key=SESSION_COOKIE, value=auth.sign(signed_in.cookie_secret, settings.secret_key),
            httponly=True, samesite="lax", secure=settings.secure_cookies, path="/",
            max_age=settings.session_hours * 3600))
        response.cookies.append(Cookie(key=LOGIN_CSRF_COOKIE, value="", max_age=0, path="/login"))
        return response

    def _again(self, request: Request[Any, Any, Any], target: str, error: str,
               status: int) -> Template:
        token = secrets.token_urlsafe(24)
        page = render_page(request, "login.html", status=status, next=target, login_csrf=token,
                           error=error)
        page.cookies.append(_login_cookie(token))
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
    async def password_form(self, request: Request[Any, Any, Any]) -> Template:
        return render_page(request, "password.html", error=None, done=False)

    @post("/account/password")
    async def change_password(self, request: Request[Any, Any, Any], db: Db,
                              clock: Now, actor: Who) -> Response[Any]:
        form = await request.form()
        new, again = str(form.get("new_password", "")), str(form.get("new_password_again", ""))
        if new != again:
            return render_page(request, "password.html", status=422, done=False,
                               error="The two new passwords differ.")
        try:
            await accounts.change_password(db, clock=clock, actor=actor,
                                           current=str(form.get("current_password", "")), new=new)
        except Invalid as exc:
            return render_page(request, "password.html", status=422, done=False, error=exc.detail)
        return Redirect("/incidents")
