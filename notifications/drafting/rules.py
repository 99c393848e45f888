"""A notification's and a delivery's states, what may follow what, and the limits of a draft.

Pure rules. Delivery states live here, beside the notification's, because the delivery
rows belong to a notification (drafting queues them; the outbox in `delivery` works
through them and may import these, never the other way round).

    notification: draft ⇄ approved → sending ⇄ paused → done
    delivery:     pending → sending → sent | retry | failed | in_doubt;
                  retry, in_doubt → sending (again); sent and failed are final
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from typing import Any

from incident.kernel.errors import Conflict, DomainError, Invalid
from notifications.drafting.translations import normal_locale


class NotificationStatus(StrEnum):
    """Where a notification is (stored as these strings)."""

    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"


class NotificationKind(StrEnum):
    SUBJECT_NOTICE = "subject_notice"
    AUTHORITY_REPORT = "authority_report"
    REMINDER = "reminder"  # internal: to the people who must act, before a due time
    ESCALATION = "escalation"  # internal: something is overdue or failing
    CHECKPOINT = "checkpoint"  # internal: a signed checkpoint, to a witness outside the service
    TEST_COPY = "test_copy"  # internal: an approved notice's letters, to its sender, marked [TEST]


class DeliveryState(StrEnum):
    """Where one message to one recipient is (stored as these strings)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher, under a lease
    SENT = "sent"
    RETRY = "retry"  # a temporary failure: tried again at next_attempt_at
    FAILED = "failed"  # refused for good, or retried until the give-up time
    IN_DOUBT = "in_doubt"  # the connection died after the message was handed over
    BOUNCED = "bounced"  # accepted, then reported undeliverable for good (a hard bounce)


TRANSITIONS: Mapping[NotificationStatus, frozenset[NotificationStatus]] = {
    NotificationStatus.DRAFT: frozenset({NotificationStatus.APPROVED}),
    # Editing an approved draft voids the approval: it is a draft again.
    NotificationStatus.APPROVED: frozenset({NotificationStatus.DRAFT, NotificationStatus.SENDING}),
    NotificationStatus.SENDING: frozenset({NotificationStatus.PAUSED, NotificationStatus.DONE}),
    NotificationStatus.PAUSED: frozenset({NotificationStatus.SENDING, NotificationStatus.DONE}),
    # A soft bounce after the last delivery ended: that one is tried again.
    NotificationStatus.DONE: frozenset({NotificationStatus.SENDING}),
}

UNSENT = frozenset({NotificationStatus.DRAFT, NotificationStatus.APPROVED})
"""A notification still being written: its text may change; a new one for its obligation waits."""

IN_FLIGHT = frozenset({NotificationStatus.SENDING, NotificationStatus.PAUSED})
"""Deliveries queued and not all ended: the outbox finishes these."""

LIVE = IN_FLIGHT | {NotificationStatus.DONE}
"""Sent (or being sent): progress and the delivery log exist."""

DELIVERY_TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset({DeliveryState.SENDING}),
    DeliveryState.SENDING: frozenset({DeliveryState.SENT, DeliveryState.RETRY,
                                      DeliveryState.FAILED, DeliveryState.IN_DOUBT,
                                      DeliveryState.BOUNCED}),
    # A hard bounce may come back for a message accepted on an earlier attempt.
    DeliveryState.RETRY: frozenset({DeliveryState.SENDING, DeliveryState.BOUNCED}),
    DeliveryState.IN_DOUBT: frozenset({DeliveryState.SENDING, DeliveryState.BOUNCED}),
    # Sent is ended for the outbox, until a bounce says otherwise: a hard one for good, a
    # soft one (the receiving side gave up on a passing fault) to be tried again.
    DeliveryState.SENT: frozenset({DeliveryState.BOUNCED, DeliveryState.RETRY}),
    DeliveryState.FAILED: frozenset(),
    DeliveryState.BOUNCED: frozenset(),
}

ENDED = frozenset({DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.BOUNCED})
"""A delivery that will not be tried again."""

OPEN = frozenset(DeliveryState) - ENDED
"""A delivery not ended yet: a notification with any is not done."""

DUE = frozenset({DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.IN_DOUBT})
"""A delivery a dispatcher may claim once its next attempt time has come."""

KIND_FOR_RECIPIENT: Mapping[str, NotificationKind] = {
    "individuals": NotificationKind.SUBJECT_NOTICE,
    "authority": NotificationKind.AUTHORITY_REPORT,
    "regulator": NotificationKind.AUTHORITY_REPORT,
}
"""What is sent, by e-mail from here, to each kind of recipient of an obligation."""

EDITABLE: Mapping[str, tuple[str, ...]] = {
    NotificationKind.SUBJECT_NOTICE: ("description", "consequences", "measures", "advice",
                                      "delay_reason"),
    NotificationKind.AUTHORITY_REPORT: ("description", "consequences", "measures_taken",
                                        "measures_proposed", "delay_reason",
                                        "authority_reference", "changes"),
}
"""The fields people edit. Lists (measures) are written one item per line."""

FIELD_LIMIT = 20_000
"""The longest text of one field of a draft, in characters."""


class FourEyes(DomainError):
    status, slug, title = 403, "four-eyes", "Approval needs a second person"


class CannotRender(DomainError):
    """The message cannot be rendered from what the draft and the incident hold."""

    status, slug, title = 422, "cannot-render", "The message cannot be rendered"


def content_hash(kind: str, ref: str, sequence: int, fields: Mapping[str, Any],
                 covers: Sequence[str] = ()) -> str:
    """What an approval binds to: the kind, the obligation, the phase, every field and, for
    a notice meeting several laws at once, which ones."""
    bound: dict[str, Any] = {"kind": kind, "ref": ref, "sequence": sequence, "fields": fields}
    if len(covers) > 1:
        bound["covers"] = list(covers)
    canonical = json.dumps(bound,
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_editable(notification_id: int | None, status: NotificationStatus) -> None:
    if status not in UNSENT:
        raise Conflict(f"notification {notification_id} is {status}: it can no longer change")


def check_fields(kind: str, fields: Mapping[str, Any]) -> None:
    """Raise Invalid naming every field that is not the kind's, every locale babel does not
    know, and every text over FIELD_LIMIT (a field is a text, or {locale: text})."""
    allowed = EDITABLE.get(kind, ())
    problems = [(n, f"not a field of a {kind}; the fields are {', '.join(allowed)}")
                for n in fields if n not in allowed]
    for name, value in fields.items():
        texts = value.items() if isinstance(value, Mapping) else [("", value)]
        for locale, text in texts:
            where = f"{name}.{locale}" if locale else name
            if locale and normal_locale(locale) is None:
                problems.append((where, f"{locale!r} is not a locale such as en, de or pt-BR"))
            elif locale and not str(text).strip():
                problems.append((where, "is empty: write the text its readers get (a language "
                                        "without text is sent only with a fallback)"))
            if len(str(text)) > FIELD_LIMIT:
                problems.append((where, f"is longer than {FIELD_LIMIT:,} characters"))
    if problems:
        raise Invalid.fields(problems)


def approval_refusal(notification_id: int | None, status: NotificationStatus, *, approver: str,
                     authors: Collection[str], approved_hash: str, content_hash: str,
                     version: int) -> DomainError | None:
    """Why `approver` may not approve this content now, or None: the four-eyes rule and
    an approval bound to the exact version read."""
    if NotificationStatus.APPROVED not in TRANSITIONS[status]:
        return Conflict(f"notification {notification_id} is {status}, "
                        "not a draft awaiting approval")
    if approver in authors:
        return FourEyes("you wrote or edited this draft: another approver must approve it")
    if approved_hash != content_hash:
        return Conflict(f"the draft changed since you read it (version {version}, "
                        f"hash {content_hash})")
    return None


def send_refusal(notification_id: int | None, status: NotificationStatus, *,
                 approved_hash: str | None, content_hash: str) -> DomainError | None:
    """Why this notification may not be sent, or None: only an approved draft, unchanged
    since its approval, is sent."""
    if status is not NotificationStatus.APPROVED or approved_hash != content_hash:
        return Conflict(f"notification {notification_id} is {status}: only an approved "
                        "draft, unchanged since its approval, is sent")
    return None


def steered(notification_id: int | None, status: NotificationStatus, *,
            paused: bool) -> NotificationStatus:
    """The status after pausing (or resuming); Conflict unless it is sending (or paused)."""
    target, expected = ((NotificationStatus.PAUSED, NotificationStatus.SENDING) if paused
                        else (NotificationStatus.SENDING, NotificationStatus.PAUSED))
    if status is not expected:
        raise Conflict(f"notification {notification_id} is {status}, not {expected}")
    return target


def is_ended(state: DeliveryState) -> bool:
    return state in ENDED


def all_ended(counts: Mapping[str, int]) -> bool:
    """Whether no delivery is open, given the number of deliveries in each state: any count
    outside the ended states is open (people still to be queued included)."""
    return not any(count for state, count in counts.items() if state not in ENDED)


def ended_count(counts: Mapping[str, int]) -> int:
    """How many deliveries ended (sent, failed or bounced), given the number in each state."""
    return sum(counts.get(state, 0) for state in ENDED)


def confirmation_needed(recipients: int, above: int | None) -> bool:
    """Whether a send to `recipients` needs their number typed: above `above` of them
    (BREACH_CONFIRM_SEND_ABOVE; None: never)."""
    return above is not None and recipients > above


def confirmation_instruction(recipients: int) -> str:
    """What the sender types to send to `recipients`: "type 51 to send to 51 people"."""
    return f"type {recipients} to send to {recipients} {'person' if recipients == 1 else 'people'}"


def confirmation_refusal(recipients: int, confirm: int | None,
                         above: int | None) -> DomainError | None:
    """Why a send to `recipients` is not confirmed, or None: above `above` recipients, the
    sender types their number (`confirm`), so a notice never goes to many on one click."""
    if not confirmation_needed(recipients, above) or confirm == recipients:
        return None
    instruction = confirmation_instruction(recipients)
    typed = "nothing was typed" if confirm is None else f"{confirm} was typed"
    refusal = Invalid(f"{instruction} ({typed})",
                      errors=[{"field": "confirm", "message": instruction}])
    refusal.extensions["recipients"] = recipients
    return refusal
