"""The obligations engine: from the facts of a breach to every duty to notify, with due times.

`compute_obligations(facts, regimes)` is a pure function: it reads the FACTS (the
organisation, the incident's instants and assessment, the affected people by
jurisdiction; see `facts.py`) and the regime catalogue, decides which obligations apply
and why (`applicability.py`), and computes each deadline with its basis
(`due_times.py`). The CLI (`breach obligations FACTS.json`), the API and the scheduler
all call it, so they always agree. This module owns the walk over the catalogue (a
follow-up is evaluated after the duty it follows), the order of the results and their
JSON form.

An obligation whose trigger has not happened yet (a materiality determination not
made, a first report not yet sent) is still listed: with no due time and the event it
waits for, so nobody forgets it is coming. Where its regime file says to assume a start
(`assume_from`: a NIS2 duty before the incident is found significant), it gets the due
time that start gives, marked `assumed`, until the real trigger replaces it.

Each result carries the `confidence` of our reading of its duty and the date its sources
were last `reviewed` (the duty's own, else its regime's); a report to an authority that
applies carries the `authority` its file names (who takes it, and how).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from notifications.obligations.applicability import check, obligation_applies
from notifications.obligations.deadlines import Basis, rule_as_data
from notifications.obligations.due_times import TriggerState, due_times
from notifications.obligations.facts import Facts, FactsError, FactsProblem
from notifications.obligations.regimes import Authority, Catalogue, Obligation, Regime
from notifications.obligations.versions import NotInForce, choose

# ----------------------------------------------------------------------- results


@dataclass(frozen=True)
class ObligationResult:
    """One obligation for one incident: whether it applies, when it is due, and why."""

    regime: str
    obligation: str
    recipient: str
    recipient_name: str
    applies: bool
    why: tuple[str, ...]
    phase: str | None = None
    due_at: datetime | None = None
    target_at: datetime | None = None
    trigger: TriggerState | None = None
    rule: dict[str, Any] = field(default_factory=dict)
    basis: Basis | None = None
    met_at: datetime | None = None
    content: tuple[str, ...] = ()
    version: str | None = None
    """The name of the law's wording applied, when its file names versions (`versions.py`)."""
    confidence: str | None = None
    """How sure our reading of this duty is (its own, else its regime's)."""
    reviewed: date | None = None
    """When this duty's sources were last checked (its own date, else its regime's)."""
    assumed: bool = False
    """The due time counts from a stand-in event until the trigger is recorded (`assume_from`)."""
    authority: Authority | None = None
    """For a report to an authority or regulator: the body, its address and how it takes
    reports, as the regime file states them (the organisation profile names the contact used)."""

    @property
    def ref(self) -> str:
        """The "regime/obligation" reference."""
        return f"{self.regime}/{self.obligation}"


# --------------------------------------------------------------------- the engine


def _evaluate(
    regime: Regime,
    obligation: Obligation,
    facts: Facts,
    regime_ok: tuple[bool, list[str]],
    done: dict[str, ObligationResult],
    catalogue: Catalogue,
) -> ObligationResult:
    chosen = choose(regime, obligation, facts, catalogue)
    if isinstance(chosen, NotInForce):
        return ObligationResult(
            regime=regime.id,
            obligation=obligation.id,
            recipient=obligation.recipient,
            recipient_name=obligation.recipient_name,
            phase=obligation.phase,
            applies=False,
            why=(chosen.reason,),
        )
    obligation = chosen.obligation
    ok, why = obligation_applies(
        regime,
        obligation,
        facts,
        regime_ok,
        follows=lambda ref: _result_for(ref, facts, done, catalogue).applies,
    )
    if ok and chosen.also_when is not None:
        ok, narrower = check(chosen.also_when, facts)
        narrower = [f"under {chosen.version}: {reason}" for reason in narrower]
        why = why + narrower if ok else narrower
    result = ObligationResult(
        regime=regime.id,
        obligation=obligation.id,
        recipient=obligation.recipient,
        recipient_name=obligation.recipient_name,
        phase=obligation.phase,
        applies=ok,
        why=tuple(why),
        version=chosen.version,
    )
    if not ok:
        return result
    met_at = facts.incident.met.get(f"{regime.id}/{obligation.id}")
    due = due_times(regime, obligation, facts)
    basis = due.basis if chosen.note is None else replace(due.basis, notes=(chosen.note, *due.basis.notes))
    result = replace(
        result,
        trigger=due.trigger,
        rule=rule_as_data(due.rule),
        met_at=met_at.astimezone(UTC) if met_at else None,
        content=obligation.content,
        due_at=due.due_at,
        target_at=due.target_at,
        basis=basis,
        assumed=due.assumed,
        authority=obligation.authority,
    )
    if obligation.no_later_than is not None:
        limit = obligation.no_later_than
        result = no_later_than(result, _result_for(limit.met, facts, done, catalogue), limit.citation)
    return result


def no_later_than(result: ObligationResult, other: ObligationResult, citation: str) -> ObligationResult:
    """`result` limited by the notice of `other`, which it may not come after (`NoLaterThan`):
    due at the latest when `other` was met, or while it is not, when `other` is due; its target
    no later than `other`'s. No limit where `other` does not apply, nor while this duty still
    waits for its own trigger or for the end of a law-enforcement delay."""
    assert result.basis is not None
    if not other.applies:
        note = f"no later than {other.ref}, which does not apply: no such limit ({citation})"
        return replace(result, basis=replace(result.basis, notes=(*result.basis.notes, note)))
    waiting = result.trigger is None or (result.trigger.waiting_for is not None
                                          and not result.assumed)
    if waiting:  # its own trigger, or the end of a law-enforcement delay, is still awaited
        return result
    cap = other.met_at or other.due_at
    cap_target = other.met_at or other.target_at
    due, target = result.due_at, result.target_at
    if cap is not None and (due is None or cap < due):
        due = cap
        how = (f"met at {iso(other.met_at)}" if other.met_at is not None
               else f"due at {iso(other.due_at)} while not met")
        note = f"no later than {other.ref} ({how}): due then at the latest ({citation})"
    else:
        note = f"no later than {other.ref}: its notice does not come sooner ({citation})"
    if cap_target is not None and (target is None or cap_target < target):
        target = cap_target
    if due is not None and target is not None:
        target = min(target, due)
    return replace(result, due_at=due, target_at=target,
                   basis=replace(result.basis, notes=(*result.basis.notes, note)))


def _sourced(regime: Regime, obligation: Obligation, result: ObligationResult) -> ObligationResult:
    confidence, reviewed = regime.sourcing(obligation)
    return replace(result, confidence=confidence, reviewed=reviewed)


def _result_for(
    ref: str, facts: Facts, done: dict[str, ObligationResult], catalogue: Catalogue
) -> ObligationResult:
    if ref not in done:
        found = catalogue.obligation(ref)
        if found is None:
            raise KeyError(f"unknown obligation {ref!r}")
        regime, obligation = found
        done[ref] = _sourced(regime, obligation, _evaluate(
            regime, obligation, facts, check(regime.applies, facts), done, catalogue))
    return done[ref]


def _check_refs(facts: Facts, catalogue: Catalogue) -> None:
    problems = [
        FactsProblem(f"{where}.{ref}", "unknown obligation (use regime/obligation ids)")
        for where, refs in (
            ("incident.met", facts.incident.met),
            ("organisation.targets", facts.organisation.targets),
        )
        for ref in refs
        if catalogue.obligation(ref) is None
    ]
    if problems:
        raise FactsError(problems)


def compute_obligations(facts: Facts, regimes: Catalogue, *, explain: bool = False) -> list[ObligationResult]:
    """Every obligation that applies to `facts`, soonest first; with `explain`, all of them.

    Obligations that apply come first, ordered by due time (those without one last),
    then those that do not apply, each with the reasons in `why`.
    """
    _check_refs(facts, regimes)
    done: dict[str, ObligationResult] = {}
    for regime in regimes:
        regime_ok = check(regime.applies, facts)
        for obligation in regime.obligations:
            ref = f"{regime.id}/{obligation.id}"
            if ref not in done:
                done[ref] = _sourced(regime, obligation,
                                     _evaluate(regime, obligation, facts, regime_ok, done, regimes))
    results = [r for r in done.values() if explain or r.applies]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(
        results,
        key=lambda r: (not r.applies, r.due_at or far, r.target_at or far, r.regime, r.obligation),
    )


# ---------------------------------------------------------------------------- JSON


def iso(instant: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix, or None."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Authority):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


_OUTPUT = ("regime", "obligation", "recipient", "recipient_name", "applies", "version",
           "confidence", "reviewed")
_OUTPUT_APPLIES = ("phase", "due_at", "target_at", "trigger", "rule", "basis", "met_at", "content",
                   "assumed", "authority")


def result_to_json(result: ObligationResult, *, explain: bool = False) -> dict[str, Any]:
    """One result as JSON-ready data (instants as ISO 8601 UTC strings)."""
    data = _plain(asdict(result))
    keys = _OUTPUT + (_OUTPUT_APPLIES if result.applies else ()) + (("why",) if explain else ())
    return {key: data[key] for key in keys}


def results_to_json(results: list[ObligationResult], *, explain: bool = False) -> list[dict[str, Any]]:
    """The CLI's and API's output: a JSON-ready list, one entry per obligation."""
    return [result_to_json(r, explain=explain) for r in results]
