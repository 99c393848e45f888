"""What one letter to one person contains (drafting/contents.py), against the shipped regime
files: the union of the content lists of the laws that protect them, each element traced to
its provision; a law whose notice must stand alone gets a letter of its own."""

from __future__ import annotations

from typing import get_args

from notifications.drafting import contents
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import PEOPLE, LetterElement

CATALOGUE = load_regimes()
LETTERS = {f"{regime.id}/{o.id}": o.letter for regime in CATALOGUE for o in regime.obligations
           if o.letter is not None}


def test_every_obligation_owed_to_people_says_what_its_notice_contains() -> None:
    owed = {f"{regime.id}/{o.id}" for regime in CATALOGUE for o in regime.obligations
            if o.recipient == PEOPLE}
    assert owed == set(LETTERS) and len(owed) >= 14
    for ref, letter in LETTERS.items():
        assert letter.elements, ref
        assert all(why.citation.strip() for why in letter.elements.values()), ref


def test_every_element_has_a_place_in_the_letter() -> None:
    assert set(contents.WHERE) == set(get_args(LetterElement))


def test_a_californian_protected_by_the_gdpr_too_gets_one_letter_meeting_both_lists() -> None:
    refs = ["gdpr/data-subjects", "us-ca/individuals"]
    found = contents.elements(refs, LETTERS, ["contact", "official_id"])
    # The GDPR's Art. 34(2) list and California's 1798.82(d), in one letter.
    assert {"nature", "contact", "consequences", "measures", "advice"} <= set(found)
    assert {"california_format", "notice_date", "law_enforcement_delay", "dates",
            "data_involved", "credit_bureaus"} <= set(found)
    sources = contents.checklist(refs, LETTERS)
    assert [s.ref for s in sources["nature"]] == refs
    assert sources["consequences"][0].citation == "GDPR Art. 34(2) with 33(3)(c)"


def test_an_element_asked_for_on_some_data_is_only_in_the_letters_of_people_who_had_it() -> None:
    refs = ["us-ca/individuals"]
    assert "credit_bureaus" not in contents.elements(refs, LETTERS, ["contact", "financial"])
    assert "credit_bureaus" in contents.elements(refs, LETTERS, ["official_id"])
    colorado = ["us-co/individuals"]
    assert "password_change" not in contents.elements(colorado, LETTERS, ["financial"])
    assert "password_change" in contents.elements(colorado, LETTERS, ["credentials"])
    # Colorado asks for the consumer reporting agencies whatever the data.
    assert "credit_bureaus" in contents.elements(colorado, LETTERS, ["financial"])


def test_massachusetts_notices_stand_alone_and_leave_out_the_nature_of_the_breach() -> None:
    candidates = ["gdpr/data-subjects", "us-ma/individuals", "us-ca/individuals"]
    assert contents.covered("gdpr/data-subjects", candidates, LETTERS) == [
        "gdpr/data-subjects", "us-ca/individuals"]
    assert contents.covered("us-ma/individuals", candidates, LETTERS) == ["us-ma/individuals"]
    assert contents.omitted(["us-ma/individuals"], LETTERS) == ["count", "nature"]
    assert contents.omitted(["gdpr/data-subjects", "us-ca/individuals"], LETTERS) == []
    found = contents.elements(["us-ma/individuals"], LETTERS, ["official_id"])
    assert {"police_report", "security_freeze"} <= set(found) and "nature" not in found


def test_a_draft_covers_its_own_obligation_first_and_each_other_once() -> None:
    assert contents.covered("us-ca/individuals", ["us-ny/individuals", "gdpr/data-subjects",
                                                  "us-ny/individuals"], LETTERS) == [
        "us-ca/individuals", "gdpr/data-subjects", "us-ny/individuals"]
    assert contents.covered("nowhere/people", ["gdpr/data-subjects"], LETTERS) == [
        "nowhere/people"]


def test_new_york_letters_name_its_state_agencies_once() -> None:
    agencies = contents.state_agencies(["us-ny/individuals", "us-ny/individuals"], LETTERS)
    assert [a.name for a in agencies] == [
        "New York State Attorney General",
        "New York Department of State, Division of Consumer Protection"]
    assert contents.state_agencies(["gdpr/data-subjects"], LETTERS) == []
