"""What a notification says to each recipient, as pure values: the context shared by every
message of a notification, the person's own part, a reminder's stored fields restored, and when
retries stop."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from incident.inventory.rules import categories_mask
from incident.lifecycle.models import Incident
from notifications.drafting.letters import Letter, internal_context, shared_context
from notifications.drafting.models import Delivery, Notification
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
