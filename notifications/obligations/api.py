"""The JSON API of the organisation profile, incident assessments and obligations."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.errors import NotFound
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers, described_body
from notifications.obligations import service as services
from notifications.obligations.assessment_input import AssessmentInput
from notifications.obligations.schemas import (
    AssessmentPublic,
    Milestones,
    ObligationChange,
    ObligationPublic,
    ObligationsPublic,
    Override,
    Parties,
    PartiesPublic,
    Profile,
    ProfilePublic,
    assessment_public,
    obligation_public,
    obligations_public,
    profile_public,
)


class ObligationController(Controller):
    path = "/api/v1"
    tags = ["obligations"]

    @get("/organisation", guards=[requires(Permission.READ_INCIDENTS)], opt=also_answers(404))
    async def profile(self, db: Db) -> ProfilePublic:
        found = await services.get_profile(db)
        if found is None:
            raise NotFound("no organisation profile yet: an admin sets it with PUT /api/v1/organisation")
        return profile_public(found)

    @put("/organisation", guards=[requires(Permission.MANAGE_ORGANISATION)])
    async def save_profile(self, db: Db, clock: Now, actor: Who,
                           data: JSONBody[Profile]) -> ProfilePublic:
        return profile_public(await services.save_profile(db, clock=clock, actor=actor, data=data))

    @post("/incidents/{key:str}/assessment", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=HTTP_201_CREATED, opt=described_body(AssessmentInput))
    async def assess(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                     data: JSONBody[dict[str, Any]]) -> AssessmentPublic:
        """Body: the `breach assess` input (see the README)."""
        row = await services.assess_incident(db, clock=clock, actor=actor, key=key, raw=data)
        return assessment_public(row)

    @get("/incidents/{key:str}/assessment", guards=[requires(Permission.READ_INCIDENTS)])
    async def assessments(self, db: Db, actor: Who, key: FromPath[str]) -> list[AssessmentPublic]:
        """Every assessment of the incident, oldest first; the last one is in force."""
        return [assessment_public(r) for r in await services.assessments(db, actor=actor, key=key)]

    @post("/incidents/{key:str}/assessment/override", guards=[requires(Permission.APPROVE)],
          status_code=200)
    async def override(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                       data: JSONBody[Override]) -> AssessmentPublic:
        row = await services.override_assessment(db, clock=clock, actor=actor, key=key, data=data)
        return assessment_public(row)

    @post("/incidents/{key:str}/assessments/{number:int}/confirm",
          guards=[requires(Permission.APPROVE)], status_code=200)
    async def confirm(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                      number: FromPath[int]) -> AssessmentPublic:
        """Put a pending assessment in force: an approver who did not record it (four eyes)."""
        row = await services.confirm_assessment(db, clock=clock, actor=actor, key=key,
                                                number=number)
        return assessment_public(row)

    @put("/incidents/{key:str}/milestones", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def milestones(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                         data: JSONBody[Milestones]) -> dict[str, str]:
        incident = await services.set_milestones(db, clock=clock, actor=actor, key=key, data=data)
        return dict(incident.milestones or {})

    @put("/incidents/{key:str}/parties", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def set_parties(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                          data: JSONBody[Parties]) -> PartiesPublic:
        """The roles the organisation acts in for this incident (null: the profile's), the
        profile's counterparties whose data it involves, and clocks of this incident only."""
        incident = await services.set_parties(db, clock=clock, actor=actor, key=key, data=data)
        return services.parties_public(await services.get_profile(db), incident)

    @get("/incidents/{key:str}/parties", guards=[requires(Permission.READ_INCIDENTS)])
    async def parties(self, db: Db, actor: Who, key: FromPath[str]) -> PartiesPublic:
        return await services.parties_of(db, actor=actor, key=key)

    @get("/incidents/{key:str}/obligations", guards=[requires(Permission.READ_INCIDENTS)])
    async def obligations(self, db: Db, clock: Now, actor: Who,
                          key: FromPath[str]) -> ObligationsPublic:
        _, rows, assumptions, problems = await services.obligations_of(db, clock=clock,
                                                                       actor=actor, key=key)
        return obligations_public(rows, assumptions, problems, clock.now())

    @post("/incidents/{key:str}/obligations/{regime:str}/{obligation:str}",
          guards=[requires(Permission.WRITE_INCIDENTS)], status_code=200)
    async def record(self, db: Db, clock: Now, actor: Who, settings: Config, key: FromPath[str],
                     regime: FromPath[str], obligation: FromPath[str],
                     data: JSONBody[ObligationChange]) -> ObligationPublic:
        row = await services.record_obligation(db, clock=clock, actor=actor, key=key,
                                               ref=f"{regime}/{obligation}", change=data,
                                               skew_seconds=settings.clock_skew_seconds)
        return obligation_public(row, clock.now())
