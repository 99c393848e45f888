"""How many people a notice to people goes to, and on which basis: read for the API and the pages.

A notice sent already shows the audience recorded when it was queued (on its
`notification_sent` event), so a later change of profile or regime file never rewrites
what was done. A draft shows the audience it would have if sent now: the latest
snapshot's counts by jurisdiction, the organisation's country, and the regime's rule.
Sending (`sending.py`) computes it the same way, from the same pure rule (`audience.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot
from incident.kernel.auth import Actor
from incident.timeline.models import TimelineEvent
from incident.timeline.service import payload_of
from notifications.drafting import rules
from notifications.drafting.audience import Audience, audience, combined
from notifications.drafting.models import Notification
from notifications.drafting.rules import NotificationKind
from notifications.drafting.service import get_notification
from notifications.obligations.regimes import Protects
from notifications.obligations.service import get_profile, shipped_regimes

SENT_EVENT = "notification_sent"


def protects_of(ref: str) -> Protects | None:
    """Whom the obligation `ref` protects, from the shipped regimes; None when it is not an
    obligation owed to people there."""
    found = shipped_regimes().obligation(ref)
    return found[1].protects if found else None


async def jurisdiction_counts(db: AsyncSession, snapshot_id: int) -> dict[str, int]:
    """The snapshot's people counted by jurisdiction ("" where residence is unknown)."""
    conn = await db.connection()
    rows = await conn.execute(text(
        "SELECT a.jurisdiction, count(*) FROM affected_subjects a WHERE a.snapshot_id = :snapshot "
        "GROUP BY a.jurisdiction"), {"snapshot": snapshot_id})
    counts: dict[str, int] = {}
    for code, count in rows.all():
        counts[str(code or "")] = counts.get(str(code or ""), 0) + int(count)
    return counts


async def people_by_jurisdiction(db: AsyncSession, snapshot: AffectedSnapshot) -> dict[str, int]:
    """The snapshot's people by jurisdiction: from its summary, counted when it was made (a
    snapshot never changes), or counted now for one made before summaries had them."""
    counts = snapshot.summary.get("by_jurisdiction") if isinstance(snapshot.summary, dict) else None
    if isinstance(counts, dict):
        return {str(code or ""): int(count) for code, count in counts.items()}
    return await jurisdiction_counts(db, snapshot.id or 0)


async def audience_of(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                      notification_id: int) -> Audience | None:
    """The people a notification is addressed to and why; None for a report to an authority,
    or for a notice whose incident has no snapshot yet."""
    _, notification = await get_notification(db, actor=actor, key=key,
                                             notification_id=notification_id)
    return (await audiences_of(db, [notification]))[notification.id or 0]


async def audiences_of(db: AsyncSession, notifications: Sequence[Notification]
                       ) -> dict[int, Audience | None]:
    """`audience_of` for many notifications at once (the caller has read them)."""
    found: dict[int, Audience | None] = {n.id or 0: None for n in notifications}
    notices = [n for n in notifications if n.kind == NotificationKind.SUBJECT_NOTICE]
    found.update(await _recorded(db, [n for n in notices if n.status in rules.LIVE]))
    drafts = [n for n in notices if found[n.id or 0] is None]
    if not drafts:
        return found
    profile = await get_profile(db)
    snapshots = await _snapshots(db, drafts)
    for notification in drafts:
        rules_of = {ref: protects_of(ref) for ref in notification.refs}
        snapshot = snapshots.get(notification.id or 0)
        if None in rules_of.values() or snapshot is None or snapshot.id is None:
            continue
        counts = await people_by_jurisdiction(db, snapshot)
        found[notification.id or 0] = combined(
            {ref: audience(protects, people=counts, established_in=(
                profile.principal_place or profile.country) if profile else None)
             for ref, protects in rules_of.items() if protects is not None}, counts)
    return found


async def _recorded(db: AsyncSession, sent: Sequence[Notification]) -> dict[int, Audience]:
    """The audiences recorded when these notices were sent (none for those sent before
    audiences were recorded)."""
    if not sent:
        return {}
    ids = {n.id for n in sent}
    events = (await db.exec(select(TimelineEvent).where(
        col(TimelineEvent.chain).in_({str(n.incident_id) for n in sent}),
        TimelineEvent.kind == SENT_EVENT))).all()
    recorded: dict[int, Audience] = {}
    for event in events:
        payload = payload_of(event)
        if payload.get("notification") in ids and isinstance(payload.get("audience"), dict):
            recorded[int(payload["notification"])] = Audience.from_payload(payload["audience"])
    return recorded


async def _snapshots(db: AsyncSession, notifications: Sequence[Notification]
                     ) -> dict[int, AffectedSnapshot]:
    """Each notice's snapshot: the one it was sent to, else its incident's latest."""
    chosen = {n.id or 0: n.snapshot_id for n in notifications if n.snapshot_id is not None}
    latest: dict[uuid.UUID, int] = {}
    for incident_id in {n.incident_id for n in notifications
                        if n.snapshot_id is None and n.incident_id is not None}:
        newest = (await db.exec(select(AffectedSnapshot.id).where(
            AffectedSnapshot.incident_id == incident_id).order_by(
            col(AffectedSnapshot.number).desc()).limit(1))).first()
        if newest is not None:
            latest[incident_id] = newest
    for n in notifications:
        if n.snapshot_id is None and n.incident_id is not None and n.incident_id in latest:
            chosen[n.id or 0] = latest[n.incident_id]
    rows = (await db.exec(select(AffectedSnapshot).where(
        col(AffectedSnapshot.id).in_(set(chosen.values()))))).all() if chosen else []
    by_id = {row.id: row for row in rows}
    return {n: by_id[s] for n, s in chosen.items() if s in by_id}
