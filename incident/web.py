"""Server-rendered pages: sign-in, incident list, new-incident form, incident page.

Handlers stay thin: read the form, call the same use cases as the API,
render a template. Times are entered and shown in BREACH_TIMEZONE.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident import accounts, auth, containment, journal, lifecycle, services
from incident.access import (
    CSRF_FIELD,
    SESSION_COOKIE,
    PasswordChangeRequired,
    Session,
    requires,
)
from incident.api import event_public
from incident.auth import Actor, Permission
from incident.checklist import STEP_TRANSITIONS
from incident.clock import Clock
from incident.errors import Invalid, Problem, TooManyAttempts, Unauthenticated
from incident.injected import Config, Db, IncidentRules, Now, Runbooks, Who
from incident.lifecycle import BreachType, DataCategory, Kind, Status
from incident.runbooks import Catalogue
from incident.schemas import IncidentCreate
from incident.settings import Settings

LOGIN_CSRF_COOKIE = "breach_login_csrf"
HTML_PREFIX_EXCLUDED = ("/api/", "/schema", "/health", "/ready", "/static/")
E = TypeVar("E", bound=StrEnum)


def environment(directory: Path, zone: ZoneInfo) -> Environment:
    """The pages' Jinja2 environment: autoescaped, and a missing variable is an error."""
    env = Environment(loader=FileSystemLoader(directory), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    def input_value(value: datetime | str | None) -> str:
        """A datetime-local field's value; text that did not parse is given back as typed."""
        if isinstance(value, str):
            return value
        return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    env.filters["local"] = local
    env.filters["input_value"] = input_value
    env.filters["filesize"] = filesize
    env.globals["zone_name"] = str(zone)
    return env


def filesize(size: int) -> str:
    """A byte count as people read it: `512 bytes`, `1.5 KiB`, `25.0 MiB`."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def wants_html(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not path.startswith(HTML_PREFIX_EXCLUDED) and path != "/api"


def _csrf(request: Request[Any, Any, Any]) -> str:
    session = request.scope.get("auth")
    return session.csrf_token if isinstance(session, Session) else ""


def _context(request: Request[Any, Any, Any], **values: Any) -> dict[str, Any]:
    actor = request.scope.get("user")
    return {"actor": actor if isinstance(actor, Actor) else None, "csrf_token": _csrf(request),
            "csrf_field": CSRF_FIELD, "path": request.url.path, **values}


def render_page(request: Request[Any, Any, Any], name: str, status: int = 200,
          **values: Any) -> Template:
    return Template(template_name=name, context=_context(request, **values), status_code=status)


def error_page(request: Request[Any, Any, Any], exc: Exception, problem: Problem) -> Response[Any]:
    if isinstance(exc, Unauthenticated) and request.method == "GET":
        # The query too: a bookmarked, filtered list should come back filtered after sign-in.
        query = request.url.query
        here = f"{request.url.path}?{query}" if query else request.url.path
        return Redirect(f"/login?{urlencode({'next': here})}")
    if isinstance(exc, PasswordChangeRequired) and request.method == "GET":
        return Redirect("/account/password")
    if problem.status == 413:
        settings: Settings = request.app.state["settings"]
        problem = replace(problem, title="Too large", detail=(
            f"What was sent is larger than this form accepts: an evidence file may be at most "
            f"{filesize(settings.evidence_max_bytes)}, any other form "
            f"{filesize(settings.max_body_bytes)}. Nothing was saved."))
    template = request.app.template_engine.get_template("error.html")  # type: ignore[union-attr]
    body = template.render(**_context(request, problem=problem))
    return Response(body, status_code=problem.status, media_type="text/html")


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


def _choice(enum: type[E], name: str, value: str | None) -> E | None:
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise Invalid.fields([(name, f"must be one of {', '.join(enum)}")]) from None


def _parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


class IncidentPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", guards=[requires(Permission.READ_INCIDENTS)])
    async def home(self) -> Redirect:
        return Redirect("/incidents")

    @get("/incidents", guards=[requires(Permission.READ_INCIDENTS)])
    async def incidents(self, request: Request[Any, Any, Any], db: Db, actor: Who,
                        status: FromQuery[str | None] = None, kind: FromQuery[str | None] = None,
                        q: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Template:
        # The filter form sends `status=&kind=` for "any": empty means no filter, not an error.
        wanted_status, wanted_kind = _choice(Status, "status", status), _choice(Kind, "kind", kind)
        page = min(max(page, 1), 1_000_000)
        size = 25
        where = services.IncidentFilter(status=wanted_status, kind=wanted_kind,
                                        text=(q or "")[:200] or None)
        items, total = await services.list_incidents(db, actor=actor, where=where, limit=size,
                                                     offset=(page - 1) * size)
        query = {k: v for k, v in {"status": wanted_status, "kind": wanted_kind, "q": q}.items()
                 if v}
        return render_page(request, "incidents.html", incidents=await services.public(db, items),
                     total=total, page=page, pages=max(1, -(-total // size)), statuses=list(Status),
                     kinds=list(Kind), filters=query, query=urlencode(query))

    @get("/incidents/new", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def new_incident(self, request: Request[Any, Any, Any], clock: Now) -> Template:
        now = clock.now()
        return self._form(request, {"detected_at": now, "aware_at": now}, [], 200)

    def _form(self, request: Request[Any, Any, Any], values: dict[str, Any],
              errors: list[dict[str, str]], status: int) -> Template:
        return render_page(request, "incident_new.html", status=status, values=values, errors=errors,
                     kinds=list(Kind), breach_types=list(BreachType),
                     categories=list(DataCategory))

    @post("/incidents", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def create_incident(self, request: Request[Any, Any, Any], db: Db,
                              clock: Now, rules: IncidentRules, actor: Who) -> Response[Any]:
        form = await request.form()
        values: dict[str, Any] = {
            "title": form.get("title", ""), "description": form.get("description", ""),
            "kind": form.get("kind", ""), "breach_types": form.getall("breach_types", []),
            "data_categories": form.getall("data_categories", []),
            "systems": [s.strip() for s in str(form.get("systems", "")).split(",") if s.strip()],
            "estimated_subjects": form.get("estimated_subjects") or None,
        }
        errors: list[dict[str, str]] = []
        for name in ("occurred_from", "occurred_to", "detected_at", "aware_at"):
            typed = str(form.get(name, ""))
            try:
                values[name] = _parse_local(typed, rules.zone)
            except ValueError:
                values[name] = typed
                errors.append({"field": name, "message": "is not a date and time"})
        if not errors:
            try:
                data = IncidentCreate.model_validate(values)
                incident = await services.create_incident(db, clock=clock, rules=rules,
                                                          actor=actor, data=data)
                return Redirect(f"/incidents/{incident.reference}")
            except ValidationError as exc:
                errors = [{"field": ".".join(str(p) for p in e["loc"]) or "form",
                           "message": e["msg"]} for e in exc.errors()]
            except Invalid as exc:
                errors = exc.extensions.get("errors", [])
        return self._form(request, values, errors, 422)

    @get("/incidents/{key:str}", guards=[requires(Permission.READ_INCIDENTS)])
    async def incident(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                       catalogue: Runbooks, key: FromPath[str]) -> Template:
        return await incident_page(request, db, actor=actor, clock=clock, catalogue=catalogue,
                                   key=key)

    @post("/incidents/{key:str}/status", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def change_status(self, request: Request[Any, Any, Any], db: Db,
                            clock: Now, actor: Who, key: FromPath[str]) -> Redirect:
        form = await request.form()
        try:
            target = Status(str(form.get("status", "")))
        except ValueError:
            raise Invalid.fields([("status", "is not a status")]) from None
        incident = await services.change_status(db, clock=clock, actor=actor, key=key,
                                                target=target,
                                                reason=str(form.get("reason", "")) or None)
        return Redirect(f"/incidents/{incident.reference}")

    @post("/incidents/{key:str}/notes", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def add_note(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                       actor: Who, key: FromPath[str]) -> Redirect:
        form = await request.form()
        text = str(form.get("text", "")).strip()
        if not text:
            raise Invalid.fields([("text", "is empty")])
        await services.add_note(db, clock=clock, actor=actor, key=key, text=text[:20_000])
        return Redirect(f"/incidents/{key}")


@dataclass(frozen=True, slots=True)
class Notice:
    """A refused change, shown on the incident page beside the form that asked for it."""

    at: str  # the id of the page part it belongs to: `runbooks`, `evidence`, `step-12`
    message: str


async def incident_page(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                        clock: Clock, catalogue: Catalogue, key: str, status: int = 200,
                        notice: Notice | None = None) -> Template:
    """The incident with its moves, containment checklist, evidence and timeline."""
    incident, events = await services.timeline(db, actor=actor, key=key, limit=10_000)
    verification = None
    if actor.can(Permission.VERIFY_TIMELINE):
        verification = await journal.verify(db, str(incident.id))
    targets = [t for t in lifecycle.allowed_targets(Status(incident.status))
               if t is not Status.DISMISSED or actor.can(Permission.DISMISS_INCIDENTS)]
    _, checklist = await containment.checklist(db, actor=actor, catalogue=catalogue,
                                               key=incident.id, now=clock.now())
    evidence = await containment.list_evidence(db, actor=actor, key=incident.id)
    can_write = actor.can(Permission.WRITE_INCIDENTS)
    return render_page(request, "incident.html", status=status,
                 incident=(await services.public(db, [incident]))[0],
                 events=[event_public(e) for e in reversed(events)],
                 verification=verification, targets=targets, can_write=can_write,
                 export_base=f"/api/v1/incidents/{quote(incident.reference)}/timeline/export",
                 checklist=checklist, evidence=evidence, notice=notice,
                 suggestions=[r for r in map(catalogue.get, checklist.suggested) if r],
                 checklist_open=can_write and incident.status not in containment.FINISHED,
                 step_moves={state.value: {t.value for t in allowed}
                             for state, allowed in STEP_TRANSITIONS.items()},
                 step_labels={f"{s.runbook_id}/{s.step_id}": s.title for s in checklist.steps},
                 can_read_evidence=actor.can(Permission.READ_EVIDENCE),
                 can_approve=actor.can(Permission.APPROVE),
                 can_manage_organisation=actor.can(Permission.MANAGE_ORGANISATION),
                 milestones=dict(incident.milestones or {}),
                 categories=[c.value for c in DataCategory],
                 move_to_contained=can_write and checklist.containment_complete
                 and Status.CONTAINED in targets)


WEB_CONTROLLERS = [SignInController, AccountPages, IncidentPages]
