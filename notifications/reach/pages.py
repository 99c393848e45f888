"""The "Not reached" part of a notice's page (templates/web/notification_not_reached.html):
for each duty, whom the notice reached and how, who is missing and why; for a role that
may read personal data, the people themselves, their letters (CSV, PDF) and a form to record
how they were reached another way. A public communication is offered only where each law
allows one, with its conditions to choose from, and only to an approver."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.errors import DomainError, Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import held_in, refusal_sentence, render_page, send_back
from incident.kernel.params import RowId
from incident.lifecycle.api import IncidentRules
from incident.lifecycle.models import Incident
from incident.lifecycle.pages import Notice
from notifications.drafting.api import Templates
from notifications.drafting.models import Notification
from notifications.drafting.rules import LIVE, NotificationKind
from notifications.drafting.service import get_notification
from notifications.reach import service

LISTED = 50
"""The people listed on the page; the rest are in the API's pages and the letters."""
TYPED = "reach_typed"
"""The name a refused "reached another way" form's typed values are held under."""


async def notification_section(request: Request[Any, Any, Any], db: AsyncSession, *,
                               actor: Actor, incident: Incident,
                               notification: Notification) -> dict[str, Any]:
    """The notice page's "Not reached" part (the `notification.page_sections` hook)."""
    if (notification.kind != NotificationKind.SUBJECT_NOTICE
            or notification.status not in LIVE):
        return {"not_reached": None}
    found = await service.not_reached(db, actor=actor, key=incident.id,
                                      notification_id=notification.id or 0, limit=LISTED)
    if not any(d.reach.unreached or d.reach.otherwise for d in found.duties):
        return {"not_reached": None}
    rules = {d.ref: d.substitute_notice for d in found.duties}
    parts = (await service.letter_parts(db, actor=actor, key=incident.id,
                                        notification_id=notification.id or 0)
             if found.people else [])
    csv_parts = (await service.letter_parts(db, actor=actor, key=incident.id,
                                            notification_id=notification.id or 0,
                                            size=service.LETTERS_AT_MOST)
                 if sum(part.people for part in parts) > service.LETTERS_AT_MOST else [])
    page = f"/incidents/{quote(incident.reference)}/notifications/{notification.id}"
    api = f"/api/v1{page}"
    return {"not_reached": {
        "duties": found.duties, "people": found.people, "more": found.next_after is not None,
        "missing": sum(d.reach.unreached for d in found.duties),
        "api": f"{api}/not-reached", "letters_csv": f"{api}/not-reached/letters.csv",
        "letters_pdf": f"{api}/not-reached/letters.pdf",
        "letter_parts": [(part, f"{api}/not-reached/letters.pdf?after={part.after}")
                         for part in parts] if len(parts) > 1 else [],
        "per_pdf": service.LETTERS_PER_PDF,
        "csv_parts": [(part, f"{api}/not-reached/letters.csv?after={part.after}")
                      for part in csv_parts],
        "per_csv": service.LETTERS_AT_MOST,
        "form": f"{page}/other-contacts",
        "public_page": f"{page}/public-communication",
        "may_record": actor.can(Permission.WRITE_INCIDENTS),
        "may_publish": actor.can(Permission.APPROVE),
        "public_rules": {ref: rule for ref, rule in rules.items() if rule is not None},
        "public_everywhere": all(rule is not None for rule in rules.values()),
        "typed": held_in(request).get(TYPED) or {},
    }}


def _instant(typed: str, zone: ZoneInfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(typed.strip())
    except ValueError:
        raise Invalid.fields([("at", "is not a date and time")]) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


class ReachPages(Controller):
    path = "/incidents/{key:str}/notifications/{notification_id:int}"
    include_in_schema = False

    @get("/public-communication", guards=[requires(Permission.READ_INCIDENTS)])
    async def public_communication(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                                   actor: Who, templates: Templates, key: FromPath[str],
                                   notification_id: RowId) -> Template:
        """The notice as a public communication, to read and print: a version per language
        the people still not reached read, how many read it, and each duty's legal basis
        for one (or that its law allows none)."""
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id)
        draft = await service.public_communication(db, actor=actor, key=incident.id,
                                                   notification_id=notification_id,
                                                   renderer=templates, now=clock.now())
        page = f"/incidents/{quote(incident.reference)}/notifications/{notification_id}"
        return render_page(request, "public_communication.html", incident=incident,
                           notification=notification, draft=draft,
                           people=sum(t.people for t in draft.texts),
                           allowed=all(rule is not None for rule in draft.rules.values()),
                           back=f"{page}#not-reached",
                           api=f"/api/v1{page}/not-reached/public-communication")

    @post("/other-contacts", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def record(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     settings: Config, rules: IncidentRules,
                     key: FromPath[str], notification_id: RowId) -> Response[Any]:
        form = await request.form()
        typed = {name: str(form.get(name) or "")[:2_100] for name in (
            "channel", "outcome", "at", "note", "scope")}
        typed["deliveries"] = ",".join(str(v) for v in form.getall("delivery", [])[:1000])
        conditions = {str(name).removeprefix("condition:"): str(value)[:20]
                      for name, value in list(form.items())[:200]
                      if str(name).startswith("condition:")}
        typed.update({f"condition:{ref}": value for ref, value in conditions.items()})
        try:
            chosen = [int(v) for v in typed["deliveries"].split(",") if v.strip()]
            channel = typed["channel"]
            outcome = typed["outcome"] or "reached"
            if channel not in ("postal", "call", "public") or outcome not in ("reached",
                                                                               "failed"):
                raise Invalid.fields([("channel", "choose a letter, a call or a public "
                                       "communication")])
            everyone = typed["scope"] == "all"
            await service.record_other_contact(
                db, clock=clock, actor=actor, key=key, notification_id=notification_id,
                channel=channel,  # type: ignore[arg-type]
                outcome=outcome,  # type: ignore[arg-type]
                at=_instant(typed["at"], rules.zone), note=typed["note"],
                deliveries=[] if everyone else chosen, all_not_reached=everyone,
                conditions={ref: int(v) for ref, v in conditions.items() if v.isdigit()}
                if channel == "public" else None,
                skew_seconds=settings.clock_skew_seconds)
        except (DomainError, ValueError) as exc:
            message = (refusal_sentence(exc) if isinstance(exc, DomainError)
                       else "Not recorded: the people chosen are not valid.")
            held: dict[str, Any] = {TYPED: typed}
            return await send_back(
                request, db, clock,
                f"/incidents/{quote(key)}/notifications/{notification_id}#not-reached",
                notice=Notice("not-reached", message), **held)
        return Redirect(f"/incidents/{quote(key)}/notifications/{notification_id}#not-reached",
                        status_code=303)
