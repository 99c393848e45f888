"""Applicability: conditions on territory, organisation and thresholds, with their reasons."""

from __future__ import annotations

from typing import Any

from notifications.obligations.applicability import check, obligation_applies
from notifications.obligations.facts import Facts, facts_from_json
from notifications.obligations.regimes import Condition, Regime
from tests.notifications.obligations.samples import facts_data


def facts(**changes: Any) -> Facts:
    return facts_from_json(facts_data(**changes))


def condition(**fields: Any) -> Condition:
    return Condition.model_validate(fields)


def regime(**obligation: Any) -> Regime:
    """A one-obligation regime for people in the EU, with `obligation`'s fields changed."""
    return Regime.model_validate({
        "id": "demo", "name": "Demo", "jurisdiction": "EU", "sources": ["https://example.org/law"],
        "applies": {"affected_in": ["EU"]}, "confidence": "low", "reviewed": "2026-11-24",
        "obligations": [{
            "id": "authority", "recipient": "authority", "recipient_name": "The authority",
            "trigger": "aware_at", "deadline": {"hours": 72}, "content": ["what happened"],
            "citation": "Demo Act s. 1", "source": "https://example.org/law#s1", **obligation,
        }],
    })


def applies(demo: Regime, on: Facts, follows: bool = True) -> tuple[bool, list[str]]:
    return obligation_applies(demo, demo.obligations[0], on, check(demo.applies, on),
                              follows=lambda _ref: follows)


def test_a_condition_that_holds_says_why() -> None:
    holds = condition(affected_in=["EU"], established_in=["DE"], min_risk="risk")
    assert check(holds, facts()) == (True, [
        "people affected in DE, FR", "established in DE (DE)", "risk risk reaches risk"])


def test_a_condition_that_fails_names_only_what_failed() -> None:
    failing = condition(affected_in=["EU"], min_risk="high", flags=["sec_registrant"])
    assert check(failing, facts()) == (False, ["organisation is not sec_registrant",
                                               "risk risk is below high"])


def test_counts_are_summed_unless_taken_per_territory() -> None:
    affected = {"affected": {"US-NY": 300, "US-NJ": 300, "DE": 900}}
    summed = condition(min_affected=500, count_in=["US"])
    largest = condition(min_affected=500, count_in=["US"], per_territory=True)
    assert check(summed, facts(**affected)) == (True, ["600 affected in US (at least 500)"])
    assert check(largest, facts(**affected)) == (
        False, ["300 affected in the largest single jurisdiction of US, fewer than 500"])


def test_people_counted_as_zero_are_not_affected_there() -> None:
    assert check(condition(affected_in=["US"]), facts(affected={"US-CA": 0, "DE": 3})) == (
        False, ["nobody affected in US"])


def test_any_of_needs_one_branch_and_reports_every_failure() -> None:
    either = condition(any_of=[{"flags": ["sec_registrant"]}, {"established_in": ["DE"]}])
    assert check(either, facts()) == (True, ["established in DE (DE)"])
    neither = condition(any_of=[{"flags": ["sec_registrant"]}, {"established_in": ["US"]}])
    assert check(neither, facts()) == (
        False, ["none of: organisation is not sec_registrant | not established in US"])


def test_data_categories_malice_and_entity_type() -> None:
    on = facts(incident__data_categories=["health", "contact"], incident__malicious=True)
    assert check(condition(data_categories=["health", "financial"], malicious=True), on) == (
        True, ["data categories health", "malicious"])
    assert check(condition(entity_types=["credit_institution"]), on) == (
        False, ["entity type not given is not one of credit_institution"])


def test_an_obligation_applies_with_the_regimes_reasons_and_its_own() -> None:
    demo = regime(when={"min_risk": "risk"})
    assert applies(demo, facts()) == (True, ["people affected in DE, FR", "risk risk reaches risk"])
    assert applies(demo, facts(incident__risk="none")) == (False, ["risk none is below risk"])
    assert applies(demo, facts(affected={"US-CA": 5})) == (False, ["nobody affected in EU"])


def test_a_follow_up_applies_only_when_the_duty_it_follows_does() -> None:
    demo = regime(trigger={"met": "other/first"})
    assert applies(demo, facts(), follows=True)[0]
    assert applies(demo, facts(), follows=False) == (False, ["follows other/first, which does not apply"])


def test_not_entity_types_excludes_a_kind_of_entity_and_an_unknown_type_is_none_of_them() -> None:
    # "Any entity but a credit bureau" (24 O.S. 163 as amended by SB 626: 1,000 residents
    # if the system is maintained by a credit bureau, 500 otherwise).
    others = condition(not_entity_types=["consumer_reporting_agency"])
    assert check(others, facts()) == (
        True, ["entity type not given is none of consumer_reporting_agency"])
    bureau = facts(organisation__entity_type="consumer_reporting_agency")
    assert check(others, bureau) == (
        False, ["entity type consumer_reporting_agency is one of consumer_reporting_agency"])


def test_owner_entity_types_tests_whom_the_data_is_maintained_for_and_assumes_it_unrecorded() -> None:
    # O.C.G.A. 10-1-912(b): "maintains computerized data on behalf of an information broker
    # or data collector".
    brokers = condition(owner_entity_types=["information_broker", "data_collector"])
    unrecorded = check(brokers, facts())
    assert unrecorded[0] and "assumed: the owners' entity types are not recorded" in unrecorded[1][0]
    retailer = facts(incident__owner_entity_types=["retailer"])
    assert check(brokers, retailer) == (False, [
        "data maintained for owners that are retailer, none of information_broker, "
        "data_collector"])
    broker = facts(incident__owner_entity_types=["retailer", "information_broker"])
    assert check(brokers, broker) == (
        True, ["data maintained for an owner that is information_broker"])


def test_established_in_a_subdivision_needs_the_principal_place_of_business() -> None:
    # Wis. Stat. 134.98(2)(a): "an entity whose principal place of business is located in this
    # state"; the country alone cannot say which state.
    home = condition(established_in=["US-WI"])
    us = {"country": "US", "timezone": "America/Chicago"}
    assert check(home, facts(organisation=us)) == (False, [
        "not established in US-WI (only the country US is given, not the principal place "
        "of business)"])
    assert check(home, facts(organisation={**us, "principal_place": "US-WI"})) == (
        True, ["established in US-WI (US-WI)"])
    assert check(home, facts(organisation={**us, "principal_place": "US-IL"})) == (
        False, ["not established in US-WI"])
    # A country-wide test still holds for an organisation whose state is known.
    assert check(condition(established_in=["US"]),
                 facts(organisation={**us, "principal_place": "US-WI"}))[0]


def test_an_entity_type_in_a_condition_must_be_one_the_profile_could_hold() -> None:
    try:
        condition(entity_types=["Information-Broker"])
    except ValueError as error:
        assert "is not an entity type" in str(error)
    else:
        raise AssertionError("a malformed entity type was accepted")
