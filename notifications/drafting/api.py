"""The JSON API of notifications: drafts, versions, preview, approval, sending and the log."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers, answers_in
from incident.kernel.params import RowId
from notifications.drafting import letters, queuing, reports, sending, trial
from notifications.drafting import service as drafts
from notifications.drafting.render import Renderer
from notifications.drafting.schemas import (
    Approval,
    DeliveryPublic,
    DraftCreate,
    DraftEdit,
    LanguageCountPublic,
    NotificationPublic,
    PreviewPublic,
    SendOrder,
    SendPreviewPublic,
    SheetRowPublic,
    Submission,
    TestSendOrder,
    TestSendPublic,
    UnreachablePublic,
    delivery_public,
    notification_public,
    notifications_public,
)
from notifications.drafting.sending import message_domain

Templates: TypeAlias = NamedDependency[Renderer]


LOCALE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$"


MeetsQuery = Annotated[str | None, QueryParameter(
    pattern=r"^[a-z0-9-]+/[a-z0-9-]+(,[a-z0-9-]+/[a-z0-9-]+){0,29}$", max_length=1000)]
"""Obligations, comma-separated: whom a preview's reader is protected by."""


def refs_in(meets: str | None) -> list[str]:
    return meets.split(",") if meets else []


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
        return await notifications_public(db, await drafts.notifications_of(db, actor=actor,
                                                                            key=key))

    @get("/{notification_id:int}", guards=[requires(Permission.READ_INCIDENTS)])
    async def show(self, db: Db, actor: Who, key: FromPath[str],
                   notification_id: RowId) -> NotificationPublic:
        _, found = await drafts.get_notification(db, actor=actor, key=key,
                                                 notification_id=notification_id)
        return await notification_public(db, found)

    @patch("/{notification_id:int}", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def edit(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                   notification_id: RowId, data: JSONBody[DraftEdit]) -> NotificationPublic:
        edited = await drafts.edit_draft(db, clock=clock, actor=actor, key=key,
                                         notification_id=notification_id, fields=data.fields,
                                         expected_version=data.version)
        return await notification_public(db, edited)

    @get("/{notification_id:int}/preview", guards=[requires(Permission.READ_INCIDENTS)],
         opt=also_answers(422))
    async def preview(self, db: Db, clock: Now, actor: Who, templates: Templates, key: FromPath[str],
                      notification_id: RowId,
                      locale: Annotated[str, QueryParameter(pattern=LOCALE_PATTERN)] = "en",
                      meets: MeetsQuery = None) -> PreviewPublic:
        """The letter as a reader of `locale` gets it; for a notice meeting several laws, as
        read by someone those in `meets` protect (comma-separated; all of them by default)."""
        used, subject, text, html = await letters.preview(
            db, actor=actor, key=key, notification_id=notification_id, locale=locale,
            renderer=templates, now=clock.now(), meets=refs_in(meets))
        return PreviewPublic(locale=used, subject=subject, text=text, html=html)

    @post("/{notification_id:int}/approve", guards=[requires(Permission.APPROVE)], status_code=200)
    async def approve(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                      notification_id: RowId, data: JSONBody[Approval]) -> NotificationPublic:
        approved = await drafts.approve(db, clock=clock, actor=actor, key=key,
                                        notification_id=notification_id,
                                        approved_hash=data.content_hash)
        return await notification_public(db, approved)

    @post("/{notification_id:int}/send", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=202)
    async def send(self, db: Db, clock: Now, actor: Who, settings: Config, templates: Templates,
                   key: FromPath[str], notification_id: RowId,
                   data: JSONBody[SendOrder | None] = None) -> NotificationPublic:
        """Body (optional): `{"at": instant}` to schedule the send; `{"fallback": "en"}` for
        the language recipients get whose own language has no text; `{"confirm": 51}`, the
        number of recipients, required above BREACH_CONFIRM_SEND_ABOVE of them (422 saying
        what to type otherwise; see `send-preview`)."""
        sent = await sending.send(db, clock=clock, actor=actor, key=key,
                                  notification_id=notification_id,
                                  message_domain=message_domain(settings.mail_from),
                                  not_before=data.at if data else None, renderer=templates,
                                  fallback=data.fallback if data else None,
                                  confirm=data.confirm if data else None,
                                  confirm_above=settings.confirm_send_above)
        queuing.announce(settings.var_dir)
        return await notification_public(db, sent)

    @get("/{notification_id:int}/send-preview", guards=[requires(Permission.READ_INCIDENTS)],
         opt=also_answers(409))
    async def send_preview(self, db: Db, actor: Who, settings: Config, templates: Templates,
                           key: FromPath[str], notification_id: RowId,
                           fallback: Annotated[str | None,
                                               QueryParameter(pattern=LOCALE_PATTERN)] = None
                           ) -> SendPreviewPublic:
        """Whom a send would reach now: recipients by the language of their letter and by
        channel, the people with no e-mail address (listed only for a role that may read
        personal data), and whether the send needs their number typed (`confirm`)."""
        return send_preview_public(await trial.send_preview(
            db, actor=actor, key=key, notification_id=notification_id, renderer=templates,
            confirm_above=settings.confirm_send_above, fallback=fallback))

    @post("/{notification_id:int}/test-send", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=202, opt=also_answers(409))
    async def test_send(self, db: Db, clock: Now, actor: Who, settings: Config,
                        templates: Templates, key: FromPath[str], notification_id: RowId,
                        data: JSONBody[TestSendOrder | None] = None) -> TestSendPublic:
        """Each language version of an approved notice, as its first recipient in that
        language gets it (with a sample name), to the signed-in user's own address through
        the outbox, the subject marked [TEST]. Never a delivery to the people."""
        sent = await trial.send_test_copies(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id,
            renderer=templates, message_domain=message_domain(settings.mail_from),
            fallback=data.fallback if data else None)
        return TestSendPublic(test_notification=sent.notification_id, languages=sent.languages,
                              to=sent.address)

    @get("/{notification_id:int}/report.pdf", guards=[requires(Permission.READ_INCIDENTS)],
         opt={**answers_in("application/pdf"), **also_answers(409, 422)})
    async def report_pdf(self, db: Db, clock: Now, actor: Who, templates: Templates,
                         key: FromPath[str], notification_id: RowId,
                         locale: Annotated[str | None, QueryParameter(pattern=LOCALE_PATTERN)] = None
                         ) -> Response[bytes]:
        """A report's current version as a PDF, in the authority's language (or `locale`)."""
        name, pdf = await reports.report_pdf(db, actor=actor, key=key,
                                             notification_id=notification_id,
                                             renderer=templates, now=clock.now(), locale=locale)
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    @get("/{notification_id:int}/sheet", guards=[requires(Permission.READ_INCIDENTS)],
         opt=also_answers(409))
    async def sheet(self, db: Db, clock: Now, actor: Who, templates: Templates,
                    key: FromPath[str], notification_id: RowId,
                    locale: Annotated[str | None, QueryParameter(pattern=LOCALE_PATTERN)] = None
                    ) -> list[SheetRowPublic]:
        """A report field by field (GDPR Art. 33(3) and its obligation's content list), to
        paste into an authority's online form: in the authority's language, or `locale`."""
        _, rows = await reports.report_fields(db, actor=actor, key=key,
                                              notification_id=notification_id, now=clock.now(),
                                              renderer=templates, locale=locale)
        return [SheetRowPublic(field=r.field, basis=r.basis, value=r.value) for r in rows]

    @post("/{notification_id:int}/submitted", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=200)
    async def submitted(self, db: Db, clock: Now, actor: Who, templates: Templates,
                        settings: Config, key: FromPath[str], notification_id: RowId,
                        data: JSONBody[Submission]) -> NotificationPublic:
        """An approved report submitted through the authority's portal: its obligation is met
        that way, the PDF of the approved version kept as evidence."""
        done = await reports.record_submission(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id,
            reference=data.reference, at=data.at, renderer=templates,
            skew_seconds=settings.clock_skew_seconds)
        return await notification_public(db, done)

    @post("/{notification_id:int}/pause", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=200)
    async def pause(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                    notification_id: RowId) -> NotificationPublic:
        return await notification_public(db, await sending.set_paused(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id, paused=True))

    @post("/{notification_id:int}/resume", guards=[requires(Permission.WRITE_INCIDENTS)],
          status_code=200)
    async def resume(self, db: Db, clock: Now, actor: Who, key: FromPath[str],
                     notification_id: RowId) -> NotificationPublic:
        return await notification_public(db, await sending.set_paused(
            db, clock=clock, actor=actor, key=key, notification_id=notification_id, paused=False))

    @get("/{notification_id:int}/deliveries", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def deliveries(self, db: Db, actor: Who, key: FromPath[str],
                         notification_id: RowId,
                         after: Annotated[int, QueryParameter(ge=0, le=ROW_ID_MAX)] = 0,
                         limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
                         ) -> list[DeliveryPublic]:
        """The delivery log: per recipient, every attempt and the server's replies."""
        found = await sending.delivery_log(db, actor=actor, key=key,
                                           notification_id=notification_id, after_id=after,
                                           limit=limit)
        return [delivery_public(d, attempts) for d, attempts in found]


def send_preview_public(preview: trial.SendPreview) -> SendPreviewPublic:
    counts = preview.counts
    return SendPreviewPublic(
        recipients=counts.recipients,
        by_language=[LanguageCountPublic(locale=row.locale, recipients=row.recipients,
                                         missing=row.missing) for row in preview.languages],
        by_channel=counts.channels, no_address=counts.channels.get("none", 0),
        no_address_people=None if preview.unreachable is None else [
            UnreachablePublic(external_id=p.external_id, name=p.name, locale=p.locale)
            for p in preview.unreachable],
        confirm_required=preview.confirm_required, confirm_above=preview.confirm_above,
        instruction=preview.instruction)
