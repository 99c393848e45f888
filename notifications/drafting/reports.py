"""Reports to authorities as documents: the PDF and the field-by-field sheet of a report, in
the authority's language, and a report submitted through the authority's own portal instead
of by e-mail, recorded as the way its obligation was met with the PDF kept as evidence."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.containment.service import keep_evidence
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, DomainError, NotFound
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.drafting import rules
from notifications.drafting.documents import SheetRow, pdf_of, report_sheet
from notifications.drafting.environment import RenderError
from notifications.drafting.letters import Letter, letter_for
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import Rendered, Renderer, with_english_copy
from notifications.drafting.requirements import authority_contact
from notifications.drafting.rules import CannotRender, NotificationKind, NotificationStatus
from notifications.drafting.service import current_version, get_notification, unfit_to_send
from notifications.drafting.translations import organisation_language
from notifications.obligations.models import IncidentObligation
from notifications.obligations.rules import ObligationStatus
from notifications.obligations.schemas import ObligationChange
from notifications.obligations.service import get_profile, reconcile, record_met, shipped_regimes


async def report_language(db: AsyncSession, notification: Notification) -> str:
    """The language a report is written in: its authority's, else the organisation's."""
    profile = await get_profile(db)
    if profile is None:
        return "en"
    contact = authority_contact(notification.ref, profile.authorities or {}) or {}
    return str(contact.get("language") or organisation_language(profile))


async def _report(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID, notification_id: int,
                  for_update: bool = False) -> tuple[Incident, Notification]:
    incident, notification = await get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id,
                                                    for_update=for_update)
    if notification.kind != NotificationKind.AUTHORITY_REPORT:
        raise Conflict(f"notification {notification_id} is a {notification.kind}, not a report "
                       "to an authority")
    return incident, notification


def _render(letter: Letter, renderer: Renderer, locale: str, reported_at: datetime) -> Rendered:
    letter.report_date = reported_at
    authority = Delivery(notification_id=letter.notification.id or 0, recipient_key="document",
                         name="", locale=locale,
                         message_id="<document@localhost>", next_attempt_at=reported_at)
    try:
        original = renderer.render(letter.notification.kind, locale, letter.context_for(authority),
                                   zone=letter.zone, fallback=letter.language)
        return with_english_copy(original, renderer.render(
            letter.notification.kind, "en", letter.context_for(authority, "en"), zone=letter.zone))
    except RenderError as exc:
        raise CannotRender(f"notification {letter.notification.id} cannot be rendered: "
                           f"{exc}") from exc


async def report_pdf(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                     notification_id: int, renderer: Renderer, now: datetime,
                     locale: str | None = None) -> tuple[str, bytes]:
    """(file name, PDF) of the report's current version, in `locale` or the authority's
    language; a report not yet sent is dated now."""
    incident, notification = await _report(db, actor=actor, key=key,
                                            notification_id=notification_id)
    language = locale or await report_language(db, notification)
    rendered = _render(await letter_for(db, notification), renderer, language, now)
    name = (f"{incident.reference}-{notification.ref.replace('/', '-')}-{notification.sequence}"
            f"-v{notification.version}-{rendered.locale}.pdf")
    return name, pdf_of(rendered.html)


async def report_fields(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                        notification_id: int, now: datetime, renderer: Renderer,
                        locale: str | None = None) -> tuple[str, list[SheetRow]]:
    """(language, rows): the report's current version field by field, with its obligation's
    content list, in `locale` or the authority's language, as its online form is."""
    _, notification = await _report(db, actor=actor, key=key, notification_id=notification_id)
    letter = await letter_for(db, notification)
    language = locale or await report_language(db, notification)
    context = letter.context_for(Delivery(notification_id=notification_id, recipient_key="sheet",
                                          locale=language, message_id="<sheet@localhost>",
                                          next_attempt_at=now))
    formatting = renderer.formatting(notification.kind, language, zone=letter.zone,
                                     fallback=letter.language)
    found = shipped_regimes().obligation(notification.ref)
    return (renderer.resolve_locale(notification.kind, language, letter.language),
            report_sheet(context, found[1].content if found else (), formatting))


async def record_submission(db: AsyncSession, *, clock: Clock, actor: Actor,
                            key: str | uuid.UUID, notification_id: int, reference: str,
                            at: datetime | None, renderer: Renderer,
                            skew_seconds: int = 300) -> Notification:
    """An approved report submitted through the authority's own portal: the PDF of the
    approved version (dated at the submission) kept as evidence, the obligation met by it
    ("submitted through the authority's portal, reference X"), the notification done. All
    in one transaction, with its timeline events."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    submitted_at = at or now
    async with transaction(db):
        incident, notification = await _report(db, actor=actor, key=key,
                                                notification_id=notification_id, for_update=True)
        refusal: DomainError | None = rules.send_refusal(
            notification.id, NotificationStatus(notification.status),
            approved_hash=notification.approved_hash, content_hash=notification.content_hash)
        if refusal is None:
            refusal = await unfit_to_send(db, notification, now=submitted_at, doing="submitted")
        if refusal is not None:
            raise refusal
        language = await report_language(db, notification)
        rendered = _render(await letter_for(db, notification), renderer, language, submitted_at)
        row = (await db.exec(select(IncidentObligation).where(
            IncidentObligation.incident_id == incident.id,
            IncidentObligation.ref == notification.ref).with_for_update())).first()
        if row is None:
            raise NotFound(f"{incident.reference} has no obligation {notification.ref!r}")
        how = f"submitted through the authority's portal, reference {reference}"
        # Late: the reasons on record are those the report itself gives the authority.
        fields = (await current_version(db, notification)).fields
        change = ObligationChange(status=ObligationStatus.MET, at=submitted_at, how=how,
                                  reason=str(fields.get("delay_reason") or ""))
        kind = record_met(row, change, now, skew_seconds, aware_at=incident.aware_at)
        evidence = await keep_evidence(
            db, incident=incident, actor=actor, now=now, content_type="application/pdf",
            filename=(f"{incident.reference}-{notification.ref.replace('/', '-')}-"
                      f"{notification.sequence}-{rendered.locale}.pdf"),
            content=pdf_of(rendered.html),
            description=f"Report {notification.id} as submitted through the authority's portal "
                        f"(reference {reference})")
        notification.status = NotificationStatus.DONE.value
        notification.sent_at, notification.finished_at = submitted_at, now
        db.add(notification)
        row.status_by, row.status_at = actor.label, now
        db.add(row)
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="notification_submitted",
            payload={"notification": notification.id, "ref": notification.ref,
                     "reference": reference, "at": submitted_at.isoformat(),
                     "content_hash": notification.content_hash, "evidence_id": evidence.id,
                     "sha256": evidence.sha256})
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind=kind,
            payload={"ref": row.ref, "met_at": submitted_at.isoformat(), "how": row.how,
                     "late_reason": row.late_reason})
        await reconcile(db, incident, now=now, cause=f"notification {notification.id} submitted")
    return notification

