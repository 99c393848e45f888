"""The JSON API of the organisation profile, incident assessments and obligations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeAlias

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.access import requires
from incident.auth import Permission
from incident.errors import NotFound
from incident.injected import Config, Db, Now, Who
from notifications import drafts, outbox, services
from notifications.models import IncidentAssessment, IncidentObligation, Notification, OrganisationProfile
from notifications.render import Renderer
from notifications.scheduler import message_domain
from notifications.schemas import (
    Approval,
    AssessmentPublic,
    AttemptPublic,
    DeliveryPublic,
    DraftCreate,
    DraftEdit,
    Milestones,
    NotificationPublic,
    ObligationChange,
    ObligationPublic,
    ObligationsPublic,
    Override,
    PreviewPublic,
    Profile,
    ProfilePublic,
    SendOrder,
)


def profile_public(profile: OrganisationProfile) -> ProfilePublic:
    return ProfilePublic.model_validate(profile.model_dump())


def assessment_public(row: IncidentAssessment) -> AssessmentPublic:
    return AssessmentPublic.model_validate({**row.model_dump(), "decided": row.decided})


def obligation_public(row: IncidentObligation, now: datetime) -> ObligationPublic:
    computed = row.computed
    return ObligationPublic(
        ref=row.ref, regime=row.regime, obligation=row.obligation, recipient=row.recipient,
        recipient_name=row.recipient_name, phase=row.phase, applies=row.applies,
        due_at=row.due_at, target_at=row.target_at,
        overdue=bool(services.overdue([row], now)), seconds_left=services.seconds_left(row, now),
        status=row.status, met_at=row.met_at, how=row.how, late_reason=row.late_reason,
        waiver=row.waiver, status_by=row.status_by, status_at=row.status_at,
        trigger=computed.get("trigger"), rule=computed.get("rule") or {},
        basis=computed.get("basis"), why=list(computed.get("why") or []),
        content=list(computed.get("content") or []))


class ObligationController(Controller):
    path = "/api/v1"
    tags = ["obligations"]

    @get("/organisation", guards=[requires(Permission.READ_INCIDENTS)])
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
          status_code=HTTP_201_CREATED)
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

    @put("/incidents/{key:str}/milestones", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def milestones(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                         data: JSONBody[Milestones]) -> dict[str, str]:
        incident = await services.set_milestones(db, clock=clock, actor=actor, key=key, data=data)
        return dict(incident.milestones or {})

    @get("/incidents/{key:str}/obligations", guards=[requires(Permission.READ_INCIDENTS)])
    async def obligations(self, db: Db, clock: Now, actor: Who,
                          key: FromPath[str]) -> ObligationsPublic:
        _, rows, assumptions, problems = await services.obligations_of(db, clock=clock,
                                                                       actor=actor, key=key)
        now = clock.now()
        return ObligationsPublic(
            computed_at=max((r.computed_at for r in rows), default=None),
            assumptions=assumptions, problems=problems,
            obligations=[obligation_public(r, now) for r in rows])

    @post("/incidents/{key:str}/obligations/{regime:str}/{obligation:str}",
          guards=[requires(Permission.WRITE_INCIDENTS)], status_code=200)
    async def record(self, db: Db, clock: Now, actor: Who, settings: Config, key: FromPath[str],
                     regime: FromPath[str], obligation: FromPath[str],
                     data: JSONBody[ObligationChange]) -> ObligationPublic:
        row = await services.record_obligation(db, clock=clock, actor=actor, key=key,
                                               ref=f"{regime}/{obligation}", change=data,
                                               skew_seconds=settings.clock_skew_seconds)
        return obligation_public(row, clock.now())


Templates: TypeAlias = NamedDependency[Renderer]
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$"


async def notification_public(db: AsyncSession, notification: Notification) -> NotificationPublic:
    version = await drafts.current_version(db, notification)
    return NotificationPublic.model_validate({
        **notification.model_dump(), "fields": version.fields,
        "deliveries": await outbox.state_counts(db, notification.id or 0)})


class NotificationController(Controller):
    path = "/api/v1/incidents/{key:str}/notifications"
    tags = ["notifications"]

    @post("/", guards=[requires(Permission.WRITE_INCIDENTS)], status_code=HTTP_201_CREATED)
    async def create(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                     data: JSONBody[DraftCreate]) -> NotificationPublic:
        created = await drafts.create_draft(db, clock=clock, actor=actor, key=key,
                                            ref=data.obligation)
        return await notification_public(db, created)

    @get("/", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_notifications(self, db: Db, actor: Who,
                                 key: FromPath[str]) -> list[NotificationPublic]:
        return [await notification_public(db, n)
                for n in await drafts.notifications_of(db, actor=actor, key=key)]

    @get("/{notification_id:int}", guards=[requires(Permission.READ_INCIDENTS)])
    async def show(self, db: Db, actor: Who, key: FromPath[str],
                   notification_id: FromPath[int]) -> NotificationPublic:
        _, found = await drafts.get_notification(db, actor=actor, key=key,
                                                 notification_id=notification_id)
        return await notification_public(db, found)

    @patch("/{notification_id:int}", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def edit(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                   notification_id: FromPath[int], data: JSONBody[DraftEdit]) -> NotificationPublic:
        edited = await drafts.edit_draft(db, clock=clock, actor=actor, key=key,
                                         notification_id=notification_id, fields=data.fields,
                                         expected_version=data.version)
        return await notification_public(db, edited)

    @get("/{notification_id:int}/preview", guards=[requires(Permission.READ_INCIDENTS)])
    async def preview(self, db: Db, clock: Now, actor: Who, templates: Templates, key: FromPath[str],
                      notification_id: FromPath[int],
                      locale: Annotated[str, QueryParameter(pattern=LOCALE_PATTERN)] = "en"
                      ) -> PreviewPublic:
        used, subject, text, html = await outbox.preview(
            db, actor=actor, key=key, notification_id=notification_id, locale=locale,
            renderer=templates, now=clock.now())
        return PreviewPublic(locale=used, subject=subject, text=text, html=html)

    @post("/{notification_id:int}/approve", guards=[requires(Permission.APPROVE)], status_code=200)
    async def approve(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                      notification_id: FromPath[int], data: JSONBody[Approval]) -> NotificationPublic:
        approved = await drafts.approve(db, clock=clock, actor=actor, key=key,
                                        notification_id=notification_id,
                                        approved_hash=data.content_hash)
        return await notification_public(db, approved)

    @post("/{notification_id:int}/send", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=202)
    async def send(self, db: Db, clock: Now, actor: Who, settings: Config, key: FromPath[str],
                   notification_id: FromPath[int],
                   data: JSONBody[SendOrder | None] = None) -> NotificationPublic:
        """Body (optional): `{"at": instant}` to schedule the send."""
        sent = await drafts.send(db, clock=clock, actor=actor, key=key,
                                 notification_id=notification_id,
                                 message_domain=message_domain(settings.mail_from),
                                 not_before=data.at if data else None)
        return await notification_public(db, sent)

    @post("/{notification_id:int}/pause", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=200)
    async def pause(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                    notification_id: FromPath[int]) -> NotificationPublic:
        return await notification_public(db, await outbox.set_paused(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id, paused=True))

    @post("/{notification_id:int}/resume", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=200)
    async def resume(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                     notification_id: FromPath[int]) -> NotificationPublic:
        return await notification_public(db, await outbox.set_paused(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id, paused=False))

    @get("/{notification_id:int}/deliveries", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def deliveries(self, db: Db, actor: Who, key: FromPath[str],
                         notification_id: FromPath[int],
                         after: Annotated[int, QueryParameter(ge=0)] = 0,
                         limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
                         ) -> list[DeliveryPublic]:
        """The delivery log: per recipient, every attempt and the server's replies."""
        found = await outbox.delivery_log(db, actor=actor, key=key,
                                          notification_id=notification_id, after_id=after,
                                          limit=limit)
        return [DeliveryPublic(
            id=d.id or 0, recipient=d.recipient_key, address=d.address, locale=d.locale,
            message_id=d.message_id, state=d.state, attempts=d.attempts,
            next_attempt_at=d.next_attempt_at, sent_at=d.sent_at, last_reply=d.last_reply,
            log=[AttemptPublic(at=a.at, outcome=a.outcome, reply=a.reply, worker=a.worker)
                 for a in attempts]) for d, attempts in found]

