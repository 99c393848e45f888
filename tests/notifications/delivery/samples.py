"""Sample inputs shared by this folder's test modules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from notifications.delivery.message import build_message, new_message_id

SENDER = "Breachdesk <breachdesk@breach.example>"


WHEN = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


SUBJECT = "Naruszenie ochrony danych — zgłoszenie nr 7 🔒"


TEXT = "Dzień dobry Pani Anno,\n\nzgłaszamy naruszenie ochrony Pani danych (e-mail, adres).\n"


HTML = "<p>Dzień dobry Pani Anno,</p>\n<p>zgłaszamy naruszenie &mdash; szczegóły poniżej.</p>\n"


def message(to: str = "anna@example.com", *, key: str = "d-1", subject: str = SUBJECT, text: str = TEXT,
            html: str | None = HTML, to_name: str | None = "Anna Kowalska") -> bytes:
    return build_message(sender=SENDER, to=to, to_name=to_name, subject=subject, text=text, html=html,
                         message_id=new_message_id("breach.example", key), date=WHEN)


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def lines(text: str) -> str:
    return text.replace("\r\n", "\n")


class FakeClock:
    """Monotonic seconds that move only when someone sleeps: to the latest instant a sleeper asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        until = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, until)
