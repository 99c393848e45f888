"""Use cases of the notifications side: the organisation profile, assessments, obligations.

Obligations are derived, never typed in: `reconcile` builds the engine's FACTS from
the organisation profile, the incident (its times and milestones), its latest
assessment and its latest affected snapshot, runs the engine, and brings the
incident's obligation rows up to date — recording every change on the timeline in
the same transaction. It runs after every change made here, whenever obligations
are read, and on the scheduler's tick, so a change made elsewhere (a corrected
aware_at, a new snapshot) is picked up at once when anyone looks and within a tick
otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot
from incident.kernel import auth
from incident.kernel.auth import SYSTEM, Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, Invalid, NotFound
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from notifications.obligations import rules
from notifications.obligations.assessment import assess
from notifications.obligations.assessment_input import InvalidAssessmentInput, parse_assessment_input
from notifications.obligations.engine import compute_obligations, iso, result_to_json
from notifications.obligations.facts import FactsError, facts_from_json
from notifications.obligations.models import (
    PROFILE_ID,
    IncidentAssessment,
    IncidentObligation,
    OrganisationProfile,
)
from notifications.obligations.regime_loader import load_contacts, load_regimes
from notifications.obligations.regimes import CODE_PATTERN, Catalogue, Contacts
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.schemas import Milestones, ObligationChange, Override, Profile

UNFINISHED = [status.value for status in lifecycle.Status if not lifecycle.is_finished(status)]
"""Incident statuses whose obligations are still computed, as stored."""


@lru_cache(maxsize=1)
def shipped_regimes() -> Catalogue:
    return load_regimes()


@lru_cache(maxsize=1)
def shipped_contacts() -> Contacts:
    return load_contacts()


# --- organisation profile ----------------------------------------------------------------------


async def get_profile(db: AsyncSession) -> OrganisationProfile | None:
    return await db.get(OrganisationProfile, PROFILE_ID)


def known_language(tag: str) -> bool:
    """Whether `tag` (`de`, `pt-BR`, `zh-Hans`) names a language babel has data for."""
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


async def save_profile(db: AsyncSession, *, clock: Clock, actor: Actor, data: Profile,
                       regimes: Catalogue | None = None) -> OrganisationProfile:
    """Replace the profile; every open incident's obligations follow at once."""
    auth.require(actor, Permission.MANAGE_ORGANISATION)
    catalogue = regimes or shipped_regimes()
    unknown = [ref for ref in data.targets if catalogue.obligation(ref) is None]
    if unknown:
        raise Invalid.fields([("targets", f"no obligation {ref!r}") for ref in unknown])
    languages = [("language", data.language), *((f"authorities.{key}.language", contact.language)
                                                 for key, contact in data.authorities.items()
                                                 if contact.language)]
    if strange := [(field, f"{tag!r} is not a language we know") for field, tag in languages
                   if not known_language(tag)]:
        raise Invalid.fields(strange)
    now = clock.now()
    async with transaction(db):
        profile = await db.get(OrganisationProfile, PROFILE_ID, with_for_update=True)
        values = data.model_dump(mode="json")
        if profile is None:
            profile = OrganisationProfile(id=PROFILE_ID, **values, updated_at=now,
                                          updated_by=actor.label)
        else:
            for name, value in values.items():
                setattr(profile, name, value)
            profile.updated_at, profile.updated_by = now, actor.label
        db.add(profile)
        await db.flush()
        await journal.append_event(db, chain="organisation", at=now, actor=actor,
                                   kind="organisation_profile_saved",
                                   payload={k: v for k, v in values.items() if k != "dpo"})
        open_incidents = (await db.exec(select(Incident).where(
            col(Incident.status).in_(UNFINISHED)))).all()
        for incident in open_incidents:
            await reconcile(db, incident, profile=profile, now=now, cause="organisation profile",
                            regimes=catalogue)
    return profile


# --- assessments ---------------------------------------------------------------------------------


async def latest_assessment(db: AsyncSession, incident: Incident) -> IncidentAssessment | None:
    return (await db.exec(select(IncidentAssessment).where(
        IncidentAssessment.incident_id == incident.id).order_by(
        col(IncidentAssessment.number).desc()).limit(1))).first()


async def assessments(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                      ) -> list[IncidentAssessment]:
    incident = await get_incident(db, actor=actor, key=key)
    return list((await db.exec(select(IncidentAssessment).where(
        IncidentAssessment.incident_id == incident.id).order_by(
        col(IncidentAssessment.number)))).all())


async def assess_incident(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                          raw: Any) -> IncidentAssessment:
    """Assess the incident from the facts given (the `breach assess` input shape)."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    try:
        facts = parse_assessment_input(raw)
    except InvalidAssessmentInput as exc:
        raise Invalid(str(exc), [{"field": f, "message": m} for f, m in exc.errors]) from None
    result = assess(facts)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        last = (await db.exec(select(func.max(IncidentAssessment.number)).where(
            IncidentAssessment.incident_id == incident.id))).one()
        row = IncidentAssessment(
            incident_id=incident.id, number=(last or 0) + 1,
            facts=facts.model_dump(mode="json"), result=result.model_dump(mode="json"),
            recommendation=result.recommendation.value, assessed_at=now, assessed_by=actor.label)
        db.add(row)
        await db.flush()
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="assessment_recorded",
            payload={"number": row.number, "score": result.score, "severity": result.severity.value,
                     "recommendation": result.recommendation.value, "reasons": result.reasons})
        await reconcile(db, incident, now=now, cause=f"assessment {row.number}")
    return row


async def override_assessment(db: AsyncSession, *, clock: Clock, actor: Actor,
                              key: str | uuid.UUID, data: Override) -> IncidentAssessment:
    """An approver replaces the recommendation, with a written justification; both stay."""
    auth.require(actor, Permission.APPROVE)
    justification = rules.justification_text(data.justification)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        row = await latest_assessment(db, incident)
        if row is None:
            raise Conflict(f"{incident.reference} has no assessment to override yet")
        previous = row.decided
        row.override, row.override_justification = data.recommendation.value, justification
        row.overridden_at, row.overridden_by = now, actor.label
        db.add(row)
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="assessment_overridden",
            payload={"number": row.number, "recommended": row.recommendation, "was": previous,
                     "now": row.override, "justification": justification})
        await reconcile(db, incident, now=now, cause=f"assessment {row.number} overridden")
    return row


async def set_milestones(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                         data: Milestones) -> Incident:
    """Record the instants some regimes count from (a determination of materiality, …)."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    given = {name: value.isoformat() for name, value in data.model_dump().items()
             if value is not None}
    late = [name for name, value in data.model_dump().items() if value is not None and value > now]
    if late:
        raise Invalid.fields([(name, "lies in the future") for name in late])
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        incident.milestones = {**(incident.milestones or {}), **given}
        incident.updated_at = now
        db.add(incident)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="milestones_set", payload=given)
        await reconcile(db, incident, now=now, cause="milestones")
    return incident


# --- obligations -------------------------------------------------------------------------------


def build_facts(profile: OrganisationProfile, incident: Incident,
                assessment: IncidentAssessment | None, snapshot: AffectedSnapshot | None,
                met: dict[str, datetime]) -> tuple[dict[str, Any], list[str]]:
    """The engine's FACTS for one incident, and the assumptions made where facts are missing."""
    assumptions: list[str] = []
    if assessment is None:
        risk = "high"
        assumptions.append("no risk assessment yet: high risk assumed, so no duty is missed")
    else:
        risk = rules.RISK_OF[assessment.decided]
    categories = set(incident.data_categories)
    if assessment is not None:
        categories |= set(assessment.facts.get("data_categories", []))
    if snapshot is not None:
        categories |= set(snapshot.summary.get("by_category", {}))
        counted = dict(snapshot.summary.get("by_jurisdiction", {}))
        affected = {code: n for code, n in counted.items() if CODE_PATTERN.fullmatch(code or "")}
        if unknown := sum(n for code, n in counted.items() if code not in affected):
            assumptions.append(
                f"{unknown} affected {'person' if unknown == 1 else 'people'} of unknown "
                "residence: left out of every territorial test (no law is assumed for them), "
                "and not addressed by notices owed only to people in a territory")
    else:
        estimate = incident.estimated_subjects or 1
        affected = {profile.country: estimate}
        assumptions.append(f"no affected-people snapshot yet: {estimate} "
                           f"{'person' if estimate == 1 else 'people'} in {profile.country} assumed")
    milestones = incident.milestones or {}
    facts: dict[str, Any] = {
        "organisation": {"country": profile.country, "timezone": profile.timezone,
                         "flags": list(profile.flags), "entity_type": profile.entity_type,
                         "targets": dict(profile.targets)},
        "incident": {
            "aware_at": iso(incident.aware_at), "discovered_at": iso(incident.detected_at),
            **{name: milestones[name] for name in ("breach_determined_at", "classified_major_at",
                                                   "materiality_determined_at") if name in milestones},
            "assessment_completed_at": iso(assessment.assessed_at) if assessment else None,
            "risk": risk, "data_categories": sorted(categories),
            "malicious": bool(assessment.facts.get("malicious")) if assessment else False,
            "met": {ref: iso(at) for ref, at in met.items()},
        },
        "affected": affected,
    }
    return facts, assumptions


async def latest_snapshot(db: AsyncSession, incident_id: uuid.UUID) -> AffectedSnapshot | None:
    """The incident's newest affected-people snapshot, or None before one is computed."""
    return (await db.exec(select(AffectedSnapshot).where(
        AffectedSnapshot.incident_id == incident_id).order_by(
        col(AffectedSnapshot.number).desc()).limit(1))).first()


async def _rows(db: AsyncSession, incident: Incident) -> dict[str, IncidentObligation]:
    return {row.ref: row for row in (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id))).all()}


async def reconcile(db: AsyncSession, incident: Incident, *, now: datetime, cause: str,
                    profile: OrganisationProfile | None = None,
                    regimes: Catalogue | None = None) -> list[str]:
    """Recompute the incident's obligations inside the caller's transaction.

    Returns the assumptions made; records what changed (if anything) on the timeline.
    Without an organisation profile nothing can be computed and nothing changes.
    """
    profile = profile or await get_profile(db)
    if profile is None:
        return []
    rows = await _rows(db, incident)
    met = {ref: row.met_at for ref, row in rows.items()
           if row.status in rules.FULFILLED and row.met_at is not None}
    facts_json, assumptions = build_facts(profile, incident, await latest_assessment(db, incident),
                                          await latest_snapshot(db, incident.id), met)
    try:
        facts = facts_from_json(facts_json)
    except FactsError as exc:  # the profile or incident holds something the engine refuses
        raise Conflict(f"{incident.reference}: obligations cannot be computed: {exc}") from None
    changes: list[dict[str, Any]] = []
    for result in compute_obligations(facts, regimes or shipped_regimes(), explain=True):
        row = rows.get(result.ref)
        if row is None and not result.applies:
            continue
        computed = result_to_json(result, explain=True)
        if row is None:
            row = IncidentObligation(incident_id=incident.id, ref=result.ref, regime=result.regime,
                                     obligation=result.obligation, recipient=result.recipient,
                                     recipient_name=result.recipient_name, computed_at=now)
            changes.append({"ref": result.ref, "change": "added", "due_at": computed.get("due_at")})
        elif (row.applies, iso(row.due_at), iso(row.target_at)) != (
                result.applies, iso(result.due_at), iso(result.target_at)):
            changes.append({"ref": result.ref, "change": "changed" if result.applies else
                            "no longer applies", "was": iso(row.due_at),
                            "due_at": computed.get("due_at")})
        elif row.computed == computed:
            continue
        row.applies, row.phase = result.applies, result.phase
        row.due_at, row.target_at = result.due_at, result.target_at
        row.computed, row.computed_at = computed, now
        db.add(row)
    if changes:
        await db.flush()
        await journal.append_event(db, chain=str(incident.id), at=now, actor=SYSTEM,
                                   kind="obligations_recomputed",
                                   payload={"cause": cause, "changes": changes,
                                            "assumptions": assumptions})
    return assumptions


async def obligations_of(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID
                         ) -> tuple[Incident, list[IncidentObligation], list[str], list[str]]:
    """The incident's obligations, brought up to date first.

    Returns the incident, its obligation rows (those that apply first, soonest due
    first), the assumptions made, and problems that stop the computation.
    """
    auth.require(actor, Permission.READ_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        problems: list[str] = []
        if await get_profile(db) is None:
            problems.append("no organisation profile yet: an admin sets it "
                            "(PUT /api/v1/organisation or `breach organisation set FILE.json`)")
            assumptions: list[str] = []
        else:
            assumptions = await reconcile(db, incident, now=now, cause="read")
        rows = list((await _rows(db, incident)).values())
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: (not r.applies, r.due_at or far, r.target_at or far, r.ref))
    return incident, rows, assumptions, problems


async def record_obligation(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                            ref: str, change: ObligationChange,
                            skew_seconds: int = 300) -> IncidentObligation:
    """Record that an obligation was met (late: with the reasons), waived, or reopened."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    target = ObligationStatus(change.status)
    if target is not ObligationStatus.MET:
        auth.require(actor, Permission.APPROVE)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        row = (await _rows(db, incident)).get(ref)
        if row is None:
            raise NotFound(f"{incident.reference} has no obligation {ref!r}")
        current = ObligationStatus(row.status)
        payload: dict[str, Any] = {"ref": ref}
        if target is ObligationStatus.MET:
            kind = record_met(row, change, now, skew_seconds, aware_at=incident.aware_at)
            payload.update(met_at=iso(row.met_at), how=row.how, late_reason=row.late_reason)
        elif target is ObligationStatus.WAIVED:
            rules.check_change(current, target, ref=ref)
            waiver = rules.justification_text(change.reason, field="reason", what="a waiver")
            row.status, row.waiver, row.met_at = target.value, waiver, None
            kind, payload["justification"] = "obligation_waived", waiver
        else:
            rules.check_change(current, target, ref=ref)
            reason = rules.reason_text(change.reason, at_least=1,
                                       needed="say why the record is reopened")
            payload.update(was=row.status, reason=reason)
            row.status, row.met_at, row.how, row.late_reason, row.waiver = (
                target.value, None, None, None, None)
            kind = "obligation_reopened"
        row.status_by, row.status_at = actor.label, now
        db.add(row)
        await db.flush()
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor, kind=kind,
                                   payload=payload)
        await reconcile(db, incident, now=now, cause=kind)
    return row


def record_met(row: IncidentObligation, change: ObligationChange, now: datetime,
                skew_seconds: int, *, aware_at: datetime) -> str:
    """Mark `row` met at `change.at` (default now): late, with the reasons, after its due time.
    Returns the timeline event's kind; the caller appends it, in its transaction."""
    at = change.at or now
    status = rules.status_when_met(row.due_at, at)
    rules.check_change(ObligationStatus(row.status), status, ref=row.ref)
    if not row.applies:
        raise Conflict(f"{row.ref} no longer applies to this incident")
    rules.check_met_at(at, aware_at=aware_at, now=now, skew_seconds=skew_seconds)
    how = rules.how_text(change.how)
    late = status is ObligationStatus.LATE
    reason = rules.reason_text(change.reason, at_least=1 if late else 0, needed=(
        f"met after its due time {iso(row.due_at)}: the reasons for the delay are required "
        "(GDPR Art. 33(1))"))
    row.status, row.met_at, row.how = status.value, at, how
    row.late_reason = reason if late else None
    return "obligation_late" if late else "obligation_met"


def seconds_left(row: IncidentObligation, now: datetime) -> int | None:
    return rules.seconds_left(ObligationStatus(row.status), row.due_at, now)


def overdue(rows: Sequence[IncidentObligation], now: datetime) -> list[IncidentObligation]:
    """The rows that apply, are pending and are late by now (`rules.is_late`)."""
    return [r for r in rows if rules.is_overdue(ObligationStatus(r.status), applies=r.applies,
                                                due_at=r.due_at, now=now)]
