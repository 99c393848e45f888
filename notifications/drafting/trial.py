"""Before a notification is sent: whom it will reach (the send preview), and a test send of
each of its letters to the sender's own address.

The send preview counts what `sending._queue` would make now, by the same rules (the latest
snapshot, the people the laws it meets protect, an e-mail address on record or none), and
lists the people with no address to a role that may read personal data (as the delivery
log does, without a timeline event); others see only their number.

The test send follows the pattern of reminders and checkpoint copies: an internal
notification of its own (kind `test_copy`, ref `test:<notification id>`) with one delivery
per language its letters are written in, to the signed-in user's own address, queued in the
outbox like any mail (retries, a Message-ID, the delivery log), so the request never waits
on SMTP. Each letter is rendered here exactly as the outbox renders a real recipient's
(`Letter.rendered_for`, for the first recipient of that language: their language, the laws
their letter meets and the data exposed), with a sample name in place of theirs and
"[TEST]" before the subject; the outbox sends it as rendered. The deliveries belong to the
test's own notification: never a delivery of the notice, and its ref is no obligation's,
so it never meets one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import User
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.clock import Clock
from incident.kernel.db import transaction
from incident.kernel.errors import Conflict, DomainError
from incident.lifecycle.models import Incident
from incident.timeline import service as journal
from notifications.drafting import rules
from notifications.drafting.environment import RenderError
from notifications.drafting.letters import Letter, letter_for
from notifications.drafting.models import Delivery, Notification, NotificationVersion
from notifications.drafting.queuing import meets_of, meets_sql
from notifications.drafting.render import Renderer
from notifications.drafting.rules import CannotRender, NotificationKind, NotificationStatus
from notifications.drafting.sending import (
    Addressed,
    Counts,
    LanguageRow,
    Languages,
    Scope,
    addressed_now,
    recipient_counts,
    set_message_ids,
)
from notifications.drafting.service import current_version, get_notification
from notifications.obligations.service import get_profile

LISTED = 200
"""At most this many people with no address are listed (their number is always given)."""

SAMPLE_NAME = "Sample Recipient"
"""The name a test letter is addressed to: the shape of a real recipient's, not their name."""

TEST_MARK = "[TEST] "


class Unreachable(NamedTuple):
    """A person the notice addresses who has no e-mail address on record (personal data)."""

    external_id: str
    name: str
    locale: str


@dataclass(frozen=True)
class SendPreview:
    """Whom a send would reach now, and whether the sender must type their number."""

    counts: Counts
    languages: list[LanguageRow]
    unreachable: list[Unreachable] | None
    """None: the reader may not see personal data (they see `counts.channels["none"]`)."""
    confirm_above: int

    @property
    def confirm_required(self) -> bool:
        return rules.confirmation_needed(self.counts.recipients, self.confirm_above)

    @property
    def instruction(self) -> str | None:
        """What the sender types, when they must: "Type 51 to send to 51 people"."""
        if not self.confirm_required:
            return None
        instruction = rules.confirmation_instruction(self.counts.recipients)
        return instruction[:1].upper() + instruction[1:]


async def send_preview(db: AsyncSession, *, actor: Actor, key: str | uuid.UUID,
                       notification_id: int, renderer: Renderer, confirm_above: int,
                       fallback: str | None = None) -> SendPreview:
    """The counts a send would make now: recipients by the language of their letter and by
    channel, and (for a role that may read personal data) who has no e-mail address.

    Raises the refusal the send itself would meet for lack of recipients (no snapshot, an
    obligation owed to nobody)."""
    incident, notification = await get_notification(db, actor=actor, key=key,
                                                    notification_id=notification_id)
    profile = await get_profile(db)
    fields = (await current_version(db, notification)).fields
    languages = Languages(fields, profile, renderer, notification.kind, fallback)
    counts = await recipient_counts(db, notification, incident.reference, profile, languages)
    if isinstance(counts, DomainError):
        raise counts
    unreachable: list[Unreachable] | None = None
    if actor.can(Permission.READ_PERSONAL_DATA):
        unreachable = (await _unreachable(db, counts.addressed.scope)
                       if counts.addressed is not None and counts.channels.get("none") else [])
    return SendPreview(counts, languages.table(counts.readers), unreachable, confirm_above)


async def _unreachable(db: AsyncSession, scope: Scope) -> list[Unreachable]:
    rows = (await (await db.connection()).execute(text(
        "SELECT a.external_id, COALESCE(s.name, ''), a.locale FROM affected_subjects a "  # noqa: S608
        f"LEFT JOIN subjects s ON s.id = a.subject_id WHERE {scope.where} AND s.email IS NULL "
        "ORDER BY a.external_id LIMIT :listed").bindparams(*scope.binds),
        {**scope.params, "listed": LISTED})).all()
    return [Unreachable(str(external_id), str(name), str(locale))
            for external_id, name, locale in rows]


class TestSent(NamedTuple):
    """A test send queued: the test's own notification, the languages, the address."""

    notification_id: int
    languages: list[str]
    address: str


async def _own_address(db: AsyncSession, actor: Actor) -> str:
    """The signed-in user's e-mail address; Conflict for an actor who is no user."""
    user = await db.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.email:
        raise Conflict(f"a test send goes to the signed-in user's own e-mail address; "
                       f"{actor.label} has none: act as a user (--as EMAIL)")
    return user.email


async def send_test_copies(db: AsyncSession, *, clock: Clock, actor: Actor,
                           key: str | uuid.UUID, notification_id: int, renderer: Renderer,
                           message_domain: str, fallback: str | None = None) -> TestSent:
    """Queue one test letter per language the approved notice's letters are written in, to
    the sender's own address, marked "[TEST]"; `notification_test_sent` on the timeline
    (the languages and whose address, never the address)."""
    auth.require(actor, Permission.WRITE_INCIDENTS)
    now = clock.now()
    async with transaction(db):
        address = await _own_address(db, actor)
        incident, notification = await get_notification(db, actor=actor, key=key,
                                                        notification_id=notification_id)
        if (notification.status != NotificationStatus.APPROVED
                or notification.approved_hash != notification.content_hash):
            raise Conflict(f"notification {notification.id} is {notification.status}: only an "
                           "approved notification, unchanged since its approval, is test-sent")
        if notification.kind != NotificationKind.SUBJECT_NOTICE:
            raise Conflict(f"notification {notification.id} is a {notification.kind}: a test "
                           "send is for notices to people (a report has its preview and PDF)")
        profile = await get_profile(db)
        fields = (await current_version(db, notification)).fields
        languages = Languages(fields, profile, renderer, notification.kind, fallback)
        found = await addressed_now(db, notification, incident.reference, profile)
        if isinstance(found, DomainError):
            raise found
        letter = await letter_for(db, notification)
        copies = await _copies(db, notification, found, languages, renderer, letter, now)
        test = await _queue_copies(db, incident, notification, actor, address, copies, letter,
                                   now, message_domain)
        await journal.append_event(
            db, chain=str(incident.id), at=now, actor=actor, kind="notification_test_sent",
            payload={"notification": notification.id, "test": test, "languages": sorted(copies),
                     "to": "sender", "role": actor.role.value,
                     "content_hash": notification.content_hash})
    return TestSent(test, sorted(copies), address)


async def _copies(db: AsyncSession, notification: Notification, found: Addressed,
                  languages: Languages, renderer: Renderer, letter: Letter,
                  now: datetime) -> dict[str, dict[str, str]]:
    """{language a letter is written in: its subject, text and HTML}, each rendered for the
    first recipient (by external id) whose letter is written in it."""
    conn = await db.connection()
    scope = found.scope
    placed = languages.placed(await scope.readers(conn))
    if isinstance(placed, DomainError):
        raise placed
    moved, _ = placed
    firsts = (await conn.execute(text(
        f"SELECT a.locale, MIN(a.external_id) FROM affected_subjects a WHERE {scope.where} "  # noqa: S608
        "GROUP BY a.locale").bindparams(*scope.binds), scope.params)).all()
    meets, meets_params, meets_binds = meets_sql(meets_of(found.each))
    rows = (await conn.execute(text(
        f"SELECT a.external_id, a.locale, a.categories, {meets} FROM affected_subjects a "  # noqa: S608
        f"WHERE {scope.where} AND a.external_id IN :firsts").bindparams(
        *scope.binds, *meets_binds, bindparam("firsts", expanding=True)),
        {**scope.params, **meets_params, "firsts": [first for _, first in firsts]})).all()
    letter.report_date = now
    chosen: dict[str, tuple[str, int, str]] = {}
    for _, locale, categories, met in sorted(rows, key=lambda row: str(row[0])):
        reads = moved.get(str(locale), str(locale))
        chosen.setdefault(languages.letter_locale(reads),
                          (reads, int(categories or 0), str(met or "")))
    copies: dict[str, dict[str, str]] = {}
    for written, (reads, categories, met) in sorted(chosen.items()):
        sample = Delivery(notification_id=notification.id or 0, recipient_key="test",
                          name=SAMPLE_NAME, locale=reads, meets=met, categories=categories,
                          message_id="", next_attempt_at=now)
        try:
            rendered = letter.rendered_for(renderer, sample)
        except RenderError as exc:
            raise CannotRender(f"notification {notification.id} cannot be rendered in "
                               f"{written}: {exc}") from exc
        copies[written] = {"subject": TEST_MARK + rendered.subject, "text": rendered.text,
                           "html": rendered.html}
    return copies


async def _queue_copies(db: AsyncSession, incident: Incident, notification: Notification,
                        actor: Actor, address: str, copies: dict[str, dict[str, str]],
                        letter: Letter, now: datetime, domain: str) -> int:
    """The test's own notification with one delivery per language; returns its id."""
    ref = f"test:{notification.id}"
    earlier = (await db.exec(select(func.count()).where(
        Notification.incident_id == incident.id, col(Notification.ref) == ref))).one()
    sequence = int(earlier) + 1
    stored: dict[str, Any] = {"of": notification.id, "version": notification.version,
                              "content_hash": notification.content_hash,
                              "author": letter.author, "reply_to": letter.reply_to,
                              "copies": copies}
    kind = NotificationKind.TEST_COPY.value
    digest = rules.content_hash(kind, ref, sequence, stored)
    test = Notification(incident_id=incident.id, ref=ref, kind=kind, sequence=sequence,
                        status=NotificationStatus.SENDING.value, sent_at=now,
                        content_hash=digest, recipients=len(copies), created_at=now,
                        created_by=actor.label)
    db.add(test)
    await db.flush()
    assert test.id is not None
    db.add(NotificationVersion(notification_id=test.id, version=1, fields=stored,
                               content_hash=digest, created_at=now, created_by=actor.label))
    for written in copies:
        db.add(Delivery(notification_id=test.id, recipient_key=f"test:{written}",
                        address=address, name="", locale=written, message_id="",
                        next_attempt_at=now))
    await db.flush()
    await set_message_ids(await db.connection(), test.id, domain)
    return test.id
