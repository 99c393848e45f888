"""What an incident still owes (the duties to notify that are neither met nor waived), and the
organisation's time zone, for the incident package, which never imports this one.

The lifecycle asks for the pending duties (hook `incident.pending_duties`) before an incident is
resolved or closed, and the incident page shows the same list beside its moves
(`incident.page_sections`); the pages show and read times in the organisation's zone
(`organisation.zone`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor
from incident.kernel.clock import Clock
from incident.kernel.errors import Conflict
from incident.lifecycle.models import Incident
from incident.lifecycle.rules import Status
from notifications.obligations import rules
from notifications.obligations.models import IncidentObligation, OrganisationProfile
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.service import get_profile, reconcile


def duty_name(row: IncidentObligation, profile: OrganisationProfile | None, now: datetime) -> str:
    """One duty in words: to whom (the authority's own name when the profile gives it), its
    code, and whether it is overdue."""
    chosen = (profile.authorities.get(row.ref, {}).get("name") if profile else None)
    overdue = rules.is_overdue(ObligationStatus(row.status), applies=row.applies,
                               due_at=row.due_at, now=now)
    return f"{chosen or row.recipient_name} ({row.ref}{', overdue' if overdue else ''})"


async def pending_duties(db: AsyncSession, incident: Incident, *, now: datetime,
                         recompute: bool = True) -> list[str]:
    """The duties the incident still owes, soonest due first.

    With `recompute` (a move), the obligations are brought up to date first, in the caller's
    transaction; a computation the facts refuse leaves the rows as they were. Without it (a
    page being shown) the rows are read as they are."""
    profile = await get_profile(db)
    if profile is None:
        return []
    if recompute:
        with contextlib.suppress(Conflict):
            await reconcile(db, incident, now=now, cause="status change", profile=profile)
    rows = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        IncidentObligation.applies == True,  # noqa: E712  (SQL, not Python)
        IncidentObligation.status == ObligationStatus.PENDING.value))).all()
    far = datetime.max.replace(tzinfo=now.tzinfo)
    ordered = sorted(rows, key=lambda r: (r.due_at or far, r.ref))
    return [duty_name(row, profile, now) for row in ordered]


async def incident_section(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                           clock: Clock, incident: Incident, targets: list[Status]
                           ) -> dict[str, Any]:
    """The incident page's list of pending duties, shown beside the moves that would leave
    them behind (resolved, closed)."""
    return {"pending_duties": await pending_duties(db, incident, now=clock.now(),
                                                   recompute=False)}


async def organisation_zone(db: AsyncSession) -> ZoneInfo | None:
    """The organisation profile's time zone, or None before a profile (or with a zone this
    system does not know)."""
    profile = await get_profile(db)
    if profile is None or not profile.timezone:
        return None
    try:
        return ZoneInfo(profile.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
