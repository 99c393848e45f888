"""US state breach-notification laws, Alabama and Alaska: each duty as its statute words it.

Every expected instant and count below is worked out by hand from the text cited next to it
and a printed calendar, not from the engine:

* Alabama, Ala. Code § 8-38-5(b): notice to individuals "within 45 days of ... the covered
  entity's determination that a breach has occurred and is reasonably likely to cause
  substantial harm"; § 8-38-6(a): the Attorney General too "if the number of individuals a
  covered entity is required to notify ... exceeds 1,000", within the same 45 days; § 8-38-8:
  a third-party agent tells the covered entity "no later than 10 days following the
  determination of the breach". Ala. Code § 1-1-4 excludes the first day and includes the
  last (its weekend and holiday rule is not applied: see the regime's notes).
* Alaska, AS 45.48.010(a)-(c): disclosure to each state resident "in the most expeditious
  time possible and without unreasonable delay" (no fixed period), except after written
  notification to the attorney general and a documented determination that harm is not
  reasonably likely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.drafting.audience import audience
from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from tests.notifications.obligations.samples import facts_data

CATALOGUE = load_regimes()
CHICAGO = ZoneInfo("America/Chicago")
ANCHORAGE = ZoneInfo("America/Anchorage")
US_ORG = {"country": "US", "timezone": "America/Chicago", "flags": []}
AGENT = {"country": "US", "timezone": "America/Chicago", "flags": [],
         "roles": ["service_provider"]}


def end_of(day: str, tz: ZoneInfo) -> datetime:
    """The last instant of local `day` (23:59:59.999999), as the engine represents it."""
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=tz)


def results(**changes: Any) -> dict[str, ObligationResult]:
    return {r.ref: r for r in compute_obligations(
        facts_from_json(facts_data(**changes)), CATALOGUE, explain=True)}


def alabama(affected: dict[str, int], **incident: Any) -> dict[str, ObligationResult]:
    """A breach of Alabama residents' Social Security numbers, determined on Monday
    2 March 2026 at 09:00 Central time."""
    data: dict[str, Any] = {"aware_at": "2026-03-01T09:00:00-06:00",
                            "breach_determined_at": "2026-03-02T09:00:00-06:00",
                            "risk": "high", "data_categories": ["official_id"]}
    return results(organisation=US_ORG, affected=affected, incident=data | incident)


# ------------------------------------------------------------------------- Alabama


def test_alabama_residents_are_told_within_45_days_of_the_determination() -> None:
    # Ala. Code § 8-38-5(b): 45 days after 2 March 2026 is Thursday 16 April 2026 (§ 1-1-4:
    # 2 March excluded; 29 days left in March, 16 in April).
    result = alabama({"US-AL": 10})["us-al/individuals"]
    assert result.applies
    assert result.due_at == end_of("2026-04-16", CHICAGO)


@pytest.mark.parametrize(("residents", "owed"), [(1000, False), (1001, True)])
def test_alabama_attorney_general_only_above_1000_residents(residents: int, owed: bool) -> None:
    # Ala. Code § 8-38-6(a): "exceeds 1,000"; the individuals counted are Alabama residents
    # (§ 8-38-2(5)), so 5,000 Georgians do not count toward it.
    result = alabama({"US-AL": residents, "US-GA": 5000})["us-al/attorney-general"]
    assert result.applies is owed
    if owed:
        assert result.due_at == end_of("2026-04-16", CHICAGO)  # the same 45 days


def test_alabama_third_party_agent_tells_the_covered_entity_within_10_days() -> None:
    # Ala. Code § 8-38-8: no later than 10 days following the determination: 12 March 2026.
    # The agent does not notify the residents or the Attorney General itself (§ 8-38-5(a):
    # "a covered entity that is not a third-party agent").
    found = results(organisation=AGENT, affected={"US-AL": 5000},
                    incident={"aware_at": "2026-03-01T09:00:00-06:00",
                              "breach_determined_at": "2026-03-02T09:00:00-06:00",
                              "risk": "high", "data_categories": ["financial"]})
    assert found["us-al/covered-entity"].applies
    assert found["us-al/covered-entity"].due_at == end_of("2026-03-12", CHICAGO)
    assert not found["us-al/individuals"].applies
    assert not found["us-al/attorney-general"].applies


def test_alabama_no_notice_without_a_likelihood_of_substantial_harm() -> None:
    # Ala. Code § 8-38-5(a): notice only where the breach "is reasonably likely to cause
    # substantial harm"; § 8-38-6(a): the Attorney General only for those required to be told.
    found = alabama({"US-AL": 2000}, harm_not_likely=True,
                    harm_determined_at="2026-03-03T09:00:00-06:00")
    assert not found["us-al/individuals"].applies
    assert not found["us-al/attorney-general"].applies


def test_alabama_covers_only_its_listed_data() -> None:
    # Ala. Code § 8-38-2(6): contact details alone are not sensitive personally identifying
    # information.
    found = alabama({"US-AL": 10}, data_categories=["contact"])
    assert not found["us-al/individuals"].applies


def test_an_alabama_resident_gets_alabamas_notice_and_an_ohioan_does_not() -> None:
    # Ala. Code § 8-38-5(a) with § 8-38-2(5): "individual" is an Alabama resident.
    found = CATALOGUE.obligation("us-al/individuals")
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={"US-AL": 3, "US-OH": 4})
    assert addressed.jurisdictions == ("US-AL",) and addressed.count == 3
    assert not alabama({"US-OH": 10})["us-al/individuals"].applies


def test_alabama_written_law_enforcement_request_is_the_only_delay() -> None:
    # Ala. Code § 8-38-5(c): delayed "upon the receipt of written request of the law
    # enforcement agency".
    found = CATALOGUE.obligation("us-al/individuals")
    assert found is not None
    delay = found[1].law_enforcement_delay
    assert delay is not None and delay.written_only and delay.effect == "until_end"


# -------------------------------------------------------------------------- Alaska


def alaska(affected: dict[str, int], **incident: Any) -> dict[str, ObligationResult]:
    data: dict[str, Any] = {"aware_at": "2026-03-02T09:00:00-09:00",
                            "discovered_at": "2026-03-02T09:00:00-09:00",
                            "risk": "high", "data_categories": ["financial"]}
    return results(organisation=US_ORG, affected=affected, incident=data | incident)


def test_alaska_residents_are_told_without_unreasonable_delay_and_no_fixed_day() -> None:
    # AS 45.48.010(b): "in the most expeditious time possible and without unreasonable
    # delay": the law sets no day, so only our own target is shown.
    result = alaska({"US-AK": 1})["us-ak/individuals"]
    assert result.applies
    assert result.due_at is None
    assert result.target_at is not None


def test_alaska_no_harm_determination_needs_written_notice_to_the_attorney_general() -> None:
    # AS 45.48.010(c): no disclosure where, "after written notification to the attorney
    # general", the covered person determines there is no reasonable likelihood of harm.
    found = alaska({"US-AK": 50}, harm_not_likely=True,
                   harm_determined_at="2026-03-05T09:00:00-09:00")
    assert not found["us-ak/individuals"].applies
    assert found["us-ak/attorney-general-determination"].applies
    plain = alaska({"US-AK": 50})
    assert plain["us-ak/individuals"].applies
    assert not plain["us-ak/attorney-general-determination"].applies


def test_alaska_encrypted_data_with_a_safe_key_is_not_personal_information() -> None:
    # AS 45.48.090(7): personal information is information "that is not encrypted or
    # redacted, or is encrypted and the encryption key has been accessed or acquired".
    safe = alaska({"US-AK": 5}, encrypted=True, state_of_the_art=True)
    assert not safe["us-ak/individuals"].applies
    taken = alaska({"US-AK": 5}, encrypted=True, state_of_the_art=True, key_compromised=True)
    assert taken["us-ak/individuals"].applies


def test_an_alaska_resident_gets_alaskas_notice_and_an_ohioan_does_not() -> None:
    # AS 45.48.010(a): "each state resident whose personal information was subject to the breach".
    found = CATALOGUE.obligation("us-ak/individuals")
    assert found is not None and found[1].protects is not None
    addressed = audience(found[1].protects, established_in="US",
                         people={"US-AK": 2, "US-OH": 7})
    assert addressed.jurisdictions == ("US-AK",) and addressed.count == 2
    assert not alaska({"US-OH": 10})["us-ak/individuals"].applies
