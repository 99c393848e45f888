"""The composition root of the web service: `create_app` assembles settings, clock, database,
the kernel's middleware, and the routes every registered plugin contributes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts import service as accounts
from incident.kernel import pages
from incident.kernel.access import AccessMiddleware, handler_permission, is_public, security_headers
from incident.kernel.auth import Actor
from incident.kernel.bodies import too_deep
from incident.kernel.clock import Clock, SystemClock
from incident.kernel.db import check_schema, checkpoint_wal, create_engine, session_factory
from incident.kernel.errors import Unauthenticated
from incident.kernel.health import HealthController
from incident.kernel.logs import request_id_middleware
from incident.kernel.openapi import render_plugins
from incident.kernel.plugins import WebContext, WebParts, load, plugins
from incident.kernel.problems import problem_response, to_problem
from incident.kernel.settings import Settings, templates_dir

log = logging.getLogger("breachdesk")
CHECKPOINT_EVERY = 5.0
"""Seconds between two checkpoints of SQLite's write-ahead log by the web process."""


def create_app(settings: Settings, *, clock: Clock | None = None,
               engine: AsyncEngine | None = None, catalogue: Any = None) -> Litestar:
    """Build the web application. Nothing here runs at import; tests pass their own clock.

    A broken runbook folder raises RunbookError here: the service does not start on it.
    """
    clock = clock or SystemClock()
    # The web process leaves SQLite's checkpoints to a task of its own (and to the sending
    # processes): a request's commit must not be the one that copies the log into the file.
    own_engine = engine is None
    engine = engine or create_engine(settings.effective_database_url, wal_autocheckpoint=False)
    sessions = session_factory(engine)
    templates = templates_dir(settings)
    environment = pages.environment(templates / "web", settings.zone)
    context = WebContext(settings=settings, clock=clock, engine=engine, pages=environment,
                         catalogue=catalogue)
    parts: list[WebParts] = [load(p.web)(context) for p in plugins() if p.web]

    async def provide_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as db:
            yield db

    def provide_actor(request: Request[Any, Any, Any]) -> Actor:
        actor = request.scope.get("user")
        if not isinstance(actor, Actor):
            raise Unauthenticated("sign in, or send an API token")
        return actor

    checkpoints: list[asyncio.Task[None]] = []

    async def check_database() -> None:
        await check_schema(engine)
        if own_engine and engine.dialect.name == "sqlite":
            checkpoints.append(asyncio.ensure_future(keep_checkpointing()))

    async def keep_checkpointing() -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await checkpoint_wal(engine)
            except Exception:  # a busy database: the next one copies what this one did not
                log.exception("checkpointing the database's write-ahead log failed")

    async def close_database() -> None:
        for task in checkpoints:
            task.cancel()
        await engine.dispose()

    def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if pages.wants_html(request):
            return pages.error_page(request, exc, to_problem(exc))
        return problem_response(request, exc)

    dependencies: dict[str, Provide] = {
        "db": Provide(provide_db),
        "actor": Provide(provide_actor, sync_to_thread=False),
        "clock": Provide(lambda: clock, sync_to_thread=False),
        "engine": Provide(lambda: engine, sync_to_thread=False),
        "settings": Provide(lambda: settings, sync_to_thread=False),
    }
    allowed: dict[str, bytes] = {}
    state: dict[str, Any] = {"settings": settings}
    for part in parts:
        dependencies.update(part.dependencies)
        state.update(part.state)
    app = Litestar(
        route_handlers=[HealthController, *(h for part in parts for h in part.route_handlers),
                        create_static_files_router(path="/static",
                                                   directories=[templates / "web" / "static"],
                                                   include_in_schema=False)],
        dependencies=dependencies,
        middleware=[request_id_middleware, security_headers(hsts=settings.secure_cookies),
                    allow_every_method(allowed),
                    AccessMiddleware(sessions=sessions, clock=clock, secret_key=settings.secret_key,
                                     credentials=accounts),
                    *(m for part in parts for m in part.middleware)],
        exception_handlers={Exception: handle_error},
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment)),
        openapi_config=OpenAPIConfig(
            title="Breachdesk", version="1", path="/schema",
            render_plugins=render_plugins(),
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="an API token from `breach tokens create`")}),
            security=[{"bearer": []}]),
        request_max_body_size=settings.max_body_bytes,
        before_request=refuse_deep_json,
        on_startup=[check_database, *(f for part in parts for f in part.on_startup)],
        on_shutdown=[*(f for part in parts for f in part.on_shutdown), close_database],
        state=State(state),
        debug=False,
        logging_config=None,  # the process owner configures logging (see kernel/logs.py)
    )
    _refuse_unguarded_routes(app)
    allowed.update({route.path_format: ", ".join(sorted(route.methods)).encode()
                    for route in app.routes if isinstance(route, HTTPRoute)})
    return app


def allow_every_method(allowed: Mapping[str, bytes]) -> Callable[[ASGIApp], ASGIApp]:
    """`Allow` on an OPTIONS answer names every method of its route.

    Litestar builds a route's OPTIONS handler when the route's first handler is registered,
    and a controller registers its handlers one by one: without this, OPTIONS on a path with
    GET and POST would name only the first. `allowed` maps each route's path template to
    its methods (filled once the app is built).
    """

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
                await app(scope, receive, send)
                return
            methods = allowed.get(scope.get("path_template", ""))

            async def send_allow(message: Message) -> None:
                if message["type"] == "http.response.start" and methods is not None:
                    message["headers"] = [
                        *(h for h in message.get("headers", []) if h[0].lower() != b"allow"),
                        (b"allow", methods)]
                await send(message)

            await app(scope, receive, send_allow)

        return middleware

    return factory


NOT_JSON = ("multipart/form-data", "application/x-www-form-urlencoded")


async def refuse_deep_json(request: Request[Any, Any, Any]) -> None:
    """Before any handler parses a body: 400 for JSON nested deeper than the parser can take.

    Every body but forms is measured: a JSON body is parsed whatever its content type says.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in NOT_JSON:
        return
    if reason := too_deep(await request.body()):
        raise ValidationException(detail=reason, extra=[{"key": "body", "message": reason}])


def _refuse_unguarded_routes(app: Litestar) -> None:
    """Fail at start-up, not in production, if a route was added without a permission guard."""
    for route in app.routes:
        if is_public(route.path):
            continue
        for handler in getattr(route, "route_handlers", []):
            # Litestar adds an OPTIONS handler per path; the access middleware still guards it.
            if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
                continue
            if handler_permission(handler) is None:
                raise RuntimeError(f"route {route.path} has no permission guard")
