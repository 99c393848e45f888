"""Request and response shapes of notifications, their preview and their deliveries, and the
converters from their rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.schemas import Documented, Input, Instant, MultiLine, SingleLine, Version
from notifications.drafting import contents, rules, sending
from notifications.drafting.audience import Audience
from notifications.drafting.audiences import audiences_of
from notifications.drafting.models import Delivery, DeliveryAttempt, Notification, NotificationVersion
from notifications.drafting.rules import DeliveryState, NotificationKind, NotificationStatus
from notifications.drafting.service import letters_of


class DraftCreate(Input):
    obligation: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$", max_length=100)]


FieldText = Annotated[str, MultiLine, Documented({"maxLength": rules.FIELD_LIMIT})]
LocaleKey = Annotated[str, StringConstraints(max_length=35,
                                             pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")]


class DraftEdit(Input):
    """New text for some fields: a plain text is the organisation's language's, an object
    gives one text per locale (`{"en": "…", "pl": "…"}`). The service refuses unknown fields,
    unknown locales, an empty text for a locale and any text over FIELD_LIMIT."""

    fields: dict[Annotated[str, StringConstraints(max_length=40)],
                 FieldText | Annotated[dict[LocaleKey, FieldText], Field(max_length=40),
                                       Documented({"additionalProperties": False})]
                 ] = Field(max_length=20)
    version: Version


class SendOrder(Input):
    at: Instant | None = None
    """A scheduled send: nothing leaves before this instant."""
    fallback: LocaleKey | None = None
    """The language recipients whose own language has no text get instead (the whole letter
    in it); without it, such recipients make the send refused."""
    confirm: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    """The number of recipients, typed by the sender: required above
    BREACH_CONFIRM_SEND_ABOVE recipients (see `send-preview`)."""


class TestSendOrder(Input):
    fallback: LocaleKey | None = None
    """As for a send: the language of readers of a language with no text."""


class LanguageCountPublic(BaseModel):
    locale: str
    recipients: int
    missing: list[str]
    """The fields with no text in this language."""


class UnreachablePublic(BaseModel):
    external_id: str
    name: str
    locale: str


class SendPreviewPublic(BaseModel):
    """Whom a send would reach now: by the language of their letter, by channel (`email`;
    `none`: no e-mail address on record, so not reached by it)."""

    recipients: int
    by_language: list[LanguageCountPublic]
    by_channel: dict[str, int]
    no_address: int
    no_address_people: list[UnreachablePublic] | None
    """The people with no address (at most 200), for a role that may read personal data;
    null for others."""
    confirm_required: bool
    confirm_above: int
    instruction: str | None
    """What the sender types as `confirm` when it is required ("Type 51 to send to 51 people")."""


class TestSendPublic(BaseModel):
    test_notification: int
    """The internal notification that carries the test letters through the outbox."""
    languages: list[str]
    to: str


class Approval(Input):
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Submission(Input):
    """A report submitted through the authority's own portal: the receipt number the portal
    gave, and when (default now)."""

    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=200), SingleLine]
    at: Instant | None = None


class SheetRowPublic(BaseModel):
    field: str
    basis: str
    value: str


class AudiencePublic(BaseModel):
    """Whom a notice to people is addressed to, and why the others are not."""

    count: int
    """People addressed."""
    total: int
    """People in the snapshot."""
    left_out: int
    not_protected: int
    """Left out: they live outside every territory the obligation's law protects."""
    unknown: int
    """Left out: their residence is unknown, and the law protects only people of some territories."""
    everyone: bool
    jurisdictions: list[str]
    basis: str
    citation: str
    confidence: str
    """How sure the reading of the law's territorial rule is: high, medium or low."""
    parts: dict[str, AudiencePublic] = {}
    """For one letter per person meeting several laws' notices: whom each addresses."""

    @classmethod
    def of(cls, audience: Audience) -> AudiencePublic:
        return cls(count=audience.count, total=audience.total, left_out=audience.left_out,
                   not_protected=audience.not_protected, unknown=audience.unknown,
                   everyone=audience.everyone, jurisdictions=list(audience.jurisdictions),
                   basis=audience.basis, citation=audience.citation,
                   confidence=audience.confidence,
                   parts={ref: cls.of(part) for ref, part in audience.parts})


class SourcePublic(BaseModel):
    ref: str
    citation: str
    if_exposed: list[str]
    """Only in the letters of people whose exposed data includes one of these categories."""


class ContentPublic(BaseModel):
    """One element the letter contains: where it appears, and every law asking for it."""

    element: str
    where: str
    sources: list[SourcePublic]

    @classmethod
    def checklist(cls, refs: Sequence[str]) -> list[ContentPublic]:
        return [cls(element=element, where=contents.WHERE[element],
                    sources=[SourcePublic(ref=s.ref, citation=s.citation,
                                          if_exposed=list(s.if_exposed)) for s in sources])
                for element, sources in contents.checklist(refs, letters_of(refs)).items()]


class NotificationPublic(BaseModel):
    id: int
    ref: str
    kind: str
    sequence: int
    status: NotificationStatus
    version: int
    content_hash: str
    fields: dict[str, Any]
    approved_hash: str | None
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    created_by: str
    sent_at: datetime | None
    finished_at: datetime | None
    recipients: int
    deliveries: dict[str, int]
    audience: AudiencePublic | None = None
    """For a notice to people: how many it is addressed to and on which basis (when sent, as
    recorded then; before, as it would be now). Null for a report to an authority."""
    covers: list[str]
    """The obligations it meets: for a notice to people, every law whose notice its one
    letter per person stands for (each person's letter meets those protecting them)."""
    contents: list[ContentPublic]
    """For a notice to people: what its letters contain, each element traced to the
    provisions asking for it."""


class PreviewPublic(BaseModel):
    locale: str
    subject: str
    text: str
    html: str


async def notifications_public(db: AsyncSession, notifications: Sequence[Notification]
                               ) -> list[NotificationPublic]:
    """Response shapes, with every current version and every delivery count fetched in two
    queries, however many notifications there are (and their audiences in a few more)."""
    ids = [n.id or 0 for n in notifications]
    versions: dict[tuple[int, int], dict[str, Any]] = {}
    if ids:
        current = select(NotificationVersion).join(Notification, (
            col(Notification.id) == col(NotificationVersion.notification_id))
            & (col(Notification.version) == col(NotificationVersion.version))).where(
            col(Notification.id).in_(ids))
        versions = {(v.notification_id, v.version): v.fields
                    for v in (await db.exec(current)).all()}
    counts = await sending.state_counts_of(db, ids)
    audiences = await audiences_of(db, notifications)
    return [NotificationPublic.model_validate({
        **n.model_dump(), "fields": versions[(n.id or 0, n.version)],
        "deliveries": counts[n.id or 0], "covers": n.refs,
        "contents": ContentPublic.checklist(n.refs)
        if n.kind == NotificationKind.SUBJECT_NOTICE else [],
        "audience": AudiencePublic.of(found) if (found := audiences[n.id or 0]) else None})
        for n in notifications]


async def notification_public(db: AsyncSession, notification: Notification) -> NotificationPublic:
    return (await notifications_public(db, [notification]))[0]


class AttemptPublic(BaseModel):
    at: datetime
    outcome: str
    reply: str | None
    worker: str


class DeliveryPublic(BaseModel):
    id: int
    recipient: str
    address: str | None
    locale: str
    meets: list[str]
    """The obligations this person's letter meets: the laws among those the notice covers
    that protect them."""
    message_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_reply: str | None
    log: list[AttemptPublic]


def delivery_public(delivery: Delivery, attempts: Sequence[DeliveryAttempt]) -> DeliveryPublic:
    """One recipient's line of the delivery log, with every attempt."""
    return DeliveryPublic(
        id=delivery.id or 0, recipient=delivery.recipient_key, address=delivery.address,
        locale=delivery.locale, meets=[m for m in delivery.meets.split(",") if m],
        message_id=delivery.message_id, state=DeliveryState(delivery.state),
        attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at, last_reply=delivery.last_reply,
        log=[AttemptPublic(at=a.at, outcome=a.outcome, reply=a.reply, worker=a.worker)
             for a in attempts])
