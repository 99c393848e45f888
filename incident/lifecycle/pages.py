"""The incident list, the new-incident form and the incident page, with its moves, notes and
circumstances."""

from __future__ import annotations

from collections import Counter
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
from incident.kernel.pages import (
    E,
    form_number,
    held_for,
    refusal_sentence,
    render_page,
    send_back,
)
from incident.kernel.settings import Settings
from incident.kernel.vocabulary import DataCategory
from incident.lifecycle import rules as lifecycle
from incident.lifecycle import service as incident_service
from incident.lifecycle.api import IncidentRules
from incident.lifecycle.circumstances import Circumstances, form_of
from incident.lifecycle.rules import BreachType, Kind, Status
from incident.lifecycle.schemas import IncidentCreate, IncidentPublic, IncidentUpdate
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
    async def incidents(self, request: Request[Any, Any, Any], db: Db, actor: Who, clock: Now,
                        status: FromQuery[str | None] = None, kind: FromQuery[str | None] = None,
                        q: FromQuery[str | None] = None, page: FromQuery[int] = 1,
                        overdue: FromQuery[str | None] = None) -> Template:
        # The filter form sends `status=&kind=` for "any": empty means no filter, not an error.
        wanted_status, wanted_kind = _choice(Status, "status", status), _choice(Kind, "kind", kind)
        page = min(max(page, 1), 1_000_000)
        size = 25
        # Each open incident's soonest pending duty (hook `incident.next_due`), for the "next
        # due" column and the "overdue only" filter.
        next_due: dict[Any, dict[str, Any]] = {}
        for soonest in plugins.hooks("incident.next_due"):
            next_due.update(await soonest(db, now=clock.now()))
        late = frozenset(k for k, v in next_due.items() if v["urgency"] == "overdue")
        where = incident_service.IncidentFilter(status=wanted_status, kind=wanted_kind,
                                                text=q or None, among=late if overdue else None)
        query = {k: v for k, v in {"status": wanted_status, "kind": wanted_kind, "q": q,
                                   "overdue": "1" if overdue else None}.items() if v}
        try:
            items, total = await incident_service.list_incidents(
                db, actor=actor, where=where, limit=size, offset=(page - 1) * size)
        except Invalid as exc:  # a search too long: say so, keep what was typed in the box
            return render_page(request, "incidents.html", status=exc.status, incidents=[],
                               next_due={}, total=0,
                               page=1, pages=1, statuses=list(Status), kinds=list(Kind),
                               filters=query, query=urlencode(query),
                               search_limit=lifecycle.SEARCH_LIMIT,
                               notice=Notice.refusing("q", exc))
        due = {i.reference: next_due[i.id] for i in items if i.id in next_due}
        return render_page(request, "incidents.html", incidents=await incident_public(db, items),
                           next_due=due, total=total, page=page,
                           pages=max(1, -(-total // size)), statuses=list(Status),
                           kinds=list(Kind), filters=query, query=urlencode(query),
                           search_limit=lifecycle.SEARCH_LIMIT, notice=None)

    @get("/incidents/new", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def new_incident(self, request: Request[Any, Any, Any], db: Db, clock: Now) -> Template:
        """The form; after a refusal, with what was typed and each message beside its field."""
        held = await held_for(request, db, clock)
        now = clock.now()
        return self._form(request, held.get("values") or {"detected_at": now, "aware_at": now},
                          held.get("errors", []), 200, await page_zone(request, db))

    def _form(self, request: Request[Any, Any, Any], values: dict[str, Any],
              errors: list[dict[str, str]], status: int, zone: ZoneInfo) -> Template:
        return render_page(request, "incident_new.html", status=status, values=values, errors=errors,
                           kinds=list(Kind), breach_types=list(BreachType),
                           categories=list(DataCategory), editing=None, leads=[],
                           page_zone=zone, zone_name=str(zone))

    @post("/incidents", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def create_incident(self, request: Request[Any, Any, Any], db: Db,
                              clock: Now, rules: IncidentRules, actor: Who) -> Response[Any]:
        zone = await page_zone(request, db)
        values, errors = incident_form(await request.form(), zone)
        if not errors:
            try:
                data = IncidentCreate.model_validate(values)
                incident = await incident_service.create_incident(db, clock=clock, rules=rules,
                                                                  actor=actor, data=data)
                return Redirect(f"/incidents/{incident.reference}")
            except ValidationError as exc:
                errors = validation_errors(exc)
            except Invalid as exc:
                errors = exc.extensions.get("errors", [])
        return await send_back(request, db, clock, "/incidents/new#form-errors", values=values,
                               errors=errors)

    @get("/incidents/{key:str}/edit", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def edit_incident(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                            actor: Who, key: FromPath[str]) -> Template:
        """The incident's facts as a form; after a refusal, as they were typed."""
        held = await held_for(request, db, clock)
        incident = (await incident_public(db, [await incident_service.get_incident(
            db, actor=actor, key=key)]))[0]
        values = held.get("values") or incident.model_dump(include=set(EDITABLE))
        return await self._edit_form(request, db, incident.reference, values,
                                     held.get("errors", []), 200)

    async def _edit_form(self, request: Request[Any, Any, Any], db: AsyncSession, reference: str,
                         values: dict[str, Any], errors: list[dict[str, str]],
                         status: int) -> Template:
        zone = await page_zone(request, db)
        return render_page(request, "incident_new.html", status=status, values=values,
                           errors=errors, kinds=list(Kind), breach_types=list(BreachType),
                           categories=list(DataCategory), editing=reference,
                           leads=await incident_service.lead_choices(db),
                           page_zone=zone, zone_name=str(zone))

    @post("/incidents/{key:str}/edit", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def update_incident(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                              rules: IncidentRules, actor: Who,
                              key: FromPath[str]) -> Response[Any]:
        """Every field the API can change; a field left as shown is left as it is (a time
        shown to the minute keeps its seconds)."""
        zone = await page_zone(request, db)
        current = (await incident_public(db, [await incident_service.get_incident(
            db, actor=actor, key=key)]))[0]
        values, errors = incident_form(await request.form(), zone, current=current)
        await db.rollback()  # done reading: the update opens its own transaction
        if not errors:
            try:
                data = IncidentUpdate.model_validate(values)
                await incident_service.update_incident(db, clock=clock, rules=rules,
                                                       actor=actor, key=key, data=data)
                return Redirect(f"/incidents/{current.reference}")
            except ValidationError as exc:
                errors = validation_errors(exc)
            except Invalid as exc:
                errors = exc.extensions.get("errors", [])
            except DomainError as exc:  # a closed incident: nothing to change any more
                errors = [{"field": "form", "message": refusal_sentence(exc)}]
        return await send_back(request, db, clock,
                               f"/incidents/{quote(current.reference)}/edit#form-errors",
                               values=values, errors=errors)

    @get("/incidents/{key:str}", guards=[requires(Permission.READ_INCIDENTS)])
    async def incident(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                       key: FromPath[str], events: FromQuery[str | None] = None,
                       older: FromQuery[int] = 0) -> Template:
        """`events` shows one kind of timeline event; `older` pages back through the timeline.
        After a refused form, its message beside it and what was typed in it (once)."""
        held = await held_for(request, db, clock)
        notice = held.get("notice")
        return await incident_page(request, db, actor=actor, clock=clock, key=key,
                                   showing=TimelineView(kind=events or None, older=older),
                                   notice=Notice(**notice) if notice else None,
                                   typed=held.get("typed"),
                                   circumstances_typed=held.get("circumstances_typed"))

    @post("/incidents/{key:str}/status", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def change_status(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                            rules: IncidentRules, actor: Who, key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        try:
            target = Status(str(form.get("status", "")))
        except ValueError:
            raise Invalid.fields([("status", "is not a status")]) from None
        reason = str(form.get("reason", ""))
        typed_at = str(form.get("at", "")) if target in lifecycle.TIMED else ""
        try:
            try:
                at = _parse_local(typed_at, await page_zone(request, db))
            except ValueError:
                raise Invalid.fields([("at", "is not a date and time")]) from None
            incident = await incident_service.change_status(
                db, clock=clock, actor=actor, key=key, target=target, reason=reason or None,
                at=at, rules=rules)
        except (Invalid, lifecycle.LifecycleError) as exc:  # refused: say why, keep what was typed
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#notice",
                                   notice=_move_refused(target, exc),
                                   typed={"reason": reason, "at": typed_at,
                                          "target": target.value})
        return Redirect(f"/incidents/{incident.reference}#status")

    @post("/incidents/{key:str}/notes", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def add_note(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                       actor: Who, key: FromPath[str]) -> Response[Any]:
        text = str((await request.form()).get("text", ""))
        try:
            await incident_service.add_note(db, clock=clock, actor=actor, key=key, text=text)
        except Invalid as exc:  # empty or too long: say so beside the form, keep the text
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#notice",
                                   notice=Notice.refusing("note", exc), typed={"note": text})
        return Redirect(f"/incidents/{key}")

    @post("/incidents/{key:str}/circumstances", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def record_circumstances(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                                   rules: IncidentRules, actor: Who,
                                   key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        typed = {name: str(form.get(name, "")) for name in CIRCUMSTANCE_FIELDS}
        try:
            data = circumstances_from_form(typed, await page_zone(request, db))
            await incident_service.record_circumstances(db, clock=clock, rules=rules, actor=actor,
                                                        key=key, data=data)
        except DomainError as exc:  # wrong or not allowed: say why beside the form, keep it all
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#circumstances",
                                   notice=_circumstances_refused(exc), circumstances_typed=typed)
        return Redirect(f"/incidents/{key}#circumstances")


def _move_refused(target: Status, exc: DomainError) -> Notice:
    """A refused move beside the moves; a wrong time names the time the form asked for."""
    errors = exc.extensions.get("errors") or []
    if errors and all(e["field"] == "at" for e in errors):
        when = "containment" if target is Status.CONTAINED else "closing"
        text = "; ".join(e["message"] for e in errors)
        return Notice("move", f"The {when} time {text}.")
    return Notice.refusing("move", exc)


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


TIMELINE_PAGE = 20
"""Timeline events shown at once on the incident page, newest first; older ones are a page away."""


@dataclass(frozen=True, slots=True)
class TimelineView:
    """Which part of the timeline the incident page shows: one kind (or all), and how many
    pages back from the newest."""

    kind: str | None = None
    older: int = 0


async def incident_page(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                        clock: Clock, key: str, status: int = 200,
                        notice: Notice | None = None,
                        typed: dict[str, str] | None = None,
                        circumstances_typed: dict[str, Any] | None = None,
                        showing: TimelineView | None = None) -> Template:
    """The incident with its moves and timeline, and the sections other capabilities add to it.

    `typed` gives back what a refused form held (`note`, `reason`, `at`), so nothing typed is
    lost; `circumstances_typed` what the refused circumstances form held. Times are shown in
    the organisation's zone, stated once on the page. The timeline shows TIMELINE_PAGE events
    at a time, newest first, of every kind or of the one `showing` names.

    Sections (containment's checklist and evidence, for one) come through the
    `incident.page_sections` hook, so this page never imports the capabilities above it.
    """
    showing = showing or TimelineView()
    incident, events = await incident_service.timeline(db, actor=actor, key=key, limit=10_000)
    verification = None
    if actor.can(Permission.VERIFY_TIMELINE):
        verification = await journal.verify(db, str(incident.id))
    targets = [t for t in lifecycle.allowed_targets(Status(incident.status))
               if t is not Status.DISMISSED or actor.can(Permission.DISMISS_INCIDENTS)]
    sections: dict[str, Any] = {"pending_duties": []}
    for section in plugins.hooks("incident.page_sections"):
        sections.update(await section(request, db, actor=actor, clock=clock, incident=incident,
                                      targets=targets))
    kinds = Counter(e.kind for e in events)
    chosen = [e for e in reversed(events) if showing.kind in (None, e.kind)]
    pages = max(1, -(-len(chosen) // TIMELINE_PAGE))
    older = min(max(showing.older, 0), pages - 1)
    zone = await page_zone(request, db)
    return render_page(request, "incident.html", status=status,
                       incident=(await incident_public(db, [incident]))[0],
                       events=[event_public(e) for e in
                               chosen[older * TIMELINE_PAGE:(older + 1) * TIMELINE_PAGE]],
                       timeline={"kinds": sorted(kinds.items()), "kind": showing.kind,
                                 "older": older, "pages": pages, "shown": len(chosen),
                                 "size": TIMELINE_PAGE,
                                 "total": len(events)},
                       verification=verification, targets=targets,
                       timed=lifecycle.TIMED, finishing=lifecycle.FINISHING,
                       now=clock.now(), page_zone=zone, zone_name=str(zone),
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


async def page_zone(request: Request[Any, Any, Any], db: AsyncSession) -> ZoneInfo:
    """The zone the incident pages show and read times in: the organisation's (hook
    `organisation.zone`), or BREACH_TIMEZONE before it is set."""
    reading = db.in_transaction()
    found: ZoneInfo | None = None
    for ask in plugins.hooks("organisation.zone"):
        zone = await ask(db)
        if isinstance(zone, ZoneInfo):
            found = zone
            break
    if not reading and db.in_transaction():
        await db.rollback()  # a read only: the use case that follows opens its own transaction
    settings: Settings = request.app.state["settings"]
    return found or settings.zone


EDITABLE = ("title", "description", "kind", "breach_types", "data_categories", "systems",
            "occurred_from", "occurred_to", "detected_at", "aware_at", "estimated_subjects",
            "estimated_records", "lead")
"""The incident form's fields: every one the API's PATCH can change."""

TIMES = ("occurred_from", "occurred_to", "detected_at", "aware_at")


def incident_form(form: Any, zone: ZoneInfo, current: IncidentPublic | None = None
                  ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The incident form's values as the API's shape, and the times that did not parse.

    Editing (`current` given), a time left as it was shown (to the minute) keeps its seconds,
    so saving an unchanged form changes nothing."""
    values: dict[str, Any] = {
        "title": form.get("title", ""), "description": form.get("description", ""),
        "kind": form.get("kind", ""), "breach_types": form.getall("breach_types", []),
        "data_categories": form.getall("data_categories", []),
        "systems": [s.strip() for s in str(form.get("systems", "")).split(",") if s.strip()],
        "estimated_subjects": form_number(str(form.get("estimated_subjects", ""))),
    }
    if current is not None or "estimated_records" in form:
        values["estimated_records"] = form_number(str(form.get("estimated_records", "")))
    if current is not None or "lead" in form:
        values["lead"] = str(form.get("lead", "")).strip() or None
    errors: list[dict[str, str]] = []
    for name in TIMES:
        typed = str(form.get(name, ""))
        was = getattr(current, name) if current is not None else None
        if was is not None and typed.strip() == was.astimezone(zone).isoformat(
                timespec="minutes")[:16]:
            values[name] = was
            continue
        try:
            values[name] = _parse_local(typed, zone)
        except ValueError:
            values[name] = typed
            errors.append({"field": name, "message": "is not a date and time"})
    return values, errors


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "form", "message": e["msg"]}
            for e in exc.errors()]
