"""Whether a regime and its obligations reach an incident, and why or why not.

`check(condition, facts)` evaluates a regime's or an obligation's `Condition` — who
the law protects (territory of the affected people, place of establishment,
organisation flags and entity type) and its thresholds (number of people, per
territory or in all, risk, data categories, malice) and the role the organisation acts
in (controller or processor, ...) — and returns the reasons in
words, the failing ones first, so `--explain` can tell a DPO exactly why a duty does
not arise. `obligation_applies` adds the rule that a follow-up arises only when the duty
it follows does; which wording of a law is in force is `versions.py`'s question.

The circumstances recorded on the incident (encryption and its key, redaction, a documented
risk-of-harm determination) are tests too, and an obligation's safe harbours (`safe_harbour`)
name, with their citation, the circumstance in which its law says the duty does not arise.

Separate from the due times (`due_times.py`): who must notify and when the clock
runs are two questions a lawyer checks apart, and they change apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from notifications.obligations.facts import Facts, Organisation
from notifications.obligations.facts import Incident as FactsIncident
from notifications.obligations.regimes import (
    RISK_ORDER,
    Condition,
    MetTrigger,
    Obligation,
    Regime,
    same_place,
    territory_matches,
)


def _count(affected: dict[str, int], within: tuple[str, ...] | None, per_territory: bool) -> int:
    counts: dict[str, int] = {}
    for code, n in affected.items():
        if within is None or _in(code, within):
            place = same_place(code)  # "PR" and "US-PR" are one jurisdiction
            counts[place] = counts.get(place, 0) + n
    if per_territory:
        return max(counts.values(), default=0)
    return sum(counts.values())


def _in(code: str, territories: tuple[str, ...]) -> bool:
    return any(territory_matches(code, t) for t in territories)


def _words(roles: Iterable[str]) -> str:
    """("covered_entity", "data_owner") -> "covered entity or data owner"."""
    return " or ".join(role.replace("_", " ") for role in roles)


def _imprecise(org: Organisation, territories: tuple[str, ...]) -> str:
    """Why a test of a subdivision may fail only for want of the principal place of business."""
    if org.principal_place is None and any("-" in t for t in territories):
        return f" (only the country {org.country} is given, not the principal place of business)"
    return ""


_CIRCUMSTANCES: dict[str, tuple[str, str]] = {
    # Condition field: (words when the fact holds, words when it does not)
    "in_clear": ("data in the clear (not encrypted, or its key acquired too, and not redacted)",
                 "data unintelligible to whoever took it (encrypted with a safe key, or redacted)"),
    "encrypted": ("data encrypted", "data not encrypted"),
    "state_of_the_art": ("encryption met the standard the law asks",
                         "encryption not shown to meet the standard the law asks"),
    "key_compromised": ("the key or credentials were acquired too",
                        "the key or credentials were not acquired"),
    "redacted": ("data redacted", "data not redacted"),
    "harm_documented_not_likely": ("a documented determination that misuse or harm is not "
                                   "reasonably likely",
                                   "no documented determination that misuse or harm is not "
                                   "reasonably likely"),
    "law_enforcement_consulted": ("law enforcement consulted before the determination",
                                  "law enforcement not consulted before the determination"),
    "inadvertent_disclosure": ("an inadvertent disclosure by people authorised to see the data",
                               "not an inadvertent disclosure by authorised people"),
}


def _circumstance(incident: FactsIncident, name: str) -> bool:
    if name == "in_clear":
        return incident.in_clear
    if name == "harm_documented_not_likely":
        return incident.harm_not_likely
    return bool(getattr(incident, name))


def safe_harbour(obligation: Obligation, facts: Facts) -> str | None:
    """The first safe harbour of `obligation` that holds for these facts, in words citing its
    law and our confidence in the reading; None when none does."""
    for harbour in obligation.safe_harbours:
        holds, reasons = check(harbour.when, facts)
        if holds:
            return (f"safe harbour: {harbour.note} ({harbour.citation}; confidence "
                    f"{harbour.confidence}): {'; '.join(reasons)}")
    return None


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
            _in(org.established, condition.established_in),
            f"established in {org.established} ({where})",
            f"not established in {where}{_imprecise(org, condition.established_in)}",
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
    if condition.not_entity_types is not None:
        kinds = ", ".join(condition.not_entity_types)
        test(
            org.entity_type not in condition.not_entity_types,
            f"entity type {org.entity_type or 'not given'} is none of {kinds}",
            f"entity type {org.entity_type} is one of {kinds}",
        )
    if condition.owner_entity_types is not None:
        kinds = ", ".join(condition.owner_entity_types)
        owners = incident.owner_entity_types
        if owners is None:
            test(True, f"data maintained for an owner that is {kinds} (assumed: the owners' "
                       "entity types are not recorded)", "")
        else:
            matched = sorted(owners & set(condition.owner_entity_types))
            recorded = ", ".join(sorted(owners)) or "of no recorded type"
            test(bool(matched), f"data maintained for an owner that is {', '.join(matched)}",
                 f"data maintained for owners that are {recorded}, none of {kinds}")
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
    if condition.roles is not None:
        acting = org.acting_as
        matched = [role for role in condition.roles if role in acting]
        assumed = "" if org.roles else " (assumed: no role given)"
        test(
            bool(matched),
            f"organisation acts as {_words(matched)}{assumed}",
            f"organisation acts as {_words(sorted(acting))}{assumed}, not as {_words(condition.roles)}",
        )
    for name, (yes, no) in _CIRCUMSTANCES.items():
        wanted = getattr(condition, name)
        if wanted is not None:
            actual = _circumstance(incident, name)
            words = yes if actual else no  # what the incident's record says, held or not
            test(actual == wanted, words, words)
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
    for a follow-up whose clock starts when that one is fulfilled, and for a duty that arises
    only with another (`arises_with`).
    """
    ok, why = regime_ok
    if not ok:
        return False, why
    if obligation.when is not None:
        holds, reasons = check(obligation.when, facts)
        if not holds:
            return False, reasons
        why = why + reasons
    if (harbour := safe_harbour(obligation, facts)) is not None:
        return False, [harbour]
    if isinstance(obligation.trigger, MetTrigger) and not follows(obligation.trigger.met):
        return False, [f"follows {obligation.trigger.met}, which does not apply"]
    if obligation.arises_with is not None:
        if not follows(obligation.arises_with):
            return False, [f"arises only with {obligation.arises_with}, which does not apply"]
        why = [*why, f"arises with {obligation.arises_with}"]
    return True, why
