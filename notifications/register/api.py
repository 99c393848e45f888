"""The JSON API of the breach register and the deadline-compliance report, and both as CSV and PDF."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from jinja2 import Environment
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers, answers_in
from incident.kernel.schemas import parse_instant
from incident.lifecycle.rules import Status
from notifications.register import exports, service
from notifications.register.rules import Per
from notifications.register.schemas import (
    CompliancePublic,
    RegisterPublic,
    compliance_public,
    register_public,
)

PageTemplates: TypeAlias = NamedDependency[Environment]
"""The pages' Jinja2 environment: the PDFs are printed from the pages' own templates."""

Since = Annotated[str | None, QueryParameter(
    name="from", max_length=40,
    description="incidents that became known (aware_at) at or after this instant: RFC 3339 "
                "with an offset, 1970 … 9998")]
Until = Annotated[str | None, QueryParameter(
    name="to", max_length=40,
    description="incidents that became known before this instant (excluded): RFC 3339 with "
                "an offset, 1970 … 9998")]

CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"


def selection(since: str | None, until: str | None,
              status: Status | None = None) -> service.Selection:
    """The query's period and status; a malformed or out-of-range instant names its parameter
    (the service refuses `from` after `to`)."""
    return service.Selection(start=parse_instant("from", since), end=parse_instant("to", until),
                             status=status)


def attachment(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(content, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


class RegisterController(Controller):
    path = "/api/v1"
    tags = ["audit"]

    @get("/register", guards=[requires(Permission.AUDIT_REPORTS)], opt=also_answers(422))
    async def register(self, db: Db, clock: Now, actor: Who, settings: Config,
                       since: Since = None, until: Until = None,
                       status: FromQuery[Status | None] = None) -> RegisterPublic:
        """The breach register (GDPR Art. 33(5)): every incident that became known in the
        period, oldest first — facts, effects, remedial action, each duty's decision, evidence."""
        found = await service.register(db, clock=clock, actor=actor, zone=settings.zone,
                                       selection=selection(since, until, status))
        return register_public(found)

    @get("/register.csv", guards=[requires(Permission.AUDIT_REPORTS)],
         opt={**answers_in(CSV), **also_answers(422)})
    async def register_csv(self, db: Db, clock: Now, actor: Who, settings: Config,
                           since: Since = None, until: Until = None,
                           status: FromQuery[Status | None] = None) -> Response[bytes]:
        """The register as CSV: one line per incident."""
        found = await service.register(db, clock=clock, actor=actor, zone=settings.zone,
                                       selection=selection(since, until, status))
        return attachment(exports.register_csv(register_public(found)).encode(), CSV,
                          "breach-register.csv")

    @get("/register.pdf", guards=[requires(Permission.AUDIT_REPORTS)],
         opt={**answers_in(PDF), **also_answers(422)})
    async def register_pdf(self, db: Db, clock: Now, actor: Who, settings: Config,
                           page_templates: PageTemplates, since: Since = None,
                           until: Until = None,
                           status: FromQuery[Status | None] = None) -> Response[bytes]:
        """The register as a PDF (A4), printed from its page."""
        found = await service.register(db, clock=clock, actor=actor, zone=settings.zone,
                                       selection=selection(since, until, status))
        pdf = exports.printed(page_templates, "register.html", report=register_public(found))
        return attachment(pdf, PDF, "breach-register.pdf")

    @get("/compliance", guards=[requires(Permission.AUDIT_REPORTS)], opt=also_answers(422))
    async def compliance(self, db: Db, clock: Now, actor: Who, settings: Config,
                         since: Since = None, until: Until = None,
                         per: FromQuery[Per] = Per.MONTH) -> CompliancePublic:
        """Each duty against its due time (on time, late by how long and why, waived by whom
        and why, still open and whether overdue), and per period of awareness the share met on
        time and the time from awareness to the first authority notice (median, worst)."""
        found = await service.compliance(db, clock=clock, actor=actor, zone=settings.zone,
                                         selection=selection(since, until), per=per)
        return compliance_public(found)

    @get("/compliance.csv", guards=[requires(Permission.AUDIT_REPORTS)],
         opt={**answers_in(CSV), **also_answers(422)})
    async def compliance_csv(self, db: Db, clock: Now, actor: Who, settings: Config,
                             since: Since = None, until: Until = None,
                             per: FromQuery[Per] = Per.MONTH) -> Response[bytes]:
        """The compliance report as CSV: one line per duty owed."""
        found = await service.compliance(db, clock=clock, actor=actor, zone=settings.zone,
                                         selection=selection(since, until), per=per)
        return attachment(exports.compliance_csv(compliance_public(found)).encode(), CSV,
                          "deadline-compliance.csv")

    @get("/compliance.pdf", guards=[requires(Permission.AUDIT_REPORTS)],
         opt={**answers_in(PDF), **also_answers(422)})
    async def compliance_pdf(self, db: Db, clock: Now, actor: Who, settings: Config,
                             page_templates: PageTemplates, since: Since = None,
                             until: Until = None,
                             per: FromQuery[Per] = Per.MONTH) -> Response[bytes]:
        """The compliance report as a PDF (A4), with each incident's timeline picture."""
        found = await service.compliance(db, clock=clock, actor=actor, zone=settings.zone,
                                         selection=selection(since, until), per=per)
        pdf = exports.printed(page_templates, "compliance.html",
                              **exports.compliance_values(found, settings.zone))
        return attachment(pdf, PDF, "deadline-compliance.pdf")
