"""The Bounces part of a notification's page (templates/web/notification_bounces.html):
how many reports came back by kind, and the newest of them; recipients and the link to
each report's message only for a role that may read personal data (see reports.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor, Permission
from incident.lifecycle.models import Incident
from notifications.bounces import reports
from notifications.drafting.models import Notification

SHOWN = 20
"""The newest reports listed on the page; the rest are in the API's pages."""


async def notification_section(request: Request[Any, Any, Any], db: AsyncSession, *,
                               actor: Actor, incident: Incident,
                               notification: Notification) -> dict[str, Any]:
    """The notification page's bounces (the `notification.page_sections` hook)."""
    assert notification.id is not None
    counts = await reports.kind_counts(db, notification.id)
    if not counts:
        return {"bounces": None}
    personal = actor.can(Permission.READ_PERSONAL_DATA)
    newest = await reports.listed(db, notification.id, personal=personal, limit=SHOWN)
    return {"bounces": {
        "counts": [(kind, counts.get(kind, 0)) for kind in ("hard", "soft", reports.UNREAD)],
        "total": sum(counts.values()), "newest": newest, "personal": personal,
        "api": (f"/api/v1/incidents/{quote(incident.reference)}/notifications/"
                f"{notification.id}/bounces"),
    }}
