"""Contractual clocks as a regime: each counterparty's clause becomes one obligation owed to
it, with the due time its contract sets and the clause as its citation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from notifications.obligations.contracts import (
    CONTRACT_REGIME,
    PROFILE_SOURCE,
    ContractClock,
    contract_regime,
    involved_clocks,
)
from notifications.obligations.engine import compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue

ACME: dict[str, Any] = {"id": "acme-health", "name": "Acme Health Ltd", "role": "controller",
                        "email": "security@acme-health.example", "hours": 24,
                        "trigger": "aware_at", "contract": "DPA s. 7.2"}
GLOBEX: dict[str, Any] = {"id": "globex", "name": "Globex Inc.", "role": "covered_entity",
                          "hours": 72, "trigger": "discovered_at", "contract": "BAA s. 4(b)",
                          "url": "https://docs.example.com/contracts/globex-baa.pdf",
                          "note": "Send to the privacy office only."}


def facts(**incident: Any) -> dict[str, Any]:
    return {"organisation": {"country": "DE", "timezone": "Europe/Berlin", "roles": ["processor"]},
            "incident": {"aware_at": "2026-03-27T10:00:00+01:00", "risk": "risk", **incident},
            "affected": {"DE": 10}}


def test_only_the_counterparties_an_incident_involves_have_clocks() -> None:
    clocks, assumptions = involved_clocks([ACME, GLOBEX], {"counterparties": ["acme-health"]})
    assert [c.id for c in clocks] == ["acme-health"] and assumptions == []
    assert involved_clocks([ACME, GLOBEX], None) == ([], [])
    assert contract_regime([], jurisdiction="DE", reviewed=date(2026, 3, 1)) is None


def test_a_counterparty_gone_from_the_profile_is_said_not_guessed() -> None:
    clocks, assumptions = involved_clocks([GLOBEX], {"counterparties": ["acme-health"]})
    assert clocks == []
    assert assumptions == ["counterparty 'acme-health' is no longer in the organisation profile: "
                           "its contractual clock is not computed"]


def test_an_incident_only_clock_is_added_to_the_profiles() -> None:
    clocks, _ = involved_clocks([ACME], {"counterparties": ["acme-health"], "clocks": [GLOBEX]})
    assert [(c.id, c.incident_only) for c in clocks] == [("acme-health", False), ("globex", True)]


def test_each_clock_is_an_obligation_owed_to_the_counterparty_citing_its_clause() -> None:
    clocks = [ContractClock.from_json(ACME), ContractClock.from_json(GLOBEX, incident_only=True)]
    regime = contract_regime(clocks, jurisdiction="DE", reviewed=date(2026, 3, 1))
    assert regime is not None and regime.id == CONTRACT_REGIME and regime.confidence == "high"
    acme, globex = regime.obligations
    assert (acme.id, acme.recipient, acme.recipient_name, acme.citation) == (
        "acme-health", "counterparty", "Acme Health Ltd (controller)", "DPA s. 7.2")
    assert acme.source == PROFILE_SOURCE  # written down in the organisation profile
    assert globex.source == GLOBEX["url"] and globex.recipient_name == "Globex Inc. (covered entity)"
    assert "Send to the privacy office only." in globex.notes
    assert any("this incident only" in note for note in globex.notes)
    assert "Contact: security@acme-health.example" in acme.notes


def test_a_24_hour_clock_from_awareness_is_due_24_elapsed_hours_later() -> None:
    clocks = [ContractClock.from_json(ACME), ContractClock.from_json(GLOBEX)]
    regime = contract_regime(clocks, jurisdiction="DE", reviewed=date(2026, 3, 1))
    assert regime is not None
    catalogue = Catalogue((*load_regimes().regimes, regime))
    results = {r.ref: r for r in compute_obligations(
        facts_from_json(facts(discovered_at="2026-03-27T08:00:00+01:00")), catalogue)}
    # DPA s. 7.2: within 24 hours of awareness.
    acme = results["contract/acme-health"]
    assert acme.due_at == datetime.fromisoformat("2026-03-28T10:00:00+01:00")
    assert acme.basis is not None and acme.basis.citation == "DPA s. 7.2"
    # BAA s. 4(b): 72 hours from discovery, elapsed across the change to summer time on 29 March.
    assert results["contract/globex"].due_at == datetime.fromisoformat(
        "2026-03-30T09:00:00+02:00")
    # The law's own duty stays beside the contract's.
    assert results["gdpr/controller"].applies
