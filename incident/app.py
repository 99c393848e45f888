"""The composition root: `create_app` assembles settings, clock, database and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident import api, api_inventory, web, web_containment
from incident.access import AccessMiddleware, handler_permission, is_public, security_headers
from incident.auth import Actor
from incident.clock import Clock, SystemClock
from incident.db import check_schema, create_engine, session_factory
from incident.errors import Unauthenticated, problem_response, to_problem
from incident.logs import request_id_middleware
from incident.runbooks import Catalogue, load_catalogue
from incident.services import Rules
from incident.settings import Settings
from notifications import scheduler
from notifications import web as notification_pages
from notifications.api import NotificationController, ObligationController
from notifications.render import renderer as email_renderer

REPOSITORY = Path(__file__).resolve().parent.parent


def templates_dir(settings: Settings) -> Path:
    """BREACH_TEMPLATES_DIR, else the templates/ folder beside the packages (a source checkout)."""
    return settings.templates_dir or REPOSITORY / "templates"


def runbooks_dir(settings: Settings) -> Path:
    """BREACH_RUNBOOKS_DIR, else the runbooks/ folder beside the packages (a source checkout)."""
    return settings.runbooks_dir or REPOSITORY / "runbooks"


def create_app(settings: Settings, *, clock: Clock | None = None,
               engine: AsyncEngine | None = None, catalogue: Catalogue | None = None) -> Litestar:
    """Build the web application. Nothing here runs at import; tests pass their own clock.

    A broken runbook folder raises RunbookError here: the service does not start on it.
    """
    clock = clock or SystemClock()
    runbook_catalogue = catalogue if catalogue is not None else load_catalogue(runbooks_dir(settings))
    engine = engine or create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    rules = Rules(zone=settings.zone, skew=timedelta(seconds=settings.clock_skew_seconds))
    templates = templates_dir(settings)
    mail_templates = email_renderer(templates)
    pages = web.environment(templates / "web", settings.zone)
    # The Mailbox holds what the embedded capture kept: only worth a link when it is in use.
    pages.globals["mail_captured"] = not settings.smtp_url
    running: list[tuple[scheduler.Ticker, scheduler.Transport]] = []

    async def provide_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as db:
            yield db

    def provide_actor(request: Request[Any, Any, Any]) -> Actor:
        actor = request.scope.get("user")
        if not isinstance(actor, Actor):
            raise Unauthenticated("sign in, or send an API token")
        return actor

    async def on_startup() -> None:
        await check_schema(engine)
        if settings.scheduler:
            transport = scheduler.transport_for(settings, engine, clock)
            ticker = scheduler.Ticker(scheduler.jobs(engine, settings, clock, mail_templates,
                                                     transport), engine=engine, clock=clock)
            running.append((ticker, transport))
            ticker.start()

    async def on_shutdown() -> None:
        for ticker, transport in running:
            ticker.shutdown()
            await scheduler.close(transport)
        await engine.dispose()

    def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if web.wants_html(request):
            return web.error_page(request, exc, to_problem(exc))
        return problem_response(request, exc)

    app = Litestar(
        route_handlers=[*api.API_CONTROLLERS, api_inventory.InventoryController,
                        ObligationController, NotificationController,
                        *web.WEB_CONTROLLERS, *notification_pages.WEB_CONTROLLERS,
                        web_containment.ContainmentPages,
                        # Evidence files may be far larger than any JSON body or form.
                        Router(path="/", route_handlers=[api.EvidenceController,
                                                         web_containment.EvidencePages],
                               request_max_body_size=settings.evidence_max_bytes + 65_536),
                        Router(path="/", route_handlers=[api_inventory.SubjectImportController],
                               request_max_body_size=settings.import_max_bytes),
                        create_static_files_router(path="/static",
                                                   directories=[templates / "web" / "static"],
                                                   include_in_schema=False)],
        dependencies={
            "db": Provide(provide_db),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "clock": Provide(lambda: clock, sync_to_thread=False),
            "rules": Provide(lambda: rules, sync_to_thread=False),
            "engine": Provide(lambda: engine, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "catalogue": Provide(lambda: runbook_catalogue, sync_to_thread=False),
            "templates": Provide(lambda: mail_templates, sync_to_thread=False),
        },
        middleware=[request_id_middleware, security_headers(hsts=settings.secure_cookies),
                    AccessMiddleware(sessions=sessions, clock=clock,
                                     secret_key=settings.secret_key)],
        exception_handlers={Exception: handle_error},
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(pages)),
        openapi_config=OpenAPIConfig(
            title="Breachdesk", version="1", path="/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="an API token from `breach tokens create`")}),
            security=[{"bearer": []}]),
        request_max_body_size=settings.max_body_bytes,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings}),
        debug=False,
        logging_config=None,  # the process owner configures logging (see logs.py)
    )
    _refuse_unguarded_routes(app)
    return app


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

