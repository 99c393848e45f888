"""The IMAP poller: bounces read from a mailbox (BREACH_BOUNCE_IMAP_URL), when they are
delivered to an ordinary mailbox instead of to the bounce listener.

Every BREACH_BOUNCE_IMAP_SECONDS (a job of the scheduler under `breach serve`; or
`breach bounces poll`), one connection: log in, select the mailbox, find the messages
not yet seen, read each without marking it (BODY.PEEK, at most DATA_LIMIT bytes of it),
hand it to `service.record_bounce`, and only then mark it \\Seen. Messages are marked,
not moved or deleted: the mailbox keeps the originals for whoever runs it (the database
keeps its own copy of each report of ours), and a message that could not be recorded
(the database unavailable) stays unseen and is read again at the next poll. A message
that is not about one of our deliveries is marked seen too (it is not read again).

The standard library's imaplib does the talking, in a thread (asyncio.to_thread): no
call blocks the event loop. The URL's password is never logged (`Mailbox.safe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.clock import Clock
from incident.kernel.settings import Settings
from notifications.bounces.models import DATA_LIMIT
from notifications.bounces.service import record_bounce

__all__ = ["BATCH", "Mailbox", "MailboxError", "Polled", "parse_imap_url", "poll_once", "poller"]

log = logging.getLogger("breachdesk.bounces")

BATCH = 500
"""The most messages read in one poll: the rest wait for the next."""
TIMEOUT = 30.0
"""Seconds any one exchange with the IMAP server may take."""

T = TypeVar("T")


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, selection): one line, no password."""


@dataclass(frozen=True)
class Mailbox:
    """Where bounces are read from: BREACH_BOUNCE_IMAP_URL, taken apart."""

    tls: bool
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"

    @property
    def safe(self) -> str:
        """The URL without its password: what logs and messages show."""
        return (f"{'imaps' if self.tls else 'imap'}://{self.user}@{self.host}:{self.port}/"
                f"{self.mailbox}")


def parse_imap_url(url: str) -> Mailbox:
    """imap://user:password@host[:143]/MAILBOX or imaps://…[:993]/…; the mailbox defaults
    to INBOX; user and password are percent-decoded."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError("the bounce mailbox URL must start with imap:// or imaps://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the bounce mailbox URL has an invalid port") from None
    if not parts.hostname or not parts.username:
        raise ValueError("the bounce mailbox URL needs a user and a host "
                         "(imaps://user:password@host/INBOX)")
    tls = parts.scheme == "imaps"
    return Mailbox(tls=tls, host=parts.hostname, port=port or (993 if tls else 143),
                   user=unquote(parts.username), password=unquote(parts.password or ""),
                   mailbox=unquote(parts.path.lstrip("/")) or "INBOX")


@dataclass
class Polled:
    """What one poll found: how many messages, and what became of them by outcome."""

    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    left: int = 0
    """Messages left unseen for the next poll (could not be recorded, or beyond BATCH)."""


class _Connection:
    """One imaplib session, its calls made in a thread each."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.imap: imaplib.IMAP4 | None = None

    async def call(self, what: str, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(f"{self.mailbox.safe}: {what} failed: "
                               f"{_without(str(error), self.mailbox.password)}") from None

    async def open(self) -> None:
        box = self.mailbox

        def connect() -> imaplib.IMAP4:
            if box.tls:
                return imaplib.IMAP4_SSL(box.host, box.port,
                                         ssl_context=ssl.create_default_context(),
                                         timeout=TIMEOUT)
            return imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)

        self.imap = await self.call("connecting", connect)
        imap = self.imap
        await self.call("logging in", lambda: _ok(imap.login(box.user, box.password)))
        await self.call("selecting the mailbox",
                        lambda: _ok(imap.select(_quoted(box.mailbox))))

    async def unseen(self) -> list[bytes]:
        imap = self._imap()
        found = await self.call("searching", lambda: _ok(imap.uid("SEARCH", "UNSEEN")))
        return [uid for line in found if isinstance(line, bytes) for uid in line.split()]

    async def read(self, uid: bytes) -> bytes | None:
        imap = self._imap()
        answer = await self.call("reading a message", lambda: _ok(imap.uid(
            "FETCH", uid.decode(), f"(BODY.PEEK[]<0.{DATA_LIMIT}>)")))
        for part in answer:
            if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
                return part[1]
        return None

    async def mark_seen(self, uid: bytes) -> None:
        imap = self._imap()
        await self.call("marking a message seen",
                        lambda: _ok(imap.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")))

    async def close(self) -> None:
        imap, self.imap = self.imap, None
        if imap is None:
            return

        def logout() -> None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

        await asyncio.to_thread(logout)

    def _imap(self) -> imaplib.IMAP4:
        assert self.imap is not None, "open() first"
        return self.imap


def _ok(answer: tuple[str, Sequence[object]]) -> list[object]:
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(" ".join(
            part.decode(errors="replace") if isinstance(part, bytes) else str(part)
            for part in data))
    return list(data)


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


_UID = re.compile(rb"^[0-9]+$")


async def poll_once(engine: AsyncEngine, mailbox: Mailbox, *, bounce_address: str, secret: str,
                    clock: Clock, batch: int = BATCH) -> Polled:
    """Read and record the mailbox's unseen messages (at most `batch`); each recorded one
    is marked seen. Raises MailboxError when the mailbox cannot be read."""
    polled = Polled()
    connection = _Connection(mailbox)
    try:
        await connection.open()
        uids = [uid for uid in await connection.unseen() if _UID.match(uid)]
        polled.left = max(len(uids) - batch, 0)
        for uid in uids[:batch]:
            raw = await connection.read(uid)
            if raw is None:  # gone meanwhile (expunged by someone else)
                continue
            polled.read += 1
            recorded = await record_bounce(engine, raw, recipients=(), source="imap",
                                           bounce_address=bounce_address, secret=secret,
                                           clock=clock)
            polled.outcomes[recorded.outcome] += 1
            if recorded.outcome == "error":
                polled.left += 1  # unseen: read again at the next poll
                continue
            await connection.mark_seen(uid)
    finally:
        await connection.close()
    if polled.read:
        log.info("%s: %s messages read (%s)", mailbox.safe, polled.read,
                 ", ".join(f"{n} {outcome}" for outcome, n in sorted(polled.outcomes.items())))
    return polled


def poller(engine: AsyncEngine, settings: Settings, clock: Clock) -> Callable[[], Awaitable[int]]:
    """The scheduler's job under `breach serve`: one poll of BREACH_BOUNCE_IMAP_URL's mailbox,
    returning how many messages were read; a mailbox that cannot be read is a warning (the
    next tick tries again), never the job's failure."""
    mailbox = parse_imap_url(settings.bounce_imap_url)

    async def poll() -> int:
        try:
            polled = await poll_once(engine, mailbox, bounce_address=settings.bounce_address,
                                     secret=settings.secret_key, clock=clock)
        except MailboxError as error:
            log.warning("reading bounces failed (tried again in %s s): %s",
                        settings.bounce_imap_seconds, error)
            return 0
        return polled.read

    return poll
