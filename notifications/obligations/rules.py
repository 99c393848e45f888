"""An obligation's status and what people may record about it, as pure rules.

The one definition of *late* lives here (`is_late`): every place that decides whether a
duty was met on time — a person recording it, the outbox finishing a notification, the
overdue flag on the page and in the API — asks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from incident.kernel.errors import Conflict, Invalid
from incident.kernel.schemas import bounded_text
from notifications.obligations.assessment import Recommendation


class ObligationStatus(StrEnum):
    """What was done about a duty to notify (stored as these strings)."""

    PENDING = "pending"
    MET = "met"
    LATE = "late"  # met, after its due time
    WAIVED = "waived"


FULFILLED = frozenset({ObligationStatus.MET, ObligationStatus.LATE})
"""Done, on time or not: the engine counts follow-up duties from when."""

RECORDED = FULFILLED | {ObligationStatus.WAIVED}
"""Settled by a record; only reopening (back to pending) changes it."""

TRANSITIONS: Mapping[ObligationStatus, frozenset[ObligationStatus]] = {
    ObligationStatus.PENDING: frozenset({ObligationStatus.MET, ObligationStatus.LATE,
                                         ObligationStatus.WAIVED}),
    # A mistaken record is reopened first, then recorded again: each step on the timeline.
    ObligationStatus.MET: frozenset({ObligationStatus.PENDING}),
    ObligationStatus.LATE: frozenset({ObligationStatus.PENDING}),
    ObligationStatus.WAIVED: frozenset({ObligationStatus.PENDING}),
}

RISK_OF: Mapping[str, str] = {
    Recommendation.DOCUMENT: "none",
    Recommendation.NOTIFY_AUTHORITY: "risk",
    Recommendation.NOTIFY_AUTHORITY_AND_SUBJECTS: "high",
}
"""The engine's risk level for each recommendation of an assessment."""

HOW_LIMIT = 5_000
"""The longest account of how an obligation was met, in characters."""

REASON_LIMIT = 10_000
"""The longest reason (for a delay, a waiver, a reopening) or justification, in characters."""

JUSTIFICATION_MINIMUM = 10
"""A waiver or an override needs a justification of at least this many characters."""


def is_late(due_at: datetime | None, *, met_at: datetime | None, now: datetime) -> bool:
    """Whether a duty is late: met after its due time, or still open past it.

    Met exactly at the due time is on time. A duty with no fixed due time ("without
    undue delay") is never late by the clock.
    """
    if due_at is None:
        return False
    return (met_at if met_at is not None else now) > due_at


def status_when_met(due_at: datetime | None, at: datetime) -> ObligationStatus:
    """The status a duty met at `at` is recorded with."""
    return ObligationStatus.LATE if is_late(due_at, met_at=at, now=at) else ObligationStatus.MET


def check_met_at(at: datetime, *, aware_at: datetime, now: datetime, skew_seconds: int) -> None:
    """A duty is met between the moment the controller became aware and now (with the clock
    skew allowed): nothing can be notified about a breach before anyone knew of it."""
    if (at - now).total_seconds() > skew_seconds:
        raise Invalid.fields([("at", "lies in the future")])
    if at < aware_at:
        raise Invalid.fields([("at", f"lies before the incident's awareness time "
                               f"{aware_at.isoformat()}")])


def is_overdue(status: ObligationStatus, *, applies: bool, due_at: datetime | None,
               now: datetime) -> bool:
    """A duty that applies, is still pending, and is late by now."""
    return (status is ObligationStatus.PENDING and applies
            and is_late(due_at, met_at=None, now=now))


def seconds_left(status: ObligationStatus, due_at: datetime | None, now: datetime) -> int | None:
    """Seconds until a pending duty is due (negative once overdue); None when not counting."""
    if due_at is None or status is not ObligationStatus.PENDING:
        return None
    return int((due_at - now).total_seconds())


def check_change(current: ObligationStatus, target: ObligationStatus, *, ref: str) -> None:
    """Raise Conflict unless a record may move the duty from `current` to `target`."""
    if target in TRANSITIONS[current]:
        return
    if current is ObligationStatus.PENDING:
        raise Conflict(f"{ref} is already pending")
    raise Conflict(f"{ref} is already {current}; reopen it first")


def how_text(how: str) -> str:
    """How a duty was met (a portal receipt, a letter…): required, within HOW_LIMIT."""
    return bounded_text("how", how, limit=HOW_LIMIT, at_least=1,
                        needed="say how it was done (portal receipt, letter, e-mail…)")


def reason_text(reason: str, *, needed: str = "", at_least: int = 0) -> str:
    """A reason or justification as recorded (trimmed), within REASON_LIMIT."""
    return bounded_text("reason", reason, limit=REASON_LIMIT, at_least=at_least, needed=needed)


def justification_text(text: str, *, field: str = "justification", what: str = "an override"
                       ) -> str:
    """A waiver's or override's justification: JUSTIFICATION_MINIMUM to REASON_LIMIT characters."""
    return bounded_text(field, text, limit=REASON_LIMIT, at_least=JUSTIFICATION_MINIMUM,
                        needed=f"{what} needs a justification ({JUSTIFICATION_MINIMUM} characters "
                        "or more)")


CHANNEL_NAMES: Mapping[str, str] = {"email": "by e-mail", "postal": "by postal letter",
                                    "call": "by a call",
                                    "public": "by public communication"}
"""How a person was reached, as the account of a met duty says it."""


@dataclass(frozen=True, slots=True)
class Reach:
    """Whom one notification's letters for one duty reached, and how.

    `by_email`: the server accepted the message and no hard bounce came back; `otherwise`:
    not reached by e-mail but reached another way (by channel, each person once); `open`:
    still being sent; `unreached`: ended without reaching the person (no address, a
    permanent failure, a hard bounce) and nothing else recorded yet. `last_at`: when the last
    person counted as reached was reached."""

    by_email: int = 0
    otherwise: Mapping[str, int] = field(default_factory=dict)
    open: int = 0
    unreached: int = 0
    last_at: datetime | None = None

    @property
    def reached(self) -> int:
        return self.by_email + sum(self.otherwise.values())

    @property
    def by_channel(self) -> dict[str, int]:
        """The people reached, by channel ("email", then the others)."""
        return {"email": self.by_email, **self.otherwise}


def status_after_reach(reach: Reach, due_at: datetime | None) -> ObligationStatus | None:
    """What a duty owed through a notification becomes once its letters have ended.

    The law asks that each person be informed (GDPR Art. 34(1): "communicate the personal
    data breach to the data subject"), not that a message be sent: the duty is met only when
    every person its letters address was reached, by e-mail or another recorded way — at
    the time the last of them was; late after its due time. While anyone is still being sent
    to, nothing is decided (None); while anyone is not reached, it stays pending. A
    notification that reached nobody meets nothing."""
    if reach.open:
        return None
    if reach.unreached or not reach.reached or reach.last_at is None:
        return ObligationStatus.PENDING
    return status_when_met(due_at, reach.last_at)


def how_reached(reach: Reach, notification_id: int) -> str:
    """The account of a duty met by a notification: how many people, by which channel."""
    parts = [f"{reach.by_email} {CHANNEL_NAMES['email']}"] if reach.by_email else []
    parts += [f"{count} {CHANNEL_NAMES.get(channel, channel)}"
              for channel, count in sorted(reach.otherwise.items()) if count]
    return (f"notification {notification_id}: every person reached, "
            f"{', '.join(parts) or 'nobody'} (see its delivery log)")
