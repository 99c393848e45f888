"""What a notice needs before it is drafted and approved (drafting/requirements.py), as pure
rules: profile gaps named by field, the text a report cannot go without."""

from __future__ import annotations

from datetime import timedelta

from notifications.drafting.requirements import Gap, profile_gaps, text_gaps
from notifications.obligations.models import OrganisationProfile
from tests.factories import START

GDPR_77 = "GDPR Art. 77(1)"
COMPLETE = OrganisationProfile(
    name="Example GmbH", country="DE", timezone="Europe/Berlin", updated_at=START,
    updated_by="tests", dpo={"name": "Dana", "email": "dpo@example.com"},
    sender={"email": "privacy@example.com"},
    authorities={"gdpr/authority": {"name": "BlnBDI", "email": "mailbox@datenschutz-berlin.de"}})


def fields_of(gaps: list[Gap]) -> list[str]:
    return [gap.field for gap in gaps]


def test_a_complete_profile_has_no_gaps() -> None:
    for kind, ref in (("subject_notice", "gdpr/data-subjects"), ("authority_report", "gdpr/authority")):
        assert profile_gaps(kind, ref, COMPLETE, complaint=GDPR_77) == []


def test_each_missing_member_is_named_with_its_reason() -> None:
    bare = COMPLETE.model_copy(update={"sender": {}, "dpo": {"name": "Dana"}, "authorities": {}})
    assert fields_of(profile_gaps("subject_notice", "gdpr/data-subjects", bare, complaint=GDPR_77)) == [
        "sender.email", "dpo.email", "authorities.gdpr.name"]
    assert fields_of(profile_gaps("authority_report", "gdpr/authority", bare)) == [
        "sender.email", "dpo.email", "authorities.gdpr/authority.name",
        "authorities.gdpr/authority.email"]
    why = profile_gaps("subject_notice", "gdpr/data-subjects", bare, complaint=GDPR_77)[2].why
    assert "GDPR Art. 77" in why
    assert fields_of(profile_gaps("subject_notice", "gdpr/data-subjects", None, complaint=GDPR_77)) == [
        "organisation profile"]


def test_a_regime_without_a_right_to_complain_needs_no_authority_named() -> None:
    no_authorities = COMPLETE.model_copy(update={"authorities": {}})
    assert profile_gaps("subject_notice", "us-ca/individuals", no_authorities) == []
    assert profile_gaps("reminder", "gdpr/authority", None) == []


def test_a_report_needs_consequences_measures_and_when_late_its_reasons() -> None:
    due = START + timedelta(hours=72)
    written = {"description": "Stolen.", "consequences": "Phishing.", "measures_taken": "Wiped."}
    assert text_gaps("authority_report", written, sequence=1, due_at=due, now=START) == []
    assert fields_of(text_gaps("authority_report", {"description": " "}, sequence=1,
                               due_at=due, now=START)) == [
        "description", "consequences", "measures_taken"]
    late = text_gaps("authority_report", written, sequence=1, due_at=due,
                     now=due + timedelta(seconds=1))
    assert fields_of(late) == ["delay_reason"] and "Art. 33(1)" in late[0].why
    assert fields_of(text_gaps("authority_report", written, sequence=2, due_at=None,
                               now=START)) == ["changes"]
    assert text_gaps("subject_notice", {"description": "Stolen."}, sequence=1, due_at=None,
                     now=START) == []
