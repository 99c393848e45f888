"""What a notification says to each recipient: the template context shared by every message
of one notification, the person's own part, and the preview a reviewer sees."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot
from incident.inventory.rules import categories_mask, category_names
from incident.kernel.auth import Actor
from incident.kernel.errors import Invalid
from incident.lifecycle.models import Incident
from notifications.drafting import contents
from notifications.drafting.environment import RenderError
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import Prepared, Rendered, Renderer
from notifications.drafting.requirements import authority_contact, complaint_authority
from notifications.drafting.rules import CannotRender, NotificationKind
from notifications.drafting.service import complaint_article, current_version, get_notification, letters_of
from notifications.drafting.translations import normal_locale, organisation_language, text_for
from notifications.obligations.models import IncidentAssessment, IncidentObligation, OrganisationProfile
from notifications.obligations.regimes import Letter as RegimeLetter
from notifications.obligations.service import (
    assessment_in_force,
    get_profile,
    latest_snapshot,
    shipped_contacts,
)

INTERNAL_KINDS = frozenset({NotificationKind.REMINDER, NotificationKind.ESCALATION,
                            NotificationKind.CHECKPOINT, NotificationKind.TEST_COPY})
"""Messages to the people who must act, not to those a breach is reported to."""


def internal_context(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A reminder's stored fields (JSON) as template values: instants and spans restored."""
    values = {k: v for k, v in fields.items() if not k.endswith("_seconds")}
    for name in ("due_at", "since", "at"):
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    for name in ("time_left", "elapsed"):
        if f"{name}_seconds" in fields:
            values[name] = timedelta(seconds=float(fields[f"{name}_seconds"]))
    if isinstance(values.get("items"), list):  # a reminders digest: each line's due time
        values["items"] = [internal_context(item) if isinstance(item, dict) else item
                           for item in values["items"]]
    return values


def _lines(value: str) -> list[str]:
    return [line.strip("-• ").strip() for line in value.splitlines() if line.strip()]


class Addressee(Protocol):
    """What a message needs to know of its recipient: a delivery, or the outbox's copy of
    one (`notifications.delivery.outbox.Claimed`)."""

    @property
    def name(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def meets(self) -> str: ...
    @property
    def categories(self) -> int: ...


@dataclass
class Letter:
    """What every message of one notification shares; `context_for` adds the person's part."""

    notification: Notification
    fields: dict[str, Any]
    shared: dict[str, Any]
    zone: ZoneInfo
    deadline: datetime | None
    """The obligation's due time: retries stop there."""
    author: str | None = None
    """The From mailbox (`Name <address>`): the organisation's own; None for internal
    messages, which come from the service."""
    reply_to: str | None = None
    language: str = "en"
    """The organisation's language: a recipient whose language has no template reads this."""
    compose: Callable[[Mapping[str, str]], dict[str, Any]] | None = None
    """The shared part for the fields' texts in one language (None: `shared` for everyone)."""
    report_date: datetime | None = None
    """The date a report not sent yet shows (a preview, a document): now."""
    letters: Mapping[str, RegimeLetter] = field(default_factory=dict)
    """What the notice of each obligation it covers must contain (a notice to people)."""
    complaints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """The authority people may complain to, by the obligation whose law gives that right."""
    _by_locale: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _plans: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, repr=False)
    """Each person's part of a notice but their name, by the laws met and the data exposed."""
    _prepared: dict[tuple[Renderer, str | None, str, str, int],
                    tuple[dict[str, Any], Prepared]] = field(default_factory=dict, repr=False)
    """The message shared by the recipients of one language, laws met and data exposed, with
    the context it was prepared from."""

    def shared_for(self, locale: str) -> dict[str, Any]:
        """The shared part as a reader of `locale` reads it: each field in their language."""
        if self.compose is None:
            return self.shared
        key = normal_locale(locale) or locale
        if key not in self._by_locale:
            texts = {name: text_for(value, key, self.language)
                     for name, value in self.fields.items()}
            self._by_locale[key] = self.compose(texts)
        return self._by_locale[key]

    def give_up_at(self, now: datetime, *, first_retry: timedelta,
                   without_deadline: timedelta) -> datetime:
        """When retries stop: at the deadline (after one retry at least), else after a while."""
        started = self.notification.sent_at or now
        if self.deadline is not None:
            return max(self.deadline, started + first_retry)
        return started + without_deadline

    def context_for(self, delivery: Addressee, locale: str | None = None) -> dict[str, Any]:
        """What the message to `delivery`'s recipient says, its fields in their language (or
        in `locale`: a report's English copy)."""
        if self.notification.kind in INTERNAL_KINDS:
            return {**internal_context(self.fields), "recipient_name": delivery.name}
        shared = self.shared_for(locale or delivery.locale)
        if self.notification.kind == NotificationKind.SUBJECT_NOTICE:
            return {**shared, **self.person(delivery)}
        dated = {"reported_at": self.report_date} if shared.get("reported_at") is None else {}
        return {**shared, **dated, "authority": delivery.name or shared["authority"]}


    def personal(self) -> tuple[str, ...]:
        """The values of the context that are each recipient's own: the name they are
        addressed by (a report's authority)."""
        if self.notification.kind == NotificationKind.AUTHORITY_REPORT:
            return ("authority",)
        return ("recipient_name",)

    def prepared_for(self, renderer: Renderer, delivery: Addressee,
                     locale: str | None = None) -> Prepared:
        """The message every recipient shares with `delivery`'s (the same language, laws
        met and data exposed), to be filled with each one's own values (`personal`).

        Kept for as long as the context it was prepared from stays the same but for those
        values, so a notice to a million people renders its templates once per combination.
        """
        return self._prepared_with(renderer, delivery, locale, self.context_for(delivery, locale))

    def rendered_for(self, renderer: Renderer, delivery: Addressee,
                     locale: str | None = None) -> Rendered:
        """The message to `delivery`'s recipient: the same as
        `renderer.render(kind, locale or delivery.locale, self.context_for(delivery, locale),
        zone=self.zone, fallback=self.language)`, byte for byte (and the same RenderError),
        without rendering the templates again for each person where that is provably safe.

        `locale` is a report's English copy (`"en"`; English always has templates, so the
        organisation's language as the fallback changes nothing)."""
        context = self.context_for(delivery, locale)
        prepared = self._prepared_with(renderer, delivery, locale, context)
        return prepared.fill(**{name: context[name] for name in prepared.personal
                                if name in context})

    def _prepared_with(self, renderer: Renderer, delivery: Addressee, locale: str | None,
                       context: dict[str, Any]) -> Prepared:
        key = (renderer, locale, delivery.locale, delivery.meets, delivery.categories)
        found = self._prepared.get(key)
        personal = self.personal()
        if found is None or not _same_but(found[0], context, personal):
            found = (context, renderer.prepared(
                self.notification.kind, locale or delivery.locale, context, zone=self.zone,
                fallback=self.language, personal=personal))
            self._prepared[key] = found
        return found[1]

    def person(self, delivery: Addressee) -> dict[str, Any]:
        """The part of a notice that is the recipient's own: their name and data, and what
        the laws that protect them ask their letter to contain."""
        key = (delivery.meets, delivery.categories)
        if key not in self._plans:  # a few combinations of laws and data, however many people
            refs = self.notification.refs_met(delivery.meets)
            categories = category_names(delivery.categories)
            complaint = next((self.complaints[r] for r in refs if r in self.complaints), {})
            self._plans[key] = {
                "categories": categories,
                "elements": contents.elements(refs, self.letters, categories),
                "omitted": contents.omitted(refs, self.letters),
                "state_agencies": [a.model_dump() for a in
                                   contents.state_agencies(refs, self.letters)],
                "complaint_authority": complaint.get("name") or "",
                "complaint_authority_website": complaint.get("website") or ""}
        return {**self._plans[key], "recipient_name": delivery.name,
                "notice_date": self.notification.sent_at or self.report_date
                or self.notification.created_at}


def _same_but(known: Mapping[str, Any], context: Mapping[str, Any], personal: Sequence[str]) -> bool:
    """Whether two contexts hold the same values but for those named in `personal`."""
    return known.keys() == context.keys() and all(
        known[name] is value or known[name] == value
        for name, value in context.items() if name not in personal)


async def letter_for(db: AsyncSession, notification: Notification) -> Letter:
    if notification.incident_id is None:  # a checkpoint to its witness: about no incident
        fields = dict((await current_version(db, notification)).fields)
        return Letter(notification, fields, {}, ZoneInfo("UTC"), None)
    incident = await db.get(Incident, notification.incident_id)
    assert incident is not None
    profile = await get_profile(db) or OrganisationProfile(
        name="", country="", timezone="UTC", updated_at=incident.created_at, updated_by="")
    fields = dict((await current_version(db, notification)).fields)
    obligation = (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident.id,
        IncidentObligation.ref == notification.ref))).first()
    snapshot = await latest_snapshot(db, incident.id)
    first_report = await _first_report(db, notification)
    assessment = await assessment_in_force(db, incident)
    language = organisation_language(profile)

    def compose(texts: Mapping[str, str]) -> dict[str, Any]:
        return shared_context(notification, incident, profile, texts, obligation, first_report,
                              snapshot, assessment)

    internal = notification.kind in INTERNAL_KINDS
    author, reply_to = (None, None) if internal else mailboxes(profile)
    shared = {} if internal else compose(
        {name: text_for(value, language, language) for name, value in fields.items()})
    letters = letters_of(notification.refs)
    complaints = {ref: dict(complaint_authority(ref, profile.authorities or {}) or {})
                  for ref in notification.refs if complaint_article(ref)}
    return Letter(notification, fields, shared, ZoneInfo(profile.timezone),
                  obligation.due_at if obligation else None, author, reply_to, language,
                  None if internal else compose, letters=letters, complaints=complaints)


def mailboxes(profile: OrganisationProfile) -> tuple[str | None, str | None]:
    """(From, Reply-To) of the organisation's notices: its own name and address, and replies
    to the address it named, else its DPO. None where the profile names none."""
    sender, dpo = profile.sender or {}, profile.dpo or {}
    address = sender.get("email")
    author = f"{sender.get('name') or profile.name} <{address}>" if address else None
    return author, sender.get("reply_to") or dpo.get("email") or None


async def _first_report(db: AsyncSession, notification: Notification) -> datetime | None:
    if notification.sequence == 1:
        return None
    first = (await db.exec(select(Notification).where(
        Notification.incident_id == notification.incident_id, Notification.ref == notification.ref,
        Notification.sequence == 1))).first()
    return first.sent_at if first else None


def shared_context(notification: Notification, incident: Incident, profile: OrganisationProfile,
                   fields: Mapping[str, Any], obligation: IncidentObligation | None,
                   first_reported_at: datetime | None, snapshot: AffectedSnapshot | None = None,
                   assessment: IncidentAssessment | None = None) -> dict[str, Any]:
    """The template context of a notification, from its fields, the incident, its latest
    affected-people snapshot and assessment, and the organisation profile (pure)."""
    dpo, authorities = profile.dpo or {}, profile.authorities or {}
    base: dict[str, Any] = {
        "incident_reference": incident.reference, "organisation": profile.name,
        "dpo_name": dpo.get("name") or "", "dpo_email": dpo.get("email") or "",
        "dpo_phone": dpo.get("phone") or "", "kind": incident.kind,
        "description": fields.get("description", ""), "occurred_from": incident.occurred_from,
        "occurred_to": incident.occurred_to, "aware_at": incident.aware_at,
        "consequences": fields.get("consequences", ""),
    }
    if notification.kind == NotificationKind.SUBJECT_NOTICE:
        agencies = shipped_contacts()
        return {**base, "measures": _lines(fields.get("measures", "")),
                "advice": _lines(fields.get("advice", "")),
                "delay_reason": fields.get("delay_reason", ""),
                "credit_bureaus": [a.model_dump() for a in agencies.credit_bureaus],
                "federal_agencies": [a.model_dump() for a in agencies.federal_agencies]}
    summary = obligation.computed if obligation else {}
    contact = authority_contact(notification.ref, authorities) or {}
    counted = snapshot.summary if snapshot is not None else {}
    return {
        **base,
        "authority": contact.get("name") or (obligation.recipient_name if obligation else ""),
        "authority_reference": fields.get("authority_reference", ""),
        "supplement": notification.sequence - 1 or None,
        "changes": fields.get("changes", ""),
        "first_reported_at": first_reported_at, "reported_at": notification.sent_at,
        "breach_types": list(incident.breach_types), "detected_at": incident.detected_at,
        "contained_at": incident.contained_at,
        "categories": list(incident.data_categories),
        "subjects_counted": snapshot.total if snapshot is not None else None,
        "counted_at": snapshot.computed_at if snapshot is not None else None,
        "subjects_by_category": [{"category": c, "subjects": n} for c, n in
                                 sorted(counted.get("by_category", {}).items())],
        "subjects_estimate": incident.estimated_subjects,
        "records_estimate": incident.estimated_records,
        "jurisdictions": [{"code": c, "subjects": n} for c, n in
                          sorted(counted.get("by_jurisdiction", {}).items(),
                                 key=lambda item: (-item[1], item[0]))],
        "measures_taken": _lines(fields.get("measures_taken", "")),
        "measures_proposed": _lines(fields.get("measures_proposed", "")),
        "delay_reason": fields.get("delay_reason", ""),
        "due_at": obligation.due_at if obligation else None,
        "basis": summary.get("basis"),
        "assessment": _annex(assessment),
    }


def _annex(assessment: IncidentAssessment | None) -> dict[str, Any] | None:
    """The risk assessment behind the report, for its annex: severity, score, recommendation
    (an approver's override in its place) and the reasons, in the assessment's words."""
    if assessment is None:
        return None
    result = assessment.result
    return {"severity": result.get("severity", ""), "score": result.get("score"),
            "recommendation": assessment.override or assessment.recommendation,
            "overridden": bool(assessment.override), "reasons": list(result.get("reasons", []))}


async def preview(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID, notification_id: int,
                  locale: str, renderer: Renderer, now: datetime,
                  meets: Sequence[str] = ()) -> tuple[str, str, str, str]:
    """The current version as a recipient would read it: (locale used, subject, text, html).

    A notice to people shows an unnamed recipient with every category the incident exposed,
    protected by the laws `meets` names among those it covers (all of them when empty); a
    report not yet sent is dated now.
    """
    incident, notification = await get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id)
    if unknown := [ref for ref in meets if ref not in notification.refs]:
        raise Invalid.fields([("meets", f"notification {notification_id} does not cover "
                                        f"{', '.join(unknown)}; it covers "
                                        f"{', '.join(notification.refs)}")])
    letter = await letter_for(db, notification)
    letter.report_date = now
    sample = Delivery(notification_id=notification_id, recipient_key="preview", locale=locale,
                      meets=",".join(dict.fromkeys(meets)),
                      categories=categories_mask(incident.data_categories),
                      message_id="<preview@localhost>",
                      next_attempt_at=incident.created_at)
    try:
        rendered = renderer.render(notification.kind, locale, letter.context_for(sample),
                                   zone=letter.zone, fallback=letter.language)
    except RenderError as exc:  # what the draft or the incident holds, not a fault of the server
        raise CannotRender(f"notification {notification_id} cannot be shown as a message: "
                           f"{exc}") from exc
    return rendered.locale, rendered.subject, rendered.text, rendered.html
