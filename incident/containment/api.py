"""The JSON API of containment: runbooks, attached checklists, step changes and evidence files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import quote

from litestar import Controller, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_201_CREATED

from incident.containment import service as containment
from incident.containment.runbooks import Catalogue, runbook_digest, runbook_summary, runbook_to_dict
from incident.containment.schemas import (
    ChecklistPublic,
    EvidencePublic,
    OverdueStepPublic,
    RunbookAttach,
    StepAssign,
    StepChange,
    StepPublic,
)
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.errors import NotFound
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import answers_in
from incident.kernel.params import RowId

Runbooks: TypeAlias = NamedDependency[Catalogue]
"""The runbook catalogue the app loaded at start."""


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
                          step_row_id: RowId, data: JSONBody[StepChange]) -> StepPublic:
        step = await containment.change_step(db, clock=clock, actor=actor, key=key,
                                             step_row_id=step_row_id, target=data.state,
                                             reason=data.reason, expected_version=data.version)
        emails = await containment.assignee_emails(db, [step])
        return StepPublic.model_validate(step).model_copy(
            update={"assignee": emails.get(step.assignee_id) if step.assignee_id else None})

    @put("/incidents/{key:str}/steps/{step_row_id:int}/assignee",
         guards=[requires(Permission.WRITE_INCIDENTS)])
    async def assign_step(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                          step_row_id: RowId, data: JSONBody[StepAssign]) -> StepPublic:
        """Give the step to one person who may work on incidents (their e-mail), or to nobody
        (null); the timeline records the change. Who may finish it stays the step's role."""
        step, email = await containment.assign_step(db, clock=clock, actor=actor, key=key,
                                                    step_row_id=step_row_id,
                                                    assignee=data.assignee)
        return StepPublic.model_validate(step).model_copy(update={"assignee": email})

    @get("/steps/overdue", guards=[requires(Permission.READ_INCIDENTS)])
    async def overdue(self, db: Db, clock: Now, actor: Who) -> list[OverdueStepPublic]:
        return [containment.overdue_public(o)
                for o in await containment.overdue_steps(db, actor=actor, now=clock.now())]

    @get("/incidents/{key:str}/evidence/{evidence_id:int}",
         guards=[requires(Permission.READ_EVIDENCE)], opt=answers_in("application/octet-stream"))
    async def download(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                       evidence_id: RowId) -> Response[bytes]:
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
