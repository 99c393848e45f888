"""The notification pages: list, draft editing, preview, approval, sending and the delivery log.

Every form is sent back to its page (303), refused or not; after a refusal the page shows why
beside the form, with what was typed, once (incident.kernel.pages.send_back)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import plugins
from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.clock import Clock
from incident.kernel.errors import Conflict, DomainError, Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.pages import held_for, refusal_sentence, render_page, send_back
from incident.kernel.params import RowId
from incident.lifecycle.pages import Notice
from notifications.drafting import audiences, letters, queuing, rules, sending, trial
from notifications.drafting import service as drafts
from notifications.drafting.api import (
    LOCALE_PATTERN,
    MeetsQuery,
    Templates,
    refs_in,
)
from notifications.drafting.authorities import authority_notes
from notifications.drafting.models import NotificationVersion
from notifications.drafting.render import Renderer
from notifications.drafting.rules import NotificationKind, NotificationStatus
from notifications.drafting.schemas import ContentPublic
from notifications.drafting.sending import message_domain
from notifications.drafting.translations import (
    complete_languages,
    normal_locale,
    organisation_language,
    texts_of,
)
from notifications.obligations import service as services

SANDBOX_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


"""A message's HTML runs nothing, loads nothing from anywhere, and has an opaque origin."""


PREVIEW_LOCALES = ("en", "pl", "de", "fr")


FIELD_LABELS = {
    "description": "What happened", "consequences": "Likely consequences",
    "measures": "What we have done (one per line)",
    "advice": "What they can do, beyond the advice for each kind of data (one per line)",
    "changes": "What is new since the last report",
    "measures_taken": "Measures taken (one per line)",
    "measures_proposed": "Measures proposed (one per line)",
    "delay_reason": "Reasons for any delay", "authority_reference": "The authority's reference",
}


KIND_TITLES = {NotificationKind.SUBJECT_NOTICE: "Notice to the people affected",
               NotificationKind.AUTHORITY_REPORT: "Report to the authority",
               NotificationKind.REMINDER: "Reminder", NotificationKind.ESCALATION: "Escalation"}


PAGE_SIZE = 100


LocaleQuery = Annotated[str, QueryParameter(pattern=LOCALE_PATTERN, max_length=35)]

LanguageQuery = Annotated[str | None, QueryParameter(pattern=LOCALE_PATTERN, max_length=35)]
"""The language whose text the draft's form edits (the organisation's when absent)."""


AfterQuery = Annotated[int, QueryParameter(ge=0, le=ROW_ID_MAX)]

TestedQuery = Annotated[str | None, QueryParameter(
    pattern=r"^[A-Za-z_]{2,35}(,[A-Za-z_]{2,35}){0,49}$", max_length=1800)]
"""The languages of the test letters just queued, comma-separated (shown once, after)."""


def sandboxed(html: str) -> Response[str]:
    """A document for an `<iframe sandbox>` on this site's pages, and nowhere else."""
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": SANDBOX_POLICY + "; frame-ancestors 'self'",
        "X-Frame-Options": "SAMEORIGIN"})


def base(key: str, notification_id: int | None = None) -> str:
    url = f"/incidents/{quote(key)}/notifications"
    return url if notification_id is None else f"{url}/{notification_id}"


class EditBasis(NamedTuple):
    """What an edit is made against: the fields that may change, the draft's version and
    status now, and the fields of the version the form was read from (None: no such version)."""

    allowed: tuple[str, ...]
    version: int
    status: str
    read: dict[str, Any] | None


async def _edit_basis(db: AsyncSession, actor: Actor, key: str, notification_id: int,
                      read: int) -> EditBasis:
    """Read the basis of an edit, then end the reading transaction: the use case opens its own."""
    _, notification = await drafts.get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id)
    before = (await db.exec(select(NotificationVersion).where(
        NotificationVersion.notification_id == notification_id,
        NotificationVersion.version == read))).first()
    basis = EditBasis(rules.EDITABLE.get(notification.kind, ()), notification.version,
                      notification.status, dict(before.fields) if before else None)
    await db.rollback()
    return basis


def edited_fields(form: dict[str, str], read: dict[str, Any], allowed: tuple[str, ...]
                  ) -> dict[str, str]:
    """The fields the form changed from the version its author read (pure).

    Browsers send textarea line ends as CRLF; they are stored as LF, as the API stores them.
    """
    given = {name: form[name].replace("\r\n", "\n") for name in allowed if name in form}
    return {name: value for name, value in given.items() if value != read.get(name, "")}


async def list_page(request: Request[Any, Any, Any], db: AsyncSession, *, clock: Clock,
                    actor: Actor, key: str, status: int = 200,
                    notice: Notice | None = None) -> Template:
    """The incident's notifications and, per obligation sent from here, a way to draft it."""
    incident, rows, _, problems = await services.obligations_of(db, clock=clock, actor=actor,
                                                                key=key)
    found = [n for n in await drafts.notifications_of(db, actor=actor, key=incident.id)
             if n.kind not in letters.INTERNAL_KINDS]
    counts = await sending.state_counts_of(db, [n.id or 0 for n in found])
    unfinished = {n.ref: n for n in found if n.status in rules.UNSENT}
    latest = {n.ref: n for n in found}  # found is oldest first: the last one per obligation wins
    duties = [r for r in rows if r.applies and r.recipient in rules.KIND_FOR_RECIPIENT]
    reports = [r.ref for r in duties if rules.KIND_FOR_RECIPIENT[r.recipient]
               is NotificationKind.AUTHORITY_REPORT]
    return render_page(request, "notifications.html", status=status, incident=incident, kinds=KIND_TITLES,
                       authorities=await authority_notes(db, reports),
                       notifications=found, counts=counts, duties=duties, unfinished=unfinished,
                       latest=latest, problems=problems, notice=notice, base=base(incident.reference),
                       Kind=NotificationKind,
                       can_write=actor.can(Permission.WRITE_INCIDENTS))


async def organisation_language_of(db: AsyncSession) -> str:
    return organisation_language(await services.get_profile(db))


def texts_in(fields: dict[str, Any], lang: str, default: str) -> dict[str, str]:
    """Each field's own text in `lang` ("" where it has none), as the form edits it."""
    return {name: texts_of(value, default).get(lang, "") for name, value in fields.items()}


async def draft_page(request: Request[Any, Any, Any], db: AsyncSession, *, clock: Clock,
                     actor: Actor, renderer: Renderer, key: str, notification_id: int,
                     locale: str = "en", status: int = 200, notice: Notice | None = None,
                     unsaved: dict[str, str] | None = None, lang: str | None = None,
                     meets: Sequence[str] = (), typed: str = "",
                     tested: Sequence[str] = ()) -> Template:
    """A draft: its fields (a form while it may change, in one language at a time), the
    languages its letters are written in, the laws it meets and the letters that makes, a
    preview (as read by someone protected by `meets`), approval, sending, progress.

    Approved: whom the send reaches (by language, by channel, who has no address), a test
    send to oneself (`tested`: the languages just queued), and above the app's
    BREACH_CONFIRM_SEND_ABOVE recipients the number to type (`typed`: what was typed, kept
    after a refusal)."""
    incident, notification = await drafts.get_notification(db, actor=actor, key=key,
                                                           notification_id=notification_id)
    meets = [ref for ref in meets if ref in notification.refs]
    version = await drafts.current_version(db, notification)
    default = await organisation_language_of(db)
    lang = normal_locale(lang or default) or default
    texts = texts_in(version.fields, lang, default)
    used, subject, text, _ = await letters.preview(db, now=clock.now(), actor=actor, key=incident.id,
                                                   notification_id=notification_id, locale=locale,
                                                   renderer=renderer, meets=meets)
    counts = await sending.state_counts(db, notification_id)
    total = notification.recipients or sum(counts.values())
    audience = await audiences.audience_of(db, actor=actor, key=incident.id,
                                           notification_id=notification_id)
    url = base(incident.reference, notification_id)
    editable = rules.EDITABLE.get(notification.kind, ())
    stage = NotificationStatus(notification.status)
    preview_query = {"locale": locale, **({"meets": ",".join(meets)} if meets else {})}
    reach: trial.SendPreview | None = None
    confirm_above = int(request.app.state.settings.confirm_send_above)
    if stage is NotificationStatus.APPROVED:
        try:
            reach = await trial.send_preview(db, actor=actor, key=incident.id,
                                             notification_id=notification_id, renderer=renderer,
                                             confirm_above=confirm_above)
        except DomainError:
            reach = None  # the send itself says why it cannot go
    languages: list[sending.LanguageRow] = []
    if reach is not None:  # approved: the send preview has the table already
        languages = reach.languages
    elif stage in rules.UNSENT:
        languages = await sending.language_table(db, notification, renderer)
    # Parts other capabilities add (bounces, for one), so this page never imports them.
    sections: dict[str, Any] = {}
    for section in plugins.hooks("notification.page_sections"):
        sections.update(await section(request, db, actor=actor, incident=incident,
                                      notification=notification))
    return render_page(request, "notification.html", status=status, incident=incident, kinds=KIND_TITLES,
                       notification=notification, url=url, notice=notice, unsaved=unsaved or {},
                       fields=[(name, FIELD_LABELS.get(name, name.replace("_", " ")),
                                texts.get(name, ""))
                         for name in editable or sorted(version.fields)],
                       lang=lang, default_lang=default,
                       complete=complete_languages(version.fields, editable, default),
                       languages=languages,
                       editable=bool(editable), labels=FIELD_LABELS,
                       locales=sorted({*PREVIEW_LOCALES, *renderer.locales(notification.kind)}),
                       locale=locale, used=used, subject=subject, text=text,
                       preview_src=f"{url}/preview.html?{urlencode(preview_query)}",
                       meets=",".join(meets),
                       variants=(await sending.letter_variants(db, notification)
                                 if stage in rules.UNSENT else []),
                       counts=counts, total=total, ended=rules.ended_count(counts),
                       audience=audience,
                       contents=(ContentPublic.checklist(notification.refs)
                                 if notification.kind == NotificationKind.SUBJECT_NOTICE else []),
                       unsent=stage in rules.UNSENT, live=stage in rules.LIVE, Status=NotificationStatus,
                       api=f"/api/v1/incidents/{quote(incident.reference)}/notifications/{notification_id}",
                       can_write=actor.can(Permission.WRITE_INCIDENTS),
                       can_approve=actor.can(Permission.APPROVE),
                       can_read_people=actor.can(Permission.READ_PERSONAL_DATA),
                       reach=reach, typed=typed, tested=list(tested), **sections)


class NotificationPages(Controller):
    """An incident's notifications: list, drafts, preview, approval, sending, delivery log."""

    path = "/incidents/{key:str}/notifications"
    include_in_schema = False

    @get("/", guards=[requires(Permission.READ_INCIDENTS)])
    async def notifications(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                            actor: Who, key: FromPath[str]) -> Template:
        notice = (await held_for(request, db, clock)).get("notice")
        return await list_page(request, db, clock=clock, actor=actor, key=key,
                               notice=Notice(**notice) if notice else None)

    @post("/", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def create(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     key: FromPath[str]) -> Response[Any]:
        ref = str((await request.form()).get("obligation", ""))
        try:
            created = await drafts.create_draft(db, clock=clock, actor=actor, key=key, ref=ref)
        except DomainError as exc:
            return await send_back(request, db, clock, f"{base(key)}#notice",
                                   notice=Notice(ref, refusal_sentence(exc)))
        return Redirect(base(key, created.id), status_code=303)

    @get("/{notification_id:int}", guards=[requires(Permission.READ_INCIDENTS)])
    async def draft(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                    templates: Templates, key: FromPath[str], notification_id: RowId,
                    locale: LocaleQuery = "en", lang: LanguageQuery = None,
                    meets: MeetsQuery = None, tested: TestedQuery = None) -> Template:
        held = await held_for(request, db, clock)
        notice = held.get("notice")
        return await draft_page(request, db, clock=clock, actor=actor, renderer=templates, key=key,
                                notification_id=notification_id, locale=locale, lang=lang,
                                meets=refs_in(meets), tested=tested.split(",") if tested else (),
                                notice=Notice(**notice) if notice else None,
                                unsaved=held.get("unsaved"), typed=str(held.get("typed", "")))

    @post("/{notification_id:int}", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def edit(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                   key: FromPath[str], notification_id: RowId) -> Response[Any]:
        form = {name: str(value) for name, value in (await request.form()).items()}
        try:
            read = int(form.get("version", ""))
        except ValueError:
            read = 0
        basis = await _edit_basis(db, actor, key, notification_id, read)
        default = await organisation_language_of(db)
        lang = normal_locale(form.get("lang") or default) or default
        await db.rollback()
        changed = edited_fields(form, texts_in(basis.read or {}, lang, default), basis.allowed)
        here = f"{base(key, notification_id)}?{urlencode({'lang': lang})}#fields"
        if basis.read is not None and not changed and read == basis.version:
            return Redirect(here, status_code=303)
        edit: dict[str, Any] = ({name: {lang: text} for name, text in changed.items()}
                                if lang != default else dict(changed))
        try:
            await drafts.edit_draft(db, clock=clock, actor=actor, key=key,
                                    notification_id=notification_id, fields=edit,
                                    expected_version=read)
        except (Conflict, Invalid) as exc:
            stale = (isinstance(exc, Conflict) and read != basis.version
                     and basis.status in rules.UNSENT)
            message = (f"Not saved: someone saved this draft after you opened it (you read "
                       f"version {read}, it is now version {basis.version}). Its current text "
                       f"is shown; your changes are kept below the form to copy back."
                       if stale else refusal_sentence(exc))
            return await send_back(request, db, clock, here, notice=Notice("fields", message),
                                   unsaved=changed if stale else None)
        return Redirect(here, status_code=303)

    @get("/{notification_id:int}/preview.html", guards=[requires(Permission.READ_INCIDENTS)])
    async def preview(self, db: Db, clock: Now, actor: Who, templates: Templates,
                      key: FromPath[str], notification_id: RowId,
                      locale: LocaleQuery = "en", meets: MeetsQuery = None) -> Response[str]:
        _, _, _, html = await letters.preview(db, now=clock.now(), actor=actor, key=key,
                                              notification_id=notification_id, locale=locale,
                                              renderer=templates, meets=refs_in(meets))
        return sandboxed(html)

    @post("/{notification_id:int}/approve", guards=[requires(Permission.APPROVE)])
    async def approve(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                      key: FromPath[str], notification_id: RowId) -> Response[Any]:
        digest = str((await request.form()).get("content_hash", ""))
        try:
            await drafts.approve(db, clock=clock, actor=actor, key=key,
                                 notification_id=notification_id, approved_hash=digest)
        except DomainError as exc:
            return await send_back(request, db, clock, f"{base(key, notification_id)}#approval",
                                   notice=Notice("approval", refusal_sentence(exc)))
        return Redirect(f"{base(key, notification_id)}#approval", status_code=303)

    @post("/{notification_id:int}/send", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def send(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                   settings: Config, templates: Templates, key: FromPath[str],
                   notification_id: RowId) -> Response[Any]:
        form = await request.form()
        typed = str(form.get("confirm") or "").strip()[:20]
        try:
            if typed and not typed.isdigit():
                raise Invalid(f"{typed!r} is not a number: type the number of recipients shown",
                              errors=[{"field": "confirm", "message": "is not a number"}])
            await sending.send(db, clock=clock, actor=actor, key=key,
                               notification_id=notification_id,
                               message_domain=message_domain(settings.mail_from),
                               renderer=templates, fallback=str(form.get("fallback") or "") or None,
                               confirm=int(typed) if typed.isdigit() else None,
                               confirm_above=settings.confirm_send_above)
        except DomainError as exc:
            unconfirmed = any(e.get("field") == "confirm"
                              for e in exc.extensions.get("errors") or [])
            message = (f"Not sent: {exc.detail}."
                       if unconfirmed else refusal_sentence(exc))
            return await send_back(request, db, clock, f"{base(key, notification_id)}#approval",
                                   notice=Notice("confirm" if unconfirmed else "approval",
                                                 message), typed=typed)
        queuing.announce(settings.var_dir)
        return Redirect(f"{base(key, notification_id)}#progress", status_code=303)

    @post("/{notification_id:int}/test-send", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def test_send(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                        settings: Config, templates: Templates, key: FromPath[str],
                        notification_id: RowId) -> Response[Any]:
        form = await request.form()
        try:
            sent = await trial.send_test_copies(
                db, clock=clock, actor=actor, key=key, notification_id=notification_id,
                renderer=templates, message_domain=message_domain(settings.mail_from),
                fallback=str(form.get("fallback") or "") or None)
        except DomainError as exc:
            return await send_back(request, db, clock, f"{base(key, notification_id)}#approval",
                                   notice=Notice("test-send", refusal_sentence(exc)))
        query = urlencode({"tested": ",".join(sent.languages)})
        return Redirect(f"{base(key, notification_id)}?{query}#approval", status_code=303)

    @post("/{notification_id:int}/pause", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def pause(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                    key: FromPath[str], notification_id: RowId) -> Response[Any]:
        return await self._steer(request, db, clock, actor, key, notification_id, True)

    @post("/{notification_id:int}/resume", guards=[requires(Permission.WRITE_INCIDENTS)])
    async def resume(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                     key: FromPath[str], notification_id: RowId) -> Response[Any]:
        return await self._steer(request, db, clock, actor, key, notification_id, False)

    async def _steer(self, request: Request[Any, Any, Any], db: AsyncSession, clock: Clock,
                     actor: Actor, key: str, notification_id: int,
                     paused: bool) -> Response[Any]:
        try:
            await sending.set_paused(db, clock=clock, actor=actor, key=key,
                                     notification_id=notification_id, paused=paused)
        except Conflict as exc:
            return await send_back(request, db, clock, f"{base(key, notification_id)}#progress",
                                   notice=Notice("progress", refusal_sentence(exc)))
        return Redirect(f"{base(key, notification_id)}#progress", status_code=303)

    @get("/{notification_id:int}/deliveries", guards=[requires(Permission.READ_PERSONAL_DATA)])
    async def deliveries(self, request: Request[Any, Any, Any], db: Db, actor: Who,
                         key: FromPath[str], notification_id: RowId,
                         after: AfterQuery = 0) -> Template:
        incident, notification = await drafts.get_notification(db, actor=actor, key=key,
                                                               notification_id=notification_id)
        log = await sending.delivery_log(db, actor=actor, key=incident.id,
                                         notification_id=notification_id, after_id=after,
                                         limit=PAGE_SIZE)
        return render_page(request, "deliveries.html", incident=incident, notification=notification,
                           url=base(incident.reference, notification_id), log=log, after=after,
                           counts=await sending.state_counts(db, notification_id),
                           next_after=log[-1][0].id if len(log) == PAGE_SIZE else None)
