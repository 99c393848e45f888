"""Regimes as data: the schema of `notifications/regimes/<id>.yaml` and its loader.

A regime is one law's breach-notification duties: whom it protects (territory of the
affected people, place of establishment, organisation flags), and its obligations,
each with a recipient, a trigger, a deadline rule (see `deadlines.py`), thresholds,
required content and the citation of the text it comes from. Everything a lawyer
would check is in the file; the engine only evaluates it.

Files are validated strictly (unknown keys are errors, so a typo never silently drops
a threshold), and every problem of every file is collected into one `RegimeError`
that names the file, the field and what is wrong. Loading is explicit: nothing is read
at import time; call `load_regimes()` once where the catalogue is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from notifications.obligations.deadlines import DeadlineRule, zone

REGIMES_DIR = Path(__file__).parent / "regimes"

Flag = Literal[
    "nis2_essential",
    "nis2_important",
    "dora_financial_entity",
    "hipaa_covered_entity",
    "sec_registrant",
    "nydfs_covered_entity",
    "us_banking_organization",
    "ftc_financial_institution",
    "lgpd_small_agent",
]
Risk = Literal["none", "risk", "high"]
RISK_ORDER: Mapping[str, int] = {"none": 0, "risk": 1, "high": 2}
DataCategory = Literal[
    "contact",
    "identity",
    "official_id",
    "financial",
    "credentials",
    "location",
    "behavioural",
    "health",
    "special",
    "children",
]
TriggerName = Literal[
    "aware_at",
    "discovered_at",
    "breach_determined_at",
    "classified_major_at",
    "materiality_determined_at",
    "assessment_completed_at",
]
Recipient = Literal["authority", "regulator", "individuals", "media", "internal"]
Phase = Literal["initial", "intermediate", "final", "follow_up"]

# fmt: off
EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
EEA_MEMBERS = EU_MEMBERS | {"IS", "LI", "NO"}
TERRITORY_GROUPS: Mapping[str, frozenset[str]] = {"EU": EU_MEMBERS, "EEA": EEA_MEMBERS}

CODE_PATTERN = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
"""ISO 3166-1 alpha-2 (DE) or ISO 3166-2 (US-CA)."""
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_REF = re.compile(r"([a-z0-9-]+)/([a-z0-9-]+)")


def _territory(value: str) -> str:
    if value in TERRITORY_GROUPS or CODE_PATTERN.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a territory: use ISO 3166-1 alpha-2 (DE), ISO 3166-2 (US-CA), EU or EEA"
    )


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(f"{value!r} is not an id: lower-case letters, digits and hyphens")
    return value


def _ref(value: str) -> str:
    if not _REF.fullmatch(value):
        raise ValueError(f"{value!r} is not an obligation reference such as 'gdpr/authority'")
    return value


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an http(s) link to the source text")
    return value


def _timezone(value: str) -> str:
    zone(value)
    return value


Territory = Annotated[str, AfterValidator(_territory)]
Slug = Annotated[str, AfterValidator(_slug)]
ObligationRef = Annotated[str, AfterValidator(_ref)]
Url = Annotated[str, AfterValidator(_url)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]


def territory_matches(code: str, territory: str) -> bool:
    """Does a place of residence or establishment `code` lie in `territory`?

    "US-CA" lies in "US-CA" and in "US"; "DE" and "DE-BY" lie in "EU" and "EEA";
    a bare "US" (state unknown) does not lie in "US-CA".
    """
    country = code.split("-", 1)[0]
    if territory in TERRITORY_GROUPS:
        return country in TERRITORY_GROUPS[territory]
    return code == territory or (country == territory and "-" not in territory)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """When something applies. All fields given must hold; `any_of` needs one branch.

    Territorial tests: `affected_in` needs at least one affected person in one of the
    territories; `established_in` tests the organisation's country. Thresholds:
    `min_affected` counts the people in `count_in` (everyone when absent); with
    `per_territory` the count is taken per jurisdiction code and the largest must reach
    it (HIPAA's "more than 500 residents of a State"). `min_risk` is the assessed risk
    (none < risk < high); `data_categories` needs any one of them; `malicious` tests
    whether the incident involved a wrongful purpose (attack, theft).
    """

    affected_in: tuple[Territory, ...] | None = None
    established_in: tuple[Territory, ...] | None = None
    flags: tuple[Flag, ...] = ()
    entity_types: tuple[str, ...] | None = None
    min_affected: Annotated[int, Field(ge=1)] | None = None
    count_in: tuple[Territory, ...] | None = None
    per_territory: bool = False
    min_risk: Risk | None = None
    data_categories: tuple[DataCategory, ...] | None = None
    malicious: bool | None = None
    any_of: tuple[Condition, ...] | None = None

    @model_validator(mode="after")
    def _count_needs_threshold(self) -> Condition:
        if (self.count_in is not None or self.per_territory) and self.min_affected is None:
            raise ValueError("count_in and per_territory only make sense with min_affected")
        return self


class MetTrigger(_Strict):
    """A follow-up: the clock starts when another obligation was fulfilled."""

    met: ObligationRef


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict | MetTrigger):
        return "met"
    return None


Trigger = Annotated[
    Annotated[TriggerName, Tag("name")] | Annotated[MetTrigger, Tag("met")],
    Discriminator(
        _trigger_kind,
        custom_error_type="trigger",
        custom_error_message="a trigger is an event name such as aware_at, or {met: regime/obligation}",
    ),
]


def trigger_label(trigger: Trigger) -> str:
    """The trigger as shown to people: "aware_at" or "met:nis2/notification"."""
    return trigger if isinstance(trigger, str) else f"met:{trigger.met}"


class OuterLimit(_Strict):
    """A second clock on another trigger; the earlier due time wins (DORA's 24 h cap)."""

    trigger: Trigger
    deadline: DeadlineRule


class Variant(_Strict):
    """A different deadline under a condition (small agents, wrongful purpose, ...)."""

    when: Condition
    deadline: DeadlineRule
    note: str


class WeekendRelief(_Strict):
    """A due time on a non-working day may move to `until` on the next working day.

    `calendar: establishment` uses the holidays of the organisation's country.
    """

    until: str
    calendar: str = "establishment"
    not_for: Condition | None = None

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        return value if value == "establishment" else _territory(value)

    @field_validator("until", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"\d\d:\d\d", value):
            raise ValueError('write the time of day as a quoted "HH:MM" string')
        return value


class Obligation(_Strict):
    """One duty to tell someone something by some time."""

    id: Slug
    recipient: Recipient
    recipient_name: str
    phase: Phase | None = None
    trigger: Trigger
    deadline: DeadlineRule
    outer_limit: OuterLimit | None = None
    variants: tuple[Variant, ...] = ()
    weekend_relief: WeekendRelief | None = None
    when: Condition | None = None
    in_force_from: date | None = None
    content: tuple[str, ...] = Field(min_length=1)
    citation: str
    source: Url
    notes: tuple[str, ...] = ()


class Regime(_Strict):
    """One law's breach-notification duties, as written in one YAML file."""

    id: Slug
    name: str
    jurisdiction: Territory
    sources: tuple[Url, ...] = Field(min_length=1)
    timezone: TimeZoneName | None = None
    applies: Condition
    in_force_from: date | None = None
    confidence: Literal["high", "medium", "low"]
    reviewed: date
    notes: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = Field(min_length=1)

    @field_validator("obligations")
    @classmethod
    def _unique_ids(cls, value: tuple[Obligation, ...]) -> tuple[Obligation, ...]:
        seen: set[str] = set()
        for obligation in value:
            if obligation.id in seen:
                raise ValueError(f"obligation id {obligation.id!r} appears twice")
            seen.add(obligation.id)
        return value

    def obligation(self, obligation_id: str) -> Obligation | None:
        """The obligation with this id, or None."""
        return next((o for o in self.obligations if o.id == obligation_id), None)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one regime file."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class RegimeError(ValueError):
    """Regime files are invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in regime files:\n{lines}")


@dataclass(frozen=True)
class Catalogue:
    """The loaded regimes, by id, in file-name order."""

    regimes: tuple[Regime, ...]

    def __iter__(self) -> Iterator[Regime]:
        return iter(self.regimes)

    def __len__(self) -> int:
        return len(self.regimes)

    def get(self, regime_id: str) -> Regime | None:
        """The regime with this id, or None."""
        return next((r for r in self.regimes if r.id == regime_id), None)

    def obligation(self, ref: str) -> tuple[Regime, Obligation] | None:
        """Resolve "regime/obligation" to both, or None when either is unknown."""
        regime_id, _, obligation_id = ref.partition("/")
        regime = self.get(regime_id)
        obligation = regime.obligation(obligation_id) if regime else None
        return (regime, obligation) if regime and obligation else None


_UNION_TAGS = {
    ("deadline", tag)
    for tag in (
        "hours",
        "calendar_days",
        "business_days",
        "months",
        "after_year_end_days",
        "without_undue_delay",
    )
}


def field_path(loc: tuple[int | str, ...], data: Any = None) -> str:
    """A readable field name for a pydantic error location.

    List indexes of obligations become their ids ("obligations[authority].deadline"),
    and the tag pydantic inserts for the kind of deadline rule is dropped.
    """
    parts: list[str] = []
    node = data
    for position, item in enumerate(loc):
        if isinstance(item, int):
            label = str(item)
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label = node["id"]
            parts[-1:] = [f"{parts[-1]}[{label}]"] if parts else [f"[{label}]"]
            continue
        previous = loc[position - 1] if position else None
        is_tag = (previous, item) in _UNION_TAGS or (previous, item) == ("trigger", "name")
        # {met: ...} is both the tag and the field: drop only the tag copy.
        is_tag |= (previous, item) == ("trigger", "met") and position + 1 < len(loc)
        if is_tag:
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(file)"


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C one when built


def _duplicate_key_loader() -> Any:
    """A safe loader that rejects duplicate keys, which YAML would silently overwrite."""

    class Loader(_SAFE_LOADER):  # type: ignore[misc]
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            keys.add(key)
        return dict(loader.construct_pairs(node))

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def parse_regime(text: str, path: str) -> tuple[Regime | None, list[Problem]]:
    """Parse one regime file's text; return the regime or the problems found."""
    try:
        data = yaml.load(text, Loader=_duplicate_key_loader())  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        return None, [Problem(path, "(file)", f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return None, [Problem(path, "(file)", "a regime file must be a mapping")]
    try:
        regime = Regime.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        locs = [tuple(err["loc"]) for err in errors]
        return None, [
            Problem(path, field_path(tuple(err["loc"]), data), err["msg"])
            for err in errors
            # A list whose only item is invalid is also reported as too short: noise.
            if not (err["type"] == "too_short" and any(_under(err["loc"], loc) for loc in locs))
        ]
    expected = Path(path).stem
    if regime.id != expected:
        return None, [Problem(path, "id", f"{regime.id!r} must match the file name {expected!r}")]
    return regime, []


def _under(parent: tuple[int | str, ...], loc: tuple[int | str, ...]) -> bool:
    return len(loc) > len(parent) and loc[: len(parent)] == parent


def check_references(regimes: tuple[Regime, ...], paths: Mapping[str, str]) -> list[Problem]:
    """Every `met:` trigger must name an obligation in the catalogue, without cycles."""
    catalogue = Catalogue(regimes)
    problems: list[Problem] = []
    for regime in regimes:
        for obligation in regime.obligations:
            triggers = [obligation.trigger]
            if obligation.outer_limit:
                triggers.append(obligation.outer_limit.trigger)
            for trigger in triggers:
                if isinstance(trigger, MetTrigger) and catalogue.obligation(trigger.met) is None:
                    problems.append(
                        Problem(
                            paths[regime.id],
                            f"obligations[{obligation.id}].trigger.met",
                            f"{trigger.met!r} is not an obligation of any loaded regime",
                        )
                    )
            seen = {f"{regime.id}/{obligation.id}"}
            trigger = obligation.trigger
            while isinstance(trigger, MetTrigger) and (found := catalogue.obligation(trigger.met)):
                if trigger.met in seen:
                    problems.append(
                        Problem(
                            paths[regime.id],
                            f"obligations[{obligation.id}].trigger.met",
                            f"follow-up chain loops back to {trigger.met!r}",
                        )
                    )
                    break
                seen.add(trigger.met)
                trigger = found[1].trigger
    return problems


def load_regimes(directory: Path | None = None) -> Catalogue:
    """Load and validate every `*.yaml` regime in `directory` (default: the shipped ones).

    Raises RegimeError listing every problem in every file, so one run shows them all.
    """
    folder = REGIMES_DIR if directory is None else directory
    regimes: list[Regime] = []
    problems: list[Problem] = []
    paths: dict[str, str] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise RegimeError([Problem(str(folder), "(folder)", "no *.yaml regime files found")])
    for file in files:
        regime, found = parse_regime(file.read_text(encoding="utf-8"), str(file))
        problems.extend(found)
        if regime is None:
            continue
        if regime.id in paths:
            other = paths[regime.id]
            problems.append(Problem(str(file), "id", f"{regime.id!r} is also used by {other}"))
            continue
        paths[regime.id] = str(file)
        regimes.append(regime)
    problems.extend(check_references(tuple(regimes), paths))
    if problems:
        raise RegimeError(problems)
    return Catalogue(tuple(regimes))
