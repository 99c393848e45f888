"""The coverage page, `/regimes`: which laws of the catalogue in use (shipped and the
organisation's own) cover which jurisdictions, filtered by country or state and by confidence;
the same facts as `breach regimes coverage` and the README's table (`coverage.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.pages import render_page
from notifications.obligations.coverage import CONFIDENCES, SelectionError, coverage, select
from notifications.obligations.service import shipped_regimes

Place = Annotated[str | None, QueryParameter(name="place", max_length=100)]
Sure = Annotated[str | None, QueryParameter(name="confidence", max_length=20)]


class CoveragePages(Controller):
    path = "/"
    include_in_schema = False

    @get("/regimes", guards=[requires(Permission.READ_INCIDENTS)])
    async def regimes(self, request: Request[Any, Any, Any], place: Place = None,
                      confidence: Sure = None) -> Template:
        """Every jurisdiction with the regimes covering it; a filter that matches nothing is
        refused inline, with what was typed kept in the form."""
        everything = coverage(shipped_regimes())
        filters = {"place": place or "", "confidence": confidence or ""}
        values: dict[str, Any] = {"filters": filters, "confidences": CONFIDENCES,
                                  "total": len(everything.jurisdictions),
                                  "uncovered_total": len(everything.uncovered)}
        try:
            found = select(everything, place, confidence)
        except SelectionError as exc:
            return render_page(request, "regimes.html", status=400, found=None, notice=str(exc),
                               notice_field=exc.field, **values)
        return render_page(request, "regimes.html", found=found, notice=None, notice_field=None,
                           **values)
