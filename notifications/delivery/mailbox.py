"""The Mailbox: reading the messages the embedded mail capture kept (no BREACH_SMTP_URL).

Messages carry personal data (names, addresses, what happened to each person), so every
read needs READ_PERSONAL_DATA. A message is shown as stored: its headers, its text part
and its HTML part, the latter only ever inside a sandboxed frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel import auth
from incident.kernel.auth import Actor, Permission
from incident.kernel.errors import NotFound
from notifications.delivery.models import CapturedMessage

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Language",
                 "Auto-Submitted")


@dataclass(frozen=True, slots=True)
class Parts:
    """A stored message taken apart: the headers people check, its text and its HTML."""

    headers: list[tuple[str, str]]
    text: str | None
    html: str | None


def parts(raw: bytes) -> Parts:
    """Parse a stored message (pure). A part that cannot be decoded is reported, not raised."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    headers = [(name, str(parsed[name])) for name in SHOWN_HEADERS if parsed[name] is not None]
    return Parts(headers, _content(parsed, "plain"), _content(parsed, "html"))


def _content(parsed: EmailMessage, subtype: str) -> str | None:
    body = parsed.get_body((subtype,))
    if body is None:
        return None
    try:
        return str(body.get_content())
    except (LookupError, ValueError) as error:  # an unknown charset or a broken encoding
        return f"[this part cannot be decoded: {error}]"


async def messages(db: AsyncSession, *, actor: Actor, before: int | None = None,
                   limit: int = 50) -> list[CapturedMessage]:
    """The kept messages, newest first; `before` (a message id) gives the next page."""
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    query = select(CapturedMessage)
    if before is not None:
        query = query.where(col(CapturedMessage.id) < before)
    return list((await db.exec(query.order_by(col(CapturedMessage.id).desc()).limit(limit))).all())


async def message(db: AsyncSession, *, actor: Actor, message_id: int) -> CapturedMessage:
    auth.require(actor, Permission.READ_PERSONAL_DATA)
    found = await db.get(CapturedMessage, message_id)
    if found is None:
        raise NotFound(f"the mailbox has no message {message_id}")
    return found
