"""What a timeline event becomes as a webhook event, and the rules of endpoints. Pure.

Payloads are built from an allow-list of fields: identifiers, states, times and counts.
Free text (reasons, titles, how a duty was met) may name people, so it never leaves;
people appear only as counts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
from base64 import b64encode, urlsafe_b64encode
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken

from incident.kernel.errors import Invalid


class EventType(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_MOVED = "incident.moved"
    OBLIGATION_DUE_SOON = "obligation.due_soon"
    OBLIGATION_OVERDUE = "obligation.overdue"
    OBLIGATION_MET = "obligation.met"
    OBLIGATION_WAIVED = "obligation.waived"
    NOTIFICATION_SENT = "notification.sent"
    NOTIFICATION_FAILING = "notification.failing"
    PEOPLE_NOT_REACHED = "people.not_reached"


EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)

REMINDER_EVENTS: Mapping[str, EventType] = {
    "obligation_due": EventType.OBLIGATION_DUE_SOON,
    "obligation_overdue": EventType.OBLIGATION_OVERDUE,
    "delivery_failing": EventType.NOTIFICATION_FAILING,
    "people_not_reached": EventType.PEOPLE_NOT_REACHED,
}
"""A fired reminder's kind -> the event it is."""

KEPT: Mapping[str, tuple[str, ...]] = {
    "incident_created": ("reference", "status", "kind"),
    "status_changed": ("from", "to", "contained_at", "resolved_at", "closed_at"),
    "reminder_fired": ("kind", "due_at", "late_seconds", "digest", "items"),
    "obligation_met": ("ref", "met_at", "notification"),
    "obligation_late": ("ref", "met_at", "notification"),
    "obligation_waived": ("ref",),
    "notification_sent": ("notification", "ref", "recipients", "not_before"),
    "notification_finished": ("notification",),
    "people_not_reached": ("ref", "notification", "not_reached"),
    "recipient_not_reached": ("ref", "notification", "not_reached"),
}
"""Per timeline kind, the payload fields an event carries (all free of personal data)."""


def event_type(kind: str, payload: Mapping[str, Any]) -> EventType | None:
    """The webhook event a timeline event is, or None when it is none."""
    if kind == "incident_created":
        return EventType.INCIDENT_CREATED
    if kind == "status_changed":
        return EventType.INCIDENT_MOVED
    if kind == "reminder_fired":
        return REMINDER_EVENTS.get(str(payload.get("kind")))
    if kind in ("obligation_met", "obligation_late"):
        return EventType.OBLIGATION_MET
    if kind == "obligation_waived":
        return EventType.OBLIGATION_WAIVED
    if kind == "notification_sent":
        return EventType.NOTIFICATION_SENT
    if kind == "notification_finished":
        return EventType.NOTIFICATION_FAILING if _count(payload.get("failed")) else None
    if kind in ("people_not_reached", "recipient_not_reached"):
        return EventType.PEOPLE_NOT_REACHED
    return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _safe(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float) or (
        isinstance(value, str) and len(value) <= 80)


def event_data(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The allowed fields of a timeline event's payload, plus counts (never people)."""
    data = {key: payload[key] for key in KEPT.get(kind, ()) if key in payload
            and _safe(payload[key])}
    if kind == "obligation_late":
        data["late"] = True
    elif kind == "obligation_met":
        data["late"] = False
    if kind == "notification_finished":  # the deliveries' counts by state
        data.update({key: value for key, value in payload.items()
                     if key != "notification" and _count(value)})
    if kind == "reminder_fired" and isinstance(payload.get("recipients"), int):
        data["staff_told"] = payload["recipients"]
    return data


def body(*, message_id: str, event: EventType, at: datetime, incident: Mapping[str, Any],
         data: Mapping[str, Any], seq: int) -> str:
    """The JSON body (Standard Webhooks: type, timestamp, data), canonical and compact."""
    return json.dumps({"type": event.value, "timestamp": at.isoformat(),
                       "data": {"id": message_id, "incident": dict(incident), "seq": seq,
                                **data}}, sort_keys=True, separators=(",", ":"))


# --- endpoints ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    """An https URL, or http to loopback only (a receiver on this machine)."""
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Invalid.fields([("url", "must start with https:// and name a host")])
    if parts.username or parts.password:
        raise Invalid.fields([("url", "must not carry a user name or password")])
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise Invalid.fields([("url", "must use https (http only to this machine: "
                                      "localhost, 127.0.0.1 or ::1)")])
    if len(value) > 2000:
        raise Invalid.fields([("url", "must be at most 2000 characters long")])
    return value


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_events(events: Iterable[str]) -> list[str]:
    """The subscribed event types, known and at least one, in a stable order."""
    chosen = {e.strip() for e in events if e.strip()}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise Invalid.fields([("events", f"has an unknown event type {', '.join(unknown)}; known: "
                                         f"{', '.join(EVENT_TYPES)}")])
    if not chosen:
        raise Invalid.fields([("events", "must name at least one event type")])
    return [e for e in EVENT_TYPES if e in chosen]


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64 (Standard Webhooks)."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(b"breachdesk webhook secret\x00" + key.encode()).digest()
    return Fernet(urlsafe_b64encode(digest))


def seal(secret: str, key: str) -> str:
    """A signing secret as stored: encrypted under BREACH_SECRET_KEY (it must be usable to
    sign, so it cannot be hashed like a password or token)."""
    return _fernet(key).encrypt(secret.encode()).decode()


def unseal(sealed: str, key: str) -> str | None:
    """The secret, or None if it was sealed under another key (BREACH_SECRET_KEY changed:
    rotate the endpoint's secret)."""
    try:
        return _fernet(key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret keeps signing beside the new one after a rotation."""


def signing_secrets(secret: str, previous: str | None, previous_until: datetime | None,
                    now: datetime) -> list[str]:
    """The secrets a message is signed with now: the current one, and the previous one
    while its overlap lasts."""
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


# --- delivery ----------------------------------------------------------------------------

BACKOFF: Sequence[timedelta] = (timedelta(seconds=5), timedelta(minutes=5),
                                timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
                                timedelta(hours=10), timedelta(hours=10))
"""The waits after each failed attempt (the schedule the Standard Webhooks guide
suggests); after the last, the delivery is given up (about 28 hours in all)."""


def next_attempt(attempts: int, now: datetime, retry_after: float | None = None
                 ) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None: give up. A receiver's
    Retry-After is honoured when it asks for longer."""
    if attempts > len(BACKOFF):
        return None
    wait = BACKOFF[attempts - 1]
    if retry_after is not None and retry_after > wait.total_seconds():
        wait = timedelta(seconds=min(retry_after, 86_400))
    return now + wait


def succeeded(status: int) -> bool:
    return 200 <= status < 300


# --- test pings and resends ----------------------------------------------------------------

PING = "webhook.ping"
"""The test event an admin sends to an endpoint: never subscribed to, tried once."""
PING_CHAIN = "ping"
"""A ping's `chain`: it belongs to no incident, so it never holds an incident's events."""


def ping_body(*, message_id: str, at: datetime, endpoint_id: int) -> str:
    """A test event's JSON body: who it is for, and no incident."""
    return json.dumps({"type": PING, "timestamp": at.isoformat(),
                       "data": {"id": message_id, "endpoint": endpoint_id, "test": True}},
                      sort_keys=True, separators=(",", ":"))


def retried(event_type: str) -> bool:
    """Whether a failed attempt is tried again on the backoff: a ping is not (it tests the
    receiver now; the admin sends another)."""
    return event_type != PING


def resend_refusal(*, state: str, attempts: int, in_flight: bool, paused: bool) -> str | None:
    """Why a delivery cannot be resent now, or None: only one that was given up, or one whose
    attempts failed and that waits for its next, can be."""
    if state == "sent":
        return "it was delivered already (the receiver answered 2xx): nothing to resend"
    if in_flight:
        return "it is being sent right now: wait for the receiver's answer"
    if state == "pending" and attempts == 0:
        return "it has not been tried yet: it goes out in its turn"
    if paused:
        return "the endpoint is paused: resume it first"
    return None
