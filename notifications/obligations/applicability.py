"""Whether a regime and its obligations reach an incident, and why or why not.

`check(condition, facts)` evaluates a regime's or an obligation's `Condition` — who
the law protects (territory of the affected people, place of establishment,
organisation flags and entity type) and its thresholds (number of people, per
territory or in all, risk, data categories, malice) — and returns the reasons in
words, the failing ones first, so `--explain` can tell a DPO exactly why a duty does
not arise. `obligation_applies` adds the dates from which a law or duty is in force
and the rule that a follow-up arises only when the duty it follows does.

Separate from the due times (`due_times.py`): who must notify and when the clock
runs are two questions a lawyer checks apart, and they change apart.
"""

from __future__ import annotations

from collections.abc import Callable

from notifications.obligations.facts import Facts
from notifications.obligations.regimes import (
    RISK_ORDER,
    Condition,
    MetTrigger,
    Obligation,
    Regime,
    territory_matches,
)


def _count(affected: dict[str, int], within: tuple[str, ...] | None, per_territory: bool) -> int:
    counts = [n for code, n in affected.items() if within is None or _in(code, within)]
    if per_territory:
        return max(counts, default=0)
    return sum(counts)


def _in(code: str, territories: tuple[str, ...]) -> bool:
    return any(territory_matches(code, t) for t in territories)


def check(condition: Condition, facts: Facts) -> tuple[bool, list[str]]:
    """Evaluate a condition: (holds, reasons in words), the failing ones first.

    When the condition holds the reasons say why it holds; otherwise they say which
    test failed, so `--explain` can tell a DPO exactly why a duty does not arise.
    """
    org, incident, affected = facts.organisation, facts.incident, facts.affected
    passed: list[str] = []
    failed: list[str] = []

    def test(ok: bool, yes: str, no: str) -> None:
        (passed if ok else failed).append(yes if ok else no)

    if condition.affected_in is not None:
        places = sorted(c for c, n in affected.items() if n > 0 and _in(c, condition.affected_in))
        where = ", ".join(condition.affected_in)
        test(bool(places), f"people affected in {', '.join(places)}", f"nobody affected in {where}")
    if condition.established_in is not None:
        where = ", ".join(condition.established_in)
        test(
            _in(org.country, condition.established_in),
            f"established in {org.country} ({where})",
            f"not established in {where}",
        )
    for flag in condition.flags:
        test(flag in org.flags, f"organisation is {flag}", f"organisation is not {flag}")
    if condition.entity_types is not None:
        kinds = ", ".join(condition.entity_types)
        test(
            org.entity_type in condition.entity_types,
            f"entity type {org.entity_type}",
            f"entity type {org.entity_type or 'not given'} is not one of {kinds}",
        )
    if condition.min_affected is not None:
        count = _count(affected, condition.count_in, condition.per_territory)
        scope = ", ".join(condition.count_in) if condition.count_in else "all jurisdictions"
        scope = f"the largest single jurisdiction of {scope}" if condition.per_territory else scope
        test(
            count >= condition.min_affected,
            f"{count} affected in {scope} (at least {condition.min_affected})",
            f"{count} affected in {scope}, fewer than {condition.min_affected}",
        )
    if condition.min_risk is not None:
        test(
            RISK_ORDER[incident.risk] >= RISK_ORDER[condition.min_risk],
            f"risk {incident.risk} reaches {condition.min_risk}",
            f"risk {incident.risk} is below {condition.min_risk}",
        )
    if condition.data_categories is not None:
        hits = sorted(set(condition.data_categories) & incident.data_categories)
        wanted = ", ".join(condition.data_categories)
        test(bool(hits), f"data categories {', '.join(hits)}", f"none of the data categories {wanted}")
    if condition.malicious is not None:
        test(
            incident.malicious == condition.malicious,
            "malicious" if incident.malicious else "not malicious",
            "not malicious" if condition.malicious else "malicious",
        )
    if condition.any_of is not None:
        branches = [check(branch, facts) for branch in condition.any_of]
        held = [reasons for ok, reasons in branches if ok]
        test(
            bool(held),
            "; ".join(held[0]) if held else "",
            "none of: " + " | ".join("; ".join(r) for _, r in branches),
        )
    return (not failed, failed or passed)


def obligation_applies(
    regime: Regime,
    obligation: Obligation,
    facts: Facts,
    regime_ok: tuple[bool, list[str]],
    *,
    follows: Callable[[str], bool],
) -> tuple[bool, list[str]]:
    """Does the obligation arise for these facts, and why (or why not).

    `regime_ok` is `check(regime.applies, facts)`, computed once per regime;
    `follows(ref)` says whether the obligation named "regime/obligation" applies,
    for a follow-up whose clock starts when that one is fulfilled.
    """
    aware = facts.incident.aware_at.date()
    ok, why = regime_ok
    if not ok:
        return False, why
    if regime.in_force_from and aware < regime.in_force_from:
        return False, [f"{regime.id} applies to breaches from {regime.in_force_from}"]
    if obligation.in_force_from and aware < obligation.in_force_from:
        return False, [f"this duty applies to breaches from {obligation.in_force_from}"]
    if obligation.when is not None:
        holds, reasons = check(obligation.when, facts)
        if not holds:
            return False, reasons
        why = why + reasons
    if isinstance(obligation.trigger, MetTrigger) and not follows(obligation.trigger.met):
        return False, [f"follows {obligation.trigger.met}, which does not apply"]
    return True, why
