"""What a tick does with each due reminder, and who gets which digest: pure, no database.

Reminders are internal messages, not a legal duty: the rules here are the product's own
(a reminder is only useful before its moment has long passed), not a law's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifications.reminders.rules import (
    ON_TIME,
    TRANSITIONS,
    Action,
    Digest,
    ReminderState,
    decide,
    digests,
    skipped_note,
)
from notifications.reminders.service import name_duty

MOMENT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_a_reminder_found_within_a_few_minutes_of_its_moment_is_sent_on_its_own() -> None:
    for kind in ("obligation_due", "obligation_overdue", "classify_incident", "step_overdue"):
        assert decide(kind, MOMENT, MOMENT) == Action.SEND
        assert decide(kind, MOMENT, MOMENT + timedelta(seconds=30)) == Action.SEND
        assert decide(kind, MOMENT, MOMENT + ON_TIME) == Action.SEND


def test_a_lead_time_reminder_whose_moment_has_passed_is_never_sent_late() -> None:
    # "Due in 48 hours", found ten days on: skipped, whatever else is due.
    assert decide("obligation_due", MOMENT, MOMENT + ON_TIME + timedelta(seconds=1)) == Action.SKIP
    assert decide("obligation_due", MOMENT, MOMENT + timedelta(days=10)) == Action.SKIP
    assert ReminderState.SKIPPED in TRANSITIONS[ReminderState.DUE]
    assert TRANSITIONS[ReminderState.SKIPPED] == frozenset()
    note = skipped_note(MOMENT + timedelta(hours=3, minutes=7), MOMENT)
    assert note.startswith("skipped: its moment passed 3 h 7 min before it could be sent")


def test_whatever_else_fell_due_while_nothing_ran_goes_into_the_digest() -> None:
    late = MOMENT + timedelta(days=10)
    for kind in ("obligation_overdue", "classify_incident", "step_overdue", "delivery_failing",
                 "people_not_reached"):
        assert decide(kind, MOMENT, late) == Action.DIGEST


def test_each_person_gets_one_digest_and_people_with_the_same_items_share_it() -> None:
    # Incident 1 goes to the admin, the approver and its lead; incident 2 to the admin and
    # the approver only.
    wanted = [("gdpr-1", ["admin", "approver", "lead"]), ("nis2-1", ["admin", "approver", "lead"]),
              ("gdpr-2", ["admin", "approver"])]
    found = digests(wanted)
    assert found == [Digest(("admin", "approver"), ("gdpr-1", "nis2-1", "gdpr-2")),
                     Digest(("lead",), ("gdpr-1", "nis2-1"))]
    per_person = [person for digest in found for person in digest.people]
    assert sorted(per_person) == ["admin", "approver", "lead"]  # exactly one each
    assert digests([]) == []
    assert digests([("x", [])]) == []  # nobody to tell


def test_duties_are_named_in_words_with_the_authority_the_profile_names() -> None:
    authorities = {"gdpr/authority": {"name": "Berliner Beauftragte für Datenschutz"},
                   "nis2": {"name": "Bundesamt für Sicherheit in der Informationstechnik"}}
    gdpr = name_duty("gdpr/authority", "authority", "Competent supervisory authority",
                     "EU General Data Protection Regulation - personal data breach notification",
                     authorities)
    assert (gdpr.duty, gdpr.words, gdpr.regime, gdpr.recipient) == (
        "authority", "Notify the supervisory authority", "EU General Data Protection Regulation",
        "Berliner Beauftragte für Datenschutz")
    # The regime's own entry stands for each of its duties to an authority.
    nis2 = name_duty("nis2/early-warning", "authority", "CSIRT or competent authority",
                     "NIS2 Directive - significant incident reporting", authorities)
    assert nis2.recipient == "Bundesamt für Sicherheit in der Informationstechnik"
    assert nis2.regime == "NIS2 Directive"
    # No authority in the profile: the regime file's words; people are never "an authority".
    uk = name_duty("uk-gdpr/authority", "authority", "The Information Commissioner (ICO)",
                   None, {})
    assert (uk.recipient, uk.regime) == ("The Information Commissioner (ICO)", "UK GDPR")
    people = name_duty("gdpr/data-subjects", "individuals", "Each affected data subject",
                       None, authorities)
    assert (people.words, people.recipient) == ("Notify the people affected",
                                                "Each affected data subject")
