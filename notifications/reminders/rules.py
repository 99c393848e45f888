"""A reminder's states, and what a tick does with each due reminder. Pure.

    due → fired | obsolete (its obligation was met or moved) | skipped (a lead-time
    reminder whose moment passed while nothing could send it) | parked (a kind this
    version does not know, kept for a person to look at)

`decide` says what becomes of a due reminder at a tick: sent on its own when it comes on
time (within `ON_TIME` of its moment: the ticker runs every 30 s); a lead-time reminder
("due in 24 hours") found later than that is skipped, never sent late (the escalation at
the due time, or the next lead time, speaks for it); anything else found late (an overdue
duty, an overdue step, the decision that starts a legal clock, deliveries failing) fell
due while nothing ran, or before the organisation profile existed, and goes into one
digest per person (`digests`) instead of one message per item.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)
T = TypeVar("T", bound=Hashable)


class ReminderState(StrEnum):
    """Where a reminder is (stored as these strings)."""

    DUE = "due"
    FIRED = "fired"
    OBSOLETE = "obsolete"
    SKIPPED = "skipped"
    PARKED = "parked"


TRANSITIONS: Mapping[ReminderState, frozenset[ReminderState]] = {
    ReminderState.DUE: frozenset({ReminderState.FIRED, ReminderState.OBSOLETE,
                                  ReminderState.SKIPPED, ReminderState.PARKED}),
    ReminderState.FIRED: frozenset(),
    ReminderState.OBSOLETE: frozenset(),
    ReminderState.SKIPPED: frozenset(),
    ReminderState.PARKED: frozenset(),
}
"""A reminder is decided once: fired, found obsolete, skipped or parked; it never moves again."""

LEAD = "obligation_due"
"""The kind of a lead-time reminder: an obligation falls due in so many hours."""

ON_TIME = timedelta(minutes=5)
"""A reminder found due at most this long after its moment comes on time: ten ticks of the
reminders job (every 30 s), room for a busy database or a restart."""


class Action(StrEnum):
    """What a tick does with a due reminder."""

    SEND = "send"
    """On time: its own message, now."""
    SKIP = "skip"
    """A lead-time reminder whose moment passed: never sent late."""
    DIGEST = "digest"
    """Fell due while nothing could send it: in the digest of each person it goes to."""


def decide(kind: str, moment: datetime, now: datetime, *, on_time: timedelta = ON_TIME
           ) -> Action:
    """What becomes of a reminder of `kind`, due at `moment`, found at `now`."""
    if now - moment <= on_time:
        return Action.SEND
    return Action.SKIP if kind == LEAD else Action.DIGEST


def skipped_note(now: datetime, moment: datetime) -> str:
    """Why a lead-time reminder was not sent, for the person reading the reminders table."""
    late = int((now - moment).total_seconds() // 60)
    hours, minutes = divmod(late, 60)
    span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (f"skipped: its moment passed {span} before it could be sent; a reminder is never "
            "sent late (the next lead time or the escalation at the due time speaks for it)")


@dataclass(frozen=True, slots=True)
class Digest(Generic[P, T]):
    """One message to `people`, who all have the same `items` to hear about."""

    people: tuple[P, ...]
    items: tuple[T, ...]


def digests(wanted: Iterable[tuple[T, Sequence[P]]]) -> list[Digest[P, T]]:
    """One message per person for the late items of a tick: `wanted` gives each item with the
    people it goes to; the people who have the same items (in the order given) share one
    message. Each person is in exactly one digest; a digest of one item is that item's own
    message."""
    per_person: dict[P, list[T]] = {}
    for item, people in wanted:
        for person in people:
            items = per_person.setdefault(person, [])
            if item not in items:
                items.append(item)
    shared: dict[tuple[T, ...], list[P]] = {}
    for person, items in per_person.items():
        shared.setdefault(tuple(items), []).append(person)
    return [Digest(tuple(people), items) for items, people in shared.items()]
