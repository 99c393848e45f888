"""The JSON API under /api/v1: thin handlers that parse, call a use case, return a schema."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from incident import accounts, containment, journal, services
from incident.access import requires
from incident.auth import Permission
from incident.db import SchemaOutOfDate, check_schema, session_factory
from incident.errors import NotFound
from incident.injected import Config, Db, Engine, IncidentRules, Now, Runbooks, Who
from incident.lifecycle import Kind, Status
from incident.models import TimelineEvent
from incident.runbooks import runbook_digest, runbook_summary, runbook_to_dict
from incident.schemas import (
    ChecklistPublic,
    EvidencePublic,
    IncidentCreate,
    IncidentPublic,
    IncidentUpdate,
    NoteCreate,
    OverdueStepPublic,
    Page,
    RunbookAttach,
    StatusChange,
    StepChange,
    StepPublic,
    TimelineEventPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserPublic,
    VerificationPublic,
)
from incident.timeline import format_instant

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000_000)]


def event_public(event: TimelineEvent) -> TimelineEventPublic:
    return TimelineEventPublic(seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
                               payload=journal.payload_of(event), prev_hash=event.prev_hash,
                               hash=event.hash)


class IncidentController(Controller):
    path = "/api/v1/incidents"
    tags = ["incidents"]

    @get("/", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_incidents(self, db: Db, actor: Who, status: FromQuery[Status | None] = None,
                             kind: FromQuery[Kind | None] = None,
                             aware_from: FromQuery[datetime | None] = None,
                             aware_to: FromQuery[datetime | None] = None,
                             q: Annotated[str | None, QueryParameter(max_length=200)] = None,
                             limit: Limit = 50, offset: Offset = 0) -> Page[IncidentPublic]:
        where = services.IncidentFilter(status=status, kind=kind, aware_from=aware_from,
                                        aware_to=aware_to, text=q)
        items, total = await services.list_incidents(db, actor=actor, where=where, limit=limit,
                                                     offset=offset)
        return Page(items=await services.public(db, items), total=total, limit=limit,
                    offset=offset)

    @post("/", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=HTTP_201_CREATED)
    async def create_incident(self, db: Db, clock: Now, rules: IncidentRules,
                              actor: Who, data: JSONBody[IncidentCreate]) -> IncidentPublic:
        incident = await services.create_incident(db, clock=clock, rules=rules, actor=actor,
                                                  data=data)
        return (await services.public(db, [incident]))[0]

    @get("/{key:str}", guards=[requires(Permission.READ_INCIDENTS)])
    async def get_incident(self, db: Db, actor: Who, key: FromPath[str]) -> IncidentPublic:
        incident = await services.get_incident(db, actor=actor, key=key)
        return (await services.public(db, [incident]))[0]

    @patch("/{key:str}", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def update_incident(self, db: Db, clock: Now, rules: IncidentRules,
                              actor: Who, key: FromPath[str],
                              data: JSONBody[IncidentUpdate]) -> IncidentPublic:
        incident = await services.update_incident(db, clock=clock, rules=rules, actor=actor,
                                                  key=key, data=data)
        return (await services.public(db, [incident]))[0]

    @post("/{key:str}/status", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=200)
    async def change_status(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                            data: JSONBody[StatusChange]) -> IncidentPublic:
        incident = await services.change_status(db, clock=clock, actor=actor, key=key,
                                                target=data.status, reason=data.reason)
        return (await services.public(db, [incident]))[0]

    @post("/{key:str}/notes", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED)
    async def add_note(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                       data: JSONBody[NoteCreate]) -> TimelineEventPublic:
        event = await services.add_note(db, clock=clock, actor=actor, key=key, text=data.text)
        return event_public(event)

    @get("/{key:str}/timeline", guards=[requires(Permission.READ_INCIDENTS)])
    async def timeline(self, db: Db, actor: Who, key: FromPath[str], after_seq: Offset = 0,
                       limit: Limit = 500) -> list[TimelineEventPublic]:
        _, events = await services.timeline(db, actor=actor, key=key, after_seq=after_seq,
                                            limit=limit)
        return [event_public(e) for e in events]

    @get("/{key:str}/timeline/verify", guards=[requires(Permission.VERIFY_TIMELINE)])
    async def verify(self, db: Db, actor: Who, key: FromPath[str]) -> VerificationPublic:
        _, result = await services.verify_incident(db, actor=actor, key=key)
        return VerificationPublic(**result.as_dict())

    @get("/{key:str}/timeline/export", guards=[requires(Permission.READ_INCIDENTS)])
    async def export(self, db: Db, engine: Engine, actor: Who, key: FromPath[str],
                     format: FromQuery[Literal["jsonl", "csv"]] = "jsonl") -> Stream:
        incident = await services.get_incident(db, actor=actor, key=key)
        chain, writer = str(incident.id), export_jsonl if format == "jsonl" else export_csv

        async def body() -> AsyncIterator[str]:
            # The request's session closes when the handler returns; the stream outlives it.
            async with session_factory(engine)() as stream_db:
                async for chunk in writer(journal.stream_events(stream_db, chain)):
                    yield chunk

        media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
        name = f"{incident.reference}-timeline.{format}"
        return Stream(body(), media_type=media,
                      headers={"content-disposition": f'attachment; filename="{name}"'})


EXPORT_COLUMNS = ["seq", "at", "actor", "kind", "payload", "prev_hash", "hash"]


def _export_row(event: TimelineEvent) -> dict[str, Any]:
    """The stored fields verbatim (the payload as its hashed JSON text), so exports re-verify."""
    return {"seq": event.seq, "at": format_instant(event.at), "actor": event.actor,
            "kind": event.kind, "payload": event.payload, "prev_hash": event.prev_hash,
            "hash": event.hash}


async def export_jsonl(events: AsyncIterator[TimelineEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield json.dumps(_export_row(event), ensure_ascii=False) + "\n"


async def export_csv(events: AsyncIterator[TimelineEvent]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    async for event in events:
        writer.writerow(_export_row(event))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/verify", guards=[requires(Permission.VERIFY_TIMELINE)])
    async def verify_all(self, db: Db, actor: Who) -> list[VerificationPublic]:
        return [VerificationPublic(**v.as_dict())
                for v in await services.verify_everything(db, actor=actor)]


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", guards=[requires(Permission.SELF_SERVICE)])
    async def me(self, db: Db, actor: Who) -> UserPublic:
        user = await accounts.user_by_email(db, actor.label)
        return UserPublic.model_validate(user)

    @get("/users", guards=[requires(Permission.MANAGE_USERS)])
    async def list_users(self, db: Db, actor: Who) -> list[UserPublic]:
        return [UserPublic.model_validate(u) for u in await accounts.list_users(db, actor=actor)]

    @get("/tokens", guards=[requires(Permission.SELF_SERVICE)])
    async def list_tokens(self, db: Db, actor: Who) -> list[TokenPublic]:
        tokens = await accounts.list_tokens(db, actor=actor)
        return [TokenPublic.model_validate(t) for t in tokens]

    @post("/tokens", guards=[requires(Permission.SELF_SERVICE)], status_code=HTTP_201_CREATED)
    async def create_token(self, db: Db, clock: Now, actor: Who,
                           data: JSONBody[TokenCreate]) -> TokenCreated:
        token, secret = await accounts.create_token(db, clock=clock, actor=actor, email=None,
                                                    name=data.name)
        return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=secret)

    @delete("/tokens/{token_id:int}", guards=[requires(Permission.SELF_SERVICE)], status_code=200)
    async def revoke_token(self, db: Db, clock: Now, actor: Who,
                           token_id: FromPath[int]) -> TokenPublic:
        token = await accounts.revoke_token(db, clock=clock, actor=actor, token_id=token_id)
        return TokenPublic.model_validate(token)


class HealthController(Controller):
    path = "/"
    tags = ["health"]

    @get("/health")
    async def health(self) -> dict[str, str]:
        """The process is up (no dependencies checked)."""
        return {"status": "ok"}

    @get("/ready")
    async def ready(self, engine: Engine) -> Response[dict[str, str]]:
        """The database answers and its schema is the one this version expects."""
        try:
            await check_schema(engine)
        except SchemaOutOfDate as exc:
            return Response({"status": "unavailable", "detail": str(exc)}, status_code=503)
        except Exception:  # any database failure means "not ready", never a 500
            return Response({"status": "unavailable", "detail": "the database does not answer"},
                            status_code=503)
        return Response({"status": "ready"})




class ContainmentController(Controller):
    """Runbooks on an incident, its checklist of steps, and its evidence."""

    path = "/api/v1"
    tags = ["containment"]

    @get("/runbooks", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_runbooks(self, catalogue: Runbooks) -> list[dict[str, Any]]:
        return [runbook_summary(r) for r in catalogue]

    @get("/runbooks/{runbook_id:str}", guards=[requires(Permission.READ_INCIDENTS)])
    async def show_runbook(self, catalogue: Runbooks, runbook_id: FromPath[str]) -> dict[str, Any]:
        runbook = catalogue.get(runbook_id)
        if runbook is None:
            raise NotFound(f"no runbook {runbook_id!r}")
        return {**runbook_to_dict(runbook), "digest": runbook_digest(runbook)}

    @post("/incidents/{key:str}/runbooks", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED)
    async def attach(self, db: Db, clock: Now, actor: Who, catalogue: Runbooks, key: FromPath[str],
                     data: JSONBody[RunbookAttach]) -> ChecklistPublic:
        await containment.attach_runbook(db, clock=clock, actor=actor, catalogue=catalogue,
                                         key=key, runbook_id=data.runbook)
        _, result = await containment.checklist(db, actor=actor, catalogue=catalogue, key=key,
                                                now=clock.now())
        return result

    @get("/incidents/{key:str}/steps", guards=[requires(Permission.READ_INCIDENTS)])
    async def steps(self, db: Db, clock: Now, actor: Who, catalogue: Runbooks,
                    key: FromPath[str]) -> ChecklistPublic:
        _, result = await containment.checklist(db, actor=actor, catalogue=catalogue, key=key,
                                                now=clock.now())
        return result

    @patch("/incidents/{key:str}/steps/{step_row_id:int}",
           guards=[requires(Permission.WRITE_INCIDENTS)])
    async def change_step(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                          step_row_id: FromPath[int], data: JSONBody[StepChange]) -> StepPublic:
        step = await containment.change_step(db, clock=clock, actor=actor, key=key,
                                             step_row_id=step_row_id, target=data.state,
                                             reason=data.reason, expected_version=data.version)
        return StepPublic.model_validate(step)

    @get("/steps/overdue", guards=[requires(Permission.READ_INCIDENTS)])
    async def overdue(self, db: Db, clock: Now, actor: Who) -> list[OverdueStepPublic]:
        return [containment.overdue_public(o)
                for o in await containment.overdue_steps(db, actor=actor, now=clock.now())]

    @get("/incidents/{key:str}/evidence/{evidence_id:int}",
         guards=[requires(Permission.READ_EVIDENCE)])
    async def download(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                       evidence_id: FromPath[int]) -> Response[bytes]:
        evidence, content = await containment.download_evidence(
            db, clock=clock, actor=actor, key=key, evidence_id=evidence_id)
        # Served as an attachment of a neutral type: an uploaded page must never run here.
        return Response(content, media_type="application/octet-stream", headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(evidence.filename)}",
            "x-evidence-sha256": evidence.sha256})


@dataclass
class EvidenceUpload:
    file: UploadFile
    step: int | None = None
    description: str = ""


class EvidenceController(Controller):
    """Evidence list and upload. Uploads take larger bodies than the rest of the API, so the
    app mounts this controller on a router of its own."""

    path = "/api/v1"
    tags = ["containment"]

    @get("/incidents/{key:str}/evidence", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_evidence(self, db: Db, actor: Who, key: FromPath[str]) -> list[EvidencePublic]:
        return await containment.list_evidence(db, actor=actor, key=key)

    @post("/incidents/{key:str}/evidence", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED)
    async def upload(self, db: Db, clock: Now, actor: Who, settings: Config, key: FromPath[str],
                     data: MultipartBody[EvidenceUpload]) -> EvidencePublic:
        content = await data.file.read()
        return await containment.add_evidence(
            db, clock=clock, actor=actor, key=key, filename=data.file.filename,
            content_type=data.file.content_type, content=content,
            max_bytes=settings.evidence_max_bytes, step_row_id=data.step,
            description=data.description)


API_CONTROLLERS = [IncidentController, ContainmentController, AuditController, AccountController,
                   HealthController]
