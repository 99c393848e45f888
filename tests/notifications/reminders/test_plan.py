"""Planning reminders is a pure function of the obligations: checked without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.obligations.models import IncidentObligation
from notifications.reminders.service import obligation_reminders

BERLIN = ZoneInfo("Europe/Berlin")


def obligation(due: datetime | None, status: str = "pending", applies: bool = True) -> IncidentObligation:
    return IncidentObligation(id=7, incident_id=uuid.uuid4(), ref="gdpr/authority", regime="gdpr",
                              obligation="authority", recipient="authority", recipient_name="DPA",
                              applies=applies, due_at=due, computed_at=datetime(2026, 1, 1, tzinfo=UTC),
                              status=status)


def test_reminders_come_at_elapsed_hours_before_the_due_time_across_a_dst_change() -> None:
    # Due on Monday 30 March 2026 at 11:00 in Berlin (CEST), after the switch on Sunday 29 March.
    due = datetime(2026, 3, 30, 11, 0, tzinfo=BERLIN).astimezone(UTC)
    planned = obligation_reminders(obligation(due), (48, 24, 6, 1))
    times = {f"{p.kind}{p.detail.get('lead_hours', '')}": p.due_at for p in planned}
    assert times["obligation_due48"] == due - timedelta(hours=48)
    # 48 elapsed hours before 11:00 CEST is 10:00 CET on the Saturday: the wall clock shows it.
    assert times["obligation_due48"].astimezone(BERLIN).strftime("%a %H:%M %Z") == "Sat 10:00 CET"
    assert times["obligation_overdue"] == due
    assert len({p.key for p in planned}) == 5


def test_keys_follow_the_due_time_so_a_moved_deadline_plans_anew() -> None:
    first = {p.key for p in obligation_reminders(obligation(datetime(2026, 5, 1, tzinfo=UTC)), (24,))}
    moved = {p.key for p in obligation_reminders(obligation(datetime(2026, 5, 2, tzinfo=UTC)), (24,))}
    assert first.isdisjoint(moved)
    assert first == {p.key for p in obligation_reminders(
        obligation(datetime(2026, 5, 1, tzinfo=UTC)), (24,))}


def test_nothing_is_planned_without_a_due_time_or_once_met() -> None:
    assert obligation_reminders(obligation(None), (24,)) == []
    assert obligation_reminders(obligation(datetime(2026, 5, 1, tzinfo=UTC), status="met"), (24,)) == []
    assert obligation_reminders(obligation(datetime(2026, 5, 1, tzinfo=UTC), applies=False), (24,)) == []
