"""Four eyes on an assessment that would end a duty: the pure rules.

An assessment that keeps or raises every duty takes effect at once. One that would end a
duty which applies now (the engine's answer under the assessment in force, compared with
its answer under the new one) is recorded as *pending*: the assessment in force stays in
force, and so do the duties, until an approver who did not record it confirms it. A
lower risk therefore never removes a duty silently, and the person who lowered it is
never the one who settles it (DESIGN.md: "four-eyes: the approver is never the author").

Pure functions over assessment rows; the service does the reading and writing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from incident.kernel.errors import Conflict, DomainError
from notifications.obligations.models import IncidentAssessment

WORDS = {
    "document": "document only",
    "notify_authority": "notify the authority",
    "notify_authority_and_subjects": "notify the authority and the people",
}
"""A recommendation as a sentence says it."""


class FourEyes(DomainError):
    """The author of an assessment may not confirm it."""

    status, slug, title = 403, "four-eyes", "Confirmation needs a second person"


def words(recommendation: str) -> str:
    return WORDS.get(recommendation, recommendation)


def ended(before: Iterable[tuple[str, bool]], after: Iterable[tuple[str, bool]]) -> list[str]:
    """The duties (refs) that apply in `before` and no longer in `after`, sorted.

    Each argument pairs a duty's ref with whether it applies; a duty missing from
    `after` does not apply there."""
    applying_after = {ref for ref, applies in after if applies}
    return sorted({ref for ref, applies in before if applies} - applying_after)


def in_force(rows: Sequence[IncidentAssessment]) -> IncidentAssessment | None:
    """The assessment in force: the newest one that is not pending."""
    settled = [row for row in rows if not row.pending]
    return max(settled, key=lambda row: row.number, default=None)


def awaiting(rows: Sequence[IncidentAssessment]) -> IncidentAssessment | None:
    """The newest pending assessment recorded after the one in force, if any."""
    current = in_force(rows)
    newer = [row for row in rows if row.pending and (current is None or row.number > current.number)]
    return max(newer, key=lambda row: row.number, default=None)


def _name(row: IncidentAssessment | None) -> str:
    if row is None:
        return "the assumption of high risk (no assessment in force)"
    return f"assessment {row.number} ({words(row.decided)})"


def held(row: IncidentAssessment) -> str:
    """Why a duty stays although a newer assessment would end it."""
    return (f"assessment {row.number} ({words(row.decided)}) would end this duty; it awaits an "
            "approver's confirmation")


def assumption(row: IncidentAssessment, current: IncidentAssessment | None) -> str:
    """The incident-wide sentence while `row` awaits confirmation."""
    duties = ", ".join(row.ends) or "a duty"
    return (f"assessment {row.number} ({words(row.decided)}) would end {duties}; it awaits an "
            f"approver's confirmation, so {_name(current)} stays in force")


def confirmation_refusal(row: IncidentAssessment, *, approver: str,
                         current: IncidentAssessment | None) -> DomainError | None:
    """Why `approver` may not confirm `row` now, or None."""
    if not row.pending:
        how = f"confirmed by {row.confirmed_by}" if row.confirmed_by else "in force since recorded"
        return Conflict(f"assessment {row.number} awaits no confirmation: it is {how}")
    if current is not None and current.number > row.number:
        return Conflict(f"assessment {current.number}, recorded since, is in force: "
                        f"assessment {row.number} can no longer take effect")
    if approver == row.assessed_by:
        return FourEyes(f"you recorded assessment {row.number}: another approver must confirm it")
    return None
