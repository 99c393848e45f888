"""Incident vocabulary and lifecycle rules, as pure functions: statuses and their moves, who
sees which incidents, and the limits of the free text people write on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from incident.kernel.auth import PERMISSIONS, Permission, Role
from incident.kernel.errors import DomainError, Invalid
from incident.kernel.schemas import bounded_text


class Status(StrEnum):
    OPEN = "open"
    ASSESSING = "assessing"
    CONTAINED = "contained"
    NOTIFYING = "notifying"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class Kind(StrEnum):
    RANSOMWARE = "ransomware"
    LOST_DEVICE = "lost_device"
    MISDIRECTED_EMAIL = "misdirected_email"
    CREDENTIAL_STUFFING = "credential_stuffing"
    UNAUTHORIZED_ACCESS = "unauthorized_access"
    INSIDER = "insider"
    VENDOR = "vendor"
    OTHER = "other"


class BreachType(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.ASSESSING, Status.CONTAINED, Status.DISMISSED}),
    Status.ASSESSING: frozenset({Status.CONTAINED, Status.NOTIFYING, Status.DISMISSED}),
    Status.CONTAINED: frozenset({Status.NOTIFYING, Status.RESOLVED}),
    Status.NOTIFYING: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.NOTIFYING}),
    Status.CLOSED: frozenset(),
    # A dismissal can be wrong; reopening keeps the dismissal on the timeline.
    Status.DISMISSED: frozenset({Status.OPEN}),
}
"""Allowed moves. `contained -> resolved` serves breaches that need no notification."""

NEEDS_REASON = frozenset({Status.DISMISSED})
"""Targets that need a written reason: auditors must see why a breach was not reportable."""

FINISHING = frozenset({Status.RESOLVED, Status.CLOSED})
"""Targets that say the work is over: with duties to notify still pending, only an approver
moves an incident there, and only with a written reason."""

TIMED = {Status.CONTAINED: "contained_at", Status.CLOSED: "closed_at"}
"""Targets that record when they happened (which may be before the click): the field each sets."""

FINISHED = frozenset({Status.CLOSED, Status.DISMISSED})
"""Statuses in which nothing more is owed: no obligation is recomputed, no reminder fires."""

NOTE_LIMIT = 20_000
"""The longest note, in characters, however it is added (API, page or CLI)."""

REASON_LIMIT = 5_000
"""The longest reason given for a move, in characters."""

SEARCH_LIMIT = 200
"""The longest text an incident search looks for."""


class LifecycleError(DomainError):
    """A rule of the incident lifecycle was broken."""


class TransitionNotAllowed(LifecycleError):
    status, slug, title = 409, "transition-not-allowed", "Transition not allowed"

    def __init__(self, current: Status, target: Status) -> None:
        self.current, self.target = current, target
        self.allowed = sorted(TRANSITIONS[current])
        names = ", ".join(self.allowed) or "none: the incident is closed"
        super().__init__(f"an incident cannot move from {current} to {target}; allowed: {names}",
                         **{"from": current.value, "to": target.value,
                            "allowed": [s.value for s in self.allowed]})


class ReasonRequired(LifecycleError):
    status, slug, title = 422, "invalid", "Invalid input"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"field": "reason", "message": detail}])


class PendingDuties(LifecycleError):
    """Resolving or closing while duties to notify are pending, without an approver."""

    status, slug, title = 409, "pending-duties", "Duties still pending"

    def __init__(self, target: Status, pending: list[str]) -> None:
        self.pending = pending
        super().__init__(
            f"{_duties(pending)} still pending (neither met nor waived): only an approver may "
            f"move the incident to {target} now, with a written reason",
            to=target.value, pending=pending)


def _duties(pending: list[str]) -> str:
    count = len(pending)
    return f"{count} dut{'y is' if count == 1 else 'ies are'} ({'; '.join(pending)})"


def check_finishing(target: Status, pending: list[str], *, may_approve: bool,
                    reason: str | None) -> None:
    """Raise unless a move to `target` may leave `pending` duties behind: resolving or closing
    with duties still owed takes an approver (409 otherwise) and a written reason (422)."""
    if target not in FINISHING or not pending:
        return
    if not may_approve:
        raise PendingDuties(target, pending)
    if not (reason and reason.strip()):
        raise ReasonRequired(f"{_duties(pending)} still pending: moving the incident to {target} "
                             f"now needs a written reason")


def check_moved_at(target: Status, at: datetime | None) -> None:
    """Only the moves that record a time (contained, closed) take one."""
    if at is not None and target not in TIMED:
        raise Invalid.fields([("at", f"a move to {target} records no time; only moves to "
                               f"{' and '.join(TIMED)} do")])


def allowed_targets(current: Status) -> list[Status]:
    return sorted(TRANSITIONS[current])


def is_finished(status: Status) -> bool:
    return status in FINISHED


def check_transition(current: Status, target: Status, *, reason: str | None) -> None:
    """Raise unless `current -> target` is allowed and carries the reason it needs."""
    if target not in TRANSITIONS[current]:
        raise TransitionNotAllowed(current, target)
    if target in NEEDS_REASON and not (reason and reason.strip()):
        raise ReasonRequired(f"moving an incident to {target} needs a reason")
    reason_text(reason)


def reason_text(reason: str | None) -> str | None:
    """The reason for a move as it is recorded (trimmed; None when blank), or Invalid if too long."""
    return bounded_text("reason", reason, limit=REASON_LIMIT) or None


def note_text(text: str) -> str:
    """A note as it is recorded (trimmed), or Invalid when it is empty or too long."""
    return bounded_text("text", text, limit=NOTE_LIMIT, at_least=1)


def visible_statuses(role: Role) -> frozenset[Status]:
    """The statuses of the incidents a role sees: in every list, and when opening one.

    One rule for both, so a list never offers an incident that opening then refuses.
    Today every role that may read incidents sees all of them, dismissed ones included:
    the register keeps dismissals so that auditors and responders can see why.
    """
    if Permission.READ_INCIDENTS not in PERMISSIONS[role]:
        return frozenset()
    return frozenset(Status)


def is_visible(role: Role, status: Status) -> bool:
    return status in visible_statuses(role)


def timestamps_on_entering(target: Status, at: datetime) -> dict[str, datetime | None]:
    """The incident timestamps a transition sets (or clears, when reopening)."""
    if target is Status.CONTAINED:
        return {"contained_at": at}
    if target is Status.CLOSED:
        return {"closed_at": at}
    if target is Status.OPEN:
        return {"closed_at": None}
    return {}


def format_reference(year: int, number: int) -> str:
    """`BR-2026-0007`; numbers past 9999 simply grow a digit."""
    return f"BR-{year:04d}-{number:04d}"


@dataclass(frozen=True, slots=True)
class Times:
    occurred_from: datetime | None
    occurred_to: datetime | None
    detected_at: datetime
    aware_at: datetime
    contained_at: datetime | None = None
    closed_at: datetime | None = None


def check_times(times: Times, *, now: datetime, skew: timedelta) -> list[tuple[str, str]]:
    """Every problem with an incident's timestamps, as (field, message) pairs.

    Order follows how a breach unfolds: it occurs, is detected, and the
    organisation becomes aware of it (the legal trigger). Nothing may lie in
    the future beyond a small clock skew.
    """
    problems: list[tuple[str, str]] = []
    latest = now + skew
    fields = {
        "occurred_from": times.occurred_from,
        "occurred_to": times.occurred_to,
        "detected_at": times.detected_at,
        "aware_at": times.aware_at,
        "contained_at": times.contained_at,
        "closed_at": times.closed_at,
    }
    for name, value in fields.items():
        if value is not None and value > latest:
            problems.append((name, "lies in the future"))

    def before(later: str, earlier: str, message: str) -> None:
        a, b = fields[later], fields[earlier]
        if a is not None and b is not None and a < b:
            problems.append((later, message))

    before("occurred_to", "occurred_from", "is before occurred_from")
    before("detected_at", "occurred_from", "is before the breach began (occurred_from)")
    before("aware_at", "occurred_from", "is before the breach began (occurred_from)")
    before("aware_at", "detected_at", "is before detected_at: awareness follows detection")
    before("contained_at", "occurred_from", "is before the breach began (occurred_from)")
    before("closed_at", "aware_at", "is before the organisation became aware (aware_at)")
    before("closed_at", "contained_at", "is before containment (contained_at)")
    return problems
