"""The outbox's rules, as pure functions: the backoff, and what each outcome makes of a delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.delivery.rules import Policy, after_attempt, next_attempt
from notifications.drafting.rules import DeliveryState

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POLICY = Policy(first_retry=timedelta(minutes=1), longest_retry=timedelta(hours=1))
LATER = NOW + timedelta(days=3)
D = DeliveryState


def test_the_backoff_doubles_from_the_first_retry_up_to_the_longest() -> None:
    waits = [next_attempt(n, NOW, None, POLICY) - NOW for n in range(1, 9)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == timedelta(hours=1)


def test_the_server_s_hint_is_never_undercut() -> None:
    assert next_attempt(1, NOW, 600, POLICY) == NOW + timedelta(minutes=10)
    assert next_attempt(1, NOW, 5, POLICY) == NOW + timedelta(minutes=1)


@pytest.mark.parametrize("outcome", [D.SENT, D.FAILED])
def test_sent_and_failed_end_the_delivery(outcome: DeliveryState) -> None:
    step = after_attempt(outcome, reply="250 ok", attempts=1, now=NOW, hint_seconds=None,
                         give_up_at=LATER, policy=POLICY)
    assert step.state is outcome and step.ended and step.next_attempt_at is None


def test_a_temporary_failure_waits_its_backoff() -> None:
    step = after_attempt(D.RETRY, reply="451 busy", attempts=2, now=NOW, hint_seconds=None,
                         give_up_at=LATER, policy=POLICY)
    assert (step.state, step.next_attempt_at, step.ended) == (D.RETRY, NOW + timedelta(minutes=2),
                                                              False)


def test_a_message_in_doubt_is_resent_at_once() -> None:
    step = after_attempt(D.IN_DOUBT, reply="connection lost", attempts=5, now=NOW,
                         hint_seconds=None, give_up_at=LATER, policy=POLICY)
    assert (step.state, step.next_attempt_at) == (D.IN_DOUBT, NOW)


def test_retries_stop_at_the_give_up_time() -> None:
    at = NOW + timedelta(minutes=1)
    last = after_attempt(D.RETRY, reply="451 busy", attempts=1, now=NOW, hint_seconds=None,
                         give_up_at=at, policy=POLICY)
    assert last.state is D.RETRY  # a retry exactly at the give-up time is still made
    over = after_attempt(D.RETRY, reply="451 busy", attempts=1, now=NOW, hint_seconds=None,
                         give_up_at=at - timedelta(microseconds=1), policy=POLICY)
    assert over.state is D.FAILED and over.ended
    assert over.reply == "gave up at 2026-03-10T12:00:59.999999Z: 451 busy"
