"""The register's and the compliance report's rules, on plain values: what is decided about each
duty, how late, the tallies per period, the median and worst time to the authority notice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from incident.kernel.errors import Invalid
from notifications.obligations.rules import ObligationStatus
from notifications.register import rules
from notifications.register.rules import Decision, Duty, Outcome, PeopleBasis, Per

BERLIN = ZoneInfo("Europe/Berlin")
AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

AUTHORITY = Duty(ref="gdpr/authority", recipient="authority", recipient_name="Authority",
                 phase="initial", applies=True, due_at=DUE, trigger_at=AWARE,
                 status=ObligationStatus.PENDING)
PEOPLE = Duty(ref="gdpr/data-subjects", recipient="individuals", recipient_name="People",
              phase=None, applies=True, due_at=None, trigger_at=AWARE,
              status=ObligationStatus.PENDING)


def met(duty: Duty, at: datetime, *, reason: str | None = None) -> Duty:
    late = duty.due_at is not None and at > duty.due_at
    return replace(duty, status=ObligationStatus.LATE if late else ObligationStatus.MET,
                   met_at=at, how="portal", late_reason=reason, status_by="dpo@example.com",
                   status_at=at)


def waived(duty: Duty) -> Duty:
    return replace(duty, status=ObligationStatus.WAIVED, waiver="No risk: the key is safe.",
                   status_by="dpo@example.com", status_at=AWARE)


def test_met_exactly_at_the_due_time_is_on_time_and_a_second_later_is_late() -> None:
    assert rules.late_by(DUE, DUE) is None
    assert rules.late_by(DUE, datetime(2026, 3, 5, 9, 0, 1, tzinfo=UTC)) == 1
    assert rules.late_by(None, NOW) is None  # no fixed due time: never late by the clock
    assert rules.late_by(DUE, None) is None


def test_each_duty_gets_one_decision() -> None:
    late = rules.decide(met(AUTHORITY, datetime(2026, 3, 6, 11, 30, tzinfo=UTC),
                            reason="The forensic report came late."), dismissed=False, now=NOW)
    assert (late.decision, late.late_by_seconds, late.reason, late.how, late.overdue) == (
        Decision.NOTIFIED, 26 * 3600 + 30 * 60, "The forensic report came late.", "portal", False)
    on_time = rules.decide(met(AUTHORITY, AWARE), dismissed=False, now=NOW)
    assert (on_time.decision, on_time.late_by_seconds, on_time.met_at) == (
        Decision.NOTIFIED, None, AWARE)
    no_risk = rules.decide(waived(PEOPLE), dismissed=False, now=NOW)
    assert (no_risk.decision, no_risk.reason, no_risk.decided_by, no_risk.decided_at) == (
        Decision.WAIVED, "No risk: the key is safe.", "dpo@example.com", AWARE)
    overdue = rules.decide(AUTHORITY, dismissed=False, now=NOW)
    assert (overdue.decision, overdue.overdue, overdue.decided_by) == (Decision.OPEN, True, None)
    assert rules.decide(AUTHORITY, dismissed=False, now=AWARE).overdue is False
    assert rules.decide(PEOPLE, dismissed=False, now=NOW).overdue is False
    gone = rules.decide(replace(AUTHORITY, applies=False, why=("risk none",)), dismissed=False,
                        now=NOW)
    assert (gone.decision, gone.why_not, gone.overdue) == (Decision.NOT_APPLICABLE,
                                                           ("risk none",), False)


def test_a_dismissed_incident_owes_nothing_still_pending_and_keeps_what_was_done() -> None:
    pending = rules.decide(AUTHORITY, dismissed=True, now=NOW)
    assert (pending.decision, pending.overdue, pending.reason) == (
        Decision.NOT_OWED, False, rules.NOT_OWED_REASON)
    assert rules.decide(met(AUTHORITY, AWARE), dismissed=True, now=NOW).decision is (
        Decision.NOTIFIED)
    assert rules.outcome_of(AUTHORITY, dismissed=True, now=NOW) is None
    done = rules.outcome_of(met(AUTHORITY, AWARE), dismissed=True, now=NOW)
    assert done is not None and done.outcome is Outcome.ON_TIME


def test_outcomes_against_the_due_time() -> None:
    late = rules.outcome_of(met(AUTHORITY, datetime(2026, 3, 7, 9, tzinfo=UTC), reason="why"),
                            dismissed=False, now=NOW)
    assert late is not None
    assert (late.outcome, late.late_by_seconds, late.reason, late.overdue) == (
        Outcome.LATE, 2 * 86400, "why", False)
    overdue = rules.outcome_of(AUTHORITY, dismissed=False, now=NOW)
    assert overdue is not None
    assert (overdue.outcome, overdue.overdue, overdue.overdue_by_seconds, overdue.seconds_left
            ) == (Outcome.OPEN, True, (NOW - DUE).total_seconds(), None)
    pending = rules.outcome_of(AUTHORITY, dismissed=False, now=AWARE)
    assert pending is not None
    assert (pending.overdue, pending.seconds_left) == (False, 72 * 3600)
    waiting = rules.outcome_of(PEOPLE, dismissed=False, now=NOW)
    assert waiting is not None and (waiting.overdue, waiting.seconds_left) == (False, None)
    skipped = rules.outcome_of(waived(PEOPLE), dismissed=False, now=NOW)
    assert skipped is not None and (skipped.outcome, skipped.reason) == (
        Outcome.WAIVED, "No risk: the key is safe.")
    assert rules.outcome_of(replace(AUTHORITY, applies=False), dismissed=False, now=NOW) is None


def test_the_authority_notice_is_the_first_one_to_an_authority_or_regulator() -> None:
    outcomes = [o for o in (
        rules.outcome_of(met(PEOPLE, datetime(2026, 3, 2, 10, tzinfo=UTC)), dismissed=False,
                         now=NOW),
        rules.outcome_of(met(replace(AUTHORITY, ref="nis2/early-warning", recipient="regulator"),
                             datetime(2026, 3, 3, 9, tzinfo=UTC)), dismissed=False, now=NOW),
        rules.outcome_of(met(AUTHORITY, datetime(2026, 3, 4, 9, tzinfo=UTC)), dismissed=False,
                         now=NOW)) if o is not None]
    assert rules.first_authority_notice(AWARE, outcomes) == 86400
    assert rules.first_authority_notice(AWARE, outcomes[:1]) is None


def test_a_summary_counts_shares_and_takes_the_median_and_the_worst() -> None:
    outcomes = [o for o in (
        rules.outcome_of(met(AUTHORITY, AWARE), dismissed=False, now=NOW),
        rules.outcome_of(met(AUTHORITY, NOW, reason="late"), dismissed=False, now=NOW),
        rules.outcome_of(waived(PEOPLE), dismissed=False, now=NOW),
        rules.outcome_of(AUTHORITY, dismissed=False, now=NOW),  # overdue
        rules.outcome_of(PEOPLE, dismissed=False, now=NOW),  # open, no fixed time
    ) if o is not None]
    summary = rules.summarise(3, outcomes, [("BR-1", 100), ("BR-2", 400), ("BR-3", 300)])
    assert (summary.incidents, summary.duties, summary.on_time, summary.late, summary.waived,
            summary.open, summary.overdue) == (3, 5, 1, 1, 1, 2, 1)
    assert summary.share_on_time == pytest.approx(1 / 3)
    assert (summary.notices, summary.median_notice_seconds, summary.worst_notice_seconds,
            summary.worst_notice_incident) == (3, 300, 400, "BR-2")
    assert rules.median_seconds([100, 400]) == 250
    assert rules.median_seconds([]) is None
    empty = rules.summarise(0, [], [])
    assert (empty.share_on_time, empty.median_notice_seconds, empty.worst_notice_incident) == (
        None, None, None)
    assert rules.share_on_time(0, 0, 2) == 0.0


@pytest.mark.parametrize(("at", "per", "label", "start", "end"), [
    (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), Per.MONTH, "2026-04",
     datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC)),
    (datetime(2026, 3, 10, tzinfo=UTC), Per.MONTH, "2026-03",
     datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), Per.MONTH, "2027-01",
     datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 31, 23, tzinfo=UTC)),
    (datetime(2026, 11, 5, tzinfo=UTC), Per.QUARTER, "2026-Q4",
     datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
    (datetime(2026, 6, 1, tzinfo=UTC), Per.YEAR, "2026",
     datetime(2025, 12, 31, 23, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
])
def test_periods_follow_the_calendar_of_the_time_zone(at: datetime, per: Per, label: str,
                                                      start: datetime, end: datetime) -> None:
    assert rules.period_of(at, per=per, zone=BERLIN) == rules.Period(label, start, end)


def test_a_period_runs_from_before_to() -> None:
    rules.check_period(AWARE, NOW)
    rules.check_period(None, NOW)
    for start, end in ((NOW, AWARE), (NOW, NOW)):
        with pytest.raises(Invalid) as refused:
            rules.check_period(start, end)
        assert refused.value.extensions["errors"] == [{"field": "from",
                                                       "message": "must be before to"}]


@pytest.mark.parametrize(("seconds", "words"), [
    (None, ""), (0, "0 s"), (59, "59 s"), (60, "1 min"), (3600, "1 h"), (86400, "1 d"),
    (95_400, "1 d 2 h 30 min"), (90_061, "1 d 1 h 1 min"), (-120, "2 min")])
def test_spans_in_words(seconds: int | None, words: str) -> None:
    assert rules.span_words(seconds) == words


def test_people_are_counted_else_estimated_saying_which() -> None:
    assert rules.people_affected(snapshot=2, counted=0, estimate=50) == rules.People(
        0, PeopleBasis.SNAPSHOT, 2)
    assert rules.people_affected(snapshot=None, counted=None, estimate=50) == rules.People(
        50, PeopleBasis.ESTIMATE)
    assert rules.people_affected(snapshot=None, counted=None, estimate=None) == rules.People(
        None, PeopleBasis.UNKNOWN)


def test_remedial_action_is_the_remedial_steps_done_as_reports_word_them() -> None:
    steps = [
        rules.Step("contain", "done", "Access was revoked.", datetime(2026, 3, 3, tzinfo=UTC)),
        rules.Step("recover", "done", "Backups were restored.", datetime(2026, 3, 2, tzinfo=UTC)),
        rules.Step("contain", "done", None, datetime(2026, 3, 2, tzinfo=UTC)),  # internal work
        rules.Step("notify", "done", "The authority was told.", datetime(2026, 3, 2, tzinfo=UTC)),
        rules.Step("contain", "in_progress", "Passwords were reset.", None),
        rules.Step("identify", "skipped", None, None),
    ]
    assert rules.remedial_action(steps) == rules.Remedial(
        measures=("Backups were restored.", "Access was revoked."), steps_done=4, steps_skipped=1,
        steps_total=6)


def test_a_register_entry_from_plain_values() -> None:
    facts = rules.Facts(
        reference="BR-2026-0001", title="Laptop", description="", kind="lost_device",
        status="dismissed", breach_types=("confidentiality",), data_categories=("contact",),
        systems=(), occurred_from=None, occurred_to=None, detected_at=AWARE, aware_at=AWARE,
        contained_at=None, closed_at=None, estimated_subjects=10, estimated_records=None)
    dismissal = rules.Dismissal(at=NOW, by="dpo@example.com", reason="Test data only.")
    entry = rules.register_entry(
        facts, people=rules.people_affected(snapshot=None, counted=None, estimate=10),
        dismissal=dismissal, effects=None, steps=[], duties=[PEOPLE, met(AUTHORITY, AWARE),
                                                             replace(AUTHORITY, ref="x/gone",
                                                                     applies=False)],
        evidence=[], timeline=rules.TimelineHead(events=4, head_hash="ab" * 32),
        milestones={"breach determined": NOW}, now=NOW)
    assert [(d.ref, d.decision) for d in entry.duties] == [
        ("gdpr/authority", Decision.NOTIFIED), ("gdpr/data-subjects", Decision.NOT_OWED),
        ("x/gone", Decision.NOT_APPLICABLE)]
    assert entry.dismissal == dismissal
    assert entry.milestones == (("breach determined", NOW),)
    reopened = rules.register_entry(replace(facts, status="open"), people=entry.people,
                                    dismissal=dismissal, effects=None, steps=[], duties=[],
                                    evidence=[], timeline=entry.timeline, now=NOW)
    assert reopened.dismissal is None  # only a dismissed incident shows why it was dismissed


def test_shares_in_words() -> None:
    assert (rules.percent(None), rules.percent(2 / 3), rules.percent(0.0), rules.percent(1.0)) == (
        "—", "67 %", "0 %", "100 %")
