"""Regimes as data: the shipped catalogue says what the laws say, territories nest."""

from __future__ import annotations

import pytest

from notifications.obligations.deadlines import BusinessDaysRule, UndueDelayRule
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import MetTrigger, territory_matches


def test_every_obligation_cites_its_source_and_lists_content() -> None:
    for regime in load_regimes():
        assert regime.sources and regime.name
        for obligation in regime.obligations:
            assert obligation.citation.strip()
            assert obligation.source.startswith("http")
            assert obligation.content


def test_laws_without_a_fixed_time_have_only_a_target() -> None:
    catalogue = load_regimes()
    undue = {
        f"{r.id}/{o.id}" for r in catalogue for o in r.obligations if isinstance(o.deadline, UndueDelayRule)
    }
    for ref in (
        "gdpr/data-subjects",
        "ca-pipeda/commissioner",
        "ch-fadp/fdpic",
        "us-ma/individuals",
        "in-dpdp/board",
        "au-ndb/commissioner",
    ):
        assert ref in undue


def test_follow_ups_point_at_existing_obligations() -> None:
    catalogue = load_regimes()
    follow_ups = {
        f"{r.id}/{o.id}": o.trigger.met
        for r in catalogue
        for o in r.obligations
        if isinstance(o.trigger, MetTrigger)
    }
    assert follow_ups["nis2/final-report"] == "nis2/notification"
    assert follow_ups["dora/final"] == "dora/intermediate"
    for target in follow_ups.values():
        assert catalogue.obligation(target) is not None


def test_sec_filing_cut_off_is_eastern_time() -> None:
    regime = load_regimes().get("sec-8k")
    assert regime is not None and regime.timezone == "America/New_York"
    deadline = regime.obligations[0].deadline
    assert isinstance(deadline, BusinessDaysRule)
    assert deadline.ends_at is not None and deadline.ends_at.isoformat() == "17:30:00"


@pytest.mark.parametrize(
    ("code", "territory", "inside"),
    [
        ("US-CA", "US-CA", True),
        ("US-CA", "US", True),
        ("US", "US-CA", False),
        ("US-NY", "US-CA", False),
        ("DE", "EU", True),
        ("DE-BY", "EEA", True),
        ("NO", "EU", False),
        ("NO", "EEA", True),
        ("GB", "EEA", False),
        ("CH", "EEA", False),
        ("FR", "FR", True),
    ],
)
def test_territories(code: str, territory: str, inside: bool) -> None:
    assert territory_matches(code, territory) is inside
