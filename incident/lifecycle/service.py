"""Incident use cases: one function per user action, each owning its transaction.

Each checks the actor's permission, applies the pure rule, changes the rows and appends
the timeline event, then commits once. Web, API and CLI call these."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import User
from incident.kernel import auth, plugins
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, transaction
from incident.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from incident.kernel.schemas import bounded_text
from incident.kernel.settings import Settings
from incident.lifecycle import circumstances
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.circumstances import Circumstances
from incident.lifecycle.models import Incident, ReferenceCounter
from incident.lifecycle.rules import Status
from incident.lifecycle.schemas import IncidentCreate, IncidentPublic, IncidentUpdate
from incident.timeline import service as journal
from incident.timeline.models import TimelineEvent


@dataclass(frozen=True, slots=True)
class Rules:
    """Settings the incident rules need: where 'today' is, how much clock skew is tolerated."""

    zone: ZoneInfo
    skew: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(zone=settings.zone, skew=timedelta(seconds=settings.clock_skew_seconds))


def _times(incident: Incident | IncidentCreate) -> lifecycle.Times:
    return lifecycle.Times(occurred_from=incident.occurred_from, occurred_to=incident.occurred_to,
                           detected_at=incident.detected_at, aware_at=incident.aware_at,
                           contained_at=getattr(incident, "contained_at", None),
                           closed_at=getattr(incident, "closed_at", None))


def _check_times(times: lifecycle.Times, *, clock: Clock, rules: Rules) -> None:
    problems = lifecycle.check_times(times, now=clock.now(), skew=rules.skew)
    if problems:
        raise Invalid.fields(problems)


async def _lead_id(db: AsyncSession, email: str | None) -> int | None:
    if not email:
        return None
    query = select(User).where(User.email == auth.normalise_email(email))
    user = (await db.exec(query)).one_or_none()
    if user is None or not user.active:
        raise Invalid.fields([("lead", f"no active user has the e-mail {email}")])
    return user.id


async def lead_choices(db: AsyncSession) -> list[str]:
    """The e-mails of the active people who may lead an incident (those who may work on it)."""
    roles = [r.value for r in auth.Role if Permission.WRITE_INCIDENTS in auth.PERMISSIONS[r]]
    query = select(User.email).where(User.active == True,  # noqa: E712  (SQL, not Python)
                                     col(User.role).in_(roles)).order_by(User.email)
    return list((await db.exec(query)).all())


async def _next_reference(db: AsyncSession, year: int) -> str:
    """The next BR-YYYY-NNNN, by an atomic upsert on the year's counter row.

    The upsert takes the row lock, so concurrent creators queue and each gets
    its own number; the unique index on `reference` is the backstop.
    """
    insert = pg_insert if is_postgresql(db) else sqlite_insert
    table = ReferenceCounter.__table__  # type: ignore[attr-defined]
    statement = (insert(table).values(year=year, last=1)
                 .on_conflict_do_update(index_elements=["year"], set_={"last": table.c.last + 1})
                 .returning(table.c.last))
    number = (await db.exec(statement)).scalar_one()
    return lifecycle.format_reference(year, number)


def _facts(data: IncidentCreate | IncidentUpdate, fields: Sequence[str]) -> dict[str, Any]:
    dumped = data.model_dump(mode="json")
    return {name: dumped[name] for name in fields}


async def create_incident(db: AsyncSession, *, clock: Clock, rules: Rules, actor: Actor,
                          data: IncidentCreate) -> Incident:
    auth.require(actor, Permission.WRITE_INCIDENTS)
    _check_times(_times(data), clock=clock, rules=rules)
    now = clock.now()
    async with transaction(db):
        lead_id = await _lead_id(db, data.lead)
        reference = await _next_reference(db, now.astimezone(rules.zone).year)
        fields = data.model_dump(exclude={"lead"})
        incident = Incident(**fields, reference=reference, status=Status.OPEN.value,
                            lead_id=lead_id, created_by=actor.label, created_at=now,
                            updated_at=now)
        db.add(incident)
        await db.flush()
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="incident_created",
            payload={"reference": reference, "status": Status.OPEN.value, "lead_id": lead_id,
                     **_facts(data, list(IncidentCreate.model_fields.keys() - {"lead"}))})
    return incident


async def get_incident(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       for_update: bool = False, only_keep: bool = False) -> Incident:
    """An incident by id or by reference (`BR-2026-0007`, any letter case).

    On PostgreSQL, `for_update` locks its row until the transaction ends: changes to the
    incident take turns. With `only_keep` too, the row is only kept from being deleted (FOR
    KEY SHARE), for a long write beneath the incident that should not hold up its notes.
    """
    auth.require(actor, Permission.READ_INCIDENTS)
    query = select(Incident)
    try:
        ident = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
        query = query.where(Incident.id == ident)
    except ValueError:
        query = query.where(Incident.reference == str(key).strip().upper())
    if for_update and is_postgresql(db):
        # No change moves an incident's key, so neither lock holds up rows referring to it.
        query = query.with_for_update(read=only_keep, key_share=True)
    incident = (await db.exec(query)).one_or_none()
    # An incident the role may not see is as absent as one that does not exist: the list
    # applies the same rule, so it never offers what this refuses.
    if incident is None or not lifecycle.is_visible(actor.role, Status(incident.status)):
        raise NotFound(f"no incident {key}")
    return incident


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: Status | None = None
    kind: lifecycle.Kind | None = None
    aware_from: datetime | None = None
    aware_to: datetime | None = None
    text: str | None = None
    among: frozenset[uuid.UUID] | None = None
    """Only these incidents (a filter a higher layer computed, such as "overdue")."""


async def list_incidents(db: AsyncSession, *, actor: Actor, where: IncidentFilter,
                         limit: int = 50, offset: int = 0) -> tuple[list[Incident], int]:
    """A page of the incidents the actor may open (`visible_statuses`, as `get_incident`), and
    how many match; a search longer than SEARCH_LIMIT is refused, not cut short."""
    auth.require(actor, Permission.READ_INCIDENTS)
    text = bounded_text("q", where.text, limit=lifecycle.SEARCH_LIMIT)
    visible = sorted(lifecycle.visible_statuses(actor.role))
    query = select(Incident).where(col(Incident.status).in_([s.value for s in visible]))
    if where.status is not None:
        query = query.where(Incident.status == where.status.value)
    if where.kind is not None:
        query = query.where(Incident.kind == where.kind.value)
    if where.aware_from is not None:
        query = query.where(Incident.aware_at >= where.aware_from)
    if where.aware_to is not None:
        query = query.where(Incident.aware_at < where.aware_to)
    if where.among is not None:
        query = query.where(col(Incident.id).in_(sorted(where.among)))
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(func.lower(Incident.title).like(pattern)
                            | func.lower(Incident.reference).like(pattern))
    total = (await db.exec(select(func.count()).select_from(query.subquery()))).one()
    page = query.order_by(Incident.aware_at.desc(), Incident.reference.desc())  # type: ignore[attr-defined]
    items = list((await db.exec(page.limit(limit).offset(offset))).all())
    return items, int(total)


async def update_incident(db: AsyncSession, *, clock: Clock, rules: Rules, actor: Actor,
                          key: str | uuid.UUID, data: IncidentUpdate) -> Incident:
    """Change the given fields; the event records each field's old and new value."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    given = data.model_fields_set
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if Status(incident.status) is Status.CLOSED:
            raise Conflict("a closed incident can no longer be changed")
        before = IncidentPublic.model_validate(incident).model_dump(mode="json")
        changes: dict[str, dict[str, Any]] = {}
        if "lead" in given:
            lead_id = await _lead_id(db, data.lead)
            if lead_id != incident.lead_id:
                changes["lead_id"] = {"from": incident.lead_id, "to": lead_id}
                incident.lead_id = lead_id
        new_values = data.model_dump(include=given - {"lead"})
        required = {"title", "kind", "detected_at", "aware_at", "description", "breach_types",
                    "data_categories", "systems"}
        nulls = [(name, "may not be null") for name, v in new_values.items()
                 if v is None and name in required]
        if nulls:
            raise Invalid.fields(nulls)
        after_json = data.model_dump(mode="json", include=given - {"lead"})
        for name, value in new_values.items():
            if getattr(incident, name) != value:
                changes[name] = {"from": before[name], "to": after_json[name]}
                setattr(incident, name, value)
        _check_times(_times(incident), clock=clock, rules=rules)
        if "aware_at" in changes:
            for follow in plugins.hooks("incident.aware_at_changed"):
                await follow(db, incident)
        if changes:
            incident.updated_at = now
            await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                       kind="incident_updated", payload={"changes": changes})
    return incident


async def record_circumstances(db: AsyncSession, *, clock: Clock, rules: Rules, actor: Actor,
                               key: str | uuid.UUID, data: Circumstances) -> Incident:
    """Record the facts the laws turn on (replacing what was recorded); the obligations follow.

    A determination that misuse is not reasonably likely lifts duties to notify: recording a
    new or changed one takes an approver.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    if found := circumstances.problems(data, now=clock.now(), skew=rules.skew):
        raise Invalid.fields(found)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if Status(incident.status) in lifecycle.FINISHED:
            raise Conflict(f"a {incident.status} incident's circumstances can no longer be changed")
        before = incident.circumstances
        if circumstances.removes_duties(before, data) and not actor.can(Permission.APPROVE):
            raise Forbidden("a determination that misuse is not reasonably likely lifts duties to "
                            "notify: an approver records it", permission=Permission.APPROVE.value)
        values = data.model_dump(mode="json")
        previous = before if before is not None else Circumstances().model_dump(mode="json")
        changed = sorted(name for name, value in values.items() if previous.get(name) != value)
        incident.circumstances, incident.updated_at = values, now
        db.add(incident)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="circumstances_recorded",
                                   payload={"changed": changed, "circumstances": values})
        for follow in plugins.hooks("incident.circumstances_changed"):
            await follow(db, incident, now=now)
    return incident


async def change_status(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                        target: Status, reason: str | None = None, at: datetime | None = None,
                        rules: Rules | None = None) -> Incident:
    """Move an incident to `target`, recording who, when and why.

    A move to contained or closed records when that happened: `at`, or now when not given
    (never in the future, never before the facts it follows). Resolving or closing while
    duties to notify are still pending (hook `incident.pending_duties`) takes an approver and
    a written reason; the event keeps the reason and the duties left pending.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    if target is Status.DISMISSED:
        auth.require(actor, Permission.DISMISS_INCIDENTS)
    reason = lifecycle.reason_text(reason)
    lifecycle.check_moved_at(target, at)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        current = Status(incident.status)
        lifecycle.check_transition(current, target, reason=reason)
        pending: list[str] = []
        if target in lifecycle.FINISHING:
            for duties in plugins.hooks("incident.pending_duties"):
                pending += await duties(db, incident, now=now)
            lifecycle.check_finishing(target, pending, may_approve=actor.can(Permission.APPROVE),
                                      reason=reason)
        incident.status = target.value
        for name, value in lifecycle.timestamps_on_entering(target, at or now).items():
            setattr(incident, name, value)
        payload: dict[str, Any] = {"from": current.value, "to": target.value, "reason": reason}
        if target in lifecycle.TIMED:
            field = lifecycle.TIMED[target]
            skew = rules.skew if rules else timedelta(0)
            wrong = [("at", message) for name, message in lifecycle.check_times(
                _times(incident), now=now, skew=skew) if name == field]
            if wrong:
                raise Invalid.fields(wrong)
            payload[field] = getattr(incident, field).astimezone(UTC).isoformat()
        incident.updated_at = now
        if pending:
            payload["pending"] = pending
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="status_changed", payload=payload)
    return incident


async def add_note(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                   text: str) -> TimelineEvent:
    """Add a note to the incident's timeline: trimmed, never empty, never cut short.

    A note over `NOTE_LIMIT` characters is refused whole (422 over the API, a message on
    the page with the text kept, one line from the CLI), never silently truncated.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    text = lifecycle.note_text(text)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        incident.updated_at = now
        event = await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                           kind="note", payload={"text": text})
    return event


async def timeline(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID, after_seq: int = 0,
                   limit: int = 500) -> tuple[Incident, list[TimelineEvent]]:
    incident = await get_incident(db, actor=actor, key=key)
    return incident, await journal.events(db, str(incident.id), after_seq=after_seq, limit=limit)


async def timeline_stream(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                          ) -> tuple[Incident, AsyncIterator[TimelineEvent]]:
    incident = await get_incident(db, actor=actor, key=key)
    return incident, journal.stream_events(db, str(incident.id))
