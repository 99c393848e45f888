"""Failing delivery, told on every page: a path to the people who must act that does not
depend on the relay that fails.

While deliveries of a notice being sent wait because the relay cannot be reached, or
keep failing (three attempts or more, the threshold of the escalation e-mail), every
page shown to an admin or an approver — who can fix the relay or reach people another
way — carries a banner saying so, with the last reply. The state is read from the
database on each page (one small query), so it holds whichever process sends.

The same pages carry a second banner while a finished notice left people not reached (no
address, refused for good, a hard bounce) with nothing recorded yet that reached them, and a
duty it meets still pending: which notices, and how many people each.

`trouble_middleware` reads both before the page's handler runs and leaves them where the
page template's `delivery_trouble()` and `people_not_reached()` find them (context
variables of the request).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor, Permission
from incident.kernel.db import session_factory
from notifications.delivery.outbox import RELAY_UNREACHABLE
from notifications.delivery.reaching import UnreachedNotice, notices_leaving_unreached
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.rules import DeliveryState, NotificationStatus

__all__ = ["FAILING_AFTER_ATTEMPTS", "Trouble", "delivery_trouble", "failing",
           "not_reached", "people_not_reached", "trouble_middleware"]

FAILING_AFTER_ATTEMPTS = 3
"""Attempts after which a delivery counts as failing (as for the escalation e-mail)."""
COUNTED_UP_TO = 1000
NOT_PAGES = ("/api", "/static", "/health", "/schema")

_current: ContextVar[Trouble | None] = ContextVar("delivery_trouble", default=None)
_unreached: ContextVar[tuple[UnreachedNotice, ...]] = ContextVar("people_not_reached", default=())
NOTICES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Trouble:
    """Deliveries waiting because sending fails: how many (up to COUNTED_UP_TO, then
    `more`), whether the relay itself cannot be reached, and the latest reply."""

    waiting: int
    more: bool
    relay_unreachable: bool
    last_reply: str


def may_act(actor: object) -> bool:
    """Who is told: those who can fix the relay or reach people another way."""
    return isinstance(actor, Actor) and (actor.can(Permission.APPROVE)
                                         or actor.can(Permission.MANAGE_ORGANISATION))


async def failing(db: AsyncSession) -> Trouble | None:
    """The deliveries of notices being sent that wait because sending fails, or None."""
    stuck = (select(Delivery.id, Delivery.last_reply)
             .join(Notification, col(Notification.id) == col(Delivery.notification_id))
             .where(Notification.status == NotificationStatus.SENDING.value,
                    Delivery.state == DeliveryState.RETRY.value,
                    col(Delivery.last_reply).startswith(RELAY_UNREACHABLE)
                    | (col(Delivery.attempts) >= FAILING_AFTER_ATTEMPTS)))
    counted = (await db.exec(select(func.count()).select_from(
        stuck.limit(COUNTED_UP_TO + 1).subquery()))).one()
    if not counted:
        return None
    latest = (await db.exec(stuck.order_by(col(Delivery.next_attempt_at).desc()).limit(1))).first()
    reply = str(latest[1] or "") if latest else ""
    return Trouble(min(int(counted), COUNTED_UP_TO), int(counted) > COUNTED_UP_TO,
                   reply.startswith(RELAY_UNREACHABLE), reply.removeprefix(RELAY_UNREACHABLE))


async def not_reached(db: AsyncSession) -> list[UnreachedNotice]:
    """The notices that left people not reached (at most NOTICES_SHOWN, oldest first)."""
    return (await notices_leaving_unreached(db, limit=50))[:NOTICES_SHOWN]


def people_not_reached() -> tuple[UnreachedNotice, ...]:
    """For the page template: the notices that left people not reached, if any."""
    return _unreached.get()


def delivery_trouble() -> Trouble | None:
    """For the page template: the trouble found for this request, if any."""
    return _current.get()


def trouble_middleware(engine: AsyncEngine) -> Callable[[ASGIApp], ASGIApp]:
    """Before a page (not the API) is shown to someone who may act: read the trouble."""
    sessions = session_factory(engine)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            found: Trouble | None = None
            missing: tuple[UnreachedNotice, ...] = ()
            if (scope["type"] == ScopeType.HTTP and scope["method"] == "GET"
                    and not scope["path"].startswith(NOT_PAGES) and may_act(scope.get("user"))):
                async with sessions() as db:
                    found = await failing(db)
                    missing = tuple(await not_reached(db))
            token, listed = _current.set(found), _unreached.set(missing)
            try:
                await app(scope, receive, send)
            finally:
                _current.reset(token)
                _unreached.reset(listed)

        return middleware

    return factory


def page_globals() -> dict[str, Any]:
    """What the page templates may call."""
    return {"delivery_trouble": delivery_trouble, "people_not_reached": people_not_reached}
