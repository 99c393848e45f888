"""The JSON API of bounces: the reports about a notification's deliveries, and the message
of one report as it was kept (see reports.py for who sees what)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from litestar import Controller, Response, get
from litestar.params import FromPath
from pydantic import BaseModel

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Db, Now, Who
from incident.kernel.openapi import answers_in
from incident.kernel.params import Limit, Offset, RowId
from incident.kernel.schemas import Page
from notifications.bounces import reports
from notifications.bounces.reports import Bounce


class BouncePublic(BaseModel):
    id: int
    received_at: datetime
    source: Literal["smtp", "imap"]
    """How it came: to the bounce listener (SMTP) or read from the bounce mailbox (IMAP)."""
    delivery: int
    recipient: str
    """The recipient's id in the affected set (never their address)."""
    kind: Literal["hard", "soft"] | None
    """hard: undeliverable for good; soft: a temporary failure; null: not understood."""
    status: str | None
    """The RFC 3463 enhanced status code, e.g. "5.1.1", when the report gives one."""
    diagnostic: str | None
    """The remote server's words; addresses in it masked for a role that may not read
    personal data."""
    parsed: bool
    size: int
    """The message's size in bytes as it arrived."""
    kept: int
    """The bytes of it kept (its first MiB), served by `GET /api/v1/bounces/{id}/raw`."""
    address: str | None
    """The recipient's address: only for a role that may read personal data, else null."""
    name: str | None
    """The recipient's name: only for a role that may read personal data, else null."""


def bounce_public(bounce: Bounce) -> BouncePublic:
    return BouncePublic(
        id=bounce.id, received_at=bounce.received_at,
        source="imap" if bounce.source == "imap" else "smtp", delivery=bounce.delivery_id,
        recipient=bounce.recipient_id,
        kind="hard" if bounce.kind == "hard" else "soft" if bounce.kind == "soft" else None,
        status=bounce.status, diagnostic=bounce.diagnostic, parsed=bounce.parsed,
        size=bounce.size, kept=bounce.kept, address=bounce.address, name=bounce.name)


class BounceController(Controller):
    path = "/api/v1"
    tags = ["notifications"]

    @get("/incidents/{key:str}/notifications/{notification_id:int}/bounces",
         guards=[requires(Permission.READ_INCIDENTS)])
    async def bounces(self, db: Db, actor: Who, key: FromPath[str], notification_id: RowId,
                      limit: Limit = 50, offset: Offset = 0) -> Page[BouncePublic]:
        """The bounce reports about the notification's deliveries, newest first. Recipients'
        addresses and names only for a role that may read personal data."""
        found, total = await reports.bounces_of(db, actor=actor, key=key,
                                                notification_id=notification_id,
                                                limit=limit, offset=offset)
        return Page(items=[bounce_public(b) for b in found], total=total, limit=limit,
                    offset=offset)

    @get("/bounces/{report_id:int}/raw", guards=[requires(Permission.READ_PERSONAL_DATA)],
         opt=answers_in("message/rfc822"))
    async def raw(self, db: Db, clock: Now, actor: Who, report_id: RowId) -> Response[bytes]:
        """The report's message as kept (its first MiB), recorded on the incident's timeline
        as taken. `x-bounce-sha256` is its SHA-256, as the evidence pack lists it."""
        report = await reports.raw_report(db, clock=clock, actor=actor, report_id=report_id)
        # An attachment: a returned message may hold HTML, which must never run here.
        return Response(report.raw, media_type="message/rfc822", headers={
            "content-disposition": f'attachment; filename="bounce-{report.id}.eml"',
            "x-bounce-sha256": reports.sha256_of(report)})
