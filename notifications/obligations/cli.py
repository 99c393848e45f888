"""`breach assess`, `breach obligations`, `breach organisation`, `breach regimes` and the
assessment and obligation commands under `breach incidents`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.console import (
    Failure,
    Runtime,
    echo,
    out,
    parse_time,
    pass_runtime,
    print_json,
    read_json,
)
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings
    from notifications.obligations.regime_loader import Loaded

RECOMMENDATIONS = ("document", "notify_authority", "notify_authority_and_subjects")
"""notifications.obligations.assessment.Recommendation's values, written out so `--help`
imports nothing heavy; tests/notifications/obligations/test_cli.py keeps them equal."""


@click.command()
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def assess(facts_file: Path) -> None:
    """Assess a breach's severity (ENISA) and recommend who must be told; prints JSON."""
    from notifications.obligations.assessment import assess_raw
    from notifications.obligations.assessment_input import InvalidAssessmentInput

    try:
        result = assess_raw(read_json(facts_file))
    except InvalidAssessmentInput as exc:
        raise Failure(f"{facts_file}: " + "; ".join(f"{f}: {m}" for f, m in exc.errors)) from None
    echo(result.model_dump_json(indent=2))


def regimes_or_fail(settings: Settings) -> Loaded:
    """The catalogue in use (the shipped regimes and BREACH_REGIMES_DIR's), validated; an
    invalid file fails the command: every problem on its own line (file: field: problem)."""
    from notifications.obligations.regime_loader import RegimeError
    from notifications.obligations.service import configure_regimes, regimes_in_use

    configure_regimes(settings)
    try:
        return regimes_in_use()
    except RegimeError as exc:
        raise Failure(str(exc)) from None


@click.command()
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--explain", is_flag=True, help="also list the duties that do not apply, and why")
@pass_runtime
def obligations(runtime: Runtime, facts_file: Path, explain: bool) -> None:
    """Print, as JSON, the notification duties and deadlines for the facts in FACTS_FILE,
    under the shipped regimes and those of BREACH_REGIMES_DIR."""
    from notifications.obligations.engine import compute_obligations, results_to_json
    from notifications.obligations.facts import FactsError, facts_from_json

    catalogue = regimes_or_fail(runtime.file_settings).catalogue
    try:
        facts = facts_from_json(read_json(facts_file))
        results = compute_obligations(facts, catalogue, explain=explain)
    except FactsError as exc:
        raise Failure(f"{facts_file}: " + "; ".join(str(p) for p in exc.problems)) from None
    print_json(results_to_json(results, explain=explain))


def _validated(model: Any, raw: Any, source: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Failure(f"{source}: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
            for e in exc.errors()[:5])) from None


@click.group()
def organisation() -> None:
    """The organisation profile: establishment, time zone, flags, targets, contacts."""


@organisation.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def organisation_show(runtime: Runtime, as_json: bool) -> None:
    """Print the organisation profile."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import profile_public

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.get_profile(db)

    found = runtime.run(work)
    if found is None:
        raise Failure("no organisation profile yet: set one with `breach organisation set FILE.json`")
    data = profile_public(found).model_dump(mode="json")
    if as_json:
        print_json(data)
        return
    for name, value in data.items():
        out().print(f"{name:12} {visible(str(value))}", markup=False)


@organisation.command("set")
@click.argument("profile_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_runtime
def organisation_set(runtime: Runtime, profile_file: Path) -> None:
    """Replace the organisation profile with PROFILE_FILE (JSON; format in the README)."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import Profile

    data = _validated(Profile, read_json(profile_file), str(profile_file))

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.save_profile(db, clock=runtime.clock, actor=actor, data=data)

    saved = runtime.run(work)
    out().print(f"organisation profile saved: {visible(saved.name)}, {saved.country}, "
                f"{saved.timezone}; obligations of open incidents recomputed")


@click.command("assess")
@click.argument("reference")
@click.argument("facts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_assess(runtime: Runtime, reference: str, facts_file: Path, as_json: bool) -> None:
    """Record a risk assessment of the incident from FACTS_FILE (the `breach assess` input)."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import assessment_public

    raw = read_json(facts_file)

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.assess_incident(db, clock=runtime.clock, actor=actor, key=reference,
                                              raw=raw)

    row = runtime.run(work)
    if as_json:
        print_json(assessment_public(row).model_dump(mode="json"))
        return
    out().print(f"assessment {row.number}: {row.result['severity']} (score {row.result['score']}), "
                f"recommendation {row.recommendation}", markup=False)
    for reason in row.result.get("reasons", []):
        out().print(f"  - {reason}", markup=False)
    if row.pending:
        out().print(f"pending: it would end {', '.join(row.ends)}; the assessment before it stays "
                    f"in force until another approver confirms it (`breach incidents confirm "
                    f"{reference} {row.number}`)", markup=False)


@click.command("confirm")
@click.argument("reference")
@click.argument("number", type=click.IntRange(min=1))
@pass_runtime
def incidents_confirm(runtime: Runtime, reference: str, number: int) -> None:
    """Confirm pending assessment NUMBER (approvers; never its author): it takes effect."""
    from notifications.obligations import service as services

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.confirm_assessment(db, clock=runtime.clock, actor=actor,
                                                 key=reference, number=number)

    row = runtime.run(work)
    ended = f"; no longer due: {', '.join(row.ends)}" if row.ends else ""
    out().print(f"assessment {row.number} confirmed: {row.decided} in force{ended}", markup=False)


@click.command("override")
@click.argument("reference")
@click.argument("recommendation", type=click.Choice(RECOMMENDATIONS))
@click.option("--justification", required=True, help="why the recommendation is replaced")
@pass_runtime
def incidents_override(runtime: Runtime, reference: str, recommendation: str,
                       justification: str) -> None:
    """Replace the latest assessment's recommendation (approvers), with a justification."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import Override

    data = _validated(Override, {"recommendation": recommendation,
                                 "justification": justification}, "override")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.override_assessment(db, clock=runtime.clock, actor=actor,
                                                  key=reference, data=data)

    row = runtime.run(work)
    out().print(f"assessment {row.number}: {row.recommendation} overridden by {row.override}")


@click.command("milestones")
@click.argument("reference")
@click.option("--breach-determined-at", help="ISO 8601; without an offset, in BREACH_TIMEZONE")
@click.option("--classified-major-at")
@click.option("--materiality-determined-at")
@pass_runtime
def incidents_milestones(runtime: Runtime, /, reference: str, **given: str | None) -> None:
    """Record instants that start some legal clocks (SEC materiality, DORA major, …)."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import Milestones

    settings = runtime.settings
    values = {name: parse_time(value, settings) for name, value in given.items() if value}
    if not values:
        raise Failure("give at least one milestone (see --help)")
    data = _validated(Milestones, values, "milestones")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.set_milestones(db, clock=runtime.clock, actor=actor, key=reference,
                                             data=data)

    incident = runtime.run(work)
    out().print(f"{incident.reference}: " + ", ".join(f"{k} {v}" for k, v in
                                                     (incident.milestones or {}).items()))


@click.command("parties")
@click.argument("reference")
@click.argument("parties_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_runtime
def incidents_parties(runtime: Runtime, reference: str, parties_file: Path) -> None:
    """Record the roles the organisation acts in for the incident and the counterparties whose
    data it involves, from PARTIES_FILE (JSON: roles, counterparties, clocks; see the README)."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import Parties

    data = _validated(Parties, read_json(parties_file), str(parties_file))

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        incident = await services.set_parties(db, clock=runtime.clock, actor=actor,
                                              key=reference, data=data)
        return incident.reference, services.parties_public(await services.get_profile(db),
                                                           incident)

    reference, shown = runtime.run(work)
    involved = shown.counterparties + [str(c["id"]) for c in shown.clocks]
    out().print(f"{reference}: acts as {', '.join(r.replace('_', ' ') for r in shown.acting_as)}"
                f"{' (assumed)' if shown.assumed else ''}; counterparties: "
                f"{', '.join(involved) or 'none'}; obligations recomputed", markup=False)


@click.command("obligations")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def incidents_obligations(runtime: Runtime, reference: str, as_json: bool) -> None:
    """The incident's duties to notify, soonest due first, with their status; under a pending
    report to an authority, the contact it goes to and how that authority takes reports."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import obligation_public

    clock = runtime.clock

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        found = await services.obligations_of(db, clock=clock, actor=actor, key=reference)
        profile = await services.get_profile(db)
        return found, dict(profile.authorities or {}) if profile else {}

    (_, rows, assumptions, problems), contacts = runtime.run(work)
    now = clock.now()
    public = [obligation_public(r, now) for r in rows]
    if as_json:
        print_json({"assumptions": assumptions, "problems": problems,
                    "obligations": [p.model_dump(mode="json") for p in public]})
        return
    zone = runtime.settings.zone
    console = out()
    for line in problems + assumptions:
        console.print(f"note: {line}", markup=False)
    for item in public:
        if not item.applies:
            continue
        due = _due_text(item, zone)
        state = item.status.upper() if item.status != "pending" else (
            "OVERDUE" if item.overdue else "pending")
        console.print(f"{item.ref:28} {state:8} {due:28} {visible(item.recipient_name)}", markup=False)
        if item.status == "pending":
            for line in _filing_lines(item, contacts):
                console.print(f"  {visible(line)}", markup=False)
    gone = [i.ref for i in public if not i.applies]
    if gone:
        console.print(f"no longer apply: {', '.join(gone)}", markup=False)


def _filing_lines(item: Any, contacts: dict[str, Any]) -> list[str]:
    """Where a pending report to an authority goes: the organisation profile's contact (the
    one used), and the catalogue's entry for that authority (for reference, and to file by
    hand where the profile has no e-mail address for it)."""
    if item.authority is None:
        return []
    contact = contacts.get(item.ref) or contacts.get(item.regime) or {}
    used = ", ".join(str(contact[k]) for k in ("name", "email", "address") if contact.get(k))
    known = item.authority
    return [*([f"sent to: {used} (the organisation profile's contact)"] if used else []),
            *([] if contact.get("email") else
              ["no e-mail address in the organisation profile: not sent from here; file it as "
               "the authority asks, then record it met (`breach incidents obligation`)"]),
            f"authority: {known.name}, {known.address}; how to file: {known.filing}; "
            f"{known.website} (checked on {known.reviewed.isoformat()}: {known.source})"]


def _due_text(item: Any, zone: Any) -> str:
    """The due time; else the target of a duty without a fixed time; else what it waits for."""
    if item.due_at is not None:
        due = str(item.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"))
        return f"{due} (assumed)" if item.assumed else due
    waiting = (item.trigger or {}).get("waiting_for")
    if waiting:
        return f"waits for {waiting}"
    if item.target_at is not None:
        return f"no fixed time; target {item.target_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    return "without undue delay"


@click.command("obligation")
@click.argument("reference")
@click.argument("ref", metavar="REGIME/OBLIGATION")
@click.argument("status", type=click.Choice(["met", "waived", "pending"]))
@click.option("--at", "at_text", help="when it was met (ISO 8601; default now)")
@click.option("--how", default="", help="how it was met: portal receipt, letter, e-mail…")
@click.option("--reason", default="", help="reasons for a delay; a waiver's justification; "
                                            "why a record is reopened")
@pass_runtime
def incidents_obligation(runtime: Runtime, reference: str, ref: str, status: str,
                         at_text: str | None, how: str, reason: str) -> None:
    """Record that an obligation was met (late: with --reason), waived, or reopened (pending)."""
    from notifications.obligations import service as services
    from notifications.obligations.schemas import ObligationChange

    at = parse_time(at_text, runtime.settings)
    change = _validated(ObligationChange, {"status": status, "at": at, "how": how,
                                           "reason": reason}, "obligation")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> Any:
        return await services.record_obligation(db, clock=runtime.clock, actor=actor,
                                                key=reference, ref=ref, change=change,
                                                skew_seconds=settings.clock_skew_seconds)

    row = runtime.run(work)
    out().print(f"{row.ref}: {row.status}", markup=False)


@click.group()
def regimes() -> None:
    """The catalogue of laws: what each requires, on which authority, and how sure we are."""


@regimes.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def regimes_list(runtime: Runtime, as_json: bool) -> None:
    """Every regime in use, shipped or the organisation's own (BREACH_REGIMES_DIR): its id,
    jurisdiction, duties, confidence, last review, and where it comes from."""
    loaded = regimes_or_fail(runtime.file_settings)
    rows: list[dict[str, Any]] = [{"id": r.id, "name": r.name, "jurisdiction": r.jurisdiction,
                                   "obligations": len(r.obligations), "confidence": r.confidence,
                                   "reviewed": r.reviewed.isoformat(),
                                   "origin": loaded.origins[r.id].kind,
                                   "file": loaded.origins[r.id].path,
                                   "replaces": loaded.origins[r.id].replaces,
                                   "duties": [_duty_row(r, duty) for duty in r.obligations]}
                                  for r in loaded.catalogue]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        duties = "duty" if row["obligations"] == 1 else "duties"
        echo(f"{row['id']:<10} {row['jurisdiction']:<6} {row['obligations']} {duties:<6} "
             f"{row['confidence']:<6} reviewed {row['reviewed']}  {row['name']}")
        for duty in row["duties"]:
            if (duty["confidence"], duty["reviewed"]) != (row["confidence"], row["reviewed"]):
                echo(f"{'':<10}   {duty['ref']}: {duty['confidence']}, reviewed {duty['reviewed']}")
        if row["origin"] == "organisation":
            replaced = (f", replaces the shipped regime wholly ({row['replaces']})"
                        if row["replaces"] else "")
            echo(f"{'':<10}   organisation's own: {row['file']}{replaced}")


def _duty_row(regime: Any, duty: Any) -> dict[str, Any]:
    """One duty's effective confidence and review date (its own, else its regime's)."""
    confidence, reviewed = regime.sourcing(duty)
    return {"ref": f"{regime.id}/{duty.id}", "confidence": confidence,
            "reviewed": reviewed.isoformat()}


@regimes.command("show")
@click.argument("regime_id")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def regimes_show(runtime: Runtime, regime_id: str, as_json: bool) -> None:
    """One regime as its file states it: each duty's recipient, clock, citation, source,
    confidence and last review, and for a report to an authority, who takes it and how it is
    filed; and whether it is shipped or the organisation's own."""
    from notifications.obligations.deadlines import describe
    from notifications.obligations.regimes import trigger_label

    loaded = regimes_or_fail(runtime.file_settings)
    regime = loaded.catalogue.get(regime_id)
    if regime is None:
        known = ", ".join(r.id for r in loaded.catalogue)
        raise Failure(f"no regime {regime_id!r}; there are: {known}")
    origin = loaded.origins[regime.id]
    if as_json:
        data = regime.model_dump(mode="json", exclude_none=True)
        for duty, shown in zip(regime.obligations, data["obligations"], strict=True):
            effective = _duty_row(regime, duty)
            shown.update(confidence=effective["confidence"], reviewed=effective["reviewed"])
        print_json({**data, "origin": origin.kind, "file": origin.path,
                    "replaces": origin.replaces})
        return
    echo(f"{regime.name} ({regime.id}, {regime.jurisdiction})")
    if origin.kind == "organisation":
        replaced = f"; replaces the shipped {origin.replaces} wholly" if origin.replaces else ""
        echo(f"the organisation's own regime, from {origin.path}{replaced}")
    echo(f"confidence {regime.confidence}, sources last checked {regime.reviewed.isoformat()}")
    for source in regime.sources:
        echo(f"  source: {source}")
    for note in regime.notes:
        echo(f"  note: {note}")
    for duty in regime.obligations:
        confidence, reviewed = regime.sourcing(duty)
        echo(f"\n{regime.id}/{duty.id}: to {duty.recipient_name}")
        echo(f"  due: {describe(duty.deadline, trigger_label(duty.trigger))}")
        first = duty.in_force_from or regime.in_force_from
        if first or duty.in_force_until:
            span = (f"from {first} " if first else "") + (
                f"until {duty.in_force_until}" if duty.in_force_until else "")
            echo(f"  in force {span.strip()}")
        if duty.version is not None:
            echo(f"  current wording: {duty.version}")
        for earlier in reversed(duty.earlier):
            clock = (describe(earlier.deadline, trigger_label(duty.trigger))
                     if earlier.deadline is not None else "the same clock")
            echo(f"  until {earlier.until}: {earlier.name}; due {clock}")
        if duty.assume_from is not None:
            echo(f"  until {trigger_label(duty.trigger)} is recorded: counted from "
                 f"{duty.assume_from.trigger}, marked assumed ({duty.assume_from.citation})")
        echo(f"  confidence {confidence}, sources last checked {reviewed.isoformat()}")
        echo(f"  citation: {duty.citation}")
        echo(f"  source: {duty.source}")
        if duty.authority is not None:
            _echo_authority(duty.authority)
        for note in duty.notes:
            echo(f"  note: {note}")


def _echo_authority(authority: Any) -> None:
    """Who takes a duty's report and how, as its regime file states it."""
    echo(f"  authority: {authority.name}")
    echo(f"    address: {authority.address}")
    echo(f"    website: {authority.website}")
    echo(f"    how to file: {authority.filing}")
    if authority.email:
        echo(f"    e-mail: {authority.email}")
    if authority.phone:
        echo(f"    phone: {authority.phone}")
    echo(f"    checked on {authority.reviewed.isoformat()}: {authority.source}")


@regimes.command("coverage")
@click.option("--place", default=None,
              help="A code (US-OH, DE, US) or part of a name (Ohio): only what covers it.")
@click.option("--confidence", default=None, type=click.Choice(["high", "medium", "low"]),
              help="Only regimes whose overall or some duty's confidence this is.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def regimes_coverage(runtime: Runtime, place: str | None, confidence: str | None,
                     as_json: bool) -> None:
    """Which regimes cover which jurisdictions: every US state, DC and territory (covered or
    not) and each country or region, with each regime's duties, deadlines, confidence and
    primary citation, the authority each report goes to and how it is filed, and what its
    file marks as low confidence or unsourced."""
    from rich.table import Table

    from notifications.obligations.coverage import SelectionError, as_data, coverage, select

    loaded = regimes_or_fail(runtime.file_settings)
    try:
        found = select(coverage(loaded.catalogue), place, confidence)
    except SelectionError as exc:
        raise Failure(str(exc)) from None
    if as_json:
        print_json(as_data(found))
        return
    table = Table("Where", "Regime", "Duties: recipient, deadline, trigger (confidence); "
                  "the authority and how to file",
                  "Confidence", "Primary citation", "Marked low or unsourced",
                  title="Coverage of the regimes in use", title_justify="left")
    for place_row in found.jurisdictions:
        where = f"{place_row.code} {place_row.name}"
        if not place_row.covered:
            table.add_row(where, "not yet covered", "", "", "", "")
        for regime in place_row.regimes:
            duties = "\n".join(
                f"{d.recipient}: {d.brief} from {d.trigger} ({d.confidence})" + (
                    f"\n  to {d.authority.name}: {d.authority.filing}" if d.authority else "")
                for d in regime.duties)
            marked = "\n".join(f"{f.where}: {f.what}" for f in regime.flags)
            table.add_row(where, regime.id, duties, regime.confidence, regime.citation, marked)
    out().print(table)
    missing = ", ".join(j.code for j in found.uncovered) or "none"
    echo(f"not yet covered: {missing}")


@regimes.command("validate")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def regimes_validate(directory: Path) -> None:
    """Check a folder of the organisation's regime files as BREACH_REGIMES_DIR would use it:
    the same rules as the shipped ones, merged with them (a shipped id is replaced, every
    follow-up must resolve); exit 1 naming each file, field and problem."""
    from notifications.obligations.regime_loader import RegimeError, load_catalogue

    try:
        loaded = load_catalogue(directory)
    except RegimeError as exc:
        for problem in exc.problems:
            echo(str(problem))
        raise Failure(f"{len(exc.problems)} problem(s) in the regime files of {directory}") \
            from None
    own = [r for r in loaded.catalogue if loaded.origins[r.id].kind == "organisation"]
    duties = sum(len(regime.obligations) for regime in own)
    echo(f"{directory}: {len(own)} regime{'' if len(own) == 1 else 's'}, "
         f"{duties} dut{'y' if duties == 1 else 'ies'}, valid")
