"""Who is affected by an incident: its scope, its numbered snapshots, reading and export.

The use cases: setting an incident's scope (what it exposed: systems, categories,
window, people included or excluded), computing a new snapshot from it in one
transaction (the SQL is `snapshots.py`'s), and reading or exporting a snapshot's
people. A snapshot is frozen once computed (database triggers refuse changes);
recomputing makes a new one. Reading or exporting people is personal data and goes on
the timeline before anything is returned.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot, AffectedSubject
from incident.affected.schemas import (
    AffectedComputed,
    AffectedPage,
    AffectedPerson,
    AffectedScope,
    AffectedSummary,
)
from incident.affected.snapshots import READ_BATCH, fill_snapshot
from incident.inventory.models import Subject, System
from incident.inventory.rules import category_names
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, session_factory, transaction
from incident.kernel.errors import Conflict, Invalid, NotFound
from incident.kernel.text import spreadsheet_safe
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal

EXPORT_COLUMNS = ("external_id", "email", "name", "jurisdiction", "locale", "categories")


# --- scope -----------------------------------------------------------------------------------


def _lists_digest(scope: AffectedScope) -> str:
    joined = "\n".join(["include", *scope.include, "exclude", *scope.exclude])
    return hashlib.sha256(joined.encode()).hexdigest()


async def set_scope(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                    scope: AffectedScope, keep_lists: bool = False) -> Incident:
    """Record what the incident exposed. The include/exclude lists stay off the timeline
    (they are personal data); their counts and digest go on it.

    With `keep_lists`, the include and exclude lists stay as they are and those of `scope` are
    ignored: a form for someone who may not read people never shows them, so it cannot send
    them back.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    if (scope.exposure_from is not None and scope.exposure_to is not None
            and scope.exposure_from > scope.exposure_to):
        raise Invalid.fields([("exposure_to", "is before exposure_from")])
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if keep_lists:
            stored = incident.scope or {}
            scope = scope.model_copy(update={"include": list(stored.get("include", [])),
                                             "exclude": list(stored.get("exclude", []))})
        known = set((await db.exec(select(System.key))).all())
        unknown = [name for name in scope.systems if name not in known]
        if unknown:
            raise Invalid.fields([("systems", f"unknown system {name!r}") for name in unknown])
        incident.scope = scope.model_dump(mode="json")
        incident.updated_at = now
        db.add(incident)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor, kind="scope_set",
                                   payload=_scope_summary(scope))
    return incident


def _scope_summary(scope: AffectedScope) -> dict[str, Any]:
    data = scope.model_dump(mode="json", exclude={"include", "exclude"})
    data.update(include=len(scope.include), exclude=len(scope.exclude),
                lists_sha256=_lists_digest(scope))
    return data


# --- compute ---------------------------------------------------------------------------------


async def compute_affected(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                           default_locale: str) -> tuple[AffectedSnapshot, dict[str, list[str]]]:
    """Compute the incident's affected people from its scope into a new, sealed snapshot.

    Returns the snapshot and the include/exclude entries that matched nobody.
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if incident.scope is None:
            raise Conflict(f"{incident.reference} has no scope yet: set it first "
                           "(PUT /api/v1/incidents/{id}/scope)")
        scope = AffectedScope.model_validate(incident.scope)
        systems = dict((await db.exec(select(System.key, System.id))).all())
        missing = [name for name in scope.systems if name not in systems]
        if missing:
            raise Conflict(f"the scope names systems that no longer exist: {', '.join(missing)}")
        last = (await db.exec(select(func.max(AffectedSnapshot.number)).where(
            AffectedSnapshot.incident_id == incident.id))).one()
        snapshot = AffectedSnapshot(incident_id=incident.id, number=(last or 0) + 1,
                                    scope=incident.scope, computed_at=now,
                                    computed_by=actor.label)
        db.add(snapshot)
        await db.flush()
        assert snapshot.id is not None
        filled = await fill_snapshot(await db.connection(), snapshot_id=snapshot.id, scope=scope,
                                     systems=systems, postgresql=is_postgresql(db),
                                     default_locale=default_locale)
        summary, digest, total, unmatched = filled.summary, filled.digest, filled.total, filled.unmatched
        snapshot.total, snapshot.summary, snapshot.digest = total, summary, digest
        snapshot.unmatched = unmatched
        incident.updated_at = now
        db.add_all([snapshot, incident])
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="affected_computed",
            payload={"snapshot": snapshot.number, "total": total, "sha256": digest, **summary,
                     "scope": _scope_summary(scope)})
    return snapshot, unmatched


# --- reading -----------------------------------------------------------------------------------


async def get_snapshot(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       number: int | None = None) -> tuple[Incident, AffectedSnapshot]:
    """A snapshot by number, or the latest one."""
    incident = await get_incident(db, actor=actor, key=key)
    query = select(AffectedSnapshot).where(AffectedSnapshot.incident_id == incident.id)
    if number is None:
        query = query.order_by(AffectedSnapshot.number.desc())  # type: ignore[attr-defined]
    else:
        query = query.where(AffectedSnapshot.number == number)
    snapshot = (await db.exec(query.limit(1))).first()
    if snapshot is None:
        raise NotFound(f"{incident.reference} has no affected snapshot"
                       + (f" number {number}" if number is not None else " yet"))
    return incident, snapshot


async def list_snapshots(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                         ) -> list[AffectedSnapshot]:
    incident = await get_incident(db, actor=actor, key=key)
    return list((await db.exec(select(AffectedSnapshot).where(
        AffectedSnapshot.incident_id == incident.id).order_by(
        AffectedSnapshot.number))).all())  # type: ignore[arg-type]


def summary_of(snapshot: AffectedSnapshot) -> AffectedSummary:
    return AffectedSummary(snapshot=snapshot.number, total=snapshot.total, digest=snapshot.digest,
                           computed_at=snapshot.computed_at, computed_by=snapshot.computed_by,
                           scope=_public_scope(snapshot.scope), **_summary_parts(snapshot))


def computed_of(snapshot: AffectedSnapshot, unmatched: dict[str, list[str]]) -> AffectedComputed:
    return AffectedComputed(**summary_of(snapshot).model_dump(), unmatched_entries=unmatched)


def _summary_parts(snapshot: AffectedSnapshot) -> dict[str, Any]:
    parts = ("by_jurisdiction", "by_category", "by_system", "by_locale", "by_source", "unmatched")
    return {name: snapshot.summary.get(name, {}) for name in parts}


def _public_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope without its lists of people (personal data), replaced by their sizes."""
    return {**scope, "include": len(scope.get("include", [])),
            "exclude": len(scope.get("exclude", []))}


async def read_affected(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                        number: int | None, after: str | None, limit: int) -> AffectedPage:
    """One page of a snapshot's people, in external-id order; the read goes on the timeline."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    async with transaction(db):
        incident, snapshot = await get_snapshot(db, actor=actor, key=key, number=number)
        query = (select(AffectedSubject, Subject.email, Subject.name)
                 .join(Subject, Subject.id == AffectedSubject.subject_id, isouter=True)  # type: ignore[arg-type]
                 .where(AffectedSubject.snapshot_id == snapshot.id))
        if after is not None:
            query = query.where(AffectedSubject.external_id > after)
        found = (await db.exec(query.order_by(AffectedSubject.external_id).limit(limit + 1))).all()
        items = [_person(row, email, name) for row, email, name in found[:limit]]
        await journal.append_event(db, chain=str(incident.id), at=clock.now(), actor=actor,
                                   kind="affected_read",
                                   payload={"snapshot": snapshot.number, "after": after,
                                            "returned": len(items)})
    next_after = items[-1].external_id if len(found) > limit and items else None
    return AffectedPage(snapshot=snapshot.number, total=snapshot.total, items=items,
                        next_after=next_after)


def _person(row: AffectedSubject, email: str | None, name: str | None) -> AffectedPerson:
    return AffectedPerson(external_id=row.external_id, email=email, name=name,
                          jurisdiction=row.jurisdiction, locale=row.locale,
                          categories=category_names(row.categories))


async def start_export(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                       number: int | None) -> tuple[Incident, AffectedSnapshot]:
    """Record the export of a snapshot's people on the timeline before any of it is sent."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    async with transaction(db):
        incident, snapshot = await get_snapshot(db, actor=actor, key=key, number=number)
        await journal.append_event(db, chain=str(incident.id), at=clock.now(), actor=actor,
                                   kind="affected_exported",
                                   payload={"snapshot": snapshot.number, "total": snapshot.total,
                                            "format": "csv"})
    return incident, snapshot


async def export_csv(engine: AsyncEngine, snapshot_id: int) -> AsyncIterator[bytes]:
    """The snapshot as CSV, streamed in batches from a session of its own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode()
    async with session_factory(engine)() as db:
        result = await db.stream(
            sql_select(col(AffectedSubject.external_id), col(Subject.email), col(Subject.name),
                       col(AffectedSubject.jurisdiction), col(AffectedSubject.locale),
                       col(AffectedSubject.categories))
            .join(Subject, col(Subject.id) == col(AffectedSubject.subject_id), isouter=True)
            .where(col(AffectedSubject.snapshot_id) == snapshot_id)
            .order_by(col(AffectedSubject.external_id)))
        async for batch in result.partitions(READ_BATCH):
            yield _csv_lines(batch)


def _csv_lines(batch: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for external_id, email, name, where, locale, mask in batch:
        writer.writerow([external_id, spreadsheet_safe(email), spreadsheet_safe(name), where, locale,
                         ";".join(category_names(mask))])
    return buffer.getvalue().encode()
