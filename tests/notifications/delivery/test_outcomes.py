"""Outcomes: what each reply, or its absence, means for the message."""

from __future__ import annotations

import pytest

from notifications.delivery.outcomes import Outcome, Status, from_reply, retry_hint, without_reply


@pytest.mark.parametrize(("text", "seconds"), [
    ("4.7.1 Greylisted, try again in 120 seconds", 120.0),
    ("4.3.2 Busy; please retry after 5 minutes", 300.0),
    ("4.7.0 Rate limited, wait 30s", 30.0),
    ("4.4.5 Try again in 2 hours", 7200.0),
    ("4.3.0 Temporary failure, try again later", None),
])
def test_retry_hints_are_read_from_the_reply(text: str, seconds: float | None) -> None:
    assert retry_hint(text) == seconds


@pytest.mark.parametrize(("code", "status"), [
    (250, Status.SENT), (251, Status.SENT),
    (550, Status.FAILED), (552, Status.FAILED), (554, Status.FAILED),
    (421, Status.RETRY), (451, Status.RETRY), (452, Status.RETRY),
    # About the session, not the message: the operator can fix it, so the message waits.
    (530, Status.RETRY), (534, Status.RETRY), (535, Status.RETRY), (538, Status.RETRY),
    (354, Status.RETRY), (999, Status.RETRY),
])
def test_a_reply_is_classified_by_its_code(code: int, status: Status) -> None:
    outcome = from_reply(code, "words", "rcpt")
    assert (outcome.status, outcome.code, outcome.text, outcome.stage) == (status, code, "words", "rcpt")


def test_only_a_retried_reply_carries_its_wait() -> None:
    assert from_reply(451, "4.7.1 Greylisted, try again in 60 seconds", "rcpt").retry_after == 60.0
    assert from_reply(550, "5.1.1 No such user, try again in 60 seconds", "rcpt").retry_after is None


def test_the_reply_is_kept_verbatim_or_says_what_happened_instead() -> None:
    assert from_reply(550, "5.1.1 No such user", "rcpt").reply == "550 5.1.1 No such user"
    lost = without_reply(Status.IN_DOUBT, ConnectionResetError("reset by peer"), "message")
    assert lost == Outcome(Status.IN_DOUBT, None, "ConnectionResetError: reset by peer", "message")
    assert lost.reply == "ConnectionResetError: reset by peer"
    assert without_reply(Status.FAILED, "not an address", "rcpt").reply == "not an address"
