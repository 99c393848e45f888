"""What the tests of the US state laws share: the facts of a breach under one organisation in
the United States, computed against the shipped catalogue, and lookups into the results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue, SubstituteNotice

REGIMES: Catalogue = load_regimes()
ALL_DATA = ["contact", "official_id", "financial", "credentials", "health", "special"]


def state_results(affected: dict[str, int], *, aware_at: str, timezone: str,
                  roles: list[str] | None = None, data: list[str] | None = None,
                  entity_type: str | None = None,
                  **incident: Any) -> dict[str, ObligationResult]:
    """Every obligation the facts trigger, by reference, with its explanation: a high-risk
    breach of every data category (or `data`) known at `aware_at`."""
    organisation: dict[str, Any] = {"country": "US", "timezone": timezone, "roles": roles or []}
    if entity_type is not None:
        organisation["entity_type"] = entity_type
    facts = {
        "organisation": organisation,
        "incident": {"aware_at": aware_at, "risk": "high",
                     "data_categories": ALL_DATA if data is None else data, **incident},
        "affected": affected,
    }
    results = compute_obligations(facts_from_json(facts), REGIMES, explain=True)
    return {r.ref: r for r in results}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def owed(results: dict[str, ObligationResult], ref: str) -> bool:
    return ref in results and results[ref].applies


def no_harm(when: str) -> dict[str, Any]:
    """A documented determination, made at `when`, that misuse or harm is not likely."""
    return {"harm_not_likely": True, "harm_determined_at": when}


def substitute(ref: str) -> SubstituteNotice:
    found = REGIMES.obligation(ref)
    assert found is not None, ref
    notice = found[1].substitute_notice
    assert notice is not None, ref
    return notice
