"""The Mailbox page: what the embedded mail capture kept, HTML only in a sandboxed frame."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Config, Db, Who
from incident.kernel.pages import render_page
from incident.kernel.params import RowId, RowIdQuery
from notifications.delivery import mailbox
from notifications.drafting.pages import PAGE_SIZE, sandboxed


class MailboxPages(Controller):
    """The messages the embedded capture kept: personal data, so READ_PERSONAL_DATA only."""

    path = "/mailbox"
    include_in_schema = False
    guards = [requires(Permission.READ_PERSONAL_DATA)]

    @get("/")
    async def messages(self, request: Request[Any, Any, Any], db: Db, actor: Who,
                       settings: Config,
                       before: RowIdQuery = None) -> Template:
        found = await mailbox.messages(db, actor=actor, before=before, limit=PAGE_SIZE)
        return render_page(request, "mailbox.html", messages=found, before=before,
                           older=found[-1].id if len(found) == PAGE_SIZE else None,
                           relayed=bool(settings.smtp_url))

    @get("/{message_id:int}")
    async def message(self, request: Request[Any, Any, Any], db: Db, actor: Who,
                      message_id: RowId) -> Template:
        found = await mailbox.message(db, actor=actor, message_id=message_id)
        return render_page(request, "message.html", message=found, parts=mailbox.parts(found.raw))

    @get("/{message_id:int}/body.html")
    async def body(self, db: Db, actor: Who, message_id: RowId) -> Response[str]:
        found = await mailbox.message(db, actor=actor, message_id=message_id)
        html = mailbox.parts(found.raw).html
        return sandboxed(html if html is not None else "<p>This message has no HTML part.</p>")
