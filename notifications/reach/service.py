"""The people a notice did not reach, and recording how each was reached another way.

`not_reached` tells, for each duty a notice to people meets, how many were reached and how,
how many are still missing and why; to a role that may read personal data it lists them,
with what was recorded about each. `record_other_contact` records a postal letter, a call,
or a public communication (see `rules.py`) for some or all of the people not reached, in one
transaction with its timeline event, then settles the duties (`delivery.reaching.settle`):
the last person reached meets a duty, at the time they were reached.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, Invalid
from incident.kernel.schemas import bounded_text
from incident.timeline import service as journal
from notifications.delivery.models import OtherContact
from notifications.delivery.reaching import (
    REACHED,
    UNREACHED,
    Why,
    reach_of,
    reached_otherwise,
    settle,
    substitute_notice,
    unreached_by_why,
    why_of,
)
from notifications.drafting.environment import RenderError
from notifications.drafting.letters import letter_for
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.render import Renderer
from notifications.drafting.rules import CannotRender, NotificationKind
from notifications.drafting.service import get_notification
from notifications.obligations import rules as obligations
from notifications.obligations.engine import iso
from notifications.obligations.models import IncidentObligation
from notifications.obligations.regimes import SubstituteNotice
from notifications.obligations.rules import Reach
from notifications.reach import rules
from notifications.reach.letters import PostalBatch, postal_letters
from notifications.reach.rules import Channel, Outcome

__all__ = ["LETTERS_AT_MOST", "LETTERS_PER_PDF", "Duty", "LetterPart", "NotReached", "Person",
           "PublicDraft", "PublicText", "Recorded", "letter_parts", "letters_for", "not_reached",
           "public_communication", "record_other_contact"]

LETTERS_AT_MOST = 1_000
"""The most letters one CSV download (or one command) holds: the rest are in the next, after
the last delivery id of this one."""
LETTERS_PER_PDF = 200
"""The most letters one PDF download holds: a print-ready letter takes about a third of a
second to lay out, so a part is ready within about a minute and a large batch comes in
parts (`letter_parts`) rather than one request held for many minutes."""


@dataclass(frozen=True, slots=True)
class Duty:
    """One duty the notice meets: whom its letters reached and how, who is missing, why."""

    ref: str
    status: str
    reach: Reach
    why: Why
    substitute_notice: SubstituteNotice | None
    """Its law's rule for a public communication instead (None: it allows none)."""


@dataclass(frozen=True, slots=True)
class Person:
    """A person the notice's e-mail did not reach (personal data), with what was recorded."""

    delivery_id: int
    recipient_key: str
    name: str
    locale: str
    address: str | None
    state: str
    why: str
    last_reply: str | None
    meets: list[str]
    contacts: list[OtherContact] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return any(c.outcome == REACHED for c in self.contacts)


@dataclass(frozen=True, slots=True)
class NotReached:
    notification_id: int
    duties: list[Duty]
    people: list[Person] | None
    """None: the reader may not see personal data."""
    next_after: int | None


@dataclass(frozen=True, slots=True)
class Recorded:
    batch: str
    channel: str
    outcome: str
    people: int
    basis: str | None
    duties: list[Duty]


def _check_notice(notification: Notification) -> None:
    if notification.kind != NotificationKind.SUBJECT_NOTICE:
        raise Conflict(f"notification {notification.id} is a {notification.kind}: people not "
                       "reached are those of a notice to people (a report to an authority that "
                       "did not arrive is sent again or submitted through its portal)")


async def _duties(db: AsyncSession, notification: Notification,
                  incident_id: uuid.UUID) -> list[Duty]:
    rows = {row.ref: row for row in (await db.exec(select(IncidentObligation).where(
        IncidentObligation.incident_id == incident_id,
        col(IncidentObligation.ref).in_(notification.refs)))).all()}
    return [Duty(ref, rows[ref].status if ref in rows else "unknown",
                 await reach_of(db, notification, ref),
                 await unreached_by_why(db, notification, ref), substitute_notice(ref))
            for ref in notification.refs]


async def not_reached(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                      notification_id: int, after: int = 0, limit: int = 100,
                      missing_only: bool = True) -> NotReached:
    """Whom the notice did not reach, per duty it meets (counts, for every reader), and the
    people themselves (ids from `after`, at most `limit`) for a role that may read personal
    data: by default only those still missing (`missing_only`)."""
    incident, notification = await get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id)
    _check_notice(notification)
    duties = await _duties(db, notification, incident.id)
    if not actor.can(Permission.READ_PERSONAL_DATA):
        return NotReached(notification_id, duties, None, None)
    query = select(Delivery).where(Delivery.notification_id == notification.id,
                                   col(Delivery.state).in_(UNREACHED),
                                   col(Delivery.id) > after)
    if missing_only:
        query = query.where(~reached_otherwise())
    found = (await db.exec(query.order_by(col(Delivery.id)).limit(limit + 1))).all()
    more = len(found) > limit
    found = found[:limit]
    records = (await db.exec(select(OtherContact).where(
        col(OtherContact.delivery_id).in_([d.id for d in found])).order_by(
        col(OtherContact.at), col(OtherContact.id)))).all()
    by_delivery: dict[int, list[OtherContact]] = {}
    for record in records:
        by_delivery.setdefault(record.delivery_id, []).append(record)
    people = [Person(d.id or 0, d.recipient_key, d.name, d.locale, d.address, d.state,
                     why_of(d), d.last_reply, notification.refs_met(d.meets),
                     by_delivery.get(d.id or 0, [])) for d in found]
    return NotReached(notification_id, duties, people,
                      people[-1].delivery_id if more and people else None)


async def record_other_contact(db: AsyncSession, *, clock: Clock, actor: Actor,
                               key: str | uuid.UUID, notification_id: int, channel: Channel,
                               outcome: Outcome, at: datetime, note: str,
                               deliveries: Sequence[int] = (), all_not_reached: bool = False,
                               conditions: dict[str, int] | None = None,
                               skew_seconds: int = 300) -> Recorded:
    """Record that the people named (or every one still not reached) were reached another
    way — or that an attempt failed — at `at`; `people_reached_otherwise` (or
    `other_contact_failed`) on the timeline with the counts and the basis, never a name;
    then each duty the notice meets is settled. A public communication needs the approver's
    permission and, for each duty, the condition of its law that held."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    if channel == "public":
        auth.require(actor, Permission.APPROVE)
    rules.check_order(channel, outcome, named=len(deliveries), everyone=all_not_reached)
    note = bounded_text("note", note, limit=rules.NOTE_LIMIT)
    now = clock.now()
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id,
                                                        for_update=True)
        _check_notice(notification)
        obligations.check_met_at(at, aware_at=incident.aware_at, now=now,
                                 skew_seconds=skew_seconds)
        chosen = await _named(db, notification, deliveries, all_not_reached)
        refs = sorted({ref for d in chosen for ref in notification.refs_met(d.meets)})
        basis = (rules.public_basis({ref: substitute_notice(ref) for ref in refs}, conditions)
                 if channel == "public" else None)
        if channel != "public" and conditions:
            raise Invalid.fields([("conditions", "only a public communication names the "
                                   "condition of the law that allowed it")])
        batch = f"{channel}-{uuid.uuid4().hex[:12]}"
        conn = await db.connection()
        await conn.execute(insert(OtherContact), [
            {"delivery_id": d.id, "channel": channel, "outcome": outcome, "at": at,
             "recorded_at": now, "recorded_by": actor.label, "note": note, "basis": basis,
             "batch": batch} for d in chosen])
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor,
            kind="people_reached_otherwise" if outcome == REACHED else "other_contact_failed",
            payload={"notification": notification.id, "channel": channel, "outcome": outcome,
                     "people": len(chosen), "at": iso(at), "batch": batch, "basis": basis,
                     "note": bool(note)})
        await settle(db, incident, notification, now,
                     cause=f"{len(chosen)} recorded as {outcome} by {channel}", announce=False)
        duties = await _duties(db, notification, incident.id)
    return Recorded(batch, channel, outcome, len(chosen), basis, duties)


async def _named(db: AsyncSession, notification: Notification, ids: Sequence[int],
                 everyone: bool) -> list[Delivery]:
    """The deliveries a record is about: each one of this notice, not reached by e-mail and
    not already reached another way (Conflict naming the first few otherwise)."""
    if everyone:
        found = list((await db.exec(select(Delivery).where(
            Delivery.notification_id == notification.id, col(Delivery.state).in_(UNREACHED),
            ~reached_otherwise()).order_by(col(Delivery.id)))).all())
        if not found:
            raise Conflict(f"notification {notification.id}: everyone its letters address was "
                           "reached; nothing to record")
        return found
    found = await _unreached(db, notification, ids, purpose="nothing to record")
    already = sorted(set((await db.exec(select(OtherContact.delivery_id).where(
        col(OtherContact.delivery_id).in_([d.id for d in found]),
        col(OtherContact.outcome) == REACHED))).all()))
    if already:
        raise Conflict(f"deliveries {_few(already)} were already recorded as reached")
    return found


async def _unreached(db: AsyncSession, notification: Notification, ids: Sequence[int], *,
                     purpose: str) -> list[Delivery]:
    """The deliveries `ids` of this notice, by id, each one that ended unreached: Invalid
    naming those that are not its deliveries, Conflict naming those that did not end
    unreached (`purpose` says why that matters)."""
    wanted = list(dict.fromkeys(ids))
    found = list((await db.exec(select(Delivery).where(
        Delivery.notification_id == notification.id, col(Delivery.id).in_(wanted)).order_by(
        col(Delivery.id)))).all())
    known = {d.id for d in found}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise Invalid.fields([("deliveries", f"not deliveries of notification "
                               f"{notification.id}: {_few(unknown)}")])
    sent = [d.id or 0 for d in found if d.state not in UNREACHED]
    if sent:
        raise Conflict(f"deliveries {_few(sent)} of notification {notification.id} did not end "
                       f"unreached (sent by e-mail, or still being sent): {purpose}")
    return found


def _few(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


async def letters_for(db: AsyncSession, *, clock: Clock, actor: Actor, key: str | uuid.UUID,
                      notification_id: int, renderer: Renderer, file_format: str,
                      deliveries: Sequence[int] = (), after: int = 0,
                      limit: int = LETTERS_AT_MOST) -> PostalBatch:
    """Postal letters, in each person's language and from the same texts as the e-mail,
    for the people named (each not reached by it) or, by default, everyone still not
    reached (from delivery id `after`, at most `limit`; the batch's `next_after` says where
    the rest begin). Reading them is reading personal data: `letters_exported` on the
    timeline (counts and format, never a name)."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    now = clock.now()
    async with transaction(db):
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id)
        _check_notice(notification)
        more = False
        if len(set(deliveries)) > limit:
            raise Invalid.fields([("deliveries", f"at most {limit} people at a time in this "
                                   "format")])
        if deliveries:
            ids = [d.id or 0 for d in await _unreached(
                db, notification, deliveries, purpose="a letter is for a person the e-mail "
                "missed")]
        else:
            ids = [i or 0 for i in (await db.exec(select(Delivery.id).where(
                Delivery.notification_id == notification.id, col(Delivery.state).in_(UNREACHED),
                col(Delivery.id) > after, ~reached_otherwise()).order_by(
                col(Delivery.id)).limit(limit + 1))).all()]
            more, ids = len(ids) > limit, ids[:limit]
        batch = await postal_letters(db, notification, ids, renderer=renderer, now=now)
        if more:
            batch = replace(batch, next_after=ids[-1])
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="letters_exported",
            payload={"notification": notification.id, "format": file_format,
                     "letters": len(batch.letters),
                     "without_address": len(batch.without_address)})
    return batch


@dataclass(frozen=True, slots=True)
class LetterPart:
    """One part of the letters for the people still not reached: the delivery id it begins
    after (`after` of `letters_for`) and how many people it holds."""

    number: int
    after: int
    people: int


async def letter_parts(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       notification_id: int, size: int = LETTERS_PER_PDF) -> list[LetterPart]:
    """The people the notice still has not reached, by delivery id, in parts of at most
    `size` (none when everyone was reached)."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    _, notification = await get_notification(db, actor=actor, key=key,
                                             notification_id=notification_id)
    _check_notice(notification)
    ids = [i or 0 for i in (await db.exec(select(Delivery.id).where(
        Delivery.notification_id == notification.id, col(Delivery.state).in_(UNREACHED),
        ~reached_otherwise()).order_by(col(Delivery.id)))).all()]
    return [LetterPart(n + 1, ids[start - 1] if start else 0, len(ids[start:start + size]))
            for n, start in enumerate(range(0, len(ids), size))]


@dataclass(frozen=True, slots=True)
class PublicText:
    """The notice's text in one language, addressed to no one in particular."""

    locale: str
    subject: str
    text: str
    people: int
    """The people still not reached who read this language."""


@dataclass(frozen=True, slots=True)
class PublicDraft:
    """A public communication drafted from the notice's own texts, in each language of the
    people still not reached, with each duty's rule for one (None: its law allows none)."""

    rules: dict[str, SubstituteNotice | None]
    texts: list[PublicText]


async def public_communication(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                               notification_id: int, renderer: Renderer,
                               now: datetime) -> PublicDraft:
    """The notice's approved texts as a public communication: one version per language the
    people still not reached read, rendered as their letter is (the same parts their laws
    ask for and the data concerned, for all of them at once) but addressed to no name."""
    _, notification = await get_notification(db, actor=actor, key=key,
                                             notification_id=notification_id)
    _check_notice(notification)
    groups = (await db.exec(select(Delivery.locale, Delivery.meets, Delivery.categories).where(
        Delivery.notification_id == notification.id, col(Delivery.state).in_(UNREACHED),
        ~reached_otherwise()))).all()
    readers: dict[str, tuple[set[str], int, int]] = {}
    for locale, meets, categories in groups:
        refs, mask, people = readers.get(locale, (set(), 0, 0))
        refs.update(notification.refs_met(meets))
        readers[locale] = (refs, mask | int(categories or 0), people + 1)
    letter = await letter_for(db, notification)
    letter.report_date = now
    texts = []
    for locale, (refs, mask, people) in sorted(readers.items()):
        anyone = Delivery(notification_id=notification.id or 0, recipient_key="public",
                          name="", locale=locale, meets=",".join(sorted(refs)),
                          categories=mask, message_id="", next_attempt_at=now)
        try:
            rendered = letter.rendered_for(renderer, anyone)
        except RenderError as exc:
            raise CannotRender(f"notification {notification.id} cannot be rendered in "
                               f"{locale}: {exc}") from exc
        texts.append(PublicText(rendered.locale, rendered.subject, rendered.text, people))
    return PublicDraft({ref: substitute_notice(ref) for ref in notification.refs}, texts)
