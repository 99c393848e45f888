"""US territories: the notice duties of Puerto Rico, Guam and the US Virgin Islands as their laws
word them, and a territory's residents matched whether their residence is recorded as its own
country code (PR, GU, VI) or as a subdivision of the United States (US-PR, US-GU, US-VI).

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
* Guam, 9 GCA ch. 48 (added by P.L. 30-004:1, 13 March 2009): 48.10, "to ensure that the
  personal information of the residents of Guam is protected"; 48.20(a), a breach is "the
  unauthorized access and acquisition of unencrypted and unredacted computerized data that
  compromises" (read in the Compiler of Laws' text) "the security or confidentiality of
  personal information ... and that causes, or the individual or entity reasonably believes has
  caused or will cause, identity theft or other fraud to any resident of Guam" (the rest as
  Constangy and CaseGuard quote it alike). 48.30, read only in summaries that agree: an
  individual or entity that "owns or licenses" the data discloses the breach, "following
  discovery or notification", to "any resident of Guam whose unencrypted and unredacted personal
  information was or is reasonably believed to have been accessed and acquired", "without
  unreasonable delay"; the encryption harbour fails when the key was compromised (Lewis
  Brisbois); one that maintains the data reaches the owner; no government notice. Substitute
  notice above "Ten Thousand Dollars ($10,000)" or "five thousand (5,000) persons", by "any two"
  of e-mail, website posting and "major Guam media" (one state-by-state chart only: low).
* US Virgin Islands, 14 V.I.C. 2208 and 2209 (Identity Theft Prevention Act, No. 6789 of 17
  October 2005), read only in summaries that agree (AICPA, Constangy, cliclaw): disclosure "to
  any resident of the Virgin Islands whose unencrypted personal information was, or is
  reasonably believed to have been, acquired by an unauthorized person", "in the most expedient
  time possible and without unreasonable delay", following discovery or notification; "may be
  delayed if a law enforcement agency determines that the notification will impede a criminal
  investigation"; no risk-of-harm test; the law reaches those who "own, license, or maintain".

Neither territory sets a number of days: the notice is due "without unreasonable delay", so no
due instant is shown, only our own target (720 hours from discovery; 24 hours for a maintainer's
notice to the owner), which the files say is ours.
"""

from __future__ import annotations

import re
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


# ------------------------------------------------------------------ Guam, 9 GCA ch. 48

GUAM_DISCOVERED = "2026-05-04T09:00:00+10:00"
"""Monday 4 May 2026, 09:00 Chamorro Standard Time (UTC+10; Guam keeps no daylight time)."""


def guam(affected: dict[str, int], *, roles: list[str] | None = None,
         **incident: Any) -> dict[str, ObligationResult]:
    return run(affected, roles=roles, aware_at=GUAM_DISCOVERED, discovered_at=GUAM_DISCOVERED,
               **incident)


@pytest.mark.parametrize("recorded", ["GU", "US-GU"])
def test_48_30_a_resident_of_guam_is_told_however_recorded(recorded: str) -> None:
    # 48.30: disclosure "to any resident of Guam whose unencrypted and unredacted personal
    # information was or is reasonably believed to have been accessed and acquired".
    results = guam({recorded: 1})
    assert owed(results, "us-gu/individuals")
    assert not owed(results, "us-vi/individuals") and not owed(results, "us-pr/individuals")


def test_48_30_nobody_outside_guam_is_owed_guams_notice() -> None:
    results = guam({"US-PR": 4, "VI": 3, "US-CA": 9, "MP": 2})
    assert not owed(results, "us-gu/individuals")
    found = REGIMES.obligation("us-gu/individuals")
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={"GU": 2, "US-GU": 3, "US-HI": 40, "MP": 6})
    assert (addressed.everyone, addressed.jurisdictions) == (False, ("GU", "US-GU"))
    assert addressed.count == 5 and addressed.not_protected == 46


def test_48_30_without_unreasonable_delay_shows_only_our_target() -> None:
    # "Without unreasonable delay": no day is set, so nothing is due at a fixed instant; our own
    # target is 720 hours (30 days) after discovery: Monday 4 May 09:00 ChST + 30 days =
    # Wednesday 3 June 2026, 09:00 ChST.
    people = guam({"GU": 12})["us-gu/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == datetime.fromisoformat("2026-06-03T09:00:00+10:00")
    assert people.rule == {"without_undue_delay": True, "target_hours": 720}
    found = REGIMES.obligation("us-gu/individuals")
    assert found is not None and found[1].trigger == "discovered_at"
    assert any("our own internal target, not the law's" in n for n in found[1].notes)


def test_48_20_encrypted_with_a_safe_key_needs_no_notice_but_a_taken_key_does() -> None:
    # 48.20(a): a breach is the acquisition of "unencrypted and unredacted computerized data";
    # the safe harbour "does not apply when the encryption key was also compromised".
    safe = guam({"GU": 12}, encrypted=True, state_of_the_art=True)
    assert not owed(safe, "us-gu/individuals")
    assert any("9 GCA 48.20(a)" in why for why in safe["us-gu/individuals"].why)
    taken = guam({"GU": 12}, encrypted=True, state_of_the_art=True, key_compromised=True)
    assert owed(taken, "us-gu/individuals")
    assert not owed(guam({"GU": 12}, redacted=True), "us-gu/individuals")  # "and unredacted"


def test_48_20_no_identity_theft_or_fraud_reasonably_believed_no_notice() -> None:
    # 48.20(a): a breach is one "that causes, or the individual or entity reasonably believes
    # has caused or will cause, identity theft or other fraud to any resident of Guam".
    cleared = guam({"GU": 12}, harm_not_likely=True, harm_determined_at="2026-05-06T10:00:00+10:00")
    assert not owed(cleared, "us-gu/individuals")


def test_48_30_one_that_maintains_the_data_tells_the_owner_not_the_residents() -> None:
    # 48.30: an entity that maintains data it does not own or license notifies the owner or
    # licensee; no time was read, so 24 hours (Tuesday 5 May 2026, 09:00 ChST) is our target.
    results = guam({"GU": 12}, roles=["service_provider"])
    owner = results["us-gu/owner"]
    assert owner.applies and owner.due_at is None
    assert owner.target_at == datetime.fromisoformat("2026-05-05T09:00:00+10:00")
    assert not owed(results, "us-gu/individuals")
    assert not owed(guam({"GU": 12}, roles=["controller"]), "us-gu/owner")


def test_guam_asks_no_notice_to_a_government_body() -> None:
    # Constangy: "Regulatory Notification: N/A"; Lewis Brisbois: "Government Notice: No".
    regime = REGIMES.get("us-gu")
    assert regime is not None and regime.jurisdiction == "US-GU"
    assert {o.recipient for o in regime.obligations} == {"individuals", "counterparty"}


def test_guam_substitute_notice_is_any_two_means_and_marked_low() -> None:
    # One state-by-state chart: cost above "Ten Thousand Dollars ($10,000)", more than "five
    # thousand (5,000) persons", or no contact information; "any two (2)" of three means.
    found = REGIMES.obligation("us-gu/individuals")
    assert found is not None
    notice = found[1].substitute_notice
    assert notice is not None and notice.confidence == "low"
    assert any("($10,000)" in c for c in notice.conditions)
    assert any("(5,000) persons" in c for c in notice.conditions)
    assert len(notice.means) == 3 and any("major Guam media" in m for m in notice.means)
    assert notice.note is not None and "any two (2)" in notice.note


# ---------------------------------------------------- US Virgin Islands, 14 V.I.C. 2208-2209


@pytest.mark.parametrize("recorded", ["VI", "US-VI"])
def test_2208_a_resident_of_the_virgin_islands_is_told_however_recorded(recorded: str) -> None:
    # 2208/2209: disclosure "to any resident of the Virgin Islands whose unencrypted personal
    # information was, or is reasonably believed to have been, acquired".
    results = run({recorded: 1})
    assert owed(results, "us-vi/individuals")
    assert not owed(results, "us-gu/individuals") and not owed(results, "us-pr/individuals")
    assert not owed(run({"PR": 5, "GU": 5, "US-FL": 5}), "us-vi/individuals")


def test_2208_most_expedient_time_possible_shows_only_our_target() -> None:
    # "In the most expedient time possible and without unreasonable delay": no day is set; our
    # target is 720 hours after discovery: Monday 4 May 09:00 AST + 30 days = Wednesday 3 June
    # 2026, 09:00 AST (the Virgin Islands keep Atlantic Standard Time all year, UTC-4).
    people = run({"VI": 7})["us-vi/individuals"]
    assert people.applies and people.due_at is None
    assert people.target_at == datetime.fromisoformat("2026-06-03T09:00:00-04:00")
    assert people.rule == {"without_undue_delay": True, "target_hours": 720}


def test_2208_encrypted_with_a_safe_key_needs_no_notice_but_a_taken_key_does() -> None:
    # Only "unencrypted personal information" is disclosed; personal information is the name
    # with the data elements "when either the name or the data elements are not encrypted".
    assert not owed(run({"VI": 7}, encrypted=True, state_of_the_art=True), "us-vi/individuals")
    taken = run({"VI": 7}, encrypted=True, state_of_the_art=True, key_compromised=True)
    assert owed(taken, "us-vi/individuals")


def test_2208_has_no_risk_of_harm_test() -> None:
    # Acquisition that compromises the security, confidentiality or integrity of the data is
    # the breach; no finding that misuse is unlikely excuses the notice (Constangy: "N/A").
    cleared = run({"VI": 7}, harm_not_likely=True, harm_determined_at="2026-05-06T10:00:00-04:00")
    assert owed(cleared, "us-vi/individuals")


def test_2208_a_law_enforcement_delay_holds_the_notice_until_it_ends() -> None:
    # "May be delayed if a law enforcement agency determines that the notification will impede
    # a criminal investigation": held while the delay lasts, given once it ends. Asked Tuesday
    # 5 May, ended Wednesday 1 July 2026 09:00 AST, after our 3 June target: the target moves
    # to the end of the delay.
    delay = {"agency": "Virgin Islands Police Department",
             "requested_at": "2026-05-05T10:00:00-04:00"}
    held = run({"VI": 7}, law_enforcement_delay=delay)["us-vi/individuals"]
    assert held.applies and held.due_at is None
    ended = run({"VI": 7}, law_enforcement_delay={**delay, "ended_at": "2026-07-01T09:00:00-04:00"})
    assert ended["us-vi/individuals"].target_at == datetime.fromisoformat(
        "2026-07-01T09:00:00-04:00")
    found = REGIMES.obligation("us-vi/individuals")
    assert found is not None and found[1].law_enforcement_delay is not None
    assert found[1].law_enforcement_delay.effect == "until_end"


def test_2208_one_that_maintains_the_data_tells_the_owner_not_the_residents() -> None:
    # The law reaches those who "own, license, or maintain"; the maintainer's notice goes to
    # the owner: 24 hours (Tuesday 5 May 2026, 09:00 AST) is our target, not the law's.
    results = run({"VI": 7}, roles=["processor"])
    owner = results["us-vi/owner"]
    assert owner.applies and owner.due_at is None
    assert owner.target_at == datetime.fromisoformat("2026-05-05T09:00:00-04:00")
    assert not owed(results, "us-vi/individuals")


def test_virgin_islands_substitute_notice_states_no_unread_figure() -> None:
    # No source read gives the Virgin Islands' thresholds: none is written in, and it is low.
    found = REGIMES.obligation("us-vi/individuals")
    assert found is not None
    notice = found[1].substitute_notice
    assert notice is not None and notice.confidence == "low"
    assert not re.search(r"\$|\d,\d{3}", " ".join(notice.conditions))  # no sum, no count
    regime = REGIMES.get("us-vi")
    assert regime is not None and {o.recipient for o in regime.obligations} == {
        "individuals", "counterparty"}


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
