"""The coverage of the catalogue: every US state, DC and territory listed, covered or not;
each regime with its duties, confidence, primary citation and what is marked low or unsourced;
the same facts on the command line and in the README's table.

The duties checked are read in the laws' texts: Indiana, "without unreasonable delay, but not
more than forty-five (45) days after the discovery of the breach" (IC 24-4.9-3-3(a)), to "an
Indiana resident" (IC 24-4.9-3-1(a)); Georgia, one maintaining data for an information broker
or data collector notifies it "within 24 hours following discovery" (O.C.G.A. 10-1-912(b));
GDPR, the supervisory authority "without undue delay and, where feasible, not later than 72
hours after having become aware of it" (Art. 33(1)).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifications.obligations.coverage import (
    US_STATES,
    SelectionError,
    as_data,
    brief,
    coverage,
    markdown,
    select,
    with_table,
)
from notifications.obligations.deadlines import HoursRule, UndueDelayRule
from notifications.obligations.regime_loader import load_regimes
from tests.cli_support import Breach, breach  # noqa: F401  (fixture)

README = Path(__file__).parents[3] / "README.md"
CATALOGUE = load_regimes()
FOUND = coverage(CATALOGUE)


def _row(code: str) -> Any:
    rows = {j["code"]: j for j in as_data(FOUND)["jurisdictions"]}
    return rows[code]


def test_every_state_dc_and_the_three_territories_are_listed_covered_or_not() -> None:
    codes = [j.code for j in FOUND.jurisdictions]
    assert len(US_STATES) == 50
    expected = {f"US-{c}" for c in (*US_STATES, "DC", "PR", "GU", "VI")}
    assert expected <= set(codes) and len(codes) == len(set(codes))
    assert codes[0] == "US"  # the federal laws first, then the states by name
    # Every state, DC and territory with a law of its own is covered, the last two being Guam
    # (9 GCA ch. 48, regime us-gu) and the US Virgin Islands (14 V.I.C. 2208-2209, us-vi).
    assert {j.code for j in FOUND.uncovered} == set()
    assert [r["id"] for r in _row("US-GU")["regimes"]] == ["us-gu"]
    assert [r["id"] for r in _row("US-VI")["regimes"]] == ["us-vi"]
    assert as_data(FOUND)["not_covered"] == [j.code for j in FOUND.uncovered]
    # Each regime of the catalogue appears once, under its own jurisdiction.
    shown = [r.id for j in FOUND.jurisdictions for r in j.regimes]
    assert sorted(shown) == sorted(r.id for r in CATALOGUE)
    assert {j.code: j.kind for j in FOUND.jurisdictions if j.code in ("US", "US-DC", "US-PR",
                                                                      "US-OH", "EU", "JP")} == {
        "US": "US federal", "US-DC": "US district", "US-PR": "US territory",
        "US-OH": "US state", "EU": "region", "JP": "country"}


def test_a_regime_shows_its_duties_deadlines_confidence_and_primary_citation() -> None:
    indiana = _row("US-IN")
    assert indiana["name"] == "Indiana" and indiana["covered"] is True
    (regime,) = indiana["regimes"]
    assert regime["id"] == "us-in" and regime["confidence"] == "medium"
    assert regime["citation"] == "IC 24-4.9-3-1(a); IC 24-4.9-3-3"  # the duty owed to people
    assert regime["source"].startswith("https://")
    people = regime["duties"][0]
    assert people["ref"] == "us-in/individuals" and people["trigger"] == "discovered_at"
    assert people["brief"] == "without undue delay, at most 45 days"
    assert people["deadline"].startswith(
        "without undue delay and at the latest 45 calendar days after discovered_at")
    # IC 24-4.9-3-4 (substitute notice) was not read: its file marks it low.
    assert {"where": "us-in/individuals",
            "what": "substitute notice (IC 24-4.9-3-4 (substitute notice; subsection not "
                    "verified)): low confidence"} in regime["flagged"]
    georgia = {d["ref"]: d for d in _row("US-GA")["regimes"][0]["duties"]}
    assert georgia["us-ga/owner"]["brief"] == "24 h"
    assert georgia["us-ga/owner"]["confidence"] == "high"
    gdpr = {d["ref"]: d for r in _row("EU")["regimes"] for d in r["duties"]}
    assert gdpr["gdpr/authority"]["brief"] == "without undue delay, at most 72 h"
    assert gdpr["gdpr/authority"]["trigger"] == "aware_at"


def test_what_is_low_or_unsourced_is_flagged() -> None:
    # C.R.S. 6-1-716(2)(b), a third-party service provider's notice to the covered entity, was
    # read only in summaries: that one duty is low, the regime medium.
    colorado = _row("US-CO")["regimes"][0]
    assert colorado["confidence"] == "medium"
    assert {"where": "us-co/covered-entity",
            "what": "the duty (C.R.S. 6-1-716(2)(b)): low confidence"} in colorado["flagged"]
    # China's Measures and PIPL Art. 57 were read in verbatim quotations: nothing is low.
    assert _row("CN")["regimes"][0]["flagged"] == []
    # D.C. Code 28-3852(a): a 60-day limit found only in one summary is marked unsourced.
    columbia = _row("US-DC")["regimes"][0]
    assert any(f["where"] == "us-dc" and "unsourced" in f["what"] for f in columbia["flagged"])


def test_brief_deadlines() -> None:
    assert brief(HoursRule(hours=72)) == "72 h"
    assert brief(UndueDelayRule(without_undue_delay=True, target_hours=720)) == "without undue delay"


def test_a_place_selects_its_own_and_the_federal_or_regional_laws() -> None:
    ohio = select(FOUND, "us-oh")
    assert [j.code for j in ohio.jurisdictions] == ["US", "US-OH"]
    assert [j.code for j in select(FOUND, "Ohio").jurisdictions] == ["US-OH"]
    assert [j.code for j in select(FOUND, "DE").jurisdictions] == ["EU"]  # GDPR, NIS2, DORA
    every_us = select(FOUND, "US").jurisdictions
    assert len(every_us) == 55 and all(j.code.startswith("US") for j in every_us)
    low = select(FOUND, confidence="low")
    assert all("low" in r.confidences() for j in low.jurisdictions for r in j.regimes)
    assert "us-co" in {r.id for j in low.jurisdictions for r in j.regimes}
    assert not low.uncovered and "gdpr" not in {r.id for j in low.jurisdictions for r in j.regimes}
    with pytest.raises(SelectionError, match="No country or state matches 'Atlantis'") as refused:
        select(FOUND, "Atlantis")
    assert refused.value.field == "place"
    with pytest.raises(SelectionError, match="high, medium or low") as refused:
        select(FOUND, confidence="certain")
    assert refused.value.field == "confidence"


def test_the_readme_table_is_the_catalogue_s() -> None:
    text = README.read_text(encoding="utf-8")
    assert with_table(text, markdown(coverage(load_regimes()))) == text, (
        "the README's coverage table is stale: run "
        "`.venv/bin/python -m notifications.obligations.coverage README.md`")
    assert "| Ohio (US-OH) | `us-oh`" in text
    with pytest.raises(ValueError, match="markers"):
        with_table("no markers here", "table")


def test_the_coverage_command(breach: Breach) -> None:  # noqa: F811
    wide: dict[str, str | None] = {"COLUMNS": "250"}  # a wide terminal: each cell on one line
    table = breach("regimes", "coverage", "--place", "US-IN", user=None, env=wide).stdout
    assert "us-in" in table and "hipaa" in table and "IC 24-4.9-3-1(a)" in table
    assert "not yet covered: none" in table
    whole = breach("regimes", "coverage", user=None).stdout
    assert "not yet covered:" in whole
    data = breach.json("regimes", "coverage", user=None)
    assert data == as_data(coverage(load_regimes()))
    assert breach.error("regimes", "coverage", "--place", "Atlantis", user=None) == (
        "breach: error: No country or state matches 'Atlantis': give a code such as US-OH or "
        "DE, or part of a name such as Ohio.")
    refused = breach("regimes", "coverage", "--confidence", "certain", user=None, ok=False)
    assert refused.exit_code == 2 and "certain" in refused.stderr
