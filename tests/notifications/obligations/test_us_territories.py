"""US territories: Puerto Rico's notice duties as its statute words them, and a territory's
residents matched whether their residence is recorded as its own country code (PR) or as a
subdivision of the United States (US-PR).

Every expected instant below is worked out by hand from the text cited next to it and a printed
calendar, not from the engine:

* Puerto Rico, 10 L.P.R.A. 4052 (Act 111-2005 as amended by Act 97-2008): an entity that owns or
  keeps a database with personal information "of citizens residents of Puerto Rico must notify
  said citizens" of a breach when the files "are not protected by an encrypted code but only by a
  password"; "as expeditiously as possible"; "Within a non-extendable term of ten (10) days after
  the violation of the system's security has been detected, the parties responsible shall inform
  the Department" (of Consumer Affairs); an entity that "resells or provides access to digital
  data banks" notifies "the proprietor, custodian or holder". 4053: the notice describes the
  breach "in general terms and the type of sensitive information compromised" with "a toll free
  number and an Internet site"; substitute notice when the cost "exceeds one hundred thousand
  dollars ($100,000) or the number of persons exceeds one hundred thousand".
* HIPAA, 45 CFR 164.406(a): notice to prominent media outlets for a breach of "more than 500
  residents of a State or jurisdiction"; 45 CFR 160.103: "State" means, for these purposes, the
  several States, the District of Columbia, Puerto Rico, the Virgin Islands and Guam (read in a
  copy of the definition).

Guam (9 GCA ch. 48, added by P.L. 30-004) and the US Virgin Islands (14 V.I.C. 2208 to 2212,
Identity Theft Prevention Act) are not yet in the catalogue. Of Guam's chapter only its table of
sections, 48.10 and the opening of the definitions in 48.20 were read in the Compiler of Laws'
text; of the Virgin Islands' subchapter only its table of sections and the opening of 2201. The
notice duties themselves (9 GCA 48.30, 14 V.I.C. 2208 and 2209: whom, when, the substitute
notice, the service provider's duty) were read only in summaries, so no regime is shipped for
them and a resident of either territory is owed only what federal law gives (HIPAA, below).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue, same_place, territory_matches

REGIMES: Catalogue = load_regimes()
ALL_DATA = ["contact", "official_id", "financial", "credentials", "health", "special"]
DISCOVERED = "2026-05-04T09:00:00-04:00"
"""Monday 4 May 2026, 09:00 Atlantic Standard Time (Puerto Rico keeps no daylight time)."""


def run(affected: dict[str, int], *, roles: list[str] | None = None,
        flags: list[str] | None = None, **incident: Any) -> dict[str, ObligationResult]:
    facts = {
        "organisation": {"country": "US", "timezone": "America/Puerto_Rico",
                         "roles": roles or [], "flags": flags or []},
        "incident": {"aware_at": DISCOVERED, "discovered_at": DISCOVERED, "risk": "high",
                     "data_categories": ALL_DATA, **incident},
        "affected": affected,
    }
    return {r.ref: r for r in compute_obligations(facts_from_json(facts), REGIMES, explain=True)}


def owed(results: dict[str, ObligationResult], ref: str) -> bool:
    return ref in results and results[ref].applies


# ------------------------------------------------- Guam and the Virgin Islands: not covered


@pytest.mark.parametrize("recorded", ["GU", "US-GU", "VI", "US-VI"])
def test_no_territorial_duty_is_invented_for_guam_or_the_virgin_islands(recorded: str) -> None:
    results = run({recorded: 40})
    territorial = {r.regime for r in results.values()
                   if r.applies and (regime := REGIMES.get(r.regime)) is not None
                   and regime.jurisdiction in ("US-GU", "US-VI")}
    assert territorial == set()
    assert REGIMES.get("us-gu") is None and REGIMES.get("us-vi") is None


# ------------------------------------------------------- one territory, two ISO codes


@pytest.mark.parametrize(("code", "territory", "inside"), [
    ("PR", "US-PR", True),      # ISO 3166-1 PR is ISO 3166-2 US-PR
    ("US-PR", "PR", True),
    ("PR", "US", True),         # Puerto Rico lies in the United States
    ("GU", "US-GU", True),
    ("VI", "US-VI", True),
    ("PR", "US-VI", False),
    ("US", "US-PR", False),     # a bare US (territory unknown) is not Puerto Rico
    ("PR", "EU", False),
    ("DE", "EU", True),         # other codes unchanged
])
def test_a_territory_lies_where_its_other_code_does(code: str, territory: str,
                                                    inside: bool) -> None:
    assert territory_matches(code, territory) is inside


def test_both_spellings_are_read_as_the_subdivision() -> None:
    assert [same_place(c) for c in ("PR", "US-PR", "GU", "VI", "US-CA", "DE")] == [
        "US-PR", "US-PR", "US-GU", "US-VI", "US-CA", "DE"]


@pytest.mark.parametrize("recorded", ["PR", "US-PR"])
def test_a_puerto_rico_resident_gets_the_notice_however_recorded(recorded: str) -> None:
    results = run({recorded: 1})
    assert owed(results, "us-pr/individuals") and owed(results, "us-pr/consumer-affairs")
    assert not owed(run({"US-VI": 40}), "us-pr/individuals")  # 4052: residents of Puerto Rico


def test_the_notice_addresses_residents_under_either_code_and_nobody_else() -> None:
    found = REGIMES.obligation("us-pr/individuals")
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={"PR": 2, "US-PR": 3, "US-FL": 40, "": 1})
    assert (addressed.everyone, addressed.jurisdictions) == (False, ("PR", "US-PR"))
    assert addressed.count == 5 and addressed.not_protected == 40 and addressed.unknown == 1


# ----------------------------------------------------------------- Puerto Rico, 4052-4053


def test_4052_consumer_affairs_within_ten_days_of_detection_not_extended() -> None:
    # Detected Monday 4 May 2026: day 1 is Tuesday 5 May, day 10 Thursday 14 May (AST, UTC-4).
    results = run({"US-PR": 3})
    assert results["us-pr/consumer-affairs"].due_at == datetime.fromisoformat(
        "2026-05-14T23:59:59.999999-04:00")
    # Residents: "as expeditiously as possible": no fixed time.
    people = results["us-pr/individuals"]
    assert people.applies and people.due_at is None


def test_4052_files_protected_by_an_encrypted_code_need_no_notice() -> None:
    safe = run({"US-PR": 3}, encrypted=True)
    assert not owed(safe, "us-pr/individuals") and not owed(safe, "us-pr/consumer-affairs")
    # "not protected by an encrypted code but only by a password": a key taken with the data
    # leaves the files readable, so the harbour is not claimed.
    taken = run({"US-PR": 3}, encrypted=True, key_compromised=True)
    assert owed(taken, "us-pr/individuals") and owed(taken, "us-pr/consumer-affairs")


def test_4052_one_that_provides_access_tells_the_holder_not_the_residents() -> None:
    results = run({"US-PR": 3}, roles=["service_provider"])
    assert owed(results, "us-pr/owner")
    assert not owed(results, "us-pr/individuals") and not owed(results, "us-pr/consumer-affairs")


def test_4053_content_and_substitute_notice() -> None:
    found = REGIMES.obligation("us-pr/individuals")
    assert found is not None
    duty = found[1]
    assert duty.letter is not None
    assert set(duty.letter.elements) == {"nature", "data_involved", "contact"}
    notice = duty.substitute_notice
    assert notice is not None and notice.citation == "10 L.P.R.A. 4053(2)"
    assert any("one hundred thousand dollars ($100,000)" in c for c in notice.conditions)
    assert any("one hundred thousand (100,000)" in c for c in notice.conditions)
    assert len(notice.means) == 2  # "through the following two (2) steps"


# --------------------------------------------------------- HIPAA: territories are States


@pytest.mark.parametrize(("affected", "media"), [
    # 300 recorded as PR and 200 as US-PR: 500 residents of one State, not "more than 500".
    ({"PR": 300, "US-PR": 200}, False),
    # One more: 501 residents of Puerto Rico, however recorded.
    ({"PR": 300, "US-PR": 201}, True),
    # 501 across two territories is not more than 500 residents of either.
    ({"PR": 300, "US-GU": 201}, False),
])
def test_hipaa_media_notice_counts_a_territory_s_residents_as_one_state(
        affected: dict[str, int], media: bool) -> None:
    results = run(affected, roles=["covered_entity"], flags=["hipaa_covered_entity"])
    assert owed(results, "hipaa/individuals")
    assert owed(results, "hipaa/media") is media
