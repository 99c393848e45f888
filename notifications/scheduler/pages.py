"""The reminders dashboard page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Db, Engine, Now, Who
from incident.kernel.pages import render_page
from notifications.scheduler import agenda


class ReminderPages(Controller):
    path = "/reminders"
    include_in_schema = False

    @get("/", guards=[requires(Permission.READ_INCIDENTS)])
    async def reminders(self, request: Request[Any, Any, Any], db: Db, engine: Engine,
                        clock: Now, actor: Who) -> Template:
        found = await agenda.agenda(db, engine, clock=clock, actor=actor)
        return render_page(request, "reminders.html", agenda=found, kinds=agenda.KIND_NAMES,
                           lateness=agenda.lateness_words, now=clock.now())
