"""Who is asking, and may they: authentication, CSRF, role guards, protective headers.

Every route is closed unless its path is listed in PUBLIC_PATHS; the app
refuses to start if a non-public route has no permission guard.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Unauthenticated

SESSION_COOKIE = "breach_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
PUBLIC_PATHS = frozenset({"/health", "/ready", "/login", "/login/sso", "/login/sso/callback"})
PUBLIC_PREFIXES = ("/static/", "/schema")
"""Paths anyone may reach. Everything else needs credentials and a permission."""
PASSWORD_PATHS = ("/account/password", "/logout")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

token_log = logging.getLogger("breachdesk.tokens")
"""One line per request authenticated by an API token: the token's id and owner, never its
secret (the request id ties it to the access line of the same request)."""


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class CsrfRejected(DomainError):
    status, slug, title = 403, "csrf", "Forbidden"


class PasswordChangeRequired(DomainError):
    status, slug, title = 403, "password-change-required", "Password change required"


class Credentials(Protocol):
    """Who a token or a session cookie belongs to (the accounts capability answers)."""

    async def actor_for_token(self, db: AsyncSession, *, clock: Clock, secret: str) -> Actor | None:
        ...

    async def session_for(self, db: AsyncSession, *, clock: Clock, secret: str
                          ) -> tuple[Actor, Any, Any] | None:
        ...


@dataclass(frozen=True, slots=True)
class Session:
    """What a signed-in browser carries besides its actor."""

    csrf_token: str
    must_change_password: bool
    key: str = ""
    """The session's stored handle (a hash of its cookie's secret): what is kept for this
    browser alone, such as a refused form's messages, is kept under it."""


class AccessMiddleware(ASGIMiddleware):
    """Resolve the actor from a bearer token or a session cookie before any handler runs.

    A browser's cookie is sent along on cross-site requests too, so changes
    made with a cookie must also present the session's CSRF token (header or
    form field). Bearer tokens are never sent implicitly and need none.
    """

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 secret_key: str, credentials: Credentials) -> None:
        self.sessions, self.clock, self.secret_key = sessions, clock, secret_key
        self.credentials = credentials

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] != ScopeType.HTTP or is_public(scope["path"]):
            await next_app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        actor, session = await self._identify(request)
        if session is not None:
            if scope["method"] in UNSAFE:
                await self._check_csrf(request, session)
            if session.must_change_password and not scope["path"].startswith(PASSWORD_PATHS):
                raise PasswordChangeRequired("change your one-time password first "
                                             "at /account/password")
        scope["user"] = actor
        scope["auth"] = session
        await next_app(scope, receive, send)

    async def _identify(self, request: Request[Any, Any, Any]) -> tuple[Actor, Session | None]:
        header = request.headers.get("authorization")
        async with self.sessions() as db:
            if header is not None:
                scheme, _, secret = header.partition(" ")
                if scheme.lower() != "bearer" or not secret.strip():
                    raise Unauthenticated("use `Authorization: Bearer <token>`")
                actor = await self.credentials.actor_for_token(db, clock=self.clock, secret=secret.strip())
                if actor is None:
                    raise Unauthenticated("the API token is unknown, revoked or expired, "
                                          "or its user is disabled")
                token_log.info("token %s used by user %s", actor.token_id, actor.user_id,
                               extra={"fields": {"token_id": actor.token_id,
                                                 "user_id": actor.user_id,
                                                 "scope": actor.scope, "method": request.method,
                                                 "path": request.url.path}})
                return actor, None
            signed = request.cookies.get(SESSION_COOKIE)
            cookie_secret = auth.unsign(signed, self.secret_key) if signed else None
            found = (await self.credentials.session_for(db, clock=self.clock, secret=cookie_secret)
                     if cookie_secret else None)
            if found is None:
                raise Unauthenticated("sign in, or send an API token")
            actor, web_session, user = found
            return actor, Session(csrf_token=web_session.csrf_token,
                                  must_change_password=user.must_change_password,
                                  key=str(web_session.id_hash))

    async def _check_csrf(self, request: Request[Any, Any, Any], session: Session) -> None:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type[0] in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if not given or not hmac.compare_digest(given, session.csrf_token):
            raise CsrfRejected("the form has expired or did not come from this site; "
                               "reload the page and try again")


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires(permission: Permission) -> Guard:
    """A route guard: the actor's role must carry `permission`."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.scope.get("user")
        if not isinstance(actor, Actor):
            raise Unauthenticated("sign in, or send an API token")
        auth.require(actor, permission)

    guard.permission = permission  # type: ignore[attr-defined]
    return guard


def handler_permission(handler: BaseRouteHandler) -> Permission | None:
    for guard in handler.resolve_guards():
        permission = getattr(getattr(guard, "func", guard), "permission", None)
        if isinstance(permission, Permission):
            return permission
    return None


SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


OWN_POLICY = frozenset({b"content-security-policy", b"x-frame-options"})
"""Headers a response may set for itself: a sandboxed document (a message shown in a page's
iframe) needs a stricter policy of its own and must be framable by this site's pages."""


def security_headers(*, hsts: bool) -> Callable[[ASGIApp], ASGIApp]:
    """Add protective headers to every response; nothing but static files may be cached.

    A response that sets its own Content-Security-Policy or X-Frame-Options keeps it.
    """
    extra = [(b"strict-transport-security", b"max-age=31536000; includeSubDomains")] if hsts else []

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            cacheable = scope["path"].startswith("/static/")

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [h for h in message.get("headers", [])
                               if cacheable or h[0].lower() != b"cache-control"]
                    own = {h[0].lower() for h in headers} & OWN_POLICY
                    headers += [h for h in SECURITY_HEADERS + extra if h[0] not in own]
                    if not cacheable:
                        headers.append((b"cache-control", b"no-store"))
                    message["headers"] = headers
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
