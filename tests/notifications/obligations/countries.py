"""What the tests of the countries' laws share: the facts of a breach under one organisation,
computed against the shipped catalogue, and lookups into the catalogue and the results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.obligations.engine import ObligationResult, compute_obligations
from notifications.obligations.facts import facts_from_json
from notifications.obligations.regime_loader import load_regimes
from notifications.obligations.regimes import Catalogue, Obligation

REGIMES: Catalogue = load_regimes()
ALL_DATA = ["contact", "official_id", "financial", "credentials", "health", "special"]
CONTROLLER = ["controller"]
PROCESSOR = ["processor"]


def results_for(organisation: dict[str, Any], affected: dict[str, int], *,
                data: list[str] | None = None, **incident: Any) -> dict[str, ObligationResult]:
    """Every obligation, applying or not, by reference, with its explanation: a high-risk breach
    (unless `risk` says otherwise) of every data category (or `data`, or `data_categories`)."""
    facts = {
        "organisation": {"roles": [], **organisation},
        "incident": {"risk": "high", "data_categories": ALL_DATA if data is None else data,
                     **incident},
        "affected": affected,
    }
    return {r.ref: r for r in compute_obligations(facts_from_json(facts), REGIMES, explain=True)}


def established(affected: dict[str, int], *, country: str, timezone: str, aware_at: str,
                roles: list[str] | None = None, **incident: Any) -> dict[str, ObligationResult]:
    """`results_for` a breach known at `aware_at` by an organisation established in `country`."""
    organisation = {"country": country, "timezone": timezone, "roles": roles or []}
    return results_for(organisation, affected, aware_at=aware_at, **incident)


def controller(country: str, timezone: str, aware_at: str, affected: dict[str, int], *,
               roles: list[str] | None = None, **incident: Any) -> dict[str, ObligationResult]:
    """`established`, the facts given in order, for a controller unless `roles` says otherwise."""
    return established(affected, country=country, timezone=timezone, aware_at=aware_at,
                       roles=roles or CONTROLLER, **incident)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def owed(results: dict[str, ObligationResult], ref: str) -> bool:
    return ref in results and results[ref].applies


def duty(ref: str) -> Obligation:
    """The obligation `ref` as the catalogue ships it."""
    found = REGIMES.obligation(ref)
    assert found is not None, ref
    return found[1]
