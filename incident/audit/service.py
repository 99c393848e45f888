"""Audit use cases: verifying one incident's timeline or every chain, including chains whose
events were all removed, and naming chains by their incident's reference."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from incident.timeline.rules import Verification


async def verify_incident(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                          ) -> tuple[Incident, Verification]:
    auth.require(actor, Permission.VERIFY_TIMELINE)
    incident = await get_incident(db, actor=actor, key=key)
    return incident, await journal.verify(db, str(incident.id))


async def verify_everything(db: AsyncSession, *, actor: Actor) -> list[Verification]:
    """Every chain: each incident's (by its reference order) and the organisation's."""
    auth.require(actor, Permission.VERIFY_TIMELINE)
    return [await journal.verify(db, chain) for chain in await chain_names(db)]


async def chain_names(db: AsyncSession) -> list[str]:
    """Every chain that exists or should: stored events, recorded heads, and every incident's.

    An incident whose events were all removed still has its chain checked (and found empty).
    """
    incident_chains = {str(i) for i in (await db.exec(select(Incident.id))).all()}
    return sorted(set(await journal.chains(db)) | incident_chains)


async def references_by_chain(db: AsyncSession) -> dict[str, str]:
    rows = await db.exec(select(Incident.id, Incident.reference))
    return {str(row[0]): row[1] for row in rows}
