"""The obligations' shapes, as pure values: what an organisation profile accepts, and an
obligation row as the API shows it at a given instant (overdue, seconds left, what was computed)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from notifications.obligations.models import IncidentObligation
from notifications.obligations.schemas import Profile, obligation_public, obligations_public
from tests.factories import PROFILE, START

DUE = START + timedelta(hours=3)
INCIDENT_ID = uuid.uuid4()


def row(ref: str = "gdpr/authority", **changes: Any) -> IncidentObligation:
    regime, obligation = ref.split("/")
    values: dict[str, Any] = {
        "incident_id": INCIDENT_ID, "ref": ref, "regime": regime, "obligation": obligation,
        "recipient": "authority", "recipient_name": "BlnBDI", "due_at": DUE, "computed_at": START,
        "computed": {"rule": {"hours": 72}, "basis": {"article": "33(1)"}, "why": ["high risk"],
                     "content": ["nature of the breach"], "trigger": {"kind": "aware"}}}
    return IncidentObligation(**{**values, **changes})


def test_the_profile_accepts_the_factories_own_and_names_what_it_refuses() -> None:
    assert Profile.model_validate(PROFILE).dpo.email == "dpo@example.com"
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"country": "de"}, "country"), ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"targets": {"GDPR authority": 24}}, "targets"),
        ({"targets": {"gdpr/authority": 0}}, "targets"), ({"flags": ["not_a_flag"]}, "flags"),
        ({"name": "  "}, "name"), ({"fax": "+49 30 1"}, "fax")]
    for change, field in refusals:
        with pytest.raises(ValidationError) as refused:
            Profile.model_validate({**PROFILE, **change})
        assert {str(error["loc"][0]) for error in refused.value.errors()} == {field}, change


def test_a_pending_obligation_counts_down_then_is_overdue() -> None:
    before = obligation_public(row(), START)
    assert before.overdue is False and before.seconds_left == 3 * 3600
    assert (before.rule, before.basis, before.trigger) == (
        {"hours": 72}, {"article": "33(1)"}, {"kind": "aware"})
    assert before.why == ["high risk"] and before.content == ["nature of the breach"]
    after = obligation_public(row(), DUE + timedelta(minutes=1))
    assert after.overdue is True and after.seconds_left == -60


def test_a_met_or_inapplicable_obligation_is_never_overdue() -> None:
    late = DUE + timedelta(days=1)
    met = obligation_public(row(status="met", met_at=START, how="portal receipt 12"), late)
    assert met.overdue is False and met.seconds_left is None and met.how == "portal receipt 12"
    moot = obligation_public(row(applies=False), late)
    assert moot.overdue is False and moot.applies is False
    waiting = obligation_public(row(due_at=None, computed={}), late)
    assert waiting.seconds_left is None and waiting.rule == {} and waiting.why == []


def test_the_list_is_as_recent_as_its_latest_computation() -> None:
    rows = [row(computed_at=START), row("gdpr/data-subjects", computed_at=START + timedelta(hours=1))]
    listed = obligations_public(rows, ["high risk assumed"], [], START)
    assert listed.computed_at == START + timedelta(hours=1)
    assert [o.ref for o in listed.obligations] == ["gdpr/authority", "gdpr/data-subjects"]
    assert listed.assumptions == ["high risk assumed"]
    assert obligations_public([], [], ["no organisation profile"], START).computed_at is None
