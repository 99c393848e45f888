"""The Mailbox: a kept message taken apart (an undecodable part reported, not raised), and the
kept messages read newest first, page by page, only with READ_PERSONAL_DATA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor, Role
from incident.kernel.errors import Forbidden, NotFound
from notifications.delivery import mailbox
from notifications.delivery.models import CapturedMessage
from tests.factories import CONSOLE, START
from tests.notifications.delivery.samples import HTML, SENDER, SUBJECT, TEXT, lines, message

AUDITOR = Actor(label="auditor@example.com", role=Role.AUDITOR)
BROKEN = (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: broken\r\n"
          b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nHello\r\n")


def test_a_message_is_shown_as_its_headers_text_and_html() -> None:
    shown = mailbox.parts(message())
    headers = dict(shown.headers)
    assert [name for name, _ in shown.headers] == ["From", "To", "Subject", "Date", "Message-ID"]
    assert headers["From"] == SENDER and headers["Subject"] == SUBJECT
    assert headers["To"] == "Anna Kowalska <anna@example.com>"
    assert headers["Message-ID"].startswith("<") and headers["Message-ID"].endswith("@breach.example>")
    assert shown.text is not None and lines(shown.text) == TEXT
    assert shown.html is not None and lines(shown.html) == HTML


def test_a_text_only_message_has_no_html_and_a_broken_part_is_reported() -> None:
    plain = mailbox.parts(message(html=None))
    assert plain.html is None and plain.text is not None
    broken = mailbox.parts(BROKEN)
    assert broken.html is None
    assert broken.text is not None and broken.text.startswith("[this part cannot be decoded: ")
    assert dict(broken.headers)["Subject"] == "broken"


async def keep(db: AsyncSession, count: int) -> list[int]:
    """`count` captured messages, in the order they arrived; returns their ids."""
    rows = [CapturedMessage(message_id=f"<m{n}@breach.example>", sender=SENDER,
                            recipient=f"p{n}@example.com", subject=f"message {n}",
                            raw=message(f"p{n}@example.com", key=f"d-{n}"),
                            received_at=START + timedelta(seconds=n)) for n in range(count)]
    db.add_all(rows)
    await db.commit()
    return [row.id or 0 for row in rows]


async def test_messages_come_newest_first_a_page_at_a_time(db: AsyncSession) -> None:
    ids = await keep(db, 5)
    first = await mailbox.messages(db, actor=CONSOLE, limit=2)
    assert [m.id for m in first] == [ids[4], ids[3]]
    following = await mailbox.messages(db, actor=CONSOLE, before=first[-1].id, limit=2)
    assert [m.id for m in following] == [ids[2], ids[1]]
    last = await mailbox.messages(db, actor=CONSOLE, before=following[-1].id, limit=2)
    assert [m.id for m in last] == [ids[0]]
    assert (await mailbox.message(db, actor=CONSOLE, message_id=ids[2])).recipient == "p2@example.com"
    with pytest.raises(NotFound, match="the mailbox has no message 999999"):
        await mailbox.message(db, actor=CONSOLE, message_id=999_999)


async def test_reading_the_mailbox_needs_personal_data_rights(db: AsyncSession) -> None:
    ids = await keep(db, 1)
    with pytest.raises(Forbidden):
        await mailbox.messages(db, actor=AUDITOR)
    with pytest.raises(Forbidden):
        await mailbox.message(db, actor=AUDITOR, message_id=ids[0])
