"""Containment use cases: runbooks attached to incidents, their steps, and evidence.

An incident pins the runbook as it was when attached (content and digest), so
later edits to the file never rewrite what the incident was asked to do.
Evidence is stored by its SHA-256; the hash goes on the timeline, and every
download of it is a timeline event too.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import User
from incident.containment.due_offsets import parse_due, step_due_at
from incident.containment.models import Evidence, EvidenceBlob, IncidentRunbook, IncidentStep
from incident.containment.rules import (
    EVIDENCE_DESCRIPTION_LIMIT,
    STEP_REASON_LIMIT,
    StepChangeRefused,
    StepState,
    StepView,
    check_step_change,
    check_step_role,
    containment_complete,
    is_overdue,
    progress_by_phase,
)
from incident.containment.runbooks import (
    Catalogue,
    Phase,
    Runbook,
    runbook_digest,
    runbook_to_dict,
    suggest_runbooks,
)
from incident.containment.schemas import (
    AttachedRunbookPublic,
    ChecklistPublic,
    EvidencePublic,
    OverdueStepPublic,
    StepPublic,
)
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission, Role
from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, transaction
from incident.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from incident.kernel.schemas import bounded_text
from incident.lifecycle import rules as lifecycle_rules
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal

FINISHED = frozenset(status.value for status in lifecycle_rules.FINISHED)


def _refuse_if_finished(incident: Incident) -> None:
    if incident.status in FINISHED:
        raise Conflict(f"{incident.reference} is {incident.status}: its checklist can no longer change")


def view(step: IncidentStep) -> StepView:
    return StepView(phase=Phase(step.phase), state=StepState(step.state), due_at=step.due_at)


async def attach_runbook(db: AsyncSession, *, clock: Clock, actor: Actor, catalogue: Catalogue,
                         key: str | uuid.UUID, runbook_id: str) -> tuple[IncidentRunbook, list[IncidentStep]]:
    """Attach a runbook to an incident with one step row per runbook step, due from aware_at."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    runbook = catalogue.get(runbook_id)
    if runbook is None:
        raise Invalid.fields([("runbook", f"no runbook {runbook_id!r}; known: "
                               f"{', '.join(r.id for r in catalogue)}")])
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        _refuse_if_finished(incident)
        existing = (await db.exec(select(IncidentRunbook).where(
            IncidentRunbook.incident_id == incident.id,
            IncidentRunbook.runbook_id == runbook.id))).first()
        if existing is not None:
            raise Conflict(f"{runbook.id} is already attached to {incident.reference} "
                           f"(version {existing.version})")
        attached = IncidentRunbook(incident_id=incident.id, runbook_id=runbook.id,
                                   version=runbook.version, digest=runbook_digest(runbook),
                                   content=runbook_to_dict(runbook), attached_at=now,
                                   attached_by=actor.label)
        db.add(attached)
        await db.flush()
        steps = _step_rows(incident, attached, runbook)
        db.add_all(steps)
        incident.updated_at = now
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="runbook_attached",
                                   payload={"runbook": runbook.id, "version": runbook.version,
                                            "digest": attached.digest, "steps": len(steps)})
    return attached, steps


def _step_rows(incident: Incident, attached: IncidentRunbook, runbook: Runbook) -> list[IncidentStep]:
    assert attached.id is not None
    return [IncidentStep(incident_id=incident.id, incident_runbook_id=attached.id,
                         runbook_id=runbook.id, step_id=step.id, position=position,
                         title=step.title, reported_as=step.reported_as,
                         phase=step.phase.value, role=step.role.value,
                         due=step.due, due_at=step_due_at(step, incident.aware_at),
                         evidence_required=step.evidence_required, state=StepState.TODO.value)
            for position, step in enumerate(runbook.steps)]


async def attached_runbooks(db: AsyncSession, incident: Incident) -> list[IncidentRunbook]:
    query = (select(IncidentRunbook).where(IncidentRunbook.incident_id == incident.id)
             .order_by(IncidentRunbook.id))  # type: ignore[arg-type]
    return list((await db.exec(query)).all())


async def incident_steps(db: AsyncSession, incident: Incident) -> list[IncidentStep]:
    query = (select(IncidentStep).where(IncidentStep.incident_id == incident.id)
             .order_by(IncidentStep.incident_runbook_id, IncidentStep.position))  # type: ignore[arg-type]
    return list((await db.exec(query)).all())


async def evidence_counts(db: AsyncSession, incident: Incident) -> dict[int, int]:
    query = (select(Evidence.step_row_id, func.count()).where(Evidence.incident_id == incident.id)
             .group_by(Evidence.step_row_id))  # type: ignore[arg-type]
    return {row[0]: int(row[1]) for row in (await db.exec(query)).all() if row[0] is not None}


async def change_step(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                      step_row_id: int, target: StepState, reason: str | None = None,
                      expected_version: int | None = None) -> IncidentStep:
    """Move one step, recording who, when and why.

    The step row is locked for the change, so concurrent changes apply one
    after the other and each sees the other's result; a client that passes the
    version it read gets a 409 instead of overwriting a change it has not seen.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    reason = bounded_text("reason", reason, limit=STEP_REASON_LIMIT) or None
    now = clock.now()
    async with transaction(db):
        incident, step = await _step_to_change(db, actor, key, step_row_id)
        if expected_version is not None and expected_version != step.version:
            raise Conflict(f"the step changed since you read it (now version {step.version}, "
                           f"state {step.state}); reload and try again",
                           version=step.version, state=step.state)
        evidence = (await db.exec(select(func.count()).select_from(Evidence).where(
            Evidence.step_row_id == step.id))).one()
        current = StepState(step.state)
        try:
            check_step_change(current, target, reason=reason,
                              evidence_required=step.evidence_required,
                              evidence_count=int(evidence))
            check_step_role(step.role, actor.role.value, target)
        except StepChangeRefused as exc:
            if exc.status == 422:
                raise Invalid.fields([(exc.field or "state", str(exc))]) from None
            if exc.status == 403:
                raise Forbidden(str(exc), role=step.role) from None
            raise Conflict(str(exc)) from None
        step.state, step.reason = target.value, (reason or "").strip() or None
        step.changed_by, step.changed_at, step.version = actor.label, now, step.version + 1
        incident.updated_at = now
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="step_changed",
                                   payload={"runbook": step.runbook_id, "step": step.step_id,
                                            "from": current.value, "to": target.value,
                                            "reason": step.reason})
    return step


async def _step_to_change(db: AsyncSession, actor: Actor, key: str | uuid.UUID,
                          step_row_id: int) -> tuple[Incident, IncidentStep]:
    """An unfinished incident and one of its steps, the step locked for the change."""
    incident = await get_incident(db, actor=actor, key=key)
    _refuse_if_finished(incident)
    query = select(IncidentStep).where(IncidentStep.id == step_row_id,
                                       IncidentStep.incident_id == incident.id)
    if is_postgresql(db):
        query = query.with_for_update()
    step = (await db.exec(query)).first()
    if step is None:
        raise NotFound(f"no step {step_row_id} on {incident.reference}")
    return incident, step


async def _assignee(db: AsyncSession, email: str | None) -> User | None:
    """The active person a step is given to, by e-mail; None (blank) gives it to nobody."""
    if not (email and email.strip()):
        return None
    user = (await db.exec(select(User).where(User.email == auth.normalise_email(email)))
            ).one_or_none()
    if user is None or not user.active:
        raise Invalid.fields([("assignee", f"no active user has the e-mail {email.strip()}")])
    if Permission.WRITE_INCIDENTS not in auth.PERMISSIONS[Role(user.role)]:
        raise Invalid.fields([("assignee", f"{user.email} is {user.role}: that role cannot "
                               f"work on steps")])
    return user


async def assign_step(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                      step_row_id: int, assignee: str | None) -> tuple[IncidentStep, str | None]:
    """Give a step to one person (by e-mail), or to nobody; the timeline records the change.
    Returns the step and the assignee's e-mail."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident, step = await _step_to_change(db, actor, key, step_row_id)
        user = await _assignee(db, assignee)
        new_id = user.id if user else None
        email = user.email if user else None
        if new_id == step.assignee_id:
            return step, email
        before = await db.get(User, step.assignee_id) if step.assignee_id else None
        step.assignee_id, step.version = new_id, step.version + 1
        db.add(step)
        incident.updated_at = now
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="step_assigned",
                                   payload={"runbook": step.runbook_id, "step": step.step_id,
                                            "from": before.email if before else None,
                                            "to": email, "assignee_id": new_id})
    return step, email


async def assignee_emails(db: AsyncSession, steps: list[IncidentStep]) -> dict[int, str]:
    """The e-mail of each step's assignee, by user id, in one query."""
    ids = {s.assignee_id for s in steps if s.assignee_id is not None}
    if not ids:
        return {}
    rows = await db.exec(select(User.id, User.email).where(col(User.id).in_(ids)))
    return {row[0]: row[1] for row in rows if row[0] is not None}


async def assignable(db: AsyncSession) -> list[str]:
    """The e-mails of the active people who may be given a step (those who may work on
    incidents), sorted."""
    roles = [r.value for r in Role if Permission.WRITE_INCIDENTS in auth.PERMISSIONS[r]]
    query = select(User.email).where(User.active == True,  # noqa: E712  (SQL, not Python)
                                     col(User.role).in_(roles)).order_by(User.email)
    return list((await db.exec(query)).all())


def guidance_of(attached: list[IncidentRunbook]) -> dict[tuple[str, str], str]:
    """Each pinned step's guidance, by (runbook, step): as the runbook said when attached."""
    return {(a.runbook_id, str(step.get("id"))): str(step.get("guidance", ""))
            for a in attached for step in a.content.get("steps", [])}


@dataclass(frozen=True, slots=True)
class OverdueStep:
    reference: str
    incident_id: uuid.UUID
    step: IncidentStep


def overdue_public(item: OverdueStep) -> OverdueStepPublic:
    return OverdueStepPublic(reference=item.reference, incident_id=item.incident_id,
                             step=StepPublic.model_validate(item.step).model_copy(
                                 update={"overdue": True}))


async def overdue_steps(db: AsyncSession, *, actor: Actor, now: datetime,
                        key: str | uuid.UUID | None = None) -> list[OverdueStep]:
    """Open steps past their due time, oldest first; of one incident or of every open one."""
    auth.require(actor, Permission.READ_INCIDENTS)
    query = (select(IncidentStep, Incident.reference)
             .join(Incident, IncidentStep.incident_id == Incident.id)  # type: ignore[arg-type]
             .where(IncidentStep.state.in_([s.value for s in (StepState.TODO, StepState.IN_PROGRESS)]),  # type: ignore[attr-defined]
                    IncidentStep.due_at < now,
                    Incident.status.not_in(FINISHED))  # type: ignore[attr-defined]
             .order_by(IncidentStep.due_at, IncidentStep.id))  # type: ignore[arg-type]
    if key is not None:
        incident = await get_incident(db, actor=actor, key=key)
        query = query.where(IncidentStep.incident_id == incident.id)
    rows = (await db.exec(query)).all()
    return [OverdueStep(reference=ref, incident_id=step.incident_id, step=step)
            for step, ref in rows if is_overdue(view(step), now)]


# --- evidence ----------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_filename(name: str) -> str:
    """The last path component, without control characters, at most 255 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .") or "evidence"
    return cleaned[-255:]


async def add_evidence(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                       filename: str, content_type: str, content: bytes, max_bytes: int,
                       step_row_id: int | None = None, description: str = "") -> EvidencePublic:
    auth.require(actor, Permission.WRITE_INCIDENTS)
    if not content:
        raise Invalid.fields([("file", "is empty")])
    if len(content) > max_bytes:
        raise Invalid.fields([("file", f"is larger than the limit of {max_bytes} bytes")])
    description = bounded_text("description", description, limit=EVIDENCE_DESCRIPTION_LIMIT)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        step: IncidentStep | None = None
        if step_row_id is not None:
            # A number no id column can hold names no step (and would fail in the driver).
            step = None if not 1 <= step_row_id <= ROW_ID_MAX else (await db.exec(
                select(IncidentStep).where(IncidentStep.id == step_row_id,
                                           IncidentStep.incident_id == incident.id))).first()
            if step is None:
                raise Invalid.fields([("step", f"no step {step_row_id} on {incident.reference}")])
        evidence = await keep_evidence(db, incident=incident, actor=actor, now=now,
                                       filename=filename, content_type=content_type,
                                       content=content, step=step, description=description)
    label = f"{step.runbook_id}/{step.step_id}" if step else None
    return EvidencePublic.model_validate(evidence).model_copy(update={"step": label})


async def keep_evidence(db: AsyncSession, *, incident: Incident, actor: Actor, now: datetime,
                        filename: str, content_type: str, content: bytes,
                        step: IncidentStep | None = None, description: str = "") -> Evidence:
    """Store a file as the incident's evidence, in the caller's transaction, with its timeline
    event: the content once per SHA-256, the record naming it. Checked input only."""
    digest = hashlib.sha256(content).hexdigest()
    if await db.get(EvidenceBlob, digest) is None:
        db.add(EvidenceBlob(sha256=digest, size=len(content), content=content))
        await db.flush()
    evidence = Evidence(incident_id=incident.id, step_row_id=step.id if step else None,
                        sha256=digest, filename=safe_filename(filename),
                        content_type=(content_type or "application/octet-stream")[:255],
                        size=len(content), description=description,
                        uploaded_by=actor.label, uploaded_at=now)
    db.add(evidence)
    await db.flush()
    incident.updated_at = now
    db.add(incident)
    label = f"{step.runbook_id}/{step.step_id}" if step else None
    await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                               kind="evidence_added",
                               payload={"evidence_id": evidence.id, "sha256": digest,
                                        "size": len(content), "filename": evidence.filename,
                                        "step": label})
    return evidence


async def list_evidence(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                        ) -> list[EvidencePublic]:
    """The incident's evidence, each with the step it proves (`runbook/step`), oldest first."""
    auth.require(actor, Permission.READ_INCIDENTS)
    incident = await get_incident(db, actor=actor, key=key)
    query = select(Evidence).where(Evidence.incident_id == incident.id).order_by(Evidence.id)  # type: ignore[arg-type]
    items = (await db.exec(query)).all()
    labels = {s.id: f"{s.runbook_id}/{s.step_id}" for s in await incident_steps(db, incident)}
    return [EvidencePublic.model_validate(e).model_copy(update={"step": labels.get(e.step_row_id)})
            for e in items]


async def download_evidence(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                            evidence_id: int) -> tuple[Evidence, bytes]:
    """The file, after recording on the timeline who took it: evidence may hold personal data."""
    auth.require(actor, Permission.READ_EVIDENCE)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key)
        evidence = await db.get(Evidence, evidence_id)
        if evidence is None or evidence.incident_id != incident.id:
            raise NotFound(f"no evidence {evidence_id} on {incident.reference}")
        blob = await db.get(EvidenceBlob, evidence.sha256)
        assert blob is not None  # a foreign key holds it
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="evidence_downloaded",
                                   payload={"evidence_id": evidence.id, "sha256": evidence.sha256})
    return evidence, blob.content


async def checklist(db: AsyncSession, *, actor: Actor, catalogue: Catalogue, key: str | uuid.UUID,
                    now: datetime) -> tuple[Incident, ChecklistPublic]:
    """An incident's runbooks, steps with due and overdue flags, progress per phase, suggestions."""
    incident = await get_incident(db, actor=actor, key=key)
    attached = await attached_runbooks(db, incident)
    steps = await incident_steps(db, incident)
    counts = await evidence_counts(db, incident)
    emails = await assignee_emails(db, steps)
    guidance = guidance_of(attached)
    views = [view(s) for s in steps]
    public_steps = [StepPublic.model_validate(s).model_copy(update={
        "overdue": is_overdue(v, now), "evidence": counts.get(s.id or 0, 0),
        "assignee": emails.get(s.assignee_id) if s.assignee_id else None,
        "guidance": guidance.get((s.runbook_id, s.step_id), "")})
        for s, v in zip(steps, views, strict=True)]
    taken = {a.runbook_id for a in attached}
    return incident, ChecklistPublic(
        runbooks=[AttachedRunbookPublic.model_validate(a).model_copy(
            update={"title": str(a.content.get("title", ""))}) for a in attached],
        suggested=[r.id for r in suggest_runbooks(catalogue, incident.kind) if r.id not in taken],
        steps=public_steps, progress=progress_by_phase(views),
        overdue=sum(1 for s in public_steps if s.overdue),
        containment_complete=containment_complete(views))


async def reschedule_steps(db: AsyncSession, incident: Incident) -> None:
    """Runbook steps are due relative to aware_at: when it is corrected, so are they."""
    steps = (await db.exec(select(IncidentStep).where(IncidentStep.incident_id == incident.id))).all()
    for step in steps:
        step.due_at = incident.aware_at + parse_due(step.due)
