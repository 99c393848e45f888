"""What a notification says to each recipient, as pure values: the context shared by every
message of a notification, the person's own part, a reminder's stored fields restored, and when
retries stop."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from incident.affected.models import AffectedSnapshot
from incident.inventory.rules import categories_mask
from incident.lifecycle.models import Incident
from notifications.drafting.letters import Letter, internal_context, mailboxes, shared_context
from notifications.drafting.models import Delivery, Notification
from notifications.drafting.service import letters_of
from notifications.obligations.models import IncidentObligation, OrganisationProfile
from tests.factories import START

AWARE = START - timedelta(hours=2, minutes=30)
DUE = AWARE + timedelta(hours=72)
INCIDENT = Incident(
    id=uuid.uuid4(), reference="BR-2026-0042", title="Laptop stolen", kind="lost_device",
    breach_types=["confidentiality"], data_categories=["contact", "financial"], status="open",
    detected_at=AWARE - timedelta(hours=1), aware_at=AWARE, created_by="tests", created_at=START,
    updated_at=START, estimated_subjects=120, estimated_records=300)
PROFILE = OrganisationProfile(name="Example GmbH", country="DE", timezone="Europe/Berlin",
                              dpo={"name": "Dana Schmidt", "email": "dpo@example.com"},
                              updated_at=START, updated_by="tests")
OBLIGATION = IncidentObligation(
    incident_id=INCIDENT.id, ref="gdpr/authority", regime="gdpr", obligation="authority",
    recipient="authority", recipient_name="Berliner Beauftragte für Datenschutz", due_at=DUE,
    computed={"basis": {"article": "33(1)"}}, computed_at=START)


def notification(kind: str, *, sequence: int = 1, sent_at: datetime | None = None) -> Notification:
    return Notification(id=7, incident_id=INCIDENT.id, ref="gdpr/authority", kind=kind,
                        sequence=sequence, content_hash="0" * 64, created_at=START,
                        created_by="tests", sent_at=sent_at)


def delivery(**changes: Any) -> Delivery:
    return Delivery(notification_id=7, recipient_key="c-1", message_id="<m@example.com>",
                    next_attempt_at=START, **changes)


def test_a_notice_carries_the_incident_the_organisation_and_the_fields() -> None:
    fields = {"description": "A laptop was stolen.", "consequences": "Phishing.",
              "measures": "- Locked it remotely.\n\n• Changed the passwords.\n"}
    context = shared_context(notification("subject_notice"), INCIDENT, PROFILE, fields, None, None)
    assert context["incident_reference"] == "BR-2026-0042"
    assert context["organisation"] == "Example GmbH"
    assert (context["dpo_name"], context["dpo_email"], context["dpo_phone"]) == (
        "Dana Schmidt", "dpo@example.com", "")
    assert (context["description"], context["consequences"]) == ("A laptop was stolen.", "Phishing.")
    assert context["aware_at"] == AWARE and context["kind"] == "lost_device"
    assert context["measures"] == ["Locked it remotely.", "Changed the passwords."]
    assert "authority" not in context  # a notice to people names no authority


def test_a_report_adds_the_obligation_and_numbers_its_supplements() -> None:
    fields = {"description": "Stolen.", "measures_taken": "Wiped.", "authority_reference": "A-1"}
    first = shared_context(notification("authority_report"), INCIDENT, PROFILE, fields,
                           OBLIGATION, None)
    assert first["authority"] == "Berliner Beauftragte für Datenschutz"
    assert first["supplement"] is None and first["due_at"] == DUE
    assert first["basis"] == {"article": "33(1)"} and first["authority_reference"] == "A-1"
    assert first["measures_taken"] == ["Wiped."] and first["measures_proposed"] == []
    assert first["categories"] == ["contact", "financial"] and first["subjects_estimate"] == 120
    later = shared_context(notification("authority_report", sequence=3, sent_at=START), INCIDENT,
                           PROFILE, fields, None, AWARE)
    assert later["supplement"] == 2 and later["first_reported_at"] == AWARE
    assert later["reported_at"] == START
    assert (later["authority"], later["due_at"], later["basis"]) == ("", None, None)


def test_a_reminder_s_stored_fields_become_instants_and_spans() -> None:
    stored = {"due_at": DUE.isoformat(), "since": AWARE.isoformat(), "time_left_seconds": 5400,
              "elapsed_seconds": "90.5", "ref": "gdpr/authority"}
    values = internal_context(stored)
    assert values["due_at"] == DUE and values["since"] == AWARE
    assert values["time_left"] == timedelta(minutes=90)
    assert values["elapsed"] == timedelta(seconds=90.5)
    assert values["ref"] == "gdpr/authority"
    assert not any(name.endswith("_seconds") for name in values)
    assert internal_context({"due_at": None}) == {"due_at": None}


def test_each_recipient_gets_the_shared_part_and_their_own() -> None:
    shared = {"incident_reference": "BR-2026-0042", "authority": "From the obligation"}
    zone = ZoneInfo("Europe/Berlin")
    notice = Letter(notification("subject_notice"), {}, shared, zone, None)
    anna = notice.context_for(delivery(name="Anna Nowak",
                                       categories=categories_mask(["contact", "financial"])))
    assert anna["recipient_name"] == "Anna Nowak"
    assert anna["categories"] == ["contact", "financial"]
    assert anna["incident_reference"] == "BR-2026-0042"
    report = Letter(notification("authority_report"), {}, shared, zone, None)
    assert report.context_for(delivery(name="BlnBDI"))["authority"] == "BlnBDI"
    assert report.context_for(delivery())["authority"] == "From the obligation"
    reminder = Letter(notification("reminder"), {"due_at": DUE.isoformat()}, shared, zone, None)
    assert reminder.context_for(delivery(name="Ada")) == {"due_at": DUE, "recipient_name": "Ada"}


def test_retries_stop_at_the_deadline_after_one_retry_at_least() -> None:
    first_retry, without = timedelta(minutes=5), timedelta(days=3)
    sent = notification("authority_report", sent_at=START)
    assert Letter(sent, {}, {}, ZoneInfo("UTC"), DUE).give_up_at(
        START, first_retry=first_retry, without_deadline=without) == DUE
    past = START - timedelta(hours=1)
    assert Letter(sent, {}, {}, ZoneInfo("UTC"), past).give_up_at(
        START, first_retry=first_retry, without_deadline=without) == START + first_retry
    unsent = notification("subject_notice")
    now = datetime(2026, 3, 11, tzinfo=UTC)
    assert Letter(unsent, {}, {}, ZoneInfo("UTC"), None).give_up_at(
        now, first_retry=first_retry, without_deadline=without) == now + without


def test_a_report_counts_from_the_latest_snapshot_and_keeps_the_assessment_for_its_annex() -> None:
    snapshot = AffectedSnapshot(id=3, incident_id=INCIDENT.id, number=2, scope={},
                                computed_at=START, computed_by="tests", total=51,
                                summary={"by_category": {"contact": 51, "financial": 7},
                                         "by_jurisdiction": {"DE": 40, "PL": 11}})
    profile = PROFILE.model_copy(update={"authorities": {"gdpr/authority": {
        "name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
        "email": "mailbox@datenschutz-berlin.de"}}})
    from notifications.obligations.models import IncidentAssessment
    assessment = IncidentAssessment(incident_id=INCIDENT.id, number=1, facts={},
                                    result={"severity": "high", "score": 3.5,
                                            "reasons": ["DPC is the highest category score: 3."]},
                                    recommendation="notify_all", override="notify_authority",
                                    assessed_at=START, assessed_by="tests")
    context = shared_context(notification("authority_report"), INCIDENT, profile,
                             {"description": "Stolen.", "consequences": "Phishing."}, OBLIGATION,
                             None, snapshot, assessment)
    assert context["authority"] == "Berliner Beauftragte für Datenschutz und Informationsfreiheit"
    assert (context["subjects_counted"], context["subjects_estimate"]) == (51, 120)
    assert context["subjects_by_category"] == [{"category": "contact", "subjects": 51},
                                               {"category": "financial", "subjects": 7}]
    assert context["jurisdictions"] == [{"code": "DE", "subjects": 40}, {"code": "PL", "subjects": 11}]
    assert context["consequences"] == "Phishing."  # the organisation's words, not the scoring
    assert context["assessment"] == {"severity": "high", "score": 3.5,
                                     "recommendation": "notify_authority", "overridden": True,
                                     "reasons": ["DPC is the highest category score: 3."]}
    before = shared_context(notification("authority_report"), INCIDENT, profile, {}, OBLIGATION,
                            None)
    assert before["subjects_counted"] is None and before["jurisdictions"] == []


def test_each_person_s_letter_holds_what_the_laws_protecting_them_ask_for() -> None:
    notice = Notification(id=8, incident_id=INCIDENT.id, ref="gdpr/data-subjects",
                          kind="subject_notice", content_hash="0" * 64, created_at=START,
                          created_by="tests", covers=["gdpr/data-subjects", "us-ca/individuals"])
    context = shared_context(notice, INCIDENT, PROFILE, {"advice": "Watch your statements."},
                             None, None)
    assert context["advice"] == ["Watch your statements."]
    assert [a["name"] for a in context["credit_bureaus"]] == ["Equifax", "Experian", "TransUnion"]
    letter = Letter(notice, {}, context, ZoneInfo("UTC"), None, letters=letters_of(notice.refs),
                    complaints={"gdpr/data-subjects": {
                        "name": "BlnBDI", "website": "https://www.datenschutz-berlin.de"}},
                    report_date=START)
    german = letter.context_for(Delivery(notification_id=8, recipient_key="p1", message_id="",
                                         categories=categories_mask(["contact"]),
                                         meets="gdpr/data-subjects", next_attempt_at=START))
    assert (german["complaint_authority"], german["complaint_authority_website"]) == (
        "BlnBDI", "https://www.datenschutz-berlin.de")
    assert "california_format" not in german["elements"] and "nature" in german["elements"]
    californian = letter.context_for(Delivery(
        notification_id=8, recipient_key="p2", message_id="", next_attempt_at=START,
        categories=categories_mask(["official_id"]),
        meets="gdpr/data-subjects,us-ca/individuals"))
    assert {"california_format", "credit_bureaus", "consequences"} <= set(californian["elements"])
    assert californian["notice_date"] == START and californian["omitted"] == []
    californian_only = letter.context_for(Delivery(
        notification_id=8, recipient_key="p3", message_id="", next_attempt_at=START,
        categories=categories_mask(["contact"]), meets="us-ca/individuals"))
    assert californian_only["complaint_authority"] == ""  # California gives no such right
    assert "credit_bureaus" not in californian_only["elements"]  # no ID number exposed


def test_notices_come_from_the_organisation_and_replies_go_to_its_contact() -> None:
    with_sender = PROFILE.model_copy(update={"sender": {"email": "privacy@example.com"}})
    assert mailboxes(with_sender) == ("Example GmbH <privacy@example.com>", "dpo@example.com")
    named = PROFILE.model_copy(update={"sender": {"name": "Example Privacy",
                                                  "email": "privacy@example.com",
                                                  "reply_to": "help@example.com"}})
    assert mailboxes(named) == ("Example Privacy <privacy@example.com>", "help@example.com")
    assert mailboxes(PROFILE) == (None, "dpo@example.com")
