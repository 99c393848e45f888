"""Containment on the incident page: attaching runbooks, moving steps, uploading evidence.

Each form posts here and is sent back to the incident page (303), at the part it belongs
to. A change the rules refuse (a skip without a reason, a step someone else changed
meanwhile, a file over the limit) is sent back too, and the page then shows the message
beside the form that asked for it, once, with everything in its current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.containment import service as containment
from incident.containment.api import Runbooks
from incident.containment.rules import STEP_TRANSITIONS, StepState, may_finish
from incident.containment.runbooks import Catalogue, StepRole
from incident.containment.schemas import StepChange
from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.errors import Conflict, DomainError, Forbidden, Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import form_number, refusal_sentence, send_back
from incident.kernel.params import RowId
from incident.lifecycle.models import Incident
from incident.lifecycle.pages import Notice
from incident.lifecycle.rules import Status

STATE_NAMES = {StepState.TODO: "to do", StepState.IN_PROGRESS: "in progress",
               StepState.DONE: "done", StepState.SKIPPED: "skipped"}


SKIP_NEEDS_REASON = "Skipping a step needs a reason: write why it does not apply, then skip it."


def changed_meanwhile(exc: Conflict) -> str:
    """A stale form: say what the step is now; the re-rendered page shows it that way."""
    state = STATE_NAMES[StepState(exc.extensions["state"])]
    return (f"This step was changed after you opened the page: it is now {state} (version "
            f"{exc.extensions['version']}). Its current state is shown here; choose again if "
            f"your change still applies.")


def back(key: str, anchor: str) -> Redirect:
    return Redirect(f"/incidents/{quote(key)}#{anchor}", status_code=303)




@dataclass(frozen=True, slots=True)
class PageParts:
    """What sending a refused form back to the incident page needs, gathered once per handler."""

    request: Request[Any, Any, Any]
    db: AsyncSession
    actor: Actor
    clock: Clock
    catalogue: Catalogue
    key: str

    async def refused(self, exc: DomainError, at: str, message: str | None = None) -> Redirect:
        """Back to the part of the incident page that asked (`at`), with why it was refused."""
        return await send_back(self.request, self.db, self.clock,
                               f"/incidents/{quote(self.key)}#{at}",
                               notice=Notice(at=at, message=message or refusal_sentence(exc)))


class ContainmentPages(Controller):
    """The runbook and step forms of the incident page."""

    path = "/"
    include_in_schema = False

    @post("/incidents/{key:str}/runbooks", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def attach(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     catalogue: Runbooks, key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        try:
            await containment.attach_runbook(db, clock=clock, actor=actor, catalogue=catalogue,
                                             key=key, runbook_id=str(form.get("runbook", "")))
        except (Invalid, Conflict) as exc:
            return await PageParts(request, db, actor, clock, catalogue, key).refused(exc, "runbooks")
        return back(key, "runbooks")

    @post("/incidents/{key:str}/steps/{step_row_id:int}",
          guards=[requires(Permission.WRITE_INCIDENTS)])
    async def change_step(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                          catalogue: Runbooks, key: FromPath[str],
                          step_row_id: RowId) -> Response[Any]:
        form = await request.form()
        parts, at = PageParts(request, db, actor, clock, catalogue, key), f"step-{step_row_id}"
        try:
            change = StepChange.model_validate({
                "state": form.get("state", ""), "reason": form.get("reason") or None,
                "version": form_number(str(form.get("version", "")))})
        except ValidationError as exc:
            refused = Invalid.fields([(".".join(str(p) for p in e["loc"]), e["msg"])
                                      for e in exc.errors()])
            return await parts.refused(refused, at)
        try:
            await containment.change_step(db, clock=clock, actor=actor, key=key,
                                          step_row_id=step_row_id, target=change.state,
                                          reason=change.reason, expected_version=change.version)
        except Invalid as exc:
            about_reason = any(e["field"] == "reason" for e in exc.extensions.get("errors", []))
            return await parts.refused(exc, at, SKIP_NEEDS_REASON if about_reason else None)
        except Conflict as exc:
            stale = "version" in exc.extensions
            return await parts.refused(exc, at, changed_meanwhile(exc) if stale else None)
        except Forbidden as exc:  # a step for another role: say whose it is, beside the step
            return await parts.refused(exc, at)
        return back(key, at)

    @post("/incidents/{key:str}/steps/{step_row_id:int}/assignee",
          guards=[requires(Permission.WRITE_INCIDENTS)])
    async def assign_step(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                          catalogue: Runbooks, key: FromPath[str],
                          step_row_id: RowId) -> Response[Any]:
        form = await request.form()
        at = f"step-{step_row_id}"
        try:
            await containment.assign_step(db, clock=clock, actor=actor, key=key,
                                          step_row_id=step_row_id,
                                          assignee=str(form.get("assignee", "")) or None)
        except (Invalid, Conflict) as exc:
            return await PageParts(request, db, actor, clock, catalogue, key).refused(exc, at)
        return back(key, at)


@dataclass
class EvidenceForm:
    file: UploadFile | None = None
    step: str = ""
    description: str = ""


class EvidencePages(Controller):
    """The evidence upload form. Files are larger than any other form, so the app mounts this
    controller on a router with the evidence body limit."""

    path = "/"
    include_in_schema = False

    @post("/incidents/{key:str}/evidence", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def upload(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     catalogue: Runbooks, settings: Config, key: FromPath[str],
                     data: MultipartBody[EvidenceForm]) -> Response[Any]:
        parts = PageParts(request, db, actor, clock, catalogue, key)
        try:
            if not isinstance(data.file, UploadFile) or not data.file.filename:
                raise Invalid.fields([("file", "is missing: choose a file to upload")])
            try:
                step = int(data.step) if data.step.strip() else None
            except ValueError:
                raise Invalid.fields([("step", "is not a step of this incident")]) from None
            content = await data.file.read()
            await containment.add_evidence(
                db, clock=clock, actor=actor, key=key, filename=data.file.filename,
                content_type=data.file.content_type, content=content,
                max_bytes=settings.evidence_max_bytes, step_row_id=step,
                description=data.description)
        except (Invalid, Conflict) as exc:
            return await parts.refused(exc, "evidence")
        finally:
            if isinstance(data.file, UploadFile):
                await data.file.close()
        return back(key, "evidence")


async def incident_section(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                           clock: Clock, incident: Incident, targets: list[Status]
                           ) -> dict[str, Any]:
    """The incident page's containment part: the checklist, its moves, and the evidence."""
    catalogue: Catalogue = request.app.state["catalogue"]
    _, checklist = await containment.checklist(db, actor=actor, catalogue=catalogue,
                                               key=incident.id, now=clock.now())
    can_write = actor.can(Permission.WRITE_INCIDENTS)
    return {
        "checklist": checklist,
        "evidence": await containment.list_evidence(db, actor=actor, key=incident.id),
        "suggestions": [r for r in map(catalogue.get, checklist.suggested) if r],
        "checklist_open": can_write and incident.status not in containment.FINISHED,
        "step_moves": {state.value: {t.value for t in allowed}
                       for state, allowed in STEP_TRANSITIONS.items()},
        "step_labels": {f"{s.runbook_id}/{s.step_id}": s.title for s in checklist.steps},
        "can_read_evidence": actor.can(Permission.READ_EVIDENCE),
        "may_finish": {role.value: may_finish(role.value, actor.role.value) for role in StepRole},
        "assignable": await containment.assignable(db) if can_write else [],
        "move_to_contained": can_write and checklist.containment_complete
        and Status.CONTAINED in targets,
    }
