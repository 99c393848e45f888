"""The pure rules of webhooks: which timeline events become which webhook events, what a
payload may carry, which URLs are accepted, the retry schedule and rotation signing.

The retry schedule follows the Standard Webhooks specification's guidance ("Retry
schedule": retries with exponential backoff, e.g. immediately, 5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 10 h); its "Signature scheme" allows several space-separated signatures, which
lets a secret be rotated without rejecting messages in flight.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from incident.kernel.errors import Invalid
from notifications.webhooks import rules
from notifications.webhooks.rules import EventType

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "payload", "expected"), [
    ("incident_created", {}, EventType.INCIDENT_CREATED),
    ("status_changed", {"from": "open", "to": "assessing"}, EventType.INCIDENT_MOVED),
    ("reminder_fired", {"kind": "obligation_due"}, EventType.OBLIGATION_DUE_SOON),
    ("reminder_fired", {"kind": "obligation_overdue"}, EventType.OBLIGATION_OVERDUE),
    ("reminder_fired", {"kind": "delivery_failing"}, EventType.NOTIFICATION_FAILING),
    ("reminder_fired", {"kind": "people_not_reached"}, EventType.PEOPLE_NOT_REACHED),
    ("reminder_fired", {"kind": "step_overdue"}, None),
    ("obligation_met", {}, EventType.OBLIGATION_MET),
    ("obligation_late", {}, EventType.OBLIGATION_MET),
    ("obligation_waived", {}, EventType.OBLIGATION_WAIVED),
    ("notification_sent", {}, EventType.NOTIFICATION_SENT),
    ("notification_finished", {"sent": 3, "failed": 1}, EventType.NOTIFICATION_FAILING),
    ("notification_finished", {"sent": 3, "failed": 0}, None),
    ("people_not_reached", {}, EventType.PEOPLE_NOT_REACHED),
    ("recipient_not_reached", {}, EventType.PEOPLE_NOT_REACHED),
    ("note", {"text": "called Jane"}, None),
    ("affected_read", {}, None),
])
def test_timeline_events_become_webhook_events(kind: str, payload: dict[str, object],
                                              expected: EventType | None) -> None:
    assert rules.event_type(kind, payload) == expected


def test_payloads_keep_counts_and_drop_free_text() -> None:
    waived = rules.event_data("obligation_waived", {
        "ref": "gdpr.art34", "justification": "Jane Doe's data was encrypted"})
    assert waived == {"ref": "gdpr.art34"}
    met = rules.event_data("obligation_late", {
        "ref": "gdpr.art33", "met_at": "2026-03-13T10:00:00+00:00",
        "how": "e-mail to jane@example.com", "late_reason": "Bob was ill", "notification": 4})
    assert met == {"ref": "gdpr.art33", "met_at": "2026-03-13T10:00:00+00:00",
                   "notification": 4, "late": True}
    missing = rules.event_data("people_not_reached", {
        "ref": "gdpr.art34", "notification": 4, "not_reached": 2,
        "why": {"no_address": 1, "bounced": 1}, "reached": {"email": 10}})
    assert missing == {"ref": "gdpr.art34", "notification": 4, "not_reached": 2}
    moved = rules.event_data("status_changed", {"from": "open", "to": "dismissed",
                                                "reason": "Carla's laptop was found"})
    assert moved == {"from": "open", "to": "dismissed"}
    body = rules.body(message_id="msg_1", event=EventType.INCIDENT_MOVED, at=AT,
                      incident={"id": "x", "reference": "BR-2026-0001"}, data=moved, seq=3)
    assert json.loads(body) == {"type": "incident.moved", "timestamp": AT.isoformat(),
                                "data": {"id": "msg_1", "seq": 3, "from": "open",
                                         "to": "dismissed", "incident": {
                                             "id": "x", "reference": "BR-2026-0001"}}}


@pytest.mark.parametrize("url", ["https://hooks.slack.com/services/T/B/X",
                                 "http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://[::1]:9000/x"])
def test_https_or_loopback_is_accepted(url: str) -> None:
    assert rules.check_url(url) == url


@pytest.mark.parametrize(("url", "says"), [
    ("http://chat.example.com/hook", "must use https"),
    ("http://10.0.0.5/hook", "must use https"),
    ("ftp://127.0.0.1/x", "must start with https://"),
    ("https:///nohost", "must start with https://"),
    ("https://me:pw@chat.example.com/", "user name or password")])
def test_other_urls_are_refused_clearly(url: str, says: str) -> None:
    with pytest.raises(Invalid, match=says):
        rules.check_url(url)


def test_events_must_be_known_and_at_least_one() -> None:
    assert rules.check_events(["incident.moved", "incident.created"]) == [
        "incident.created", "incident.moved"]
    with pytest.raises(Invalid, match=r"incident\.exploded"):
        rules.check_events(["incident.exploded"])
    with pytest.raises(Invalid, match="at least one"):
        rules.check_events([])


def test_the_backoff_then_giving_up() -> None:
    waits = [rules.next_attempt(n, AT) for n in range(1, 9)]
    assert [w - AT for w in waits[:7] if w] == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
    assert waits[7] is None
    assert rules.next_attempt(1, AT, retry_after=120) == AT + timedelta(seconds=120)


def test_the_previous_secret_signs_only_during_the_overlap() -> None:
    until = AT + rules.ROTATION_OVERLAP
    assert rules.signing_secrets("new", "old", until, AT) == ["new", "old"]
    assert rules.signing_secrets("new", "old", until, until) == ["new"]
    assert rules.signing_secrets("new", None, None, AT) == ["new"]
    assert rules.new_secret() != rules.new_secret()
    assert rules.new_secret().startswith("whsec_")
