"""The incident list, the new-incident form and the incident page, with its moves, notes and
circumstances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import plugins
from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Invalid
from incident.kernel.injected import Db, Now, Who
from incident.kernel.pages import E, form_number, refusal_sentence, render_page
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle import rules as lifecycle
from incident.lifecycle import service as incident_service
from incident.lifecycle.api import IncidentRules
from incident.lifecycle.circumstances import Circumstances, form_of
from incident.lifecycle.rules import BreachType, Kind, Status
from incident.lifecycle.schemas import IncidentCreate
from incident.lifecycle.schemas import public as incident_public
from incident.timeline import service as journal
from incident.timeline.schemas import event_public


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
        where = incident_service.IncidentFilter(status=wanted_status, kind=wanted_kind,
                                                text=q or None)
        query = {k: v for k, v in {"status": wanted_status, "kind": wanted_kind, "q": q}.items()
                 if v}
        try:
            items, total = await incident_service.list_incidents(
                db, actor=actor, where=where, limit=size, offset=(page - 1) * size)
        except Invalid as exc:  # a search too long: say so, keep what was typed in the box
            return render_page(request, "incidents.html", status=exc.status, incidents=[], total=0,
                               page=1, pages=1, statuses=list(Status), kinds=list(Kind),
                               filters=query, query=urlencode(query),
                               search_limit=lifecycle.SEARCH_LIMIT,
                               notice=Notice.refusing("q", exc))
        return render_page(request, "incidents.html", incidents=await incident_public(db, items),
                           total=total, page=page, pages=max(1, -(-total // size)), statuses=list(Status),
                           kinds=list(Kind), filters=query, query=urlencode(query),
                           search_limit=lifecycle.SEARCH_LIMIT, notice=None)

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
            "estimated_subjects": form_number(str(form.get("estimated_subjects", ""))),
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
                incident = await incident_service.create_incident(db, clock=clock, rules=rules,
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
                       key: FromPath[str]) -> Template:
        return await incident_page(request, db, actor=actor, clock=clock, key=key)

    @post("/incidents/{key:str}/status", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def change_status(self, request: Request[Any, Any, Any], db: Db,
                            clock: Now, actor: Who, key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        try:
            target = Status(str(form.get("status", "")))
        except ValueError:
            raise Invalid.fields([("status", "is not a status")]) from None
        reason = str(form.get("reason", ""))
        try:
            incident = await incident_service.change_status(db, clock=clock, actor=actor, key=key,
                                                            target=target, reason=reason or None)
        except (Invalid, lifecycle.LifecycleError) as exc:  # refused: say why, keep the reason
            return await incident_page(request, db, actor=actor, clock=clock, key=key,
                                       status=exc.status, notice=Notice.refusing("move", exc),
                                       typed={"reason": reason})
        return Redirect(f"/incidents/{incident.reference}")

    @post("/incidents/{key:str}/notes", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def add_note(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                       actor: Who, key: FromPath[str]) -> Response[Any]:
        text = str((await request.form()).get("text", ""))
        try:
            await incident_service.add_note(db, clock=clock, actor=actor, key=key, text=text)
        except Invalid as exc:  # empty or too long: say so beside the form, keep the text
            return await incident_page(request, db, actor=actor, clock=clock, key=key,
                                       status=exc.status, notice=Notice.refusing("note", exc),
                                       typed={"note": text})
        return Redirect(f"/incidents/{key}")

    @post("/incidents/{key:str}/circumstances", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def record_circumstances(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                                   rules: IncidentRules, actor: Who,
                                   key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        typed = {name: str(form.get(name, "")) for name in CIRCUMSTANCE_FIELDS}
        try:
            data = circumstances_from_form(typed, rules.zone)
            await incident_service.record_circumstances(db, clock=clock, rules=rules, actor=actor,
                                                        key=key, data=data)
        except DomainError as exc:  # wrong or not allowed: say why beside the form, keep it all
            return await incident_page(request, db, actor=actor, clock=clock, key=key,
                                       status=exc.status,
                                       notice=_circumstances_refused(exc),
                                       circumstances_typed=typed)
        return Redirect(f"/incidents/{key}#circumstances")


CIRCUMSTANCE_FIELDS = (
    "encryption", "state_of_the_art", "key_compromised", "redacted",
    "harm_conclusion", "harm_text", "harm_determined_at", "harm_determined_by",
    "harm_law_enforcement_consulted", "harm_inadvertent_disclosure",
    "delay_agency", "delay_requested_at", "delay_written", "delay_until", "delay_ended_at",
)
"""The circumstances form's fields (templates/web/incident_circumstances.html)."""


def _circumstances_refused(exc: DomainError) -> Notice:
    """The refusal beside the circumstances form, naming each field as the form labels it."""
    errors = exc.extensions.get("errors") or []
    if not errors:
        return Notice.refusing("circumstances", exc)
    labels = [(e["field"].replace("_", " ").replace(".", ", "), e["message"].replace("_", " "))
              for e in errors]
    text = "; ".join(f"{field}: {message}" for field, message in labels)
    return Notice("circumstances", text[:1].upper() + text[1:] + ".")


def circumstances_from_form(typed: dict[str, str], zone: ZoneInfo) -> Circumstances:
    """The circumstances form as the API's shape; Invalid naming each field that is wrong.

    A part left blank (no conclusion and no text; no agency and no dates) is not recorded."""
    errors: list[tuple[str, str]] = []

    def when(name: str, field: str) -> datetime | None:
        try:
            return _parse_local(typed[name], zone)
        except ValueError:
            errors.append((field, "is not a date and time"))
            return None

    values: dict[str, Any] = {"encryption": typed["encryption"] or "none",
                              **{name: typed[name] == "yes" for name in (
                                  "state_of_the_art", "key_compromised", "redacted")}}
    if any(typed[name].strip() for name in ("harm_conclusion", "harm_text", "harm_determined_at",
                                            "harm_determined_by")):
        values["risk_of_harm"] = {
            "conclusion": typed["harm_conclusion"], "text": typed["harm_text"],
            "determined_at": when("harm_determined_at", "risk_of_harm.determined_at"),
            "determined_by": typed["harm_determined_by"],
            "law_enforcement_consulted": typed["harm_law_enforcement_consulted"] == "yes",
            "inadvertent_disclosure": typed["harm_inadvertent_disclosure"] == "yes"}
    if any(typed[name].strip() for name in ("delay_agency", "delay_requested_at", "delay_until",
                                            "delay_ended_at")):
        values["law_enforcement_delay"] = {
            "agency": typed["delay_agency"],
            "requested_at": when("delay_requested_at", "law_enforcement_delay.requested_at"),
            "written": typed["delay_written"] == "yes",
            "until": when("delay_until", "law_enforcement_delay.until"),
            "ended_at": when("delay_ended_at", "law_enforcement_delay.ended_at")}
    if errors:
        raise Invalid.fields(errors)
    try:
        return Circumstances.model_validate(values)
    except ValidationError as exc:
        raise Invalid.fields([(".".join(str(p) for p in e["loc"]) or "form",
                               e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
                             ) from None


@dataclass(frozen=True, slots=True)
class Notice:
    """A refused change, shown on the incident page beside the form that asked for it."""

    at: str  # the id of the page part it belongs to: `runbooks`, `evidence`, `step-12`
    message: str

    @classmethod
    def refusing(cls, at: str, exc: DomainError) -> Notice:
        """The refusal as one sentence for the page, beside the form that asked."""
        return cls(at, refusal_sentence(exc))


async def incident_page(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                        clock: Clock, key: str, status: int = 200,
                        notice: Notice | None = None,
                        typed: dict[str, str] | None = None,
                        circumstances_typed: dict[str, Any] | None = None) -> Template:
    """The incident with its moves and timeline, and the sections other capabilities add to it.

    `typed` gives back what a refused form held (`note`, `reason`), so nothing typed is lost;
    `circumstances_typed` what the refused circumstances form held.

    Sections (containment's checklist and evidence, for one) come through the
    `incident.page_sections` hook, so this page never imports the capabilities above it.
    """
    incident, events = await incident_service.timeline(db, actor=actor, key=key, limit=10_000)
    verification = None
    if actor.can(Permission.VERIFY_TIMELINE):
        verification = await journal.verify(db, str(incident.id))
    targets = [t for t in lifecycle.allowed_targets(Status(incident.status))
               if t is not Status.DISMISSED or actor.can(Permission.DISMISS_INCIDENTS)]
    sections: dict[str, Any] = {}
    for section in plugins.hooks("incident.page_sections"):
        sections.update(await section(request, db, actor=actor, clock=clock, incident=incident,
                                      targets=targets))
    return render_page(request, "incident.html", status=status,
                       incident=(await incident_public(db, [incident]))[0],
                       events=[event_public(e) for e in reversed(events)],
                       verification=verification, targets=targets,
                       can_write=actor.can(Permission.WRITE_INCIDENTS),
                       export_base=f"/api/v1/incidents/{quote(incident.reference)}/timeline/export",
                       notice=notice, typed=typed or {}, note_limit=lifecycle.NOTE_LIMIT,
                       reason_limit=lifecycle.REASON_LIMIT, dismissed=Status.DISMISSED,
                       can_approve=actor.can(Permission.APPROVE),
                       can_manage_organisation=actor.can(Permission.MANAGE_ORGANISATION),
                       can_pack=actor.can(Permission.AUDIT_REPORTS),
                       milestones=dict(incident.milestones or {}),
                       circumstances_form=circumstances_typed or form_of(incident.circumstances),
                       categories=[c.value for c in DataCategory],
                       **sections)
