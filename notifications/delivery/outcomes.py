"""What became of one message to one recipient, read from the server's reply.

`Outcome` is the answer `SmtpPool.send` gives: sent (2xx), failed for good (5xx, with
the server's words), retry later (4xx, anything else, or nothing was accepted; with the
wait a reply asked for, if it named one) or in doubt (no reply after the end of the
message left this process). A 5xx about the session (authentication or TLS required,
credentials refused) is retried, not failed: the operator can fix it.

Separate from the connection pool because the classification is policy — which reply
means what for the outbox — and changes without touching how bytes reach the server.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final, Literal


class Status(enum.StrEnum):
    """What became of one message to one recipient; the names of the outbox states."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"


Stage = Literal["connect", "mail", "rcpt", "data", "message"]
_RETRY_HINT = re.compile(
    r"\b(?:in|after|for|wait)\s+(\d{1,7})\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b", re.I)
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of `SmtpPool.send`.

    `code` and `text` are the server's reply as received (`code` is None when no
    reply was read, and `text` then says what happened instead); `stage` is the step
    that decided: connect, mail, rcpt, data (the DATA command) or message (the end of
    the message). `retry_after` is the wait in seconds a 4xx reply asked for, if any.
    """

    status: Status
    code: int | None
    text: str
    stage: Stage
    retry_after: float | None = None

    @property
    def reply(self) -> str:
        """The reply verbatim: code and text, as recorded in the delivery log."""
        return self.text if self.code is None else f"{self.code} {self.text}"


def retry_hint(text: str) -> float | None:
    """Seconds to wait when a reply says so ("try again in 120 seconds"), else None."""
    match = _RETRY_HINT.search(text)
    if match is None:
        return None
    return float(int(match[1]) * _UNIT_SECONDS[match[2][0].lower()])


# 5xx replies about the session (authentication or TLS required, credentials refused),
# not the message: the operator can fix them, so the message waits instead of failing.
_SESSION_CODES: Final = frozenset({530, 534, 535, 538})


def from_reply(code: int, text: str, stage: Stage) -> Outcome:
    """A reply that ends the transaction: 2xx sent, 5xx failed, anything else retried."""
    if 200 <= code < 300:
        return Outcome(Status.SENT, code, text, stage)
    if 500 <= code < 600 and code not in _SESSION_CODES:
        return Outcome(Status.FAILED, code, text, stage)
    return Outcome(Status.RETRY, code, text, stage, retry_hint(text))


def without_reply(status: Status, error: BaseException | str, stage: Stage) -> Outcome:
    """An outcome decided without a reply from the server: `error` says what happened instead."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Outcome(status, None, text, stage)
