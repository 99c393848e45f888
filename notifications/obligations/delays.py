"""What a law-enforcement request to delay notice does to an obligation's clock.

Most breach laws let a law-enforcement agency hold a notice back while it would impede a
criminal investigation, each in its own words: the notice is suspended until the agency says
it may go and is due then (Cal. Civ. Code 1798.82(c): "promptly after"), or a fresh clock runs
from that day (C.R.S. 6-1-716(2)(c): "not later than thirty days after"), or that fresh clock
takes the place of the original one (10 M.R.S. 1348(3): "no more than 7 business days after");
some only honour a
request in writing (Fla. Stat. 501.171(4)(b)), or an oral one for a limited time (45 CFR
164.412(b): at most 30 days). The obligation's `law_enforcement_delay` (regimes.py) says which;
the incident's `law_enforcement_delay` (facts.py) says who asked, when, and until when.

`apply_delay` is pure: given the due and target times the obligation's own clock gives, it
returns them as the delay moves them, with a note for the basis. While a delay is open with no
stated end, the obligation has no due time and waits for the end of the delay, naming the
agency and the provision. A law whose text provides no delay is not delayed, and says so.

Separate from `due_times.py` (the obligation's own clock) because a delay is a fact about the
investigation, not about the law's deadline rule, and the two change for different reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.obligations.deadlines import describe, due_at
from notifications.obligations.facts import Incident
from notifications.obligations.facts import LawEnforcementDelay as DelayFacts
from notifications.obligations.regimes import LawEnforcementDelay, Obligation


@dataclass(frozen=True)
class Delayed:
    """Due and target times after the delay, what the obligation now waits for, and why.

    While the delay is open (`waiting_for`), neither time holds: `due_at` is None and
    `target_at` is the obligation's own target, kept only so that it stays a time."""

    due_at: datetime | None
    target_at: datetime
    waiting_for: str | None
    notes: tuple[str, ...]


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _cited(rule: LawEnforcementDelay) -> str:
    return f"{rule.citation}; confidence {rule.confidence}"


def delay_end(rule: LawEnforcementDelay, delay: DelayFacts) -> tuple[datetime | None, list[str]]:
    """When the delay ends for this law (None: still open), with notes on any limit applied.

    An oral request under a law that limits it (`oral_limit_days`) ends at the earlier of its
    stated end and the limit; with no stated end, at the limit.
    """
    end = delay.end
    if delay.written or rule.oral_limit_days is None:
        return end, []
    cap = delay.requested_at + timedelta(days=rule.oral_limit_days)
    if end is not None and end <= cap:
        return end, []
    return cap, [f"the request was not in writing: it delays notice at most {rule.oral_limit_days} "
                 f"days after it was made, to {_iso(cap)} ({_cited(rule)})"]


def apply_delay(obligation: Obligation, incident: Incident, *, due: datetime | None,
                target: datetime, tz: ZoneInfo) -> Delayed:
    """The obligation's due and target times as the incident's law-enforcement delay moves them."""
    delay, rule = incident.law_enforcement_delay, obligation.law_enforcement_delay
    if delay is None:
        return Delayed(due, target, None, ())
    if rule is None:
        return Delayed(due, target, None, (
            f"law enforcement ({delay.agency}) asked for a delay, but no provision of this duty's "
            "law lets it delay this notice: the clock runs",))
    if rule.written_only and not delay.written:
        return Delayed(due, target, None, (
            f"the request by {delay.agency} was not in writing: {rule.citation} delays notice only "
            "on a written request, so the clock runs",))
    if due is not None and delay.requested_at > due:
        return Delayed(due, target, None, (
            f"the request by {delay.agency} came after this notice was due: it does not move the "
            f"due time ({_cited(rule)})",))
    end, notes = delay_end(rule, delay)
    if end is None:
        waiting = (f"the end of the law-enforcement delay requested by {delay.agency} "
                   f"({rule.citation})")
        return Delayed(None, target, waiting, (
            *notes, f"delayed at the request of {delay.agency} since {_iso(delay.requested_at)}, "
                    f"with no end stated yet: {rule.note} ({_cited(rule)})"))
    if rule.effect == "replace":
        assert rule.after_end is not None
        new_due = due_at(rule.after_end, end, tz)
        clock = (f"due {describe(rule.after_end, 'the end of the delay')}, in place of the "
                 "original clock")
    elif rule.effect == "after_end":
        assert rule.after_end is not None
        fresh = due_at(rule.after_end, end, tz)
        new_due = max(d for d in (due, fresh) if d is not None) if due or fresh else None
        clock = f"due {describe(rule.after_end, 'the end of the delay')}"
    else:
        new_due = max(due, end) if due is not None else None
        clock = "due at the end of the delay, or at the original due time if later"
    new_target = max(target, end)
    if new_due is not None:
        new_target = min(new_target, new_due)
    ended = "ended" if delay.ended_at is not None else "ends as stated"
    notes.append(f"delayed at the request of {delay.agency} from {_iso(delay.requested_at)}; the "
                 f"delay {ended} at {_iso(end)}: {clock}; {rule.note} ({_cited(rule)})")
    return Delayed(new_due, new_target, None, tuple(notes))

