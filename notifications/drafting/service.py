"""Notifications before they leave: drafts, versions, four-eyes approval, and the send order.

A draft is prefilled from the incident, its assessment, its affected people and the
measures recorded in its runbooks; people edit its fields (each edit a version with
its content hash); an approver who wrote none of it approves one exact hash; sending
creates one delivery row per recipient in bulk, for the outbox to work through.
Every decision and every refusal is on the timeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.containment.models import IncidentStep
from incident.containment.rules import REMEDIAL_PHASES, StepState
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, DomainError, NotFound
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from notifications.drafting import contents, rules, translations
from notifications.drafting.models import Notification, NotificationVersion
from notifications.drafting.requirements import NO_PROFILE, Gap, profile_gaps, text_gaps
from notifications.drafting.rules import NotificationKind, NotificationStatus, content_hash
from notifications.drafting.translations import normal_locale, texts_of
from notifications.obligations.models import IncidentObligation
from notifications.obligations.regimes import PEOPLE, Authority, Letter
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.service import get_profile, reconcile, shipped_regimes


def default_fields(kind: str, incident: Incident, measures: list[str]) -> dict[str, str]:
    """The prefilled text of a new draft, for people to correct (pure).

    Only what is written for a reader: the incident's description and the measures as the
    runbooks word them for reports. The likely consequences are the organisation's to
    write (the assessment's factors go to the report's annex, not into its words).
    """
    done = "\n".join(measures)
    described = incident.description or incident.title
    if kind == NotificationKind.SUBJECT_NOTICE:
        return {"description": described, "consequences": "", "measures": done, "advice": "",
                "delay_reason": ""}
    return {"description": described, "consequences": "", "measures_taken": done,
            "measures_proposed": "", "delay_reason": "", "authority_reference": "",
            "changes": ""}


async def _measures(db: AsyncSession, incident: Incident) -> list[str]:
    """The containment, eradication and recovery steps done, as reports word them."""
    steps = (await db.exec(select(IncidentStep).where(
        IncidentStep.incident_id == incident.id, IncidentStep.state == StepState.DONE.value,
        col(IncidentStep.phase).in_(REMEDIAL_PHASES)).order_by(
        col(IncidentStep.changed_at)))).all()
    return [step.reported_as for step in steps if step.reported_as]


async def _obligation(db: AsyncSession, incident: Incident, ref: str) -> IncidentObligation:
    row = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id, IncidentObligation.ref == ref))).first()
    if row is None:
        raise NotFound(f"{incident.reference} has no obligation {ref!r} "
                       "(see GET /api/v1/incidents/{id}/obligations)")
    return row


async def create_draft(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                       ref: str) -> Notification:
    """Start the notification of one obligation (a supplement when one was sent already).
    Refused until the organisation's set-up is done: without its profile no duty exists."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        if await get_profile(db) is None:
            raise missing([NO_PROFILE], "no notice can be drafted before the organisation's "
                                        "set-up is finished")
        await reconcile(db, incident, now=now, cause="draft")
        obligation = await _obligation(db, incident, ref)
        if not obligation.applies:
            raise Conflict(f"{ref} no longer applies to {incident.reference}")
        chosen = rules.KIND_FOR_RECIPIENT.get(obligation.recipient)
        if chosen is None:
            raise Conflict(f"{ref} goes to {obligation.recipient_name}: not something sent by "
                           "e-mail from here; record it as met when done")
        existing = (await db.exec(select(Notification).where(
            Notification.incident_id == incident.id).order_by(col(Notification.id)))).all()
        earlier = sorted((n for n in existing if n.ref == ref), key=lambda n: n.sequence)
        unfinished = [n for n in earlier if n.status in rules.UNSENT]
        if unfinished:
            raise Conflict(f"notification {unfinished[0].id} for {ref} is still a draft: edit it")
        sequence, kind = len(earlier) + 1, chosen.value
        covers: list[str] = []
        if chosen is NotificationKind.SUBJECT_NOTICE:
            covers = await _covers(db, incident, ref, existing)
        if gaps := [gap for covered in covers or [ref] for gap in profile_gaps(
                kind, covered, await get_profile(db), complaint=complaint_article(covered),
                authority=authority_of(covered))]:
            raise missing(list(dict.fromkeys(gaps)), "the notice cannot be drafted")
        fields = default_fields(kind, incident, await _measures(db, incident))
        digest = content_hash(kind, ref, sequence, fields, covers)
        notification = Notification(incident_id=incident.id, ref=ref, kind=kind, sequence=sequence,
                                    content_hash=digest, created_at=now, created_by=actor.label,
                                    covers=covers if len(covers) > 1 else [])
        db.add(notification)
        await db.flush()
        assert notification.id is not None
        db.add(NotificationVersion(notification_id=notification.id, version=1, fields=fields,
                                   content_hash=digest, created_at=now, created_by=actor.label))
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="notification_drafted",
                                   payload={"notification": notification.id, "ref": ref,
                                            "kind": kind, "sequence": sequence, "version": 1,
                                            "content_hash": digest,
                                            **({"covers": covers} if len(covers) > 1 else {})})
    return notification


async def _covers(db: AsyncSession, incident: Incident, ref: str,
                  existing: Sequence[Notification]) -> list[str]:
    """The obligations owed to people that one notice started for `ref` covers: `ref`, and
    every other one pending that no notice covers yet and whose letter can be shared, so
    that a person protected by several laws gets one letter meeting all of them."""
    taken = {covered: n for n in existing if n.kind == NotificationKind.SUBJECT_NOTICE
             for covered in n.refs}
    if ref in taken:
        raise Conflict(f"the people of {incident.reference} owed {ref} are in notification "
                       f"{taken[ref].id} already ({', '.join(taken[ref].refs)})")
    pending = (await db.exec(select(IncidentObligation.ref).where(
        IncidentObligation.incident_id == incident.id, col(IncidentObligation.applies),
        IncidentObligation.recipient == PEOPLE,
        IncidentObligation.status == ObligationStatus.PENDING.value))).all()
    candidates = [r for r in pending if r not in taken]
    return contents.covered(ref, candidates, letters_of([ref, *candidates]))


def letters_of(refs: Iterable[str]) -> dict[str, Letter]:
    """What the notice of each obligation owed to people must contain, from the shipped
    regimes (an obligation not found there has none)."""
    catalogue = shipped_regimes()
    found = {ref: catalogue.obligation(ref) for ref in refs}
    return {ref: pair[1].letter for ref, pair in found.items() if pair and pair[1].letter}


async def get_notification(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                           notification_id: int, for_update: bool = False,
                           only_keep_incident: bool = False) -> tuple[Incident, Notification]:
    """A notification of an incident; `for_update` locks both rows (the incident only
    against deletion with `only_keep_incident`, see `get_incident`)."""
    incident = await get_incident(db, actor=actor, key=key, for_update=for_update,
                                  only_keep=only_keep_incident)
    query = select(Notification).where(Notification.id == notification_id,
                                       Notification.incident_id == incident.id)
    found = (await db.exec(query.with_for_update() if for_update else query)).first()
    if found is None:
        raise NotFound(f"{incident.reference} has no notification {notification_id}")
    return incident, found


async def current_version(db: AsyncSession, notification: Notification) -> NotificationVersion:
    return (await db.exec(select(NotificationVersion).where(
        NotificationVersion.notification_id == notification.id,
        NotificationVersion.version == notification.version))).one()


async def notifications_of(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                           ) -> list[Notification]:
    incident = await get_incident(db, actor=actor, key=key)
    return list((await db.exec(select(Notification).where(
        Notification.incident_id == incident.id).order_by(col(Notification.id)))).all())


async def edit_draft(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                     notification_id: int, fields: Mapping[str, Any],
                     expected_version: int) -> Notification:
    """Save a new version of the fields; any approval of an earlier version is void.

    A plain text is the organisation's language's; {locale: text} sets those locales' texts
    and keeps the others (see translations.merged)."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True)
        rules.check_editable(notification.id, NotificationStatus(notification.status))
        if notification.version != expected_version:
            raise Conflict(f"notification {notification.id} changed since you read it "
                           f"(now version {notification.version})")
        rules.check_fields(notification.kind, fields)
        default = translations.organisation_language(await get_profile(db))
        before = (await current_version(db, notification)).fields
        merged = {**before, **{
            name: translations.merged(before.get(name), _normal_keys(value), default)
            for name, value in fields.items()}}
        digest = content_hash(notification.kind, notification.ref, notification.sequence, merged,
                              notification.covers)
        voided = notification.status == NotificationStatus.APPROVED
        notification.version += 1
        notification.content_hash, notification.status = digest, NotificationStatus.DRAFT.value
        notification.approved_hash = notification.approved_by = notification.approved_at = None
        db.add(notification)
        db.add(NotificationVersion(notification_id=notification.id or 0,
                                   version=notification.version, fields=merged,
                                   content_hash=digest, created_at=now, created_by=actor.label))
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="notification_edited",
                                   payload={"notification": notification.id,
                                            "version": notification.version,
                                            "content_hash": digest, "approval_voided": voided,
                                            "fields": sorted(fields)})
    return notification




def complaint_article(ref: str) -> str | None:
    """The article giving the people of obligation `ref` a right to complain, from its regime."""
    found = shipped_regimes().obligation(ref)
    return found[1].complaint if found else None


def authority_of(ref: str) -> Authority | None:
    """Who takes the reports of obligation `ref` and how, from the regime catalogue in use."""
    found = shipped_regimes().obligation(ref)
    return found[1].authority if found else None


def _normal_keys(value: Any) -> Any:
    """{locale: text} with each locale as the templates name it (`pt-BR` -> `pt_BR`)."""
    if isinstance(value, Mapping):
        return {normal_locale(str(k)) or str(k): v for k, v in value.items()}
    return value


def missing(gaps: list[Gap], consequence: str) -> Conflict:
    """One refusal naming every gap; `errors` lists them field by field."""
    return Conflict(f"{consequence}: " + "; ".join(gap.sentence() for gap in gaps),
                    errors=[{"field": gap.field, "message": gap.why} for gap in gaps])


async def unfit_to_send(db: AsyncSession, notification: Notification, *, now: datetime,
                        doing: str) -> Conflict | None:
    """Why the notification, as it stands, may not be approved or sent: what the profile or
    its own text lacks (the profile may have changed since the draft was made)."""
    rows = {row.ref: row for row in (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == notification.incident_id,
        col(IncidentObligation.ref).in_(notification.refs)))).all()}
    obligation = rows.get(notification.ref)
    fields = (await current_version(db, notification)).fields
    profile = await get_profile(db)
    gaps = [*dict.fromkeys(gap for ref in notification.refs for gap in profile_gaps(
                notification.kind, ref, profile, complaint=complaint_article(ref),
                authority=authority_of(ref))),
            *text_gaps(notification.kind, fields, sequence=notification.sequence,
                       due_at=obligation.due_at if obligation else None, now=now)]
    if notification.kind == NotificationKind.SUBJECT_NOTICE and not texts_of(
            fields.get("delay_reason"), "any"):
        late = [(ref, why.citation) for ref, letter in letters_of(notification.refs).items()
                if (why := letter.elements.get("delay_reason")) is not None and ref in rows
                and (due := rows[ref].due_at) is not None and now > due]
        if late:
            gaps.append(Gap("delay_reason", "is empty: the notice is late, and "
                            + "; ".join(f"{ref} asks it to give the reasons ({citation})"
                                        for ref, citation in late)))
    return missing(gaps, f"notification {notification.id} cannot be {doing}") if gaps else None


async def _refuse(db: AsyncSession, *, now: datetime, actor: Actor, incident_id: uuid.UUID,
                  notification_id: int, action: str, why: str) -> None:
    """A refused decision is recorded in a transaction of its own, then reported."""
    async with transaction(db):
        await journal.append_event(db, chain=str(incident_id), at=now, actor=actor,
                                   kind="notification_refused",
                                   payload={"notification": notification_id, "action": action,
                                            "why": why})


async def approve(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                  notification_id: int, approved_hash: str) -> Notification:
    """Approve the exact content identified by its hash; never one's own words."""
    auth.require(actor, Permission.APPROVE)
    now = clock.now()
    refusal: DomainError | None = None
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True)
        authors = set((await db.exec(select(NotificationVersion.created_by).where(
            NotificationVersion.notification_id == notification.id))).all())
        refusal = rules.approval_refusal(
            notification.id, NotificationStatus(notification.status), approver=actor.label,
            authors=authors, approved_hash=approved_hash,
            content_hash=notification.content_hash, version=notification.version)
        if refusal is None:
            refusal = await unfit_to_send(db, notification, now=now, doing="approved")
        if refusal is None:
            notification.status = NotificationStatus.APPROVED.value
            notification.approved_hash = approved_hash
            notification.approved_by, notification.approved_at = actor.label, now
            db.add(notification)
            await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                       kind="notification_approved",
                                       payload={"notification": notification.id,
                                                "version": notification.version,
                                                "content_hash": approved_hash})
            return notification
    assert refusal is not None
    await _refuse(db, now=now, actor=actor, incident_id=incident.id,
                  notification_id=notification_id, action="approve", why=refusal.detail)
    raise refusal




