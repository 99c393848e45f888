"""The web pages' common parts: the one Jinja2 environment for pages, rendering with the
session's CSRF token, sending a refused form back to its page (POST, redirect, GET) with
what it held, and the error page that any refused request gets in a browser."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import held as held_forms
from incident.kernel.access import CSRF_FIELD, PasswordChangeRequired, Session
from incident.kernel.auth import Actor
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Unauthenticated
from incident.kernel.problems import Problem
from incident.kernel.settings import Settings

HTML_PREFIX_EXCLUDED = ("/api/", "/schema", "/health", "/ready", "/static/")


E = TypeVar("E", bound=StrEnum)


def environment(directory: Path, zone: ZoneInfo) -> Environment:
    """The pages' Jinja2 environment: autoescaped, and a missing variable is an error."""
    env = Environment(loader=FileSystemLoader(directory), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def zone_of(context: Context) -> ZoneInfo:
        # A page may show its times in another zone (the incident page: the organisation's).
        chosen = context.get("page_zone")
        return chosen if isinstance(chosen, ZoneInfo) else zone

    @pass_context
    def local(context: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
        return "" if value is None else value.astimezone(zone_of(context)).strftime(fmt)

    @pass_context
    def input_value(context: Context, value: datetime | str | None) -> str:
        """A datetime-local field's value; text that did not parse is given back as typed."""
        if isinstance(value, str):
            return value
        # isoformat, not strftime: %Y drops the leading zeros of a year such as 0001.
        return "" if value is None else value.astimezone(zone_of(context)).isoformat(
            timespec="minutes")[:16]

    @pass_context
    def local_iso(context: Context, value: str | None) -> str:
        """An ISO 8601 instant kept as text (a timeline payload's), shown as `local` shows."""
        return "" if not value else local(context, datetime.fromisoformat(value))

    env.filters["local"] = local
    env.filters["local_iso"] = local_iso
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


def csrf_token(request: Request[Any, Any, Any]) -> str:
    session = request.scope.get("auth")
    return session.csrf_token if isinstance(session, Session) else ""


def page_context(request: Request[Any, Any, Any], **values: Any) -> dict[str, Any]:
    actor = request.scope.get("user")
    return {"actor": actor if isinstance(actor, Actor) else None, "csrf_token": csrf_token(request),
            "csrf_field": CSRF_FIELD, "path": request.url.path, **values}


def render_page(request: Request[Any, Any, Any], name: str, status: int = 200,
                **values: Any) -> Template:
    return Template(template_name=name, context=page_context(request, **values), status_code=status)


HELD = "held_form"
"""Where `held_for` leaves what it took, for the parts of a page drawn by other capabilities."""


def form_owner(request: Request[Any, Any, Any]) -> str | None:
    """Whose browser sent the request, as held forms are kept for it: its session, else its
    API token; None for a request with neither."""
    session = request.scope.get("auth")
    if isinstance(session, Session) and session.key:
        return f"s:{session.key}"
    actor = request.scope.get("user")
    if isinstance(actor, Actor) and actor.token_id is not None:
        return f"t:{actor.token_id}"
    return None


async def send_back(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, to: str,
                    *, owner: str | None = None, secret: Collection[str] = (),
                    **held: Any) -> Redirect:
    """Answer a refused form: keep its messages and what was typed (`held`, by the names the
    page's GET gives them back under; never the fields named in `secret` nor any field named
    like a password) for the page `to` names, and send the browser there (303), to its anchor.
    The page shows them once (`held_for`)."""
    owner = owner or form_owner(request)
    if owner is not None:
        await held_forms.hold(db, now=clock.now(), owner=owner, page=to, held=held,
                              secret=secret)
    return Redirect(to, status_code=303)


async def held_for(request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, *,
                   owner: str | None = None) -> dict[str, Any]:
    """What a refused form left for this page and this browser, once ({} when nothing). Call
    it first thing in the page's GET handler; parts of the page drawn elsewhere find it with
    `held_in`."""
    owner = owner or form_owner(request)
    found = (await held_forms.take(db, now=clock.now(), owner=owner, page=request.url.path)
             if owner is not None else {})
    request.state[HELD] = found
    return found


def held_in(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What `held_for` took for this request ({} when nothing)."""
    found = request.state.get(HELD)
    return found if isinstance(found, dict) else {}


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
    body = template.render(**page_context(request, problem=problem))
    return Response(body, status_code=problem.status, media_type="text/html")


def refusal_sentence(exc: DomainError) -> str:
    """A refusal as one sentence for a page, naming each field it is about."""
    errors = exc.extensions.get("errors") or []
    text = "; ".join(f"The {e['field']} {e['message']}" if e["message"].startswith("is ")
                     else f"{e['field'].capitalize()}: {e['message']}" for e in errors)
    text = text or exc.detail[:1].upper() + exc.detail[1:]
    return text if text.endswith(".") else text + "."


def form_number(typed: str) -> int | str | None:
    """A form's whole number as an int for the strict input types (a count, a version); other
    text is kept as typed, for the schema to refuse it and the form to show it back."""
    text = typed.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else typed
