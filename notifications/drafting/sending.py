"""Sending an approved notification, and following it: one delivery row per recipient queued in
bulk with a fixed Message-ID each, progress counts, pausing, and the per-recipient log."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.affected.models import AffectedSnapshot
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, DomainError, Invalid
from incident.timeline import service as journal
from notifications.drafting import contents, queuing, rules, tallies, translations
from notifications.drafting.audience import Audience, audience, combined
from notifications.drafting.audiences import people_by_jurisdiction, protects_of
from notifications.drafting.models import Delivery, DeliveryAttempt, DeliveryQueue, Notification
from notifications.drafting.render import Renderer
from notifications.drafting.requirements import authority_contact, filing_advice
from notifications.drafting.rules import DeliveryState, NotificationKind, NotificationStatus
from notifications.drafting.service import (
    _refuse,
    authority_of,
    current_version,
    get_notification,
    unfit_to_send,
)
from notifications.drafting.translations import normal_locale, organisation_language
from notifications.obligations.models import OrganisationProfile
from notifications.obligations.service import get_profile, latest_snapshot


async def state_counts_of(db: AsyncSession, notification_ids: Collection[int]
                          ) -> dict[int, dict[str, int]]:
    """How many deliveries each notification has in each state (from its tallies), and
    under `QUEUING` how many of its people are not yet queued (a large notice is queued a
    part at a time: `queuing.py`).

    Every id asked about is in the answer; one with no delivery maps to `{}`.
    """
    conn = await db.connection()
    counts = await tallies.counts_of(conn, notification_ids)
    for notification_id, waiting in (await queuing.waiting_of(conn, notification_ids)).items():
        if waiting:
            counts[notification_id][queuing.QUEUING] = waiting
    return counts


async def state_counts(db: AsyncSession, notification_id: int) -> dict[str, int]:
    """How many of the notification's deliveries are in each state."""
    return (await state_counts_of(db, [notification_id]))[notification_id]


async def progress(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                   notification_id: int) -> tuple[Notification, dict[str, int]]:
    _, notification = await get_notification(db, actor=actor, key=key,
                                             notification_id=notification_id)
    return notification, await state_counts(db, notification_id)


async def set_paused(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                     notification_id: int, paused: bool) -> Notification:
    """Pause (deliveries stay queued, none is claimed) or resume a notification being sent."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True)
        notification.status = rules.steered(notification.id,
                                            NotificationStatus(notification.status),
                                            paused=paused).value
        db.add(notification)
        await journal.append_event(db, chain=str(incident.id), at=now, actor=actor,
                                   kind="notification_paused" if paused else "notification_resumed",
                                   payload={"notification": notification.id})
    return notification


async def delivery_log(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       notification_id: int, after_id: int = 0, limit: int = 100
                       ) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """Per recipient: state, Message-ID, every attempt with the server's reply (personal data)."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    await get_notification(db, actor=actor, key=key, notification_id=notification_id)
    deliveries = (await db.exec(select(Delivery).where(
        Delivery.notification_id == notification_id, col(Delivery.id) > after_id).order_by(
        col(Delivery.id)).limit(limit))).all()
    ids = [d.id for d in deliveries]
    attempts = (await db.exec(select(DeliveryAttempt).where(
        col(DeliveryAttempt.delivery_id).in_(ids)).order_by(col(DeliveryAttempt.id)))).all()
    by_delivery: dict[int, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return [(d, by_delivery.get(d.id or 0, [])) for d in deliveries]


async def set_message_ids(conn: AsyncConnection, notification_id: int, domain: str) -> None:
    """Give every delivery of a notification its Message-ID, fixed for all its attempts."""
    await conn.execute(text(
        f"UPDATE deliveries SET message_id = {queuing.message_id_sql('id')} "  # noqa: S608
        "WHERE notification_id = :n"),
        {"n": notification_id, **queuing.message_id_parts(notification_id, domain)})


async def send(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
               notification_id: int, message_domain: str,
               not_before: datetime | None = None, renderer: Renderer | None = None,
               fallback: str | None = None, confirm: int | None = None,
               confirm_above: int | None = None) -> Notification:
    """Queue an approved notification: one delivery per recipient, written in bulk (the
    first `queuing.PART` people of a notice to people; the rest by the outbox: `queuing.py`).

    To more than `confirm_above` recipients (BREACH_CONFIRM_SEND_ABOVE; None: no limit) it
    is sent only when `confirm` is their number, as the sender saw it counted: otherwise
    Invalid, and nothing is written. The counts (`recipient_counts`) and the confirmation go
    into the `notification_sent` event.

    With `not_before`, a scheduled send: the deliveries wait in the outbox until then. Every
    recipient's language must have the draft's text (a letter is never half in another
    language), unless `fallback` names the language those recipients get instead; `renderer`
    says which language a recipient's letter is written in (their own when it has templates).
    """
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    if not_before is not None and not_before < now:
        raise Invalid.fields([("at", "a scheduled send lies in the future")])
    refusal: DomainError | None = None
    async with transaction(db):
        # Queueing a large audience takes seconds: meanwhile the incident takes notes and
        # other changes; the notification's own row keeps its changes waiting.
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True, only_keep_incident=True)
        refusal = rules.send_refusal(notification.id, NotificationStatus(notification.status),
                                     approved_hash=notification.approved_hash,
                                     content_hash=notification.content_hash)
        if refusal is None:
            refusal = await unfit_to_send(db, notification, now=now, doing="sent")
        if refusal is None:
            profile = await get_profile(db)
            fields = (await current_version(db, notification)).fields
            languages = Languages(fields, profile, renderer, notification.kind, fallback)
            counts = await recipient_counts(db, notification, incident.reference, profile,
                                            languages)
            if isinstance(counts, DomainError):
                refusal = counts
            else:
                if unconfirmed := rules.confirmation_refusal(counts.recipients, confirm,
                                                             confirm_above):
                    raise unconfirmed  # a typo, not a decision: nothing is written
                needed = rules.confirmation_needed(counts.recipients, confirm_above)
                # Queued from the same transaction's counts: the number confirmed is the
                # number queued.
                queued = await _queue(db, notification, profile, now, not_before or now,
                                      message_domain, languages, counts)
                if isinstance(queued, DomainError):
                    refusal = queued
                else:
                    notification.status, notification.sent_at = NotificationStatus.SENDING.value, now
                    notification.recipients = queued.recipients
                    db.add(notification)
                    await journal.append_event(
                        db, chain=str(incident.id), at=now, actor=actor, kind="notification_sent",
                        payload={"notification": notification.id, "ref": notification.ref,
                                 "recipients": queued.recipients,
                                 "snapshot": notification.snapshot_id,
                                 "not_before": not_before.isoformat() if not_before else None,
                                 "content_hash": notification.content_hash,
                                 **({"audience": queued.audience.payload()} if queued.audience
                                    else {}),
                                 **({"covers": notification.covers} if notification.covers
                                    else {}),
                                 "languages": queued.languages, **counts.payload(),
                                 "confirmation": {"above": confirm_above, "required": needed,
                                                  "typed": confirm}})
                    return notification
    assert refusal is not None
    await _refuse(db, now=now, actor=actor, incident_id=incident.id,
                  notification_id=notification_id, action="send", why=refusal.detail)
    raise refusal


class Counts(NamedTuple):
    """Whom a send reaches, counted before it is made: the recipients, by the language their
    letter is written in, and by channel (`email`; `none`: no e-mail address on record, the
    deliveries `_queue` marks failed at once); with what `_queue` makes them from."""

    recipients: int
    languages: dict[str, int]
    channels: dict[str, int]
    readers: dict[str, int]
    """The recipients by the language they read (before letters are placed)."""
    addressed: Addressed | None = None
    """A notice to people: whom it addresses, in which snapshot."""

    def payload(self) -> dict[str, Any]:
        return {"by_language": dict(sorted(self.languages.items())),
                "by_channel": dict(self.channels), "no_address": self.channels.get("none", 0)}


async def recipient_counts(db: AsyncSession, notification: Notification, reference: str,
                           profile: OrganisationProfile | None, languages: Languages
                           ) -> Counts | DomainError:
    """What `_queue` would make now, counted: the same snapshot, audience and address rule."""
    if notification.kind == NotificationKind.AUTHORITY_REPORT:
        contact = authority_contact(notification.ref, profile.authorities if profile else {}) or {}
        readers = {str(contact.get("language") or languages.default): 1}
        letters, _ = languages.letters(readers)
        return Counts(1, letters, {"email" if contact.get("email") else "none": 1}, readers)
    if notification.kind != NotificationKind.SUBJECT_NOTICE:
        return Counts(0, {}, {}, {})
    found = await addressed_now(db, notification, reference, profile)
    if isinstance(found, DomainError):
        return found
    scope, conn = found.scope, await db.connection()
    summary = found.snapshot.summary if isinstance(found.snapshot.summary, dict) else {}
    by_locale = summary.get("by_locale")
    # Everyone in the snapshot: its people by language were counted when it was made.
    readers = ({str(locale): int(count) for locale, count in by_locale.items()}
               if found.union.everyone and isinstance(by_locale, dict)
               else await scope.readers(conn))
    letters, _ = languages.letters(readers)
    total, reachable = (await conn.execute(text(
        "SELECT count(*), count(s.email) FROM affected_subjects a "  # noqa: S608
        f"LEFT JOIN subjects s ON s.id = a.subject_id WHERE {scope.where}"
    ).bindparams(*scope.binds), scope.params)).one()
    return Counts(int(total), letters,
                  {"email": int(reachable), "none": int(total) - int(reachable)}, readers, found)


class Queued(NamedTuple):
    """What queueing made: the number of deliveries, whom a notice to people addresses, and
    the languages its letters are written in (with any fallback chosen, and for whom)."""

    recipients: int
    audience: Audience | None
    languages: dict[str, Any]


def _people(count: int) -> str:
    return f"{count} recipient" if count == 1 else f"{count} recipients"


class LanguageRow(NamedTuple):
    locale: str
    recipients: int
    missing: list[str]
    """The fields with text in another language and none in this one."""


async def language_table(db: AsyncSession, notification: Notification, renderer: Renderer
                         ) -> list[LanguageRow]:
    """For a draft: per language its letters would be written in, how many recipients and
    which fields lack text in it (the latest snapshot's audience; a report's authority)."""
    profile = await get_profile(db)
    fields = (await current_version(db, notification)).fields
    languages = Languages(fields, profile, renderer, notification.kind, None)
    if notification.kind == NotificationKind.AUTHORITY_REPORT:
        contact = authority_contact(notification.ref, profile.authorities if profile else {}) or {}
        return languages.table({str(contact.get("language") or languages.default): 1})
    if notification.kind != NotificationKind.SUBJECT_NOTICE:
        return []
    found = await addressed_now(db, notification, "", profile)
    if isinstance(found, DomainError):
        return []
    return languages.table(await found.scope.readers(await db.connection()))


async def letter_variants(db: AsyncSession, notification: Notification
                          ) -> list[tuple[tuple[str, ...], int]]:
    """For a draft of a notice meeting several laws: the different letters it would send
    now (the set of laws each meets) and to how many people each (the latest snapshot)."""
    if notification.kind != NotificationKind.SUBJECT_NOTICE or not notification.covers:
        return []
    found = await addressed_now(db, notification, "", await get_profile(db))
    return [] if isinstance(found, DomainError) else contents.variants(found.each, found.people)


class Scope(NamedTuple):
    """The addressed people of a snapshot as SQL: a WHERE over `affected_subjects a` that is
    one of two fixed fragments, with its values bound, never written in."""

    where: str
    params: dict[str, Any]
    binds: list[BindParameter[Any]]

    @classmethod
    def of(cls, snapshot_id: int, audience: Audience) -> Scope:
        return cls(*queuing.scope_sql(snapshot_id, None if audience.everyone
                                      else audience.jurisdictions))

    async def readers(self, conn: AsyncConnection) -> dict[str, int]:
        """How many of them read each locale."""
        rows = (await conn.execute(text(
            f"SELECT a.locale, count(*) FROM affected_subjects a WHERE {self.where} "  # noqa: S608
            "GROUP BY a.locale").bindparams(*self.binds), self.params)).all()
        return {str(locale): int(count) for locale, count in rows}


class Languages:
    """Which language each recipient's letter is written in, and whether the draft has its
    text: the recipient's own language when templates exist for it (else the organisation's),
    moved to the sender's explicit `fallback` when the draft has no text in it."""

    def __init__(self, fields: Mapping[str, Any], profile: OrganisationProfile | None,
                 renderer: Renderer | None, kind: str, fallback: str | None) -> None:
        self.fields, self.kind, self.renderer = fields, kind, renderer
        self.default = organisation_language(profile)
        self.fallback = normal_locale(fallback) if fallback else None
        self.asked = fallback

    def letters(self, readers: Mapping[str, int]) -> tuple[dict[str, int], dict[str, list[str]]]:
        """({language a letter is written in: recipients}, {language: fields with no text})."""
        letters: dict[str, int] = {}
        for locale, count in readers.items():
            written = self.letter_locale(locale)
            letters[written] = letters.get(written, 0) + count
        return letters, translations.gaps(self.fields, rules.EDITABLE.get(self.kind, ()),
                                          letters, self.default)

    def table(self, readers: Mapping[str, int]) -> list[LanguageRow]:
        """Per language letters are written in: how many recipients, and the fields with no
        text in it."""
        letters, missing = self.letters(readers)
        return [LanguageRow(locale, count, missing.get(locale, []))
                for locale, count in sorted(letters.items(), key=lambda item: (-item[1], item[0]))]

    def letter_locale(self, locale: str) -> str:
        if self.renderer is None:
            return normal_locale(locale) or self.default
        return self.renderer.resolve_locale(self.kind, locale, self.default)

    def placed(self, readers: Mapping[str, int]) -> tuple[dict[str, str], dict[str, Any]] | Conflict:
        """{recipient locale: the locale their letter is written in} for the locales that
        move to the fallback, and what goes on the timeline; or why sending is refused."""
        letters, missing = self.letters(readers)
        record: dict[str, Any] = {"letters": dict(sorted(letters.items()))}
        if not missing:
            return {}, record
        if self.asked and self.fallback is None:
            return Conflict(f"the fallback {self.asked!r} is not a language we know")
        if self.fallback is None:
            return Conflict(
                "the draft has no text in " + "; ".join(
                    f"{locale} ({letters[locale]} {'recipient' if letters[locale] == 1 else 'recipients'}:"
                    f" {', '.join(names)})" for locale, names in missing.items())
                + ": write it, or send with a fallback language for them",
                errors=[{"field": f"text in {locale}",
                         "message": f"{_people(letters[locale])} read it, and it has no "
                                    f"{', '.join(name.replace('_', ' ') for name in names)}; "
                                    "write it, or choose a fallback language for them"}
                        for locale, names in missing.items()])
        landing = self.letter_locale(self.fallback)
        if translations.gaps(self.fields, rules.EDITABLE.get(self.kind, ()), {landing: 1},
                             self.default):
            return Conflict(f"the fallback {self.fallback} has no text of its own either")
        moved = {locale: self.fallback for locale in readers
                 if self.letter_locale(locale) in missing}
        record.update(fallback=self.fallback,
                      moved={locale: letters[locale] for locale in missing})
        return moved, record


async def _queue(db: AsyncSession, notification: Notification,
                 profile: OrganisationProfile | None, now: datetime, due: datetime,
                 domain: str, languages: Languages, counts: Counts) -> Queued | DomainError:
    """Queue the deliveries `counts` counted (due at `due`); returns their number (and a
    notice's audience), or why they cannot be made.

    A notice to people goes to the people of the latest snapshot whom its obligation's law
    protects (`audience.py`). Its first `queuing.PART` people are queued here; the rest, if any, by
    the outbox a part at a time, from the plan stored here (`queuing.py`), so no
    transaction holds the database for a million rows.
    """
    addressed: Audience | None = None
    conn = await db.connection()
    if notification.kind == NotificationKind.SUBJECT_NOTICE:
        found = counts.addressed
        assert found is not None  # counted for a notice to people
        addressed = found.union
        notification.snapshot_id = found.snapshot.id
        placed = languages.placed(counts.readers)
        if isinstance(placed, DomainError):
            return placed
        moved, record = placed
        plan = queuing.QueuePlan(
            snapshot=found.snapshot.id or 0,
            jurisdictions=None if addressed.everyone else tuple(addressed.jurisdictions),
            moved=tuple(sorted(moved)), fallback=languages.fallback if moved else None,
            meets=queuing.meets_of(found.each), message_domain=domain, due=due)
        last, written = await queuing.queue_part(conn, notification.id or 0, plan, after="",
                                                 most=queuing.PART)
        if last is not None and counts.recipients > written:
            db.add(DeliveryQueue(notification_id=notification.id or 0, plan=plan.as_json(),
                                 after=last, remaining=counts.recipients - written,
                                 created_at=now))
        return Queued(counts.recipients, addressed, record)
    contact = authority_contact(notification.ref, profile.authorities if profile else {}) or {}
    if not contact.get("email"):
        advice = filing_advice(authority_of(notification.ref))
        return Conflict(f"no e-mail address for {notification.ref} in the organisation profile "
                        f"(authorities.{notification.ref}.email)"
                        + (f"; {advice}" if advice else ""))
    asked = str(contact.get("language") or languages.default)
    placed = languages.placed({asked: 1})
    if isinstance(placed, DomainError):
        return placed
    moved, record = placed
    await conn.execute(text(
        "INSERT INTO deliveries (notification_id, recipient_key, address, name, locale, "
        "categories, meets, message_id, state, attempts, next_attempt_at) "
        "VALUES (:n, :key, :address, :name, :locale, 0, :key, '', :pending, 0, :due)"
    ).bindparams(bindparam("due", type_=Delivery.__table__.c.next_attempt_at.type),  # type: ignore[attr-defined]
                 bindparam("pending", type_=String)),
        {"n": notification.id, "due": due, "pending": DeliveryState.PENDING.value,
         "address": contact["email"], "name": contact.get("name", ""), "key": notification.ref,
         "locale": moved.get(asked, asked)})
    await set_message_ids(conn, notification.id or 0, domain)
    await tallies.recount(conn, [notification.id or 0])
    return Queued(1, addressed, record)


class Addressed(NamedTuple):
    """Whom a notice to people goes to in a snapshot (`union`), and whom each obligation it
    covers addresses (`each`, by obligation)."""

    snapshot: AffectedSnapshot
    union: Audience
    each: dict[str, Audience]
    people: dict[str, int]
    """The snapshot's people by jurisdiction."""

    @property
    def scope(self) -> Scope:
        """Them, as SQL over the snapshot's `affected_subjects a`."""
        return Scope.of(self.snapshot.id or 0, self.union)


async def addressed_now(db: AsyncSession, notification: Notification, reference: str,
                        profile: OrganisationProfile | None) -> Addressed | DomainError:
    """Whom a notice to people addresses in its incident's latest snapshot (every person
    some law it covers protects), or why it addresses nobody (`reference`: the incident's,
    for the message)."""
    snapshot = (await latest_snapshot(db, notification.incident_id)
                if notification.incident_id is not None else None)
    if snapshot is None or snapshot.id is None:
        return Conflict(f"{reference} has no affected-people snapshot: compute one")
    people = await people_by_jurisdiction(db, snapshot)
    each: dict[str, Audience] = {}
    for ref in notification.refs:
        protects = protects_of(ref)
        if protects is None:
            return Conflict(f"{ref} is not an obligation owed to people in the regime files: "
                            "whom its notice goes to is not known")
        each[ref] = audience(protects, people=people, established_in=(
            profile.principal_place or profile.country) if profile else None)
    union = combined(each, people)
    if not union.count:
        return Conflict(f"{', '.join(each)} {'addresses' if len(each) == 1 else 'address'} "
                        f"nobody: {'; '.join(a.why_nobody() for a in each.values())}")
    return Addressed(snapshot, union, each, people)


def message_domain(mail_from: str) -> str:
    """The domain of Message-IDs: the sender's own."""
    address = mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "localhost"
