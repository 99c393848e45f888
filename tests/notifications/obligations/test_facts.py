"""FACTS: valid input is read as given, and every wrong field is named."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.obligations.facts import Facts, FactsError, facts_from_json
from tests.notifications.obligations.samples import facts_data


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"incident__aware_at": "2026-03-27T10:00:00"}, "incident.aware_at", "timezone"),
        ({"incident__aware_at": "yesterday"}, "incident.aware_at", "datetime"),
        ({"incident__risk": "medium"}, "incident.risk", "'none', 'risk' or 'high'"),
        ({"incident__data_categories": ["blood type"]}, "incident.data_categories", "contact"),
        ({"incident__severity": 3}, "incident.severity", "Extra inputs are not permitted"),
        ({"organisation__flags": ["hipaa"]}, "organisation.flags", "hipaa_covered_entity"),
        ({"organisation__country": "Germany"}, "organisation.country", "ISO 3166-1 alpha-2"),
        ({"organisation__timezone": "Berlin"}, "organisation.timezone", "unknown time zone"),
        ({"affected": {"California": 3}}, "affected.California", "not a jurisdiction"),
        ({"affected": {"DE": -1}}, "affected.DE", "greater than or equal to 0"),
        (
            {"incident__met": {"gdpr": "2026-03-28T10:00:00+01:00"}},
            "incident.met.gdpr",
            "not an obligation reference",
        ),
        (
            {"organisation__targets": {"gdpr/authority": 0}},
            "organisation.targets.gdpr/authority",
            "greater than 0",
        ),
        ({"organisation__principal_place": "Wisconsin"}, "organisation.principal_place",
         "not a jurisdiction"),
        ({"organisation__principal_place": "US-WI"}, "organisation", "is not in country DE"),
        ({"incident__owner_entity_types": ["Information Broker"]},
         "incident.owner_entity_types", "is not an entity type"),
    ],
)
def test_bad_facts_name_the_field(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(FactsError) as caught:
        facts_from_json(facts_data(**changes))
    assert any(p.field.startswith(field) and message in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_missing_sections_and_fields_are_named() -> None:
    data = facts_data()
    del data["incident"]["aware_at"]
    del data["organisation"]
    with pytest.raises(FactsError) as caught:
        facts_from_json(data)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"organisation", "incident.aware_at"}
    assert "incident.aware_at: Field required" in str(caught.value)


def test_lower_case_jurisdiction_codes_are_accepted() -> None:
    facts: Facts = facts_from_json(facts_data(affected={"us-ca": 3}))
    assert facts.affected == {"US-CA": 3}


def test_the_principal_place_of_business_says_where_the_organisation_is_established() -> None:
    us = {"country": "US", "timezone": "America/Chicago"}
    assert facts_from_json(facts_data(organisation=us)).organisation.established == "US"
    placed = facts_from_json(facts_data(organisation={**us, "principal_place": "us-wi"}))
    assert placed.organisation.principal_place == "US-WI"
    assert placed.organisation.established == "US-WI"
    # A territory with its own country code lies in its subdivision of the United States.
    pr = {"country": "PR", "timezone": "America/Puerto_Rico", "principal_place": "US-PR"}
    assert facts_from_json(facts_data(organisation=pr)).organisation.established == "US-PR"


def test_the_owners_entity_types_are_unrecorded_until_given() -> None:
    assert facts_from_json(facts_data()).incident.owner_entity_types is None
    given = facts_from_json(facts_data(incident__owner_entity_types=["information_broker"]))
    assert given.incident.owner_entity_types == frozenset({"information_broker"})
