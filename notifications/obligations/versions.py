"""Which wording of a law applies to a breach: versions chosen by instant, in the law's own zone.

Laws change: California put a 30-day limit on its notice from 1 January 2026, Texas cut
its attorney-general notice from 60 to 30 days on 1 September 2023. A breach is governed
by the wording in force when its clock started, not by today's. A regime file therefore
states the current wording in the obligation's body (named by `version`) and the earlier
ones in `earlier` (each with the last day it was in force and only the fields that
differed); `in_force_from` on the regime or the obligation is the first day of all.

Dates in a regime file are days of the law's own calendar: a day starts at local midnight
in the regime's time zone (the organisation's when the regime names none, as for EU law
applied in the Member State where it is established). The instant that decides is the
start of the obligation's clock (its trigger; for a follow-up, the trigger of the duty it
follows), or awareness while that has not happened yet. Comparing instants, never the
date as the caller happened to write it, makes one instant written with two UTC offsets
give one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.obligations.deadlines import zone
from notifications.obligations.facts import Facts
from notifications.obligations.regimes import (
    Catalogue,
    Condition,
    MetTrigger,
    Obligation,
    Regime,
    Trigger,
)

_OVERRIDABLE = ("recipient_name", "deadline", "variants", "content", "citation", "source", "notes")


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) of a local day: midnight, or the first valid time after it."""
    local = datetime.combine(day, time.min, tzinfo=tz)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Instant:
    """The instant that chooses the version, and what it is (shown in the basis)."""

    at: datetime
    label: str


def deciding_instant(obligation: Obligation, facts: Facts, catalogue: Catalogue) -> Instant:
    """When the obligation's clock starts (following follow-ups to their root), else awareness."""
    trigger: Trigger = obligation.trigger
    seen: set[str] = set()
    while isinstance(trigger, MetTrigger) and trigger.met not in seen:
        seen.add(trigger.met)
        found = catalogue.obligation(trigger.met)
        if found is None:
            break
        trigger = found[1].trigger
    incident = facts.incident
    if isinstance(trigger, str):
        at = getattr(incident, trigger)
        if at is None and trigger == "discovered_at":
            return Instant(incident.aware_at.astimezone(UTC), "aware_at (discovered_at not given)")
        if at is not None:
            return Instant(at.astimezone(UTC), trigger)
    return Instant(incident.aware_at.astimezone(UTC), "aware_at (the trigger has not happened yet)")


@dataclass(frozen=True)
class Chosen:
    """The wording that governs this breach: the obligation as it read then, and its name."""

    obligation: Obligation
    version: str | None
    note: str | None
    also_when: Condition | None = None
    """A condition the chosen wording adds to the obligation's own."""


@dataclass(frozen=True)
class NotInForce:
    """No wording of the duty (or of its law) was in force at the deciding instant."""

    reason: str


def regime_zone(regime: Regime, facts: Facts) -> ZoneInfo:
    """The zone whose calendar the law's dates are days of."""
    return zone(regime.timezone or facts.organisation.timezone)


def choose(regime: Regime, obligation: Obligation, facts: Facts, catalogue: Catalogue) -> Chosen | NotInForce:
    """The version of `obligation` in force for this breach, or why none was."""
    tz = regime_zone(regime, facts)
    instant = deciding_instant(obligation, facts, catalogue)
    when = f"{instant.label} {instant.at.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"
    for first, who in ((regime.in_force_from, regime.id), (obligation.in_force_from, "this duty")):
        if first is not None and instant.at < start_of_day(first, tz):
            return NotInForce(f"{who} applies to breaches from {first} ({tz.key}); {when}")
    if obligation.in_force_until is not None and instant.at >= start_of_day(
            obligation.in_force_until + timedelta(days=1), tz):
        return NotInForce(f"this duty applied to breaches until {obligation.in_force_until} "
                          f"({tz.key}); {when}")
    start = obligation.in_force_from or regime.in_force_from
    for earlier in obligation.earlier:
        ends = start_of_day(earlier.until + timedelta(days=1), tz)
        if instant.at < ends:
            changes = {name: getattr(earlier, name) for name in _OVERRIDABLE
                       if getattr(earlier, name) is not None}
            span = f"in force {'from ' + str(start) + ' ' if start else ''}until {earlier.until}"
            return Chosen(obligation.model_copy(update=changes), earlier.name,
                          f"version: {earlier.name}, {span} ({tz.key}); chosen by {when}",
                          earlier.also_when)
        start = earlier.until + timedelta(days=1)
    if obligation.version is None:
        return Chosen(obligation, None, None)
    span = f"in force from {start}" if start else "in force"
    return Chosen(obligation, obligation.version, f"version: {obligation.version}, {span} "
                  f"({tz.key}); chosen by {when}")
