"""A copy of each checkpoint for its witness: mailed through the outbox to an address outside
the service (BREACH_CHECKPOINT_WITNESS, e.g. the DPO or an external auditor), so that a copy
exists beyond the reach of whoever holds the database and the server."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from incident.audit.rules import LoggedCheckpoint
from incident.audit.service import checkpoint_log, keyring
from incident.kernel.auth import SYSTEM
from incident.kernel.clock import Clock
from incident.kernel.db import session_factory, transaction
from incident.kernel.settings import Settings
from notifications.drafting.models import Delivery, Notification, NotificationVersion
from notifications.drafting.rules import NotificationKind, NotificationStatus, content_hash
from notifications.drafting.sending import message_domain, set_message_ids

BACKLOG = 10
"""At most this many checkpoints not yet mailed go at once (the latest): a witness named
later gets the recent ones, not the whole history."""


def ref_of(entry: LoggedCheckpoint) -> str:
    return f"checkpoint:{entry.number}"


async def queue_witness_copies(engine: AsyncEngine, settings: Settings, clock: Clock) -> int:
    """Queue each checkpoint of the log not yet mailed to the witness; how many were."""
    if not settings.checkpoint_witness:
        return 0
    entries = checkpoint_log(settings).last(BACKLOG)
    keys = {key.id: key for key in keyring(settings).public_keys()}
    now = clock.now()
    async with session_factory(engine)() as db, transaction(db):
        mailed = set((await db.exec(select(Notification.ref).where(
            Notification.kind == NotificationKind.CHECKPOINT.value,
            col(Notification.ref).in_([ref_of(e) for e in entries])))).all())
        queued = 0
        for entry in entries:
            if ref_of(entry) in mailed:
                continue
            key = keys.get(entry.key)
            fields = {"number": entry.number, "at": str(entry.body["at"]).replace("Z", "+00:00"),
                      "chains": len(entry.body.get("chains", {})), "hash": entry.hash,
                      "fingerprint": key.fingerprint if key else f"unknown key {entry.key}",
                      "line": json.dumps({"body": entry.body, "hash": entry.hash,
                                          "signature": entry.signature, "key": entry.key},
                                         sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False)}
            digest = content_hash(NotificationKind.CHECKPOINT.value, ref_of(entry), 1, fields)
            notification = Notification(incident_id=None, ref=ref_of(entry),
                                        kind=NotificationKind.CHECKPOINT.value,
                                        status=NotificationStatus.SENDING.value, sent_at=now,
                                        content_hash=digest, recipients=1, created_at=now,
                                        created_by=SYSTEM.label)
            db.add(notification)
            await db.flush()
            assert notification.id is not None
            db.add(NotificationVersion(notification_id=notification.id, version=1, fields=fields,
                                       content_hash=digest, created_at=now,
                                       created_by=SYSTEM.label))
            db.add(Delivery(notification_id=notification.id,
                            recipient_key=settings.checkpoint_witness,
                            address=settings.checkpoint_witness, locale="en", message_id="",
                            next_attempt_at=now))
            await db.flush()
            await set_message_ids(await db.connection(), notification.id,
                                  message_domain(settings.mail_from))
            queued += 1
    return queued
