"""An incident's risk assessments as a page (templates/web/assessment.html): every factor's
weight, every rule that moved the recommendation (with its source and its sentence),
overrides, and an approver's confirmation of an assessment that would end a duty."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.errors import DomainError
from incident.kernel.injected import Db, Now, Who
from incident.kernel.pages import held_for, refusal_sentence, render_page, send_back
from incident.lifecycle.service import get_incident
from notifications.obligations import confirmation
from notifications.obligations import service as services
from notifications.obligations.assessment import EDPB_EXAMPLES, Assessment, explained
from notifications.obligations.enisa import CATEGORY_MAP, ENISA
from notifications.obligations.models import IncidentAssessment


@dataclass(frozen=True)
class Move:
    """One rule that moved (or confirmed) the recommendation."""

    rule: str
    recommendation: str
    source: str
    sentence: str


@dataclass(frozen=True)
class Category:
    """One data category's DPC: ENISA's category and basic score, and the score after context."""

    name: str
    enisa: str
    basic: int
    score: int


@dataclass
class AssessmentView:
    """One assessment as the page shows it."""

    row: IncidentAssessment
    state: str  # in_force | pending | superseded | earlier
    result: Assessment | None
    categories: list[Category] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    may_confirm: bool = False
    own: bool = False
    notice: str | None = None

    @property
    def decided(self) -> str:
        return confirmation.words(self.row.decided)

    @property
    def recommended(self) -> str:
        return confirmation.words(self.row.recommendation)


def _result(raw: dict[str, Any]) -> Assessment | None:
    try:
        return Assessment.model_validate(raw)
    except ValidationError:  # written by an older version: the page shows its reasons only
        return None


def _state(row: IncidentAssessment, current: IncidentAssessment | None,
           waiting: IncidentAssessment | None) -> str:
    if current is not None and row.number == current.number:
        return "in_force"
    if waiting is not None and row.number == waiting.number:
        return "pending"
    return "superseded" if row.pending else "earlier"


def views(rows: list[IncidentAssessment], actor: Actor,
          notice: tuple[int, str] | None = None) -> list[AssessmentView]:
    """The page's assessments, newest first, each with its state and what the actor may do."""
    current, waiting = confirmation.in_force(rows), confirmation.awaiting(rows)
    shown = []
    for row in sorted(rows, key=lambda r: r.number, reverse=True):
        result = _result(row.result)
        view = AssessmentView(row=row, state=_state(row, current, waiting), result=result)
        if result is not None:
            view.categories = [Category(name=str(category), enisa=str(CATEGORY_MAP[category][0]),
                                        basic=CATEGORY_MAP[category][1], score=points)
                               for category, points in result.dpc_by_category.items()]
            view.moves = [Move(rule=a.rule, recommendation=confirmation.words(a.recommendation),
                               source=a.source, sentence=sentence)
                          for a, sentence in explained(result)]
        view.own = row.assessed_by == actor.label
        view.may_confirm = (view.state == "pending" and actor.can(Permission.APPROVE)
                            and not view.own)
        if notice is not None and notice[0] == row.number:
            view.notice = notice[1]
        shown.append(view)
    return shown


async def assessment_page(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                          key: str, status: int = 200,
                          notice: tuple[int, str] | None = None) -> Template:
    incident = await get_incident(db, actor=actor, key=key)
    rows = await services.assessments(db, actor=actor, key=incident.reference)
    return render_page(request, "assessment.html", status=status, incident=incident,
                       assessments=views(rows, actor, notice), enisa=ENISA,
                       edpb=EDPB_EXAMPLES, words=confirmation.WORDS)


class AssessmentPages(Controller):
    path = "/incidents"
    include_in_schema = False

    @get("/{key:str}/assessment", guards=[requires(Permission.READ_INCIDENTS)])
    async def assessment(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                         key: FromPath[str]) -> Template:
        """After a refused confirmation, why, beside the assessment it was about (once)."""
        notice = (await held_for(request, db, clock)).get("notice")
        return await assessment_page(request, db, actor=actor, key=key,
                                     notice=(int(notice[0]), str(notice[1])) if notice else None)

    @post("/{key:str}/assessments/{number:int}/confirm", guards=[requires(Permission.APPROVE)])
    async def confirm(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                      key: FromPath[str], number: FromPath[int]) -> Response[Any]:
        try:
            row = await services.confirm_assessment(db, clock=clock, actor=actor, key=key,
                                                    number=number)
        except DomainError as exc:  # four eyes, already settled, superseded: say why beside it
            return await send_back(request, db, clock,
                                   f"/incidents/{quote(key)}/assessment#assessment-{number}",
                                   notice=(number, refusal_sentence(exc)))
        return Redirect(f"/incidents/{key}/assessment#assessment-{row.number}")
