"""When runbook steps fall due: the due notation, its bounds, and the instant it gives.

A step's `due` is elapsed time after aware_at, written `30m`, `4h`, `2d` or `1d12h`;
`parse_due` reads it and refuses what is almost surely a typo; two well-known steps
carry the GDPR's 72-hour clock. `step_due_at` turns an offset into an instant without
letting a DST change stretch it.

Separate from the runbook schema and its loader because timing has rules of its own
(elapsed hours, not wall-clock days) that the service also applies to stored steps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

#: Well-known step ids whose timing is a legal matter, not a preference. GDPR
#: Art. 33(1) gives the controller 72 hours from awareness to notify the
#: supervisory authority, and the decision whether to notify must come first.
DECIDE_NOTIFIABLE = "decide-notifiable"
NOTIFY_AUTHORITY = "notify-authority"
LEGAL_CLOCK = timedelta(hours=72)

#: The longest offset a step may have: anything later is almost surely a typo
#: (`300d` for `30d`) and would hide a step from every overdue list.
MAX_DUE = timedelta(days=365)

_DUE_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")


class Timed(Protocol):
    """Anything due some elapsed time after aware_at: a runbook step."""

    @property
    def offset(self) -> timedelta: ...


def parse_due(text: str) -> timedelta:
    """Turn due notation (`30m`, `4h`, `2d`, `1d12h`) into elapsed time after aware_at.

    Units are days, hours and minutes, each at most once, largest first. A day
    is 24 elapsed hours, not a calendar day: a step's urgency does not change
    because the clocks went forward. Raises ValueError with a fix-it message.
    """
    match = _DUE_RE.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"bad due notation {text!r}: write elapsed time after aware_at as "
                         "days, hours, minutes in that order, e.g. '30m', '4h', '2d', '1d12h'")
    parts = {unit: int(value) for unit, value in match.groupdict().items() if value}
    offset = timedelta(days=parts.get("d", 0), hours=parts.get("h", 0),
                       minutes=parts.get("m", 0))
    if offset <= timedelta(0):
        raise ValueError(f"due {text!r} is zero; a step needs time to be done, e.g. '30m'")
    if offset > MAX_DUE:
        raise ValueError(f"due {text!r} is later than {MAX_DUE.days}d after aware_at")
    return offset


def step_due_at(step: Timed, aware_at: datetime) -> datetime:
    """When a step is due: aware_at plus the step's offset in elapsed time.

    The sum is taken in UTC because Python adds a timedelta to a zoned datetime
    on the wall clock, which would make a 24h step 23h or 25h across a DST
    change. The result is returned in aware_at's own time zone for display.
    """
    if aware_at.tzinfo is None or aware_at.utcoffset() is None:
        raise ValueError("aware_at must be time-zone aware")
    return (aware_at.astimezone(UTC) + step.offset).astimezone(aware_at.tzinfo)
