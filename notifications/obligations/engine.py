"""The obligations engine: from the facts of a breach to every duty to notify, with due times.

`compute_obligations(facts, regimes)` is a pure function: it reads the FACTS (the
organisation, the incident's instants and assessment, the affected people by
jurisdiction) and the regime catalogue, decides which obligations apply and why, and
computes each deadline with its basis. The CLI (`breach obligations FACTS.json`), the
API and the scheduler all call it, so they always agree.

An obligation whose trigger has not happened yet (a materiality determination not
made, a first report not yet sent) is still listed: with no due time and the event it
waits for, so nobody forgets it is coming.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    NonNegativeInt,
    PositiveFloat,
    ValidationError,
    field_validator,
)

from notifications.obligations.deadlines import (
    Basis,
    DeadlineRule,
    compute_deadline,
    describe,
    due_at,
    next_working_day_at,
    rule_as_data,
    zone,
)
from notifications.obligations.regimes import (
    CODE_PATTERN,
    RISK_ORDER,
    Catalogue,
    Condition,
    DataCategory,
    Flag,
    MetTrigger,
    Obligation,
    ObligationRef,
    Regime,
    Risk,
    TimeZoneName,
    Trigger,
    territory_matches,
    trigger_label,
)

# ------------------------------------------------------------------------- facts


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as DE")
    return value


def _jurisdiction(value: str) -> str:
    if not CODE_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a jurisdiction: use ISO 3166-1 alpha-2 (DE) or ISO 3166-2 (US-CA)"
        )
    return value


def _upper(value: Any) -> Any:
    # Accept "us-ca" for "US-CA", but leave anything else as written for the error message.
    if isinstance(value, str) and CODE_PATTERN.fullmatch(value.upper()):
        return value.upper()
    return value


Jurisdiction = Annotated[str, AfterValidator(_jurisdiction)]


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Facts):
    """The notifying organisation: where it is established and what kind of entity it is.

    `targets` are internal targets in hours after the trigger, keyed "regime/obligation":
    they set the target of a without-undue-delay duty and pull a fixed one earlier.
    """

    country: Annotated[str, AfterValidator(_country)]
    timezone: TimeZoneName
    flags: frozenset[Flag] = frozenset()
    entity_type: str | None = None
    targets: dict[ObligationRef, PositiveFloat] = {}


class Incident(_Facts):
    """The instants that start legal clocks, and the assessment that decides thresholds."""

    aware_at: AwareDatetime
    discovered_at: AwareDatetime | None = None
    breach_determined_at: AwareDatetime | None = None
    classified_major_at: AwareDatetime | None = None
    materiality_determined_at: AwareDatetime | None = None
    assessment_completed_at: AwareDatetime | None = None
    risk: Risk
    data_categories: frozenset[DataCategory] = frozenset()
    malicious: bool = False
    met: dict[ObligationRef, AwareDatetime] = {}


class Facts(_Facts):
    """Everything the engine needs to know about one incident."""

    organisation: Organisation
    incident: Incident
    affected: dict[Jurisdiction, NonNegativeInt] = {}

    @field_validator("affected", mode="before")
    @classmethod
    def _upper_codes(cls, value: Any) -> Any:
        return {_upper(k): v for k, v in value.items()} if isinstance(value, dict) else value


@dataclass(frozen=True)
class FactsProblem:
    """One wrong field in FACTS."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FactsError(ValueError):
    """FACTS are invalid; `problems` names every wrong field."""

    def __init__(self, problems: list[FactsProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid FACTS:\n" + "\n".join(f"  {p}" for p in self.problems))


def facts_from_json(data: Any) -> Facts:
    """Validate parsed FACTS.json; raise FactsError naming each wrong field."""
    try:
        return Facts.model_validate(data)
    except ValidationError as exc:
        raise FactsError(
            [
                FactsProblem(
                    ".".join(str(part) for part in err["loc"] if part != "[key]") or "(root)",
                    err["msg"],
                )
                for err in exc.errors(include_url=False)
            ]
        ) from None


# ----------------------------------------------------------------------- results


@dataclass(frozen=True)
class TriggerState:
    """The event that starts the clock: when it happened, or what is still awaited."""

    name: str
    at: datetime | None
    waiting_for: str | None = None


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

    @property
    def ref(self) -> str:
        """The "regime/obligation" reference."""
        return f"{self.regime}/{self.obligation}"


# -------------------------------------------------------------------- conditions


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


# --------------------------------------------------------------------- the engine


def _trigger_state(trigger: Trigger, incident: Incident) -> tuple[TriggerState, list[str]]:
    """When the trigger happened (UTC), or what it waits for; plus notes on fallbacks."""
    label = trigger_label(trigger)
    if isinstance(trigger, MetTrigger):
        at = incident.met.get(trigger.met)
        waiting = None if at else f"{trigger.met} to be fulfilled (incident.met)"
        return TriggerState(label, at.astimezone(UTC) if at else None, waiting), []
    at = getattr(incident, trigger)
    notes: list[str] = []
    if at is None and trigger == "discovered_at":
        # Discovery cannot be later than awareness: aware_at is the safe stand-in.
        at = incident.aware_at
        notes.append("discovered_at not given: aware_at used as the time of discovery")
    waiting = None if at else f"incident.{trigger}"
    return TriggerState(label, at.astimezone(UTC) if at else None, waiting), notes


def _rule_for(obligation: Obligation, facts: Facts) -> tuple[DeadlineRule, list[str]]:
    for variant in obligation.variants:
        ok, reasons = check(variant.when, facts)
        if ok:
            return variant.deadline, [f"{variant.note} ({'; '.join(reasons)})"]
    return obligation.deadline, []


def _evaluate(
    regime: Regime,
    obligation: Obligation,
    facts: Facts,
    regime_ok: tuple[bool, list[str]],
    done: dict[str, ObligationResult],
    catalogue: Catalogue,
) -> ObligationResult:
    ok, why = _applies(regime, obligation, facts, regime_ok, done, catalogue)
    result = ObligationResult(
        regime=regime.id,
        obligation=obligation.id,
        recipient=obligation.recipient,
        recipient_name=obligation.recipient_name,
        phase=obligation.phase,
        applies=ok,
        why=tuple(why),
    )
    if not ok:
        return result

    ref = f"{regime.id}/{obligation.id}"
    tz = zone(regime.timezone or facts.organisation.timezone)
    rule, notes = _rule_for(obligation, facts)
    trigger, trigger_notes = _trigger_state(obligation.trigger, facts.incident)
    met_at = facts.incident.met.get(ref)
    result = replace(
        result,
        trigger=trigger,
        rule=rule_as_data(rule),
        met_at=met_at.astimezone(UTC) if met_at else None,
        content=obligation.content,
    )
    if trigger.at is None:
        waiting = Basis(
            rule=describe(rule, trigger.name),
            trigger=trigger.name,
            trigger_at=None,
            timezone=tz.key,
            citation=obligation.citation,
            source=obligation.source,
            notes=tuple(notes + list(obligation.notes)),
        )
        return replace(result, basis=waiting)
    deadline = compute_deadline(
        rule,
        trigger=trigger.name,
        trigger_at=trigger.at,
        tz=tz,
        citation=obligation.citation,
        source=obligation.source,
        target_hours=facts.organisation.targets.get(ref),
        notes=tuple(trigger_notes + notes + list(obligation.notes)),
    )
    due, target, extra = deadline.due_at, deadline.target_at, list[str]()
    if due is not None and obligation.outer_limit is not None:
        due, extra = _outer_limit(obligation, facts, trigger.at, due, tz)
    if due is not None and obligation.weekend_relief is not None:
        due, relief_notes = _relief(obligation, facts, due, tz)
        extra += relief_notes
    if due is not None:
        target = min(target, due)
    basis = replace(deadline.basis, notes=deadline.basis.notes + tuple(extra))
    return replace(result, due_at=due, target_at=target, basis=basis)


def _applies(
    regime: Regime,
    obligation: Obligation,
    facts: Facts,
    regime_ok: tuple[bool, list[str]],
    done: dict[str, ObligationResult],
    catalogue: Catalogue,
) -> tuple[bool, list[str]]:
    """Does the obligation arise for these facts, and why (or why not)."""
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
    if isinstance(obligation.trigger, MetTrigger):
        before = _result_for(obligation.trigger.met, facts, done, catalogue)
        if not before.applies:
            return False, [f"follows {before.ref}, which does not apply"]
    return True, why


def _outer_limit(
    obligation: Obligation, facts: Facts, start: datetime, due: datetime, tz: ZoneInfo
) -> tuple[datetime, list[str]]:
    """Apply a second clock: the earlier due time wins, unless it passed before the trigger."""
    assert obligation.outer_limit is not None
    limit = obligation.outer_limit
    other, _ = _trigger_state(limit.trigger, facts.incident)
    if other.at is None:
        return due, []
    cap = due_at(limit.deadline, other.at, tz)
    if cap is None or cap >= due:
        return due, []
    label = trigger_label(limit.trigger)
    if cap < start:
        return due, [
            f"the outer limit after {label} had passed before {trigger_label(obligation.trigger)}"
            " happened: only the main clock applies"
        ]
    return cap, [f"capped by the outer limit: {rule_as_data(limit.deadline)} after {label}"]


def _relief(obligation: Obligation, facts: Facts, due: datetime, tz: ZoneInfo) -> tuple[datetime, list[str]]:
    """Move a due time on a non-working day to the next working day, where the law allows."""
    relief = obligation.weekend_relief
    assert relief is not None
    if relief.not_for is not None and check(relief.not_for, facts)[0]:
        return due, ["no weekend/holiday relief for this kind of entity"]
    calendar = facts.organisation.country if relief.calendar == "establishment" else relief.calendar
    hours, minutes = (int(part) for part in relief.until.split(":"))
    moved = next_working_day_at(due, tz, calendar, time(hours, minutes))
    if moved is None:
        return due, []
    return moved, [
        f"due on a non-working day in {calendar}: may be submitted by {relief.until} "
        "local time of the next working day"
    ]


def _result_for(
    ref: str, facts: Facts, done: dict[str, ObligationResult], catalogue: Catalogue
) -> ObligationResult:
    if ref not in done:
        found = catalogue.obligation(ref)
        if found is None:
            raise KeyError(f"unknown obligation {ref!r}")
        regime, obligation = found
        done[ref] = _evaluate(regime, obligation, facts, check(regime.applies, facts), done, catalogue)
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
                done[ref] = _evaluate(regime, obligation, facts, regime_ok, done, regimes)
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
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


_OUTPUT = ("regime", "obligation", "recipient", "recipient_name", "applies")
_OUTPUT_APPLIES = ("phase", "due_at", "target_at", "trigger", "rule", "basis", "met_at", "content")


def result_to_json(result: ObligationResult, *, explain: bool = False) -> dict[str, Any]:
    """One result as JSON-ready data (instants as ISO 8601 UTC strings)."""
    data = _plain(asdict(result))
    keys = _OUTPUT + (_OUTPUT_APPLIES if result.applies else ()) + (("why",) if explain else ())
    return {key: data[key] for key in keys}


def results_to_json(results: list[ObligationResult], *, explain: bool = False) -> list[dict[str, Any]]:
    """The CLI's and API's output: a JSON-ready list, one entry per obligation."""
    return [result_to_json(r, explain=explain) for r in results]
