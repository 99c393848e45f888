"""The incident page's parties part: the role the organisation acts in, the counterparties whose
data the incident involves with their contractual clocks, and the form that records them
(templates/web/incident_parties.html)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.errors import DomainError, Invalid
from incident.kernel.injected import Db, Now, Who
from incident.kernel.pages import send_back
from incident.lifecycle.models import Incident
from incident.lifecycle.pages import Notice
from incident.lifecycle.rules import Status
from notifications.obligations import service as services
from notifications.obligations.regimes import OWNER_ROLES
from notifications.obligations.schemas import Parties

ROLE_LABELS: dict[str, str] = {
    "controller": "Controller (decides about the data)",
    "processor": "Processor (processes it for a controller)",
    "covered_entity": "HIPAA covered entity",
    "business_associate": "HIPAA business associate",
    "data_owner": "Owner or licensee of the data",
    "service_provider": "Service provider (maintains data it does not own)",
}
"""The roles as the form labels them, in the order the laws pair them."""


async def incident_section(request: Request[Any, Any, Any], db: AsyncSession, *, actor: Actor,
                           clock: Clock, incident: Incident, targets: list[Status]
                           ) -> dict[str, Any]:
    """The incident page's parties part (the `incident.page_sections` hook)."""
    profile = await services.get_profile(db)
    known = {str(c["id"]): c for c in (profile.counterparties if profile else [])}
    shown = services.parties_public(profile, incident)
    involved = [known[p] for p in shown.counterparties if p in known]
    return {
        "parties": shown,
        "parties_involved": involved + shown.clocks,
        "parties_gone": [p for p in shown.counterparties if p not in known],
        "parties_profile": list(known.values()),
        "parties_profile_roles": list(profile.roles) if profile else [],
        "role_labels": ROLE_LABELS,
        "owner_roles": sorted(OWNER_ROLES),
    }


class PartiesPages(Controller):
    """The parties form of the incident page."""

    include_in_schema = False

    @post("/incidents/{key:str}/parties", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def record_parties(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                             actor: Who, key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        chosen = [str(value) for value in form.getall("roles", [])]
        from_profile = str(form.get("roles_from", "")) == "profile"
        try:
            if not from_profile and not chosen:
                raise Invalid.fields([("roles", "tick at least one role for this incident, or "
                                                "choose the organisation profile's")])
            try:
                data = Parties.model_validate({
                    "roles": None if from_profile else chosen,
                    "counterparties": [str(v) for v in form.getall("counterparties", [])]})
            except ValidationError as exc:
                raise Invalid.fields([(".".join(str(p) for p in e["loc"]), e["msg"])
                                      for e in exc.errors()]) from None
            # The form sets roles and counterparties; this incident's own clocks stay as they are.
            await services.set_parties(db, clock=clock, actor=actor, key=key, data=data,
                                       keep_clocks=True)
        except DomainError as exc:  # say why beside the form
            return await send_back(request, db, clock, f"/incidents/{quote(key)}#parties",
                                   notice=Notice.refusing("parties", exc))
        return Redirect(f"/incidents/{key}#parties")
