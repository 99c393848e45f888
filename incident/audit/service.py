"""Audit use cases: one incident's chain recomputed; every chain judged against the latest
signed checkpoint kept outside the database; checkpoints made on demand; the key and log as
the settings place them; chains named by their incident's reference."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.audit.checkpoints import AuditReport, CheckpointLog, Made, make_checkpoint, verify_all
from incident.audit.signing import KeyRing
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.settings import Settings
from incident.lifecycle.models import Incident
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from incident.timeline.rules import Verification


async def verify_incident(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID
                          ) -> tuple[Incident, Verification]:
    auth.require(actor, Permission.VERIFY_TIMELINE)
    incident = await get_incident(db, actor=actor, key=key)
    return incident, await journal.verify(db, str(incident.id))


async def references_by_chain(db: AsyncSession) -> dict[str, str]:
    rows = await db.exec(select(Incident.id, Incident.reference))
    return {str(row[0]): row[1] for row in rows}


def keyring(settings: Settings) -> KeyRing:
    return KeyRing(settings.signing_key_path)


def checkpoint_log(settings: Settings) -> CheckpointLog:
    return CheckpointLog(settings.checkpoint_log)


async def audit(db: AsyncSession, *, actor: Actor, settings: Settings,
                key: str | uuid.UUID | None = None) -> tuple[AuditReport, dict[str, str]]:
    """Every chain (or one incident's) against the latest checkpoint in the log outside the
    database, with the incidents' references by chain."""
    auth.require(actor, Permission.VERIFY_TIMELINE)
    only = None
    if key is not None:
        incident = await get_incident(db, actor=actor, key=key)
        only = [str(incident.id)]
    report = await verify_all(db, keys=keyring(settings).public_keys(),
                              log=checkpoint_log(settings), only=only)
    return report, await references_by_chain(db)


async def checkpoint(db: AsyncSession, *, actor: Actor, settings: Settings, clock: Clock,
                     force: bool = True) -> Made | None:
    """A checkpoint now (on demand: even if nothing changed since the last one)."""
    auth.require(actor, Permission.VERIFY_TIMELINE)
    return await make_checkpoint(db, keys=keyring(settings), log=checkpoint_log(settings),
                                 now=clock.now(), force=force)
