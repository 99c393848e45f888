"""Who is affected, on the incident page: the scope editor, computing snapshots, their counts
(with a bar chart drawn server-side), the history of snapshots, and a page of the people.

The incident page's part comes through the `incident.page_sections` hook
(`incident_section`, drawn by templates/web/affected_section.html). The scope form posts
here with the same fields and checks as `PUT /api/v1/incidents/{id}/scope`; computing posts
here as `POST /api/v1/incidents/{id}/affected` does. Both send the browser back to the incident
page (303), refused or not; after a refusal the page shows the message beside the form and
what was typed in it, once. The people themselves are personal data: only roles that may read it
see the link to their page, and each page read goes on the timeline, as over the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected import service as affected
from incident.affected.chart import bar_chart
from incident.affected.models import AffectedSnapshot
from incident.affected.schemas import AffectedScope
from incident.inventory import service as inventory
from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.errors import Conflict, DomainError, Invalid, NotFound
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import held_in, render_page, send_back
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle.models import Incident
from incident.lifecycle.pages import Notice
from incident.lifecycle.rules import Status

PEOPLE_PAGE = 50
TYPED = "affected_scope_typed"
"""The name a refused scope form's typed values are held under, for the section to show them."""
FIELD_NAMES = {"systems": "systems", "exposure_from": "exposed from", "exposure_to":
               "exposed until", "data_categories": "data categories", "include": "include list",
               "exclude": "exclude list"}
"""The form's words for the scope's fields, in the messages of a refused scope."""


def _local(value: str, zone: ZoneInfo) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def scope_from_form(typed: dict[str, Any], zone: ZoneInfo, lists_shown: bool) -> AffectedScope:
    """The scope a form describes, checked as the API checks it. Times are read in the
    organisation's zone. Without `lists_shown` (a role that may not read people), the form
    has no lists: the service keeps the stored ones."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {"systems": typed["systems"],
                              "data_categories": typed["data_categories"]}
    for name in ("exposure_from", "exposure_to"):
        try:
            values[name] = _local(typed[name], zone)
        except ValueError:
            problems.append((name, "is not a date and time"))
    if lists_shown:
        values["include"], values["exclude"] = _lines(typed["include"]), _lines(typed["exclude"])
    if problems:
        raise Invalid.fields(problems)
    try:
        return AffectedScope.model_validate(values)
    except ValidationError as exc:
        raise Invalid.fields([(_field(error["loc"]), error["msg"].removeprefix("Value error, "))
                              for error in exc.errors()]) from None


def _field(location: tuple[int | str, ...]) -> str:
    """A schema error's place as the form names it: `include, line 3` for an entry."""
    if not location:
        return "form"
    name = str(location[0])
    if len(location) > 1 and isinstance(location[1], int) and name in ("include", "exclude"):
        return f"{name} line {location[1] + 1}"
    return name


def _scope_refusal(exc: DomainError) -> Notice:
    errors = exc.extensions.get("errors") or []
    if not errors:
        return Notice.refusing("scope", exc)
    parts = []
    for error in errors:
        name = str(error["field"])
        label = FIELD_NAMES.get(name, name.replace("_", " "))
        message = str(error["message"])
        for field_name, words in FIELD_NAMES.items():
            message = message.replace(field_name, words)
        parts.append(f"{label[:1].upper()}{label[1:]}: {message}")
    return Notice("scope", "The scope was not saved. " + "; ".join(parts) + ".")


def _typed_of(scope: dict[str, Any] | None, zone: ZoneInfo) -> dict[str, Any]:
    """The form's values from the stored scope."""
    scope = scope or {}

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).astimezone(zone) if value else None

    return {"systems": list(scope.get("systems", [])),
            "data_categories": list(scope.get("data_categories", [])),
            "exposure_from": when(scope.get("exposure_from")),
            "exposure_to": when(scope.get("exposure_to")),
            "include": "\n".join(scope.get("include", [])),
            "exclude": "\n".join(scope.get("exclude", []))}


def _chosen(request: Request[Any, Any, Any], snapshots: list[AffectedSnapshot]
            ) -> AffectedSnapshot | None:
    """The snapshot the page shows: the one `?snapshot=N` names, else the latest."""
    wanted = request.query_params.get("snapshot", "")
    by_number = {s.number: s for s in snapshots}
    if wanted.isascii() and wanted.isdigit() and int(wanted) in by_number:
        return by_number[int(wanted)]
    return snapshots[-1] if snapshots else None


async def incident_section(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                           clock: Clock, incident: Incident, targets: list[Status]
                           ) -> dict[str, Any]:
    """The incident page's affected-people part (the `incident.page_sections` hook)."""
    zone: ZoneInfo = request.app.state["settings"].zone
    snapshots = await affected.list_snapshots(db, actor=actor, key=incident.id)
    chosen = _chosen(request, snapshots)
    summary = affected.summary_of(chosen) if chosen is not None else None
    typed = held_in(request).get(TYPED) or _typed_of(incident.scope, zone)
    scope = incident.scope or {}
    return {"affected": {
        "scope": scope,
        "scope_lists": {"include": len(scope.get("include", [])),
                        "exclude": len(scope.get("exclude", []))},
        "typed": typed,
        "window": tuple(datetime.fromisoformat(scope[name]) if scope.get(name) else None
                        for name in ("exposure_from", "exposure_to")),
        "systems": [(s.key, s.name) for s, _ in await inventory.list_systems(db, actor=actor)],
        "categories": [c.value for c in DataCategory],
        "snapshots": list(reversed(snapshots)),
        "summary": summary,
        "latest": snapshots[-1].number if snapshots else None,
        "charts": {name: bar_chart(getattr(summary, name)) for name in
                   ("by_jurisdiction", "by_category", "by_locale")} if summary else {},
        "can_write": actor.can(Permission.WRITE_INCIDENTS),
        "can_read_people": actor.can(Permission.READ_PERSONAL_DATA),
    }}


def _back(key: str) -> Redirect:
    return Redirect(f"/incidents/{quote(key)}#affected", status_code=303)


class AffectedPages(Controller):
    """The scope and compute forms of the incident page, and the page of affected people."""

    path = "/"
    include_in_schema = False

    @post("/incidents/{key:str}/scope", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def set_scope(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                        settings: Config, key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        typed: dict[str, Any] = {
            "systems": [str(v) for v in form.getall("systems", [])],
            "data_categories": [str(v) for v in form.getall("data_categories", [])],
            "exposure_from": str(form.get("exposure_from", "")),
            "exposure_to": str(form.get("exposure_to", "")),
            "include": str(form.get("include", "")), "exclude": str(form.get("exclude", ""))}
        lists_shown = actor.can(Permission.READ_PERSONAL_DATA)
        try:
            scope = scope_from_form(typed, settings.zone, lists_shown)
            await affected.set_scope(db, clock=clock, actor=actor, key=key, scope=scope,
                                     keep_lists=not lists_shown)
        except (Invalid, Conflict) as exc:
            held: dict[str, Any] = {TYPED: typed}
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#scope-editor",
                                   notice=_scope_refusal(exc), **held)
        return _back(key)

    @post("/incidents/{key:str}/affected", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def compute(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                      settings: Config, key: FromPath[str]) -> Response[Any]:
        try:
            await affected.compute_affected(db, clock=clock, actor=actor, key=key,
                                            default_locale=settings.default_locale)
        except Conflict as exc:
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#affected",
                                   notice=Notice.refusing("affected", exc))
        return _back(key)

    @get("/incidents/{key:str}/affected", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def people(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     key: FromPath[str], snapshot: FromQuery[str | None] = None,
                     after: FromQuery[str | None] = None) -> Template:
        """One page of a snapshot's people, in external-id order (the read goes on the timeline)."""
        number = int(snapshot) if snapshot and snapshot.isascii() and snapshot.isdigit() \
            and len(snapshot) <= 7 else None
        if snapshot and number is None:
            raise NotFound(f"no snapshot {snapshot!r}: snapshots are numbered 1, 2, 3…")
        page = await affected.read_affected(db, clock=clock, actor=actor, key=key, number=number,
                                            after=(after or None) and after[:200],
                                            limit=PEOPLE_PAGE)
        incident, _ = await affected.get_snapshot(db, actor=actor, key=key, number=page.snapshot)
        return render_page(request, "affected.html", reference=incident.reference,
                           title=incident.title, page=page, after=after or None,
                           first=PEOPLE_PAGE)
