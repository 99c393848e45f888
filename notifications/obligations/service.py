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
from pathlib import Path
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
from incident.kernel.settings import Settings
from incident.lifecycle import rules as lifecycle
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from notifications.obligations import confirmation, contracts, rules
from notifications.obligations.assessment import assess
from notifications.obligations.assessment_input import InvalidAssessmentInput, parse_assessment_input
from notifications.obligations.contracts import ROLE_OF_COUNTERPARTY
from notifications.obligations.engine import compute_obligations, iso, result_to_json
from notifications.obligations.facts import FactsError, facts_from_json
from notifications.obligations.models import (
    PROFILE_ID,
    IncidentAssessment,
    IncidentObligation,
    OrganisationProfile,
)
from notifications.obligations.regime_loader import Loaded, load_catalogue, load_contacts
from notifications.obligations.regimes import CODE_PATTERN, OWNER_ROLES, Catalogue, Contacts
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.schemas import (
    Milestones,
    ObligationChange,
    Override,
    Parties,
    PartiesPublic,
    Profile,
    repeated_ids,
)

UNFINISHED = [status.value for status in lifecycle.Status if not lifecycle.is_finished(status)]
"""Incident statuses whose obligations are still computed, as stored."""


_ORGANISATION_REGIMES: list[Path | None] = [None]
"""The folder of the organisation's own regimes this process uses (BREACH_REGIMES_DIR)."""


def configure_regimes(settings: Settings) -> None:
    """Use the organisation's regimes of `settings` from now on (every command, through the
    `runtime.settings` hook, and the web app call it with the settings they run with). Nothing
    is read here; the catalogue is read and validated when first needed (`shipped_regimes`)."""
    _ORGANISATION_REGIMES[0] = settings.regimes_dir


async def regimes_for_command(settings: Settings) -> None:
    """The `runtime.settings` hook: a command's use case computes under its settings' regimes."""
    configure_regimes(settings)


def shipped_regimes() -> Catalogue:
    """The catalogue in use: the shipped regimes merged with the organisation's
    (BREACH_REGIMES_DIR), validated. Raises RegimeError, one line per problem, while a file
    is invalid. Read once per process and folder: a running service keeps the catalogue it
    started with, so an edit takes effect (validated) at the next start, never half-way."""
    return regimes_in_use().catalogue


def regimes_in_use() -> Loaded:
    """The catalogue in use with the origin (shipped or organisation, and file) of each regime."""
    return _loaded(_ORGANISATION_REGIMES[0])


@lru_cache(maxsize=16)
def _loaded(folder: Path | None) -> Loaded:
    return load_catalogue(folder)


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
    if repeated := repeated_ids(data.counterparties, "counterparties"):
        raise Invalid.fields(repeated)
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
    """The newest assessment, in force or awaiting confirmation."""
    return (await db.exec(select(IncidentAssessment).where(
        IncidentAssessment.incident_id == incident.id).order_by(
        col(IncidentAssessment.number).desc()).limit(1))).first()


async def _all_assessments(db: AsyncSession, incident: Incident) -> list[IncidentAssessment]:
    return list((await db.exec(select(IncidentAssessment).where(
        IncidentAssessment.incident_id == incident.id).order_by(
        col(IncidentAssessment.number)))).all())


async def assessment_in_force(db: AsyncSession, incident: Incident) -> IncidentAssessment | None:
    """The assessment obligations follow: the newest one not awaiting confirmation."""
    return confirmation.in_force(await _all_assessments(db, incident))


async def assessments(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                      ) -> list[IncidentAssessment]:
    incident = await get_incident(db, actor=actor, key=key)
    return await _all_assessments(db, incident)


async def _ended_by(db: AsyncSession, incident: Incident, candidate: IncidentAssessment,
                    current: IncidentAssessment | None) -> list[str]:
    """The duties that apply under `current` and would not under `candidate` (engine's answer)."""
    profile = await get_profile(db)
    if profile is None:
        return []
    rows = await _rows(db, incident)
    catalogue = contract_catalogue(profile, incident, shipped_regimes())[0]
    met = {ref: row.met_at for ref, row in rows.items()
           if row.status in rules.FULFILLED and row.met_at is not None
           and catalogue.obligation(ref) is not None}
    snapshot = await latest_snapshot(db, incident.id)
    answers = []
    for assessment in (current, candidate):
        try:
            facts = facts_from_json(build_facts(profile, incident, assessment, snapshot, met)[0])
        except FactsError:  # reconcile reports it
            return []
        answers.append([(r.ref, r.applies) for r in
                        compute_obligations(facts, catalogue, explain=True)])
    return confirmation.ended(answers[0], answers[1])


async def assess_incident(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                          raw: Any) -> IncidentAssessment:
    """Assess the incident from the facts given (the `breach assess` input shape).

    An assessment that would end a duty applying now is recorded as pending: the one in
    force stays until an approver who did not record it confirms it (`confirm_assessment`).
    """
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
        current = await assessment_in_force(db, incident)
        row.ends = await _ended_by(db, incident, row, current)
        row.pending = bool(row.ends)
        db.add(row)
        await db.flush()
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="assessment_recorded",
            payload={"number": row.number, "score": result.score, "severity": result.severity.value,
                     "recommendation": result.recommendation.value, "reasons": result.reasons,
                     "pending": row.pending})
        if row.pending:
            await journal.append_event(
                db, chain=str(incident.id), at=now, actor=actor, kind="assessment_pending",
                payload={"number": row.number, "ends": row.ends,
                         "in_force": current.number if current else None,
                         "why": confirmation.assumption(row, current)})
        await reconcile(db, incident, now=now, cause=f"assessment {row.number}")
    return row


async def confirm_assessment(db: AsyncSession, *, clock: Clock, actor: Actor,
                             key: str | uuid.UUID, number: int) -> IncidentAssessment:
    """An approver who did not record it puts a pending assessment in force; duties follow."""
    auth.require(actor, Permission.APPROVE)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        rows = await _all_assessments(db, incident)
        row = next((r for r in rows if r.number == number), None)
        if row is None:
            raise NotFound(f"{incident.reference} has no assessment {number}")
        refusal = confirmation.confirmation_refusal(row, approver=actor.label,
                                                    current=confirmation.in_force(rows))
        if refusal is not None:
            raise refusal
        row.pending, row.confirmed_at, row.confirmed_by = False, now, actor.label
        db.add(row)
        await db.flush()
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="assessment_confirmed",
            payload={"number": row.number, "recommendation": row.decided, "ends": row.ends,
                     "recorded_by": row.assessed_by})
        await reconcile(db, incident, now=now, cause=f"assessment {row.number} confirmed")
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
        confirmed = False
        if row.pending:  # an approver's decision on it: in force unless they recorded it
            row.ends = await _ended_by(db, incident, row, await assessment_in_force(db, incident))
            if not row.ends or actor.label != row.assessed_by:
                confirmed, row.pending = bool(row.ends), False
                if confirmed:
                    row.confirmed_at, row.confirmed_by = now, actor.label
        db.add(row)
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="assessment_overridden",
            payload={"number": row.number, "recommended": row.recommendation, "was": previous,
                     "now": row.override, "justification": justification,
                     "pending": row.pending})
        if confirmed:
            await journal.append_event(
                db, chain=str(incident.id), at=now, actor=actor, kind="assessment_confirmed",
                payload={"number": row.number, "recommendation": row.decided, "ends": row.ends,
                         "recorded_by": row.assessed_by, "by_override": True})
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


async def set_parties(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                      data: Parties, keep_clocks: bool = False) -> Incident:
    """Record the roles the organisation acts in for this incident and the counterparties whose
    data it involves (with clocks of this incident only; `keep_clocks`: those recorded stay);
    the obligations follow at once."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident = await get_incident(db, actor=actor, key=key, for_update=True)
        profile = await get_profile(db)
        known = {str(c["id"]) for c in (profile.counterparties if profile else [])}
        problems = [(f"counterparties.{i}", f"{party!r} is not a counterparty of the "
                     "organisation profile" + ("" if known else " (it lists none)"))
                    for i, party in enumerate(data.counterparties) if party not in known]
        problems += [(f"clocks.{i}.id", f"{c.id!r} is a counterparty of the organisation "
                      "profile: name it in counterparties instead")
                     for i, c in enumerate(data.clocks) if c.id in known]
        problems += repeated_ids(data.clocks, "clocks")
        if problems:
            raise Invalid.fields(problems)
        parties = data.model_dump(mode="json")
        was = incident.parties
        if keep_clocks:
            parties["clocks"] = list((was or {}).get("clocks") or [])
        incident.parties = parties
        incident.updated_at = now
        db.add(incident)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="parties_set", payload={**parties, "was": was})
        await reconcile(db, incident, profile=profile, now=now, cause="parties")
    return incident


def parties_public(profile: OrganisationProfile | None, incident: Incident) -> PartiesPublic:
    """The incident's parties as recorded, with the roles in force."""
    parties = incident.parties or {}
    roles = parties.get("roles")
    acting = roles if roles is not None else list(profile.roles if profile else [])
    return PartiesPublic(roles=roles, counterparties=list(parties.get("counterparties") or []),
                         clocks=list(parties.get("clocks") or []),
                         acting_as=sorted(acting or OWNER_ROLES), assumed=not acting)


async def parties_of(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID) -> PartiesPublic:
    auth.require(actor, Permission.READ_INCIDENTS)
    incident = await get_incident(db, actor=actor, key=key)
    return parties_public(await get_profile(db), incident)


# --- obligations -------------------------------------------------------------------------------


def build_facts(profile: OrganisationProfile, incident: Incident,
                assessment: IncidentAssessment | None, snapshot: AffectedSnapshot | None,
                met: dict[str, datetime], awaiting: IncidentAssessment | None = None,
                ) -> tuple[dict[str, Any], list[str]]:
    """The engine's FACTS for one incident, and the assumptions made where facts are missing.

    `assessment` is the one in force; `awaiting`, a newer one that would end duties and
    awaits an approver's confirmation: it changes nothing yet, and the assumptions say so.
    """
    assumptions: list[str] = []
    if assessment is None:
        risk = "high"
        assumptions.append("no risk assessment yet: high risk assumed, so no duty is missed")
    else:
        risk = rules.RISK_OF[assessment.decided]
    if awaiting is not None:
        assumptions.append(confirmation.assumption(awaiting, assessment))
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
    roles, role_assumptions = roles_of(profile, incident)
    assumptions.extend(role_assumptions)
    circumstances, circumstance_assumptions = circumstances_of(incident, assessment)
    assumptions.extend(circumstance_assumptions)
    milestones = incident.milestones or {}
    facts: dict[str, Any] = {
        "organisation": {"country": profile.country, "timezone": profile.timezone,
                         "flags": list(profile.flags), "entity_type": profile.entity_type,
                         "principal_place": profile.principal_place,
                         "targets": dict(profile.targets), "roles": roles},
        "incident": {
            "aware_at": iso(incident.aware_at), "discovered_at": iso(incident.detected_at),
            **{name: milestones[name] for name in ("breach_determined_at", "classified_major_at",
                                                   "materiality_determined_at") if name in milestones},
            "assessment_completed_at": iso(assessment.assessed_at) if assessment else None,
            "risk": risk, "data_categories": sorted(categories),
            "malicious": bool(assessment.facts.get("malicious")) if assessment else False,
            "met": {ref: iso(at) for ref, at in met.items()},
            **circumstances,
        },
        "affected": affected,
    }
    return facts, assumptions


def circumstances_of(incident: Incident, assessment: IncidentAssessment | None
                     ) -> tuple[dict[str, Any], list[str]]:
    """The incident's circumstances as the engine's incident facts (encryption and its key,
    redaction, a risk-of-harm determination, a law-enforcement delay), and the assumption made
    when none are recorded: the latest assessment's encryption, else data in the clear."""
    stored = incident.circumstances
    if stored is None:
        encrypted = assessment.facts.get("encrypted") if assessment is not None else None
        if assessment is None or not encrypted:
            return {}, ["no circumstances recorded on the incident: the data is assumed "
                        "unencrypted and unredacted, so no safe harbour is claimed"]
        key = "its key compromised" if encrypted.get("key_compromised") else "its key safe"
        standard = ("state of the art" if encrypted.get("state_of_the_art")
                    else "not state of the art")
        return ({"encrypted": True, "state_of_the_art": bool(encrypted.get("state_of_the_art")),
                 "key_compromised": bool(encrypted.get("key_compromised"))},
                [f"no circumstances recorded on the incident: encryption taken from assessment "
                 f"{assessment.number} (encrypted, {standard}, {key})"])
    facts: dict[str, Any] = {
        "encrypted": stored.get("encryption") == "all",
        "state_of_the_art": bool(stored.get("state_of_the_art")),
        "key_compromised": bool(stored.get("key_compromised")),
        "redacted": bool(stored.get("redacted")),
    }
    if harm := stored.get("risk_of_harm"):
        facts |= {"harm_not_likely": harm.get("conclusion") == "misuse_not_reasonably_likely",
                  "harm_determined_at": harm.get("determined_at"),
                  "law_enforcement_consulted": bool(harm.get("law_enforcement_consulted")),
                  "inadvertent_disclosure": bool(harm.get("inadvertent_disclosure"))}
    if delay := stored.get("law_enforcement_delay"):
        facts["law_enforcement_delay"] = {name: delay.get(name) for name in (
            "agency", "requested_at", "written", "until", "ended_at")}
    return facts, []


async def circumstances_changed(db: AsyncSession, incident: Incident, *, now: datetime) -> None:
    """The `incident.circumstances_changed` hook: the obligations follow in the same transaction."""
    await reconcile(db, incident, now=now, cause="circumstances")


def roles_of(profile: OrganisationProfile, incident: Incident) -> tuple[list[str], list[str]]:
    """The roles the organisation acts in for this incident (the incident's, else the
    profile's; none: the owner's, assumed by the engine), and the assumption said when it
    matters: the incident involves a counterparty's data and no role is recorded."""
    parties = incident.parties or {}
    roles = parties.get("roles")
    if roles is None:
        roles = list(profile.roles or [])
    if roles:
        return sorted(roles), []
    involved = {str(c["id"]): c for c in profile.counterparties or []}
    theirs = [involved[p] for p in parties.get("counterparties") or [] if p in involved]
    theirs += list(parties.get("clocks") or [])
    hints = sorted({role for c in theirs for role in ROLE_OF_COUNTERPARTY.get(c.get("role", ""), ())})
    if not theirs:
        return [], []
    hint = f" (toward them perhaps: {', '.join(h.replace('_', ' ') for h in hints)})" if hints else ""
    return [], ["no role recorded: the organisation is taken to decide about the data itself "
                "(controller, covered entity, data owner), so no duty of its own is missed; the "
                f"incident involves counterparties' data: record the role it acts in{hint}"]


def contract_catalogue(profile: OrganisationProfile, incident: Incident,
                       catalogue: Catalogue) -> tuple[Catalogue, list[str]]:
    """`catalogue` with the regime of the incident's contractual clocks added (`contracts.py`),
    and the assumptions made."""
    clocks, assumptions = contracts.involved_clocks(profile.counterparties or [], incident.parties)
    regime = contracts.contract_regime(clocks, jurisdiction=profile.country,
                                       reviewed=profile.updated_at.date())
    if regime is None:
        return catalogue, assumptions
    if catalogue.get(regime.id) is not None:
        return catalogue, [*assumptions, f"a regime file uses the id {regime.id!r}: the "
                           "contractual clocks are not computed until it is renamed"]
    return Catalogue((*catalogue.regimes, regime)), assumptions


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
    catalogue, contract_assumptions = contract_catalogue(profile, incident,
                                                         regimes or shipped_regimes())
    met = {ref: row.met_at for ref, row in rows.items()
           if row.status in rules.FULFILLED and row.met_at is not None
           and catalogue.obligation(ref) is not None}
    assessed = await _all_assessments(db, incident)
    awaiting = confirmation.awaiting(assessed)
    facts_json, assumptions = build_facts(profile, incident, confirmation.in_force(assessed),
                                          await latest_snapshot(db, incident.id), met,
                                          awaiting=awaiting)
    assumptions += contract_assumptions
    try:
        facts = facts_from_json(facts_json)
    except FactsError as exc:  # the profile or incident holds something the engine refuses
        raise Conflict(f"{incident.reference}: obligations cannot be computed: {exc}") from None
    changes: list[dict[str, Any]] = []
    results = compute_obligations(facts, catalogue, explain=True)
    for result in results:
        row = rows.get(result.ref)
        if row is None and not result.applies:
            continue
        computed = result_to_json(result, explain=True)
        if awaiting is not None and result.applies and result.ref in awaiting.ends:
            computed["why"] = [*computed.get("why", []), confirmation.held(awaiting)]
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
        row.recipient, row.recipient_name = result.recipient, result.recipient_name
        row.due_at, row.target_at = result.due_at, result.target_at
        row.computed, row.computed_at = computed, now
        db.add(row)
    # A duty whose source is gone (a counterparty no longer involved) no longer applies.
    computed_refs = {result.ref for result in results}
    for ref, row in rows.items():
        if ref not in computed_refs and row.applies:
            changes.append({"ref": ref, "change": "no longer applies", "was": iso(row.due_at),
                            "due_at": None})
            row.applies, row.computed_at = False, now
            row.computed = {**row.computed, "applies": False,
                            "why": ["its source is gone: no regime or contractual clock names it"]}
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
            problems.append("no organisation profile yet: an admin sets it on the set-up page "
                            "(/setup), with PUT /api/v1/organisation or `breach organisation "
                            "set FILE.json`")
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
            reopen(row)
            kind = "obligation_reopened"
        row.status_by, row.status_at = actor.label, now
        db.add(row)
        await db.flush()
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor, kind=kind,
                                   payload=payload)
        await reconcile(db, incident, now=now, cause=kind)
    return row


def reopen(row: IncidentObligation) -> None:
    """Back to pending, with nothing left of how it was met or waived."""
    row.status, row.met_at, row.met_by = ObligationStatus.PENDING.value, None, None
    row.how, row.late_reason, row.waiver = None, None, None


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
    row.status, row.met_at, row.how, row.met_by = status.value, at, how, None
    row.late_reason = reason if late else None
    return "obligation_late" if late else "obligation_met"


def seconds_left(row: IncidentObligation, now: datetime) -> int | None:
    return rules.seconds_left(ObligationStatus(row.status), row.due_at, now)


def overdue(rows: Sequence[IncidentObligation], now: datetime) -> list[IncidentObligation]:
    """The rows that apply, are pending and are late by now (`rules.is_late`)."""
    return [r for r in rows if rules.is_overdue(ObligationStatus(r.status), applies=r.applies,
                                                due_at=r.due_at, now=now)]
