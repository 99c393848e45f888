"""The bounce reports kept about a notification's deliveries, as people read them: listed
newest first, counted by kind, and the kept message itself.

A report holds personal data: the recipient's address is in the message, and usually in
the remote server's diagnostic too ("550 5.1.1 <ana@example.org>: User unknown"). A role
that may not read personal data (`Permission.READ_PERSONAL_DATA`) therefore sees no
recipient, a diagnostic with every address in it replaced by `ADDRESS_MASK`, and never the
message; taking the message is recorded on the incident's timeline
(`bounce_report_downloaded`, ids and the SHA-256 only), as taking evidence is.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import NotFound
from incident.lifecycle.service import get_incident
from incident.timeline import service as journal
from notifications.bounces.models import BounceReport
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.service import get_notification

__all__ = ["ADDRESS_MASK", "UNREAD", "Bounce", "bounces_of", "kind_counts", "listed", "masked",
           "raw_report", "reports_of", "sha256_of"]

ADDRESS_MASK = "[address]"
"""What stands for an e-mail address in a diagnostic shown without personal data."""

UNREAD = "unread"
"""The kind counted for a report that could not be read (its `kind` is None)."""

_ADDRESS = re.compile(r"[^\s@<>()\[\]\\,;:\"']+@[^\s@<>()\[\]\\,;:\"']+")
_LOCAL_PART_AT_LEAST = 4
"""A recipient's local part this long or longer is masked on its own too ("user ana.k unknown")."""


def masked(text: str | None, addresses: Iterable[str | None] = ()) -> str | None:
    """`text` with every e-mail address, and the local part of each of `addresses`, replaced
    by `ADDRESS_MASK` (pure)."""
    if text is None:
        return None
    shown = _ADDRESS.sub(ADDRESS_MASK, text)
    for address in addresses:
        local = (address or "").rpartition("@")[0]
        if len(local) >= _LOCAL_PART_AT_LEAST:
            shown = re.sub(rf"(?<![\w.+-]){re.escape(local)}(?![\w.+-])", ADDRESS_MASK, shown,
                           flags=re.IGNORECASE)
    return shown


@dataclass(frozen=True, slots=True)
class Bounce:
    """One report about one delivery, without its message; `address` and `name` are None
    (and `diagnostic` masked) for a reader who may not read personal data."""

    id: int
    received_at: datetime
    source: str
    delivery_id: int
    recipient_id: str
    kind: str | None
    status: str | None
    diagnostic: str | None
    parsed: bool
    size: int
    kept: int
    """Bytes of the message kept (at most `models.RAW_LIMIT`; `size` is what arrived)."""
    address: str | None
    name: str | None


def _about(notification_id: int) -> ColumnElement[bool]:
    """A report joined to its delivery, of this notification."""
    return (col(BounceReport.delivery_id) == col(Delivery.id)) & (
        col(Delivery.notification_id) == notification_id)


async def bounces_of(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                     notification_id: int, limit: int = 50, offset: int = 0
                     ) -> tuple[list[Bounce], int]:
    """A page of the reports about a notification's deliveries, newest first, and how many
    there are in all. NotFound for an incident or notification the actor cannot see."""
    await get_notification(db, actor=actor, key=key, notification_id=notification_id)
    total = (await db.exec(select(func.count()).select_from(BounceReport).join(
        Delivery, _about(notification_id)))).one()
    found = await listed(db, notification_id, personal=actor.can(Permission.READ_PERSONAL_DATA),
                         limit=limit, offset=offset)
    return found, int(total)


async def listed(db: AsyncSession, notification_id: int, *, personal: bool, limit: int,
                 offset: int = 0) -> list[Bounce]:
    """The reports about a notification's deliveries, newest first, without their messages;
    for a reader who may see them (`personal`) or not (see `Bounce`)."""
    rows = (await db.exec(select(BounceReport, Delivery, func.length(col(BounceReport.raw)))
                          .join(Delivery, _about(notification_id))
                          .options(defer(BounceReport.raw))  # type: ignore[arg-type]
                          .order_by(col(BounceReport.received_at).desc(),
                                    col(BounceReport.id).desc())
                          .offset(offset).limit(limit))).all()
    return [_bounce(report, delivery, kept, personal) for report, delivery, kept in rows]


def _bounce(report: BounceReport, delivery: Delivery, kept: int | None, personal: bool) -> Bounce:
    assert report.id is not None and delivery.id is not None
    return Bounce(id=report.id, received_at=report.received_at, source=report.source,
                  delivery_id=delivery.id, recipient_id=delivery.recipient_key, kind=report.kind,
                  status=report.status,
                  diagnostic=(report.diagnostic if personal
                              else masked(report.diagnostic, [delivery.address])),
                  parsed=report.parsed, size=report.size, kept=kept or 0,
                  address=delivery.address if personal else None,
                  name=delivery.name if personal else None)


async def kind_counts(db: AsyncSession, notification_id: int) -> dict[str, int]:
    """How many reports about the notification's deliveries, by kind: "hard", "soft", and
    `UNREAD` for those that could not be read."""
    rows = (await db.exec(select(BounceReport.kind, func.count()).join(
        Delivery, _about(notification_id)).group_by(col(BounceReport.kind)))).all()
    return {str(kind) if kind is not None else UNREAD: int(count) for kind, count in rows}


async def reports_of(db: AsyncSession, notification_id: int) -> list[BounceReport]:
    """Every report about the notification's deliveries, message included, oldest first (the
    evidence pack's order)."""
    return list((await db.exec(select(BounceReport).join(Delivery, _about(notification_id))
                               .order_by(col(BounceReport.id)))).all())


def sha256_of(report: BounceReport) -> str:
    return hashlib.sha256(report.raw).hexdigest()


async def raw_report(db: AsyncSession, *, clock: Clock, actor: Actor,
                     report_id: int) -> BounceReport:
    """The report with the message as kept, for a role that may read personal data, after
    recording on the incident's timeline who took it. NotFound for a report that does not
    exist, or whose incident the actor cannot see (or that belongs to no incident)."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    async with transaction(db):
        report = await db.get(BounceReport, report_id)
        delivery = (await db.get(Delivery, report.delivery_id)
                    if report is not None and report.delivery_id is not None else None)
        notification = (await db.get(Notification, delivery.notification_id)
                        if delivery is not None else None)
        if report is None or notification is None or notification.incident_id is None:
            raise NotFound(f"no bounce report {report_id}")
        try:
            incident = await get_incident(db, actor=actor, key=notification.incident_id)
        except NotFound:
            raise NotFound(f"no bounce report {report_id}") from None
        await journal.append_event(db, chain=str(incident.id), at=clock.now(), actor=actor,
                                   kind="bounce_report_downloaded",
                                   payload={"report": report.id, "delivery": report.delivery_id,
                                            "notification": notification.id,
                                            "sha256": sha256_of(report)})
    return report
