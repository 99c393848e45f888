"""The breach register and the deadline-compliance report as pages, filtered by the days the
incidents became known (in the service's time zone), with their CSV, PDF and JSON at hand; and
the deadline dashboard: what is still owed now, soonest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.bounds import instant_in_range
from incident.kernel.errors import Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import refusal_sentence, render_page
from incident.lifecycle.rules import Status
from notifications.register import exports, service
from notifications.register.rules import URGENCY_LABELS, Per, Urgency
from notifications.register.schemas import register_public

SinceDay = Annotated[str | None, QueryParameter(name="from", max_length=40)]
UntilDay = Annotated[str | None, QueryParameter(name="to", max_length=40)]


def day_start(name: str, text: str | None, zone: ZoneInfo, *, days_after: int = 0
              ) -> datetime | None:
    """The instant a day (`YYYY-MM-DD`, in `zone`) begins, `days_after` days later; Invalid
    naming `name` for text that is no date or a day outside 1970 … 9998."""
    if not text or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip()) + timedelta(days=days_after)
    except ValueError:
        raise Invalid.fields([(name, "must be a day, as in 2026-03-10")]) from None
    except OverflowError:
        day = date.max
    try:
        return instant_in_range(datetime.combine(day, time.min, tzinfo=zone))
    except ValueError as exc:
        raise Invalid.fields([(name, str(exc))]) from None


def _status(text: str | None) -> Status | None:
    if not text:
        return None
    try:
        return Status(text)
    except ValueError:
        raise Invalid.fields([("status", f"must be one of {', '.join(Status)}")]) from None


def _per(text: str | None) -> Per:
    try:
        return Per(text or Per.MONTH)
    except ValueError:
        raise Invalid.fields([("per", f"must be one of {', '.join(Per)}")]) from None


def _downloads(base: str, chosen: service.Selection, **extra: str) -> dict[str, str]:
    """The same report as files: the API's own URLs, with the period as instants."""
    query = {k: v for k, v in {"from": chosen.start.isoformat() if chosen.start else None,
                               "to": chosen.end.isoformat() if chosen.end else None,
                               "status": chosen.status.value if chosen.status else None,
                               **extra}.items() if v}
    suffix = f"?{urlencode(query)}" if query else ""
    return {"CSV": f"{base}.csv{suffix}", "PDF": f"{base}.pdf{suffix}", "JSON": f"{base}{suffix}"}


class RegisterPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/register", guards=[requires(Permission.AUDIT_REPORTS)])
    async def register(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                       settings: Config, since: SinceDay = None, until: UntilDay = None,
                       status: FromQuery[str | None] = None) -> Template:
        zone = settings.zone
        filters = {"from": since or "", "to": until or "", "status": status or ""}
        values: dict[str, Any] = {"layout": exports.PAGE_TEMPLATE, "printing": False,
                                  "filters": filters, "statuses": list(Status), **exports.WORDS}
        try:
            chosen = service.Selection(start=day_start("from", since, zone),
                                       end=day_start("to", until, zone, days_after=1),
                                       status=_status(status))
            found = await service.register(db, clock=clock, actor=actor, selection=chosen,
                                           zone=zone)
        except Invalid as exc:  # a filter refused: say so above the form, keep what was typed
            return render_page(request, "register.html", status=exc.status, report=None,
                               downloads={}, notice=refusal_sentence(exc), **values)
        return render_page(request, "register.html", report=register_public(found),
                           downloads=_downloads("/api/v1/register", chosen), notice=None,
                           **values)

    @get("/compliance", guards=[requires(Permission.AUDIT_REPORTS)])
    async def compliance(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                         settings: Config, since: SinceDay = None, until: UntilDay = None,
                         per: FromQuery[str | None] = None) -> Template:
        zone = settings.zone
        filters = {"from": since or "", "to": until or "", "per": per or Per.MONTH.value}
        values: dict[str, Any] = {"layout": exports.PAGE_TEMPLATE, "printing": False,
                                  "filters": filters, "pers": list(Per), **exports.WORDS}
        try:
            chosen = service.Selection(start=day_start("from", since, zone),
                                       end=day_start("to", until, zone, days_after=1))
            grouping = _per(per)
            found = await service.compliance(db, clock=clock, actor=actor, selection=chosen,
                                             per=grouping, zone=zone)
        except Invalid as exc:
            return render_page(request, "compliance.html", status=exc.status, report=None,
                               charts={}, downloads={}, notice=refusal_sentence(exc), **values)
        return render_page(request, "compliance.html", notice=None,
                           downloads=_downloads("/api/v1/compliance", chosen, per=grouping.value),
                           **exports.compliance_values(found, zone), **values)

    @get("/dashboard", guards=[requires(Permission.READ_INCIDENTS)])
    async def dashboard(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                        settings: Config) -> Template:
        """Every open duty of every open incident, soonest first, by urgency in words and
        colour, each linked to its incident's duty; times in the organisation's zone."""
        found = await service.dashboard(db, clock=clock, actor=actor, zone=settings.zone)
        return render_page(request, "dashboard.html", board=found, labels=URGENCY_LABELS,
                           Urgency=Urgency, board_zone=ZoneInfo(found.time_zone))
