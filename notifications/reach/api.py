"""The JSON API of the people a notice did not reach: who they are, and how each was
reached another way."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers, answers_in
from incident.kernel.params import RowId
from incident.kernel.settings import templates_dir
from notifications.drafting.api import Templates
from notifications.obligations.service import get_profile
from notifications.reach import letters, service
from notifications.reach.schemas import (
    NotReachedPublic,
    OtherContactOrder,
    PublicDraftPublic,
    RecordedPublic,
    not_reached_public,
    public_draft_public,
    recorded_public,
)

DeliveryIds = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{1,12}(,[0-9]{1,12}){0,999}$",
                                                   max_length=14_000)]
"""Delivery ids, comma-separated (default: everyone still not reached)."""


def ids_in(deliveries: str | None) -> list[int]:
    return [int(i) for i in deliveries.split(",")] if deliveries else []


def _attachment(request: Request[Any, Any, Any], batch: letters.PostalBatch, extension: str,
                after: int) -> dict[str, str]:
    """The download's file name (a part names the delivery id it begins after), and where
    the next part begins when more people are still not reached (an RFC 8288 `Link` with
    rel="next")."""
    part = f"-after-{after}" if after or batch.next_after is not None else ""
    name = f"letters-{batch.reference}-{batch.notification_id}{part}.{extension}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    if batch.next_after is not None:
        headers["link"] = f'<{request.url.path}?after={batch.next_after}>; rel="next"'
    return headers


class ReachController(Controller):
    path = "/api/v1/incidents/{key:str}/notifications/{notification_id:int}"
    tags = ["notifications"]

    @get("/not-reached", guards=[requires(Permission.READ_INCIDENTS)], opt=also_answers(409))
    async def not_reached(self, db: Db, actor: Who, key: FromPath[str], notification_id: RowId,
                          after: Annotated[int, QueryParameter(ge=0, le=ROW_ID_MAX)] = 0,
                          limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
                          missing_only: Annotated[bool, QueryParameter()] = True
                          ) -> NotReachedPublic:
        """For each duty the notice meets: the people reached (by e-mail, letter, call,
        public communication), those not reached and why (no address, refused for good,
        given up at the deadline, a hard bounce). The people themselves, with what was
        recorded about each, only for a role that may read personal data."""
        return not_reached_public(await service.not_reached(
            db, actor=actor, key=key, notification_id=notification_id, after=after,
            limit=limit, missing_only=missing_only))

    @get("/not-reached/public-communication", guards=[requires(Permission.READ_INCIDENTS)],
         opt=also_answers(409))
    async def public_communication(self, db: Db, clock: Now, actor: Who, templates: Templates,
                                   key: FromPath[str], notification_id: RowId
                                   ) -> PublicDraftPublic:
        """The notice's texts as a public communication, in each language the people still
        not reached read, addressed to no name, with each duty's legal basis for one."""
        return public_draft_public(await service.public_communication(
            db, actor=actor, key=key, notification_id=notification_id, renderer=templates,
            now=clock.now()))

    @post("/other-contacts", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=201,
          opt=also_answers(409, 422))
    async def record(self, db: Db, clock: Now, actor: Who, settings: Config,
                     key: FromPath[str], notification_id: RowId,
                     data: JSONBody[OtherContactOrder]) -> RecordedPublic:
        """People the notice did not reach, reached another way (or an attempt that failed).
        A public communication needs an approver, and for each duty the condition of its
        law that held. A duty is met once every person is reached, at the time the last
        one was."""
        return recorded_public(await service.record_other_contact(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id,
            channel=data.channel, outcome=data.outcome, at=data.at, note=data.note,
            deliveries=data.deliveries, all_not_reached=data.all_not_reached,
            conditions=data.conditions, skew_seconds=settings.clock_skew_seconds))

    @get("/not-reached/letters.csv", guards=[requires(Permission.READ_PERSONAL_DATA)],
         opt={**answers_in("text/csv"), **also_answers(409, 422)})
    async def letters_csv(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                          actor: Who, templates: Templates, key: FromPath[str],
                          notification_id: RowId,
                          deliveries: DeliveryIds = None,
                          after: Annotated[int, QueryParameter(ge=0, le=ROW_ID_MAX)] = 0
                          ) -> Response[bytes]:
        """Postal letters for a mail merge: one row per person not reached (or the
        deliveries named), their address lines and the letter in their language. At most
        1,000 people at a time: a `Link` header (rel="next") gives the next part."""
        batch = await service.letters_for(db, clock=clock, actor=actor, key=key,
                                          notification_id=notification_id, renderer=templates,
                                          file_format="csv", deliveries=ids_in(deliveries),
                                          after=after)
        return Response(letters.letters_csv(batch), media_type="text/csv; charset=utf-8",
                        headers=_attachment(request, batch, "csv", after))

    @get("/not-reached/letters.pdf", guards=[requires(Permission.READ_PERSONAL_DATA)],
         opt={**answers_in("application/pdf"), **also_answers(409, 422)})
    async def letters_pdf(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                          actor: Who, settings: Config, templates: Templates,
                          key: FromPath[str], notification_id: RowId,
                          deliveries: DeliveryIds = None,
                          after: Annotated[int, QueryParameter(ge=0, le=ROW_ID_MAX)] = 0
                          ) -> Response[bytes]:
        """Print-ready letters (A4, the address placed for a window envelope), one after
        the other, each in the person's language. At most 200 people at a time (about a
        minute to lay out): a `Link` header (rel="next") gives the next part, and the
        notice's page lists every part."""
        batch = await service.letters_for(db, clock=clock, actor=actor, key=key,
                                          notification_id=notification_id, renderer=templates,
                                          file_format="pdf", deliveries=ids_in(deliveries),
                                          after=after, limit=service.LETTERS_PER_PDF)
        profile = await get_profile(db)
        assert profile is not None  # a notice was drafted: the profile exists
        pdf = await asyncio.to_thread(letters.letters_pdf, batch, profile,
                                      templates=templates_dir(settings))
        return Response(pdf, media_type="application/pdf",
                        headers=_attachment(request, batch, "pdf", after))
