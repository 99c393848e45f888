"""What may be recorded about reaching a person another way. Pure.

A person a notice by e-mail did not reach is reached by a postal letter or a call; or,
where each law their letter answers to allows it (`SubstituteNotice`: GDPR Art. 34(3)(c)
"disproportionate effort", a US state's substitute notice), by a public communication. A
public communication is a legal judgement: whoever records it names, for each law, which of
its conditions held; the basis is kept with the record and shown in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from incident.kernel.errors import Invalid
from notifications.obligations.regimes import SubstituteNotice

Channel = Literal["postal", "call", "public"]
Outcome = Literal["reached", "failed"]

NOTE_LIMIT = 2_000
"""The longest note on a record (what was sent where, who answered), in characters."""
AT_MOST = 10_000
"""The most people one record names by delivery id (more: record all not reached)."""


def check_order(channel: Channel, outcome: Outcome, *, named: int, everyone: bool) -> None:
    """A record names its people one way (ids, or everyone not reached), and a public
    communication is only recorded once made (outcome reached)."""
    problems: list[tuple[str, str]] = []
    if everyone == bool(named):
        problems.append(("deliveries", "name the deliveries, or set all_not_reached "
                         "(exactly one of the two)"))
    if channel == "public" and outcome != "reached":
        problems.append(("outcome", "a public communication is recorded once it was made: "
                         "outcome reached"))
    if problems:
        raise Invalid.fields(problems)


def public_basis(laws: Mapping[str, SubstituteNotice | None],
                 conditions: Mapping[str, int] | None) -> str:
    """The legal basis of a public communication standing in for the notice owed under each
    of `laws` (duty ref: its law's substitute notice, None where it allows none), with the
    condition the recorder says held for each (`conditions`: ref → its index, from 0).

    Raises Invalid naming the laws that allow none, and any condition missing or unknown."""
    refused = sorted(ref for ref, rule in laws.items() if rule is None)
    if refused:
        raise Invalid.fields([("channel", f"{', '.join(refused)} "
                               f"{'allows' if len(refused) == 1 else 'allow'} no public "
                               "communication in place of a person's own notice: reach "
                               "these people by letter or call")])
    chosen = dict(conditions or {})
    problems: list[tuple[str, str]] = []
    parts: list[str] = []
    for ref, rule in sorted(laws.items()):
        assert rule is not None
        index = chosen.pop(ref, None)
        if index is None or not 0 <= index < len(rule.conditions):
            listed = "; ".join(f"{i}: {text}" for i, text in enumerate(rule.conditions))
            problems.append((f"conditions.{ref}", f"say which condition of {rule.citation} "
                             f"held ({listed})"))
            continue
        parts.append(f"{ref}: {rule.citation}, {rule.conditions[index]}; by "
                     f"{'; '.join(rule.means)}")
    problems += [(f"conditions.{ref}", "the people named are owed no notice under this "
                  "duty") for ref in sorted(chosen)]
    if problems:
        raise Invalid.fields(problems)
    return "\n".join(parts)
