"""A reminder's states. Pure.

    due → fired | obsolete (its obligation was met or moved) | parked (a kind this version
    does not know, kept for a person to look at)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ReminderState(StrEnum):
    """Where a reminder is (stored as these strings)."""

    DUE = "due"
    FIRED = "fired"
    OBSOLETE = "obsolete"
    PARKED = "parked"


TRANSITIONS: Mapping[ReminderState, frozenset[ReminderState]] = {
    ReminderState.DUE: frozenset({ReminderState.FIRED, ReminderState.OBSOLETE,
                                  ReminderState.PARKED}),
    ReminderState.FIRED: frozenset(),
    ReminderState.OBSOLETE: frozenset(),
    ReminderState.PARKED: frozenset(),
}
"""A reminder is decided once: fired, found obsolete, or parked; it never moves again."""
