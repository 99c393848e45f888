"""The JSON API of incidents: list, create, read, edit, move, and add notes."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Db, Now, Who
from incident.kernel.openapi import also_answers
from incident.kernel.params import InstantQuery, Limit, Offset
from incident.kernel.schemas import Page, parse_instant
from incident.lifecycle import service as incident_service
from incident.lifecycle.circumstances import Circumstances
from incident.lifecycle.rules import SEARCH_LIMIT, Kind, Status
from incident.lifecycle.schemas import (
    IncidentCreate,
    IncidentPublic,
    IncidentUpdate,
    NoteCreate,
    StatusChange,
)
from incident.lifecycle.schemas import public as incident_public
from incident.lifecycle.service import Rules
from incident.timeline.schemas import TimelineEventPublic, event_public

IncidentRules: TypeAlias = NamedDependency[Rules]
"""The incident rules the app was built with (time zone, allowed clock skew)."""


class IncidentController(Controller):
    path = "/api/v1/incidents"
    tags = ["incidents"]

    @get("/", guards=[requires(Permission.READ_INCIDENTS)], opt=also_answers(422))
    async def list_incidents(self, db: Db, actor: Who, status: FromQuery[Status | None] = None,
                             kind: FromQuery[Kind | None] = None,
                             aware_from: InstantQuery = None,
                             aware_to: InstantQuery = None,
                             q: Annotated[str | None, QueryParameter(
                                 description=f"title or reference contains; at most "
                                             f"{SEARCH_LIMIT} characters")] = None,
                             limit: Limit = 50, offset: Offset = 0) -> Page[IncidentPublic]:
        where = incident_service.IncidentFilter(
            status=status, kind=kind, aware_from=parse_instant("aware_from", aware_from),
            aware_to=parse_instant("aware_to", aware_to), text=q)
        items, total = await incident_service.list_incidents(db, actor=actor, where=where,
                                                             limit=limit, offset=offset)
        return Page(items=await incident_public(db, items), total=total, limit=limit,
                    offset=offset)

    @post("/", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=HTTP_201_CREATED)
    async def create_incident(self, db: Db, clock: Now, rules: IncidentRules,
                              actor: Who, data: JSONBody[IncidentCreate]) -> IncidentPublic:
        incident = await incident_service.create_incident(db, clock=clock, rules=rules, actor=actor,
                                                          data=data)
        return (await incident_public(db, [incident]))[0]

    @get("/{key:str}", guards=[requires(Permission.READ_INCIDENTS)])
    async def get_incident(self, db: Db, actor: Who, key: FromPath[str]) -> IncidentPublic:
        incident = await incident_service.get_incident(db, actor=actor, key=key)
        return (await incident_public(db, [incident]))[0]

    @patch("/{key:str}", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def update_incident(self, db: Db, clock: Now, rules: IncidentRules,
                              actor: Who, key: FromPath[str],
                              data: JSONBody[IncidentUpdate]) -> IncidentPublic:
        incident = await incident_service.update_incident(db, clock=clock, rules=rules, actor=actor,
                                                          key=key, data=data)
        return (await incident_public(db, [incident]))[0]

    @post("/{key:str}/status", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=200,
          opt=also_answers(409))
    async def change_status(self, db: Db, clock: Now, rules: IncidentRules, actor: Who,
                            key: FromPath[str], data: JSONBody[StatusChange]) -> IncidentPublic:
        """Move the incident. Resolving or closing while duties to notify are pending takes an
        approver (409 `pending-duties` otherwise) and a written reason (422)."""
        incident = await incident_service.change_status(db, clock=clock, actor=actor, key=key,
                                                        target=data.status, reason=data.reason,
                                                        at=data.at, rules=rules)
        return (await incident_public(db, [incident]))[0]

    @put("/{key:str}/circumstances", guards=[requires(Permission.WRITE_INCIDENTS)],
         opt=also_answers(409))
    async def record_circumstances(self, db: Db, clock: Now, rules: IncidentRules, actor: Who,
                                   key: FromPath[str],
                                   data: JSONBody[Circumstances]) -> Circumstances:
        """Record the facts the laws turn on: encryption and its key, redaction, a risk-of-harm
        determination (an approver records one that misuse is not reasonably likely), a
        law-enforcement delay. Replaces what was recorded; the obligations follow at once."""
        incident = await incident_service.record_circumstances(
            db, clock=clock, rules=rules, actor=actor, key=key, data=data)
        return Circumstances.model_validate(incident.circumstances)

    @post("/{key:str}/notes", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED)
    async def add_note(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                       data: JSONBody[NoteCreate]) -> TimelineEventPublic:
        event = await incident_service.add_note(db, clock=clock, actor=actor, key=key, text=data.text)
        return event_public(event)
