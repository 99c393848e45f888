"""How hard the outbox tries, and what each attempt's outcome makes of a delivery. Pure.

The delivery states themselves (`DeliveryState`, which are final, which are due) are
defined beside the delivery rows, in `notifications.drafting.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifications.drafting.rules import ENDED, DeliveryState
from notifications.obligations.engine import iso


@dataclass(frozen=True)
class Policy:
    """How hard the outbox tries: lease length, backoff, and when it gives up."""

    batch: int = 100
    lease: timedelta = timedelta(minutes=5)
    first_retry: timedelta = timedelta(minutes=1)
    longest_retry: timedelta = timedelta(hours=1)
    give_up_without_deadline: timedelta = timedelta(hours=72)


def next_attempt(attempts: int, now: datetime, hint_seconds: float | None, policy: Policy) -> datetime:
    """Exponential backoff from the first retry, capped, never sooner than the server asked."""
    wait: timedelta = min(policy.first_retry * int(2 ** max(attempts - 1, 0)), policy.longest_retry)
    if hint_seconds is not None:
        wait = max(wait, timedelta(seconds=hint_seconds))
    return now + wait


GAVE_UP = "gave up at "
"""How the reply of a delivery the outbox stopped retrying at its give-up time begins."""


@dataclass(frozen=True, slots=True)
class AfterAttempt:
    """What one attempt's outcome makes of a delivery."""

    state: DeliveryState
    reply: str | None
    next_attempt_at: datetime | None = None
    """When to try again (kept on a delivery that gave up, as the time it would have been)."""

    @property
    def ended(self) -> bool:
        return self.state in ENDED


def after_attempt(outcome: DeliveryState, *, reply: str | None, attempts: int, now: datetime,
                  hint_seconds: float | None, give_up_at: datetime,
                  policy: Policy) -> AfterAttempt:
    """The delivery's state after an attempt ended in `outcome` (sent, retry, failed, in_doubt).

    A message in doubt (the connection died after it was handed over) is resent at once,
    with the same Message-ID; a temporary failure waits its backoff. Either fails for good
    when the next try would come after `give_up_at`.
    """
    if outcome in ENDED:
        return AfterAttempt(outcome, reply)
    if outcome not in (DeliveryState.RETRY, DeliveryState.IN_DOUBT):
        raise ValueError(f"{outcome} is not the outcome of an attempt")
    at = now if outcome is DeliveryState.IN_DOUBT else next_attempt(attempts, now, hint_seconds,
                                                                    policy)
    if at > give_up_at:
        return AfterAttempt(DeliveryState.FAILED, f"{GAVE_UP}{iso(give_up_at)}: {reply}",
                            at)
    return AfterAttempt(outcome, reply, at)
