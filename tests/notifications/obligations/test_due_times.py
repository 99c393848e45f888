"""Due times of one obligation: its trigger, variants, outer limit and weekend relief."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.obligations.due_times import DueTimes, due_times
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regimes import Regime
from tests.notifications.obligations.samples import facts_data


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def due(obligation: dict[str, Any], **changes: Any) -> DueTimes:
    """The due times of a one-obligation regime in Berlin for FACTS with `changes`."""
    demo = Regime.model_validate({
        "id": "demo", "name": "Demo", "jurisdiction": "DE", "sources": ["https://example.org/law"],
        "applies": {"affected_in": ["DE"]}, "confidence": "low", "reviewed": "2026-11-24",
        "obligations": [{
            "id": "authority", "recipient": "authority", "recipient_name": "The authority",
            "trigger": "aware_at", "deadline": {"hours": 72}, "content": ["what happened"],
            "citation": "Demo Act s. 1", "source": "https://example.org/law#s1", **obligation,
        }],
    })
    return due_times(demo, demo.obligations[0], facts_from_json(facts_data(**changes)))


def test_hours_run_from_the_trigger_and_the_basis_names_the_source() -> None:
    result = due({})
    assert result.trigger.at == at("2026-03-27T09:00:00+00:00")
    assert result.due_at == result.target_at == at("2026-03-30T09:00:00+00:00")
    assert (result.basis.citation, result.basis.timezone) == ("Demo Act s. 1", "Europe/Berlin")


def test_a_trigger_that_has_not_happened_gives_no_time_and_says_what_it_waits_for() -> None:
    result = due({"trigger": "materiality_determined_at"})
    assert (result.due_at, result.target_at) == (None, None)
    assert result.trigger.waiting_for == "incident.materiality_determined_at"
    assert result.basis.trigger_at is None
    follow_up = due({"trigger": {"met": "demo/first"}})
    assert follow_up.trigger.waiting_for == "demo/first to be fulfilled (incident.met)"


def test_a_variant_whose_condition_holds_replaces_the_deadline() -> None:
    obligation = {"variants": [{"when": {"malicious": True}, "deadline": {"hours": 24},
                                "note": "shorter after an attack"}]}
    assert due(obligation).due_at == at("2026-03-30T09:00:00+00:00")
    attacked = due(obligation, incident__malicious=True)
    assert attacked.due_at == at("2026-03-28T09:00:00+00:00")
    assert "shorter after an attack (malicious)" in attacked.basis.notes


def test_the_outer_limit_caps_the_due_time_unless_it_passed_before_the_trigger() -> None:
    obligation = {"trigger": "classified_major_at", "deadline": {"hours": 4},
                  "outer_limit": {"trigger": "aware_at", "deadline": {"hours": 24}}}
    capped = due(obligation, incident__classified_major_at="2026-03-28T08:00:00+01:00")
    assert capped.due_at == at("2026-03-28T10:00:00+01:00")
    assert any("capped by the outer limit" in note for note in capped.basis.notes)
    late = due(obligation, incident__classified_major_at="2026-03-29T08:00:00+02:00")
    assert late.due_at == at("2026-03-29T12:00:00+02:00")
    assert any("had passed before classified_major_at" in note for note in late.basis.notes)


def test_weekend_relief_moves_a_saturday_due_time_unless_excluded() -> None:
    # Aware Friday 10:00 Berlin; 24 hours later is Saturday: relief to Monday noon.
    obligation = {"deadline": {"hours": 24}, "weekend_relief": {"until": "12:00",
                  "not_for": {"entity_types": ["credit_institution"]}}}
    relieved = due(obligation)
    assert relieved.due_at == at("2026-03-30T12:00:00+02:00")
    assert relieved.target_at == at("2026-03-28T10:00:00+01:00")
    bank = {"country": "DE", "timezone": "Europe/Berlin", "entity_type": "credit_institution"}
    strict = due(obligation, organisation=bank)
    assert strict.due_at == at("2026-03-28T10:00:00+01:00")
    assert "no weekend/holiday relief for this kind of entity" in strict.basis.notes


def test_an_internal_target_comes_before_the_legal_due_time() -> None:
    result = due({}, organisation__targets={"demo/authority": 24})
    assert result.target_at == at("2026-03-28T09:00:00+00:00")
    assert result.due_at == at("2026-03-30T09:00:00+00:00")
