"""Whom a notice to people addresses, by the law's own territorial rule (drafting/audience.py):
hand-counted people in the EEA and outside it, in US states, and of unknown residence."""

from __future__ import annotations

import pytest

from notifications.drafting.audience import Audience, audience, combined, place
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Protects

CATALOGUE = load_regimes()

PEOPLE: dict[str, int] = {"DE": 3, "AT": 2, "FR": 1, "NO": 1, "GB": 2, "US-CA": 3, "US-NY": 1,
                          "BR": 1, "JP": 2, "": 1}
"""17 people: 7 in the EEA (NO outside the EU), 2 in GB, 4 in two US states, 1 in BR, 2 in JP,
and 1 whose residence the inventory does not know."""


def protects(ref: str) -> Protects:
    found = CATALOGUE.obligation(ref)
    assert found is not None and found[1].protects is not None
    return found[1].protects


def test_a_controller_established_in_the_eea_owes_the_gdpr_notice_to_everyone() -> None:
    found = audience(protects("gdpr/data-subjects"), established_in="DE", people=PEOPLE)
    assert (found.everyone, found.count, found.total, found.left_out) == (True, 17, 17, 0)
    assert found.jurisdictions == ("", "AT", "BR", "DE", "FR", "GB", "JP", "NO", "US-CA", "US-NY")
    assert found.basis == ("Every affected person: the organisation is established in the EEA "
                           "(GDPR Art. 3(1))")
    assert (found.citation, found.confidence) == ("GDPR Art. 3(1)", "high")
    # Norway is in the EEA, not the EU: its controllers are established there too.
    assert audience(protects("gdpr/data-subjects"), established_in="NO", people=PEOPLE).everyone


def test_a_controller_outside_the_eea_owes_it_only_to_the_people_in_the_eea() -> None:
    found = audience(protects("gdpr/data-subjects"), established_in="US", people=PEOPLE)
    assert not found.everyone
    assert found.jurisdictions == ("AT", "DE", "FR", "NO")
    assert (found.count, found.not_protected, found.unknown, found.left_out) == (7, 9, 1, 10)
    assert "JP" not in found.jurisdictions and "GB" not in found.jurisdictions
    assert found.basis == ("People in the EEA only, since the organisation is not established in "
                           "the EEA (GDPR Art. 3(2)): 7 of 17")
    unknown_home = audience(protects("gdpr/data-subjects"), established_in=None, people=PEOPLE)
    assert unknown_home.count == 7
    assert "since the organisation's country is not known" in unknown_home.basis


def test_a_state_law_addresses_the_residents_of_its_state_only() -> None:
    california = audience(protects("us-ca/individuals"), established_in="US", people=PEOPLE)
    assert (california.jurisdictions, california.count) == (("US-CA",), 3)
    assert (california.not_protected, california.unknown) == (13, 1)
    assert california.basis == "People in US-CA only (Cal. Civ. Code 1798.82(a)): 3 of 17"
    # Where the organisation is established changes nothing for a state's residents.
    assert audience(protects("us-ca/individuals"), established_in="DE", people=PEOPLE) == california
    new_york = audience(protects("us-ny/individuals"), established_in="US", people=PEOPLE)
    assert (new_york.jurisdictions, new_york.count) == (("US-NY",), 1)


def test_a_state_is_reached_only_through_a_known_state() -> None:
    people = {"US-CA": 2, "US": 4, "DE-BY": 1}
    california = audience(protects("us-ca/individuals"), established_in="US", people=people)
    assert (california.count, california.not_protected) == (2, 5)  # a bare US is no Californian
    europe = audience(protects("gdpr/data-subjects"), established_in="US", people=people)
    assert (europe.jurisdictions, europe.count) == (("DE-BY",), 1)  # a German region is in the EEA


def test_a_rule_for_everyone_addresses_people_of_unknown_residence_too() -> None:
    found = audience(protects("hipaa/individuals"), established_in="US",
                     people={"US-CA": 2, "": 1, None: 2})
    assert (found.everyone, found.count, found.unknown, found.left_out) == (True, 5, 0, 0)
    assert found.jurisdictions == ("", "US-CA")
    assert found.basis == "Every affected person (45 CFR 164.404(a)(1))"


def test_residence_unknown_by_any_spelling_is_never_addressed_under_a_territorial_rule() -> None:
    found = audience(protects("gdpr/data-subjects"), established_in="US",
                     people={"DE": 1, "": 2, None: 3, "de": 1, "US-CA": 0})
    assert (found.count, found.unknown, found.not_protected, found.total) == (1, 6, 0, 7)
    assert found.jurisdictions == ("DE",)


def test_an_audience_of_nobody_says_why() -> None:
    nobody = audience(protects("us-ca/individuals"), established_in="US",
                      people={"US-NY": 4, "": 1})
    assert nobody.count == 0
    assert nobody.why_nobody() == (
        "nobody in the snapshot lives in US-CA, the only people Cal. Civ. Code 1798.82(a) "
        "protects (4 people elsewhere, 1 of unknown residence)")
    empty = audience(protects("hipaa/individuals"), established_in="US", people={})
    assert empty.why_nobody() == "nobody is in the affected-people snapshot"
    assert audience(protects("hipaa/individuals"), established_in="US",
                    people={"US": 1}).why_nobody() == ""


@pytest.mark.parametrize("established_in", ["DE", "US"])
def test_the_recorded_audience_reads_back_as_it_was(established_in: str) -> None:
    found = audience(protects("gdpr/data-subjects"), established_in=established_in, people=PEOPLE)
    assert Audience.from_payload(found.payload()) == found
    assert found.payload()["addressed"] == found.count


def test_a_rule_of_several_territories_names_them_all() -> None:
    rule = Protects.model_validate({"people_in": ["US-CA", "US-NY", "EU"],
                                    "citation": "Demo Act s. 1", "confidence": "low"})
    found = audience(rule, established_in="US", people=PEOPLE)
    assert found.jurisdictions == ("AT", "DE", "FR", "US-CA", "US-NY")  # NO: EEA, not EU
    assert found.basis == "People in US-CA, US-NY or the EU only (Demo Act s. 1): 10 of 17"
    assert place(["EEA"]) == "the EEA" and place(["BR", "PT"]) == "BR or PT"


def test_one_letter_for_several_laws_goes_to_everyone_any_of_them_protects() -> None:
    each = {ref: audience(protects(ref), established_in="US", people=PEOPLE)
            for ref in ("gdpr/data-subjects", "uk-gdpr/data-subjects", "us-ca/individuals")}
    found = combined(each, PEOPLE)
    # 7 in the EEA, 2 in GB, 3 in California; the New Yorker, the Brazilian, the two in Japan
    # and the person of unknown residence are protected by none of the three.
    assert (found.count, found.total, found.not_protected, found.unknown) == (12, 17, 4, 1)
    assert found.jurisdictions == ("AT", "DE", "FR", "GB", "NO", "US-CA")
    assert found.territories == ("EEA", "GB", "US-CA")
    assert [ref for ref, _ in found.parts] == list(each)
    assert found.basis.startswith("gdpr/data-subjects: People in the EEA only")
    restored = Audience.from_payload(found.payload())
    assert restored == found


def test_one_letter_addresses_everyone_when_one_of_its_laws_does() -> None:
    each = {ref: audience(protects(ref), established_in="DE", people=PEOPLE)
            for ref in ("gdpr/data-subjects", "us-ca/individuals")}
    found = combined(each, PEOPLE)
    assert (found.everyone, found.count, found.left_out) == (True, 17, 0)
    assert dict(found.parts)["us-ca/individuals"].count == 3
    assert combined({"us-ca/individuals": each["us-ca/individuals"]}, PEOPLE) is each[
        "us-ca/individuals"]
