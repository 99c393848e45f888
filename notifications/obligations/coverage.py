"""Which laws of the catalogue cover which jurisdictions: the coverage a DPO scans.

`coverage(catalogue)` is the one source of the coverage page (`/regimes`), of
`breach regimes coverage` and of the table in the README: for each jurisdiction (every US
state, the District of Columbia and the three territories with a breach-notification law,
listed whether covered or not, and each country or region a regime of the catalogue belongs
to) the regimes whose own jurisdiction it is, each with its duties (recipient, deadline in
words, trigger, and for a report to an authority whose file names it, who takes it and how),
the overall and each duty's confidence, the primary citation and source, and what the files
mark as low confidence or unsourced. A federal or regional law (HIPAA, GDPR)
has its own row (US, EU); `select` shows it beside a state or member country looked up by
code. Everything here is pure: the catalogue in, plain values out.

Regenerate the README table after a regime changes (the shipped catalogue only):
`.venv/bin/python -m notifications.obligations.coverage README.md`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pycountry

from notifications.obligations.deadlines import (
    AfterYearEndRule,
    BusinessDaysRule,
    CalendarDaysRule,
    DeadlineRule,
    HoursRule,
    MonthsRule,
    UndueDelayRule,
    describe,
)
from notifications.obligations.regimes import (
    CODE_PATTERN,
    TERRITORY_GROUPS,
    Catalogue,
    Confidence,
    Obligation,
    Regime,
    territory_matches,
    trigger_label,
)

Kind = Literal["US federal", "US state", "US district", "US territory", "country", "region"]
CONFIDENCES: tuple[Confidence, ...] = ("high", "medium", "low")

# fmt: off
US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY",
)
# fmt: on
US_TERRITORIES = ("PR", "GU", "VI")
"""The territories with a breach-notification law of their own (Puerto Rico, Guam, the US
Virgin Islands): listed whether a regime covers them yet or not."""
_REGION_NAMES = {"EU": "European Union", "EEA": "European Economic Area",
                 "US": "United States (federal)", "US-VI": "US Virgin Islands"}
UNSOURCED = re.compile(r"\bunsourced\b", re.IGNORECASE)
README_START = "<!-- regimes-coverage:start -->"
README_END = "<!-- regimes-coverage:end -->"


@dataclass(frozen=True)
class Filing:
    """Who takes a duty's report and how, as its regime file states it (`authority`)."""

    name: str
    filing: str
    """How reports are made: a portal, a form, an e-mail address."""
    website: str
    address: str
    email: str | None
    phone: str | None
    source: str
    reviewed: str


@dataclass(frozen=True)
class Duty:
    """One duty of a covering regime, as the coverage shows it."""

    ref: str
    recipient: str
    recipient_name: str
    trigger: str
    deadline: str
    """The deadline rule in words, naming the trigger (as in an obligation's basis)."""
    brief: str
    """The deadline in a few words, for a table ("72 h", "45 days", "without undue delay")."""
    confidence: Confidence
    reviewed: str
    citation: str
    source: str
    authority: Filing | None = None
    """For a report to an authority or regulator whose file names it: who takes it, and how."""


@dataclass(frozen=True)
class Flag:
    """Something a regime's file marks as low confidence or unsourced: where, and what."""

    where: str
    what: str


@dataclass(frozen=True)
class Covering:
    """A regime covering a jurisdiction."""

    id: str
    name: str
    confidence: Confidence
    reviewed: str
    citation: str
    """The primary citation: that of the duty owed to people, else of the first duty."""
    source: str
    """The primary source: the first of the regime's sources."""
    duties: tuple[Duty, ...]
    flags: tuple[Flag, ...]

    def confidences(self) -> frozenset[Confidence]:
        """The regime's overall confidence and each duty's."""
        return frozenset({self.confidence, *(d.confidence for d in self.duties)})


@dataclass(frozen=True)
class Jurisdiction:
    """A place a DPO asks about, and the regimes of the catalogue that are its own."""

    code: str
    name: str
    kind: Kind
    regimes: tuple[Covering, ...]

    @property
    def covered(self) -> bool:
        return bool(self.regimes)


@dataclass(frozen=True)
class Coverage:
    jurisdictions: tuple[Jurisdiction, ...]

    @property
    def uncovered(self) -> tuple[Jurisdiction, ...]:
        """The listed jurisdictions no regime covers yet."""
        return tuple(j for j in self.jurisdictions if not j.covered)


class SelectionError(ValueError):
    """A filter that selects nothing or is not one of the choices; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def brief(rule: DeadlineRule) -> str:
    """The deadline in a few words: "72 h", "30 days", "4 business days", "1 month",
    "without undue delay"; a fixed period that also asks for no undue delay says so."""
    prompt = getattr(rule, "without_undue_delay", False)
    if isinstance(rule, UndueDelayRule):
        return "without undue delay"
    if isinstance(rule, HoursRule):
        text = f"{rule.hours} h"
    elif isinstance(rule, CalendarDaysRule):
        text = f"{rule.calendar_days} days"
    elif isinstance(rule, BusinessDaysRule):
        text = f"{rule.business_days} business days"
    elif isinstance(rule, MonthsRule):
        text = f"{rule.months} month{'' if rule.months == 1 else 's'}"
    else:
        assert isinstance(rule, AfterYearEndRule)
        return f"{rule.after_year_end_days} days after the year's end"
    return f"without undue delay, at most {text}" if prompt else text


def _flags(regime: Regime) -> tuple[Flag, ...]:
    found: list[Flag] = []
    if regime.confidence == "low":
        found.append(Flag(regime.id, "the regime as a whole: low confidence"))
    found += [Flag(regime.id, note) for note in regime.notes if UNSOURCED.search(note)]
    for duty in regime.obligations:
        ref = f"{regime.id}/{duty.id}"
        if duty.confidence == "low":
            found.append(Flag(ref, f"the duty ({duty.citation}): low confidence"))
        if duty.protects is not None and duty.protects.confidence == "low":
            found.append(Flag(ref, f"whom it protects ({duty.protects.citation}): low confidence"))
        found += [Flag(ref, f"safe harbour ({h.citation}): low confidence")
                  for h in duty.safe_harbours if h.confidence == "low"]
        delay = duty.law_enforcement_delay
        if delay is not None and delay.confidence == "low":
            found.append(Flag(ref, f"law-enforcement delay ({delay.citation}): low confidence"))
        substitute = duty.substitute_notice
        if substitute is not None and substitute.confidence == "low":
            found.append(Flag(ref, f"substitute notice ({substitute.citation}): low confidence"))
        found += [Flag(ref, note) for note in duty.notes if UNSOURCED.search(note)]
    return tuple(found)


def _duty(regime: Regime, duty: Obligation) -> Duty:
    confidence, reviewed = regime.sourcing(duty)
    trigger = trigger_label(duty.trigger)
    deadline = describe(duty.deadline, trigger)
    if duty.no_later_than is not None:
        deadline += f", and no later than the notice of {duty.no_later_than.met}"
    known = duty.authority
    authority = None if known is None else Filing(
        name=known.name, filing=known.filing, website=known.website, address=known.address,
        email=known.email, phone=known.phone, source=known.source,
        reviewed=known.reviewed.isoformat())
    return Duty(ref=f"{regime.id}/{duty.id}", recipient=duty.recipient,
                recipient_name=duty.recipient_name, trigger=trigger,
                deadline=deadline, brief=brief(duty.deadline),
                confidence=confidence, reviewed=reviewed.isoformat(), citation=duty.citation,
                source=duty.source, authority=authority)


def covering(regime: Regime) -> Covering:
    """One regime as the coverage shows it."""
    primary = next((d for d in regime.obligations if d.recipient == "individuals"),
                   regime.obligations[0])
    return Covering(id=regime.id, name=regime.name, confidence=regime.confidence,
                    reviewed=regime.reviewed.isoformat(), citation=primary.citation,
                    source=regime.sources[0],
                    duties=tuple(_duty(regime, d) for d in regime.obligations),
                    flags=_flags(regime))


def _name(code: str) -> str:
    if code in _REGION_NAMES:
        return _REGION_NAMES[code]
    return _place_names().get(code, code)


@lru_cache(maxsize=1)
def _place_names() -> dict[str, str]:
    """ISO 3166-1 country and ISO 3166-2 subdivision names by code ("KR": "South Korea")."""
    names = {s.code: str(s.name) for s in pycountry.subdivisions}
    names.update({c.alpha_2: str(getattr(c, "common_name", None) or c.name)
                  for c in pycountry.countries})
    return names


def _kind(code: str) -> Kind:
    if code == "US":
        return "US federal"
    if code == "US-DC":
        return "US district"
    if code.removeprefix("US-") in US_TERRITORIES:
        return "US territory"
    if code.startswith("US-"):
        return "US state"
    return "region" if code in TERRITORY_GROUPS or "-" in code else "country"


def coverage(catalogue: Iterable[Regime]) -> Coverage:
    """Every jurisdiction with the regimes that are its own, in a stable order: the US
    (federal) first, then every US state, DC and territory by name, then the other countries
    and regions by name. Each US state, DC, PR, GU and VI is listed, covered or not."""
    mine: dict[str, list[Covering]] = {}
    for regime in catalogue:
        mine.setdefault(regime.jurisdiction, []).append(covering(regime))
    codes = set(mine) | {f"US-{c}" for c in (*US_STATES, "DC", *US_TERRITORIES)}

    def order(code: str) -> tuple[int, str]:
        if code == "US":
            return (0, "")
        return (1 if code.startswith("US-") else 2, _name(code).casefold())

    return Coverage(tuple(
        Jurisdiction(code=code, name=_name(code), kind=_kind(code),
                     regimes=tuple(sorted(mine.get(code, ()), key=lambda c: c.id)))
        for code in sorted(codes, key=order)))


def select(found: Coverage, place: str | None = None, confidence: str | None = None) -> Coverage:
    """The jurisdictions a person asked for. `place` is a code or part of a name: a code
    selects the jurisdictions it lies in and those lying in it ("US-OH": Ohio and the US
    federal laws; "DE": the EU's; "US": every US row); other text, the names containing it.
    `confidence` keeps only the regimes whose overall or some duty's confidence it is (and so
    only covered rows). SelectionError when `place` matches nothing or `confidence` is not one
    of high, medium, low."""
    rows = found.jurisdictions
    wanted = (place or "").strip()
    if wanted:
        code = wanted.upper()
        if CODE_PATTERN.fullmatch(code) or code in TERRITORY_GROUPS:
            rows = tuple(j for j in rows if territory_matches(code, j.code)
                         or territory_matches(j.code, code))
        else:
            rows = tuple(j for j in rows if wanted.casefold() in j.name.casefold())
        if not rows:
            raise SelectionError("place", f"No country or state matches {wanted!r}: give a code "
                                          "such as US-OH or DE, or part of a name such as Ohio.")
    chosen = (confidence or "").strip()
    if chosen:
        if chosen not in CONFIDENCES:
            raise SelectionError("confidence", "Confidence must be high, medium or low.")
        rows = tuple(
            Jurisdiction(code=j.code, name=j.name, kind=j.kind, regimes=kept)
            for j in rows
            if (kept := tuple(r for r in j.regimes if chosen in r.confidences())))
    return Coverage(rows)


def as_data(found: Coverage) -> dict[str, Any]:
    """The coverage as JSON-ready data (`breach regimes coverage --json`)."""
    def regime(r: Covering) -> dict[str, Any]:
        return {"id": r.id, "name": r.name, "confidence": r.confidence, "reviewed": r.reviewed,
                "citation": r.citation, "source": r.source,
                "duties": [asdict(d) for d in r.duties],
                "flagged": [vars(f) for f in r.flags]}

    return {"jurisdictions": [{"code": j.code, "name": j.name, "kind": j.kind,
                               "covered": j.covered, "regimes": [regime(r) for r in j.regimes]}
                              for j in found.jurisdictions],
            "not_covered": [j.code for j in found.uncovered]}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(found: Coverage) -> str:
    """The coverage as a Markdown table (the README's), one row per jurisdiction and regime;
    then the jurisdictions not yet covered."""
    lines = ["| Jurisdiction | Regime | Duties (recipient: deadline, confidence) | Confidence "
             "| Primary citation | Marked low or unsourced |",
             "|---|---|---|---|---|---|"]
    for j in found.jurisdictions:
        place = f"{j.name} ({j.code})"
        if not j.covered:
            lines.append(f"| {_cell(place)} | not yet covered | | | | |")
        for r in j.regimes:
            duties = "; ".join(f"{d.recipient}: {d.brief} from {d.trigger.replace('_', ' ')} "
                               f"({d.confidence})" for d in r.duties)
            lines.append(f"| {_cell(place)} | `{r.id}` {_cell(r.name)} | {_cell(duties)} "
                         f"| {r.confidence} | [{_cell(r.citation)}]({r.source}) "
                         f"| {len(r.flags) or ''} |")
    missing = ", ".join(j.code for j in found.uncovered) or "none"
    return "\n".join([*lines, "", f"Not yet covered: {missing}."])


def with_table(text: str, table: str) -> str:
    """`text` with what lies between the README's coverage markers replaced by `table`;
    ValueError when the markers are missing."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {README_START} and {README_END} are missing")
    return f"{text[:start + len(README_START)]}\n{table}\n{text[end:]}"


def main(argv: list[str]) -> int:
    """Rewrite the coverage table of the file named (the README) from the shipped catalogue."""
    from notifications.obligations.regime_loader import load_regimes

    if len(argv) != 1:
        print("usage: python -m notifications.obligations.coverage README.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    catalogue: Catalogue = load_regimes()
    try:
        path.write_text(with_table(path.read_text(encoding="utf-8"),
                                   markdown(coverage(catalogue))), encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
