"""Loading regime files: every problem of every file, with its file and field.

`load_regimes()` reads the shipped `regimes/*.yaml` (or another folder), validates
each file against the schema in `regimes.py`, checks that follow-ups (`met:`
triggers), limits tied to another notice (`no_later_than`) and duties that arise with
another (`arises_with`) name loaded obligations without loops, and raises one `RegimeError`
listing every problem found, so one run shows them all. Duplicate YAML keys, which
YAML would silently overwrite, are problems too. Nothing is read at import time;
call `load_regimes()` once where the catalogue is needed.

An organisation's own regime files (`BREACH_REGIMES_DIR`, same schema) join the shipped
ones through `load_catalogue(organisation_dir)`, under the same validation. The merge rule:

- an organisation file whose regime id is new adds that regime;
- one whose id is a shipped regime's replaces that regime wholly (the shipped file is not
  read for it: no obligation, note or threshold of it survives), and `breach regimes list`
  says so, naming the file;
- every follow-up (`met:`), `no_later_than` and `arises_with` reference, in either folder,
  must resolve in the merged
  catalogue: a shipped follow-up of an obligation that a replacement left out is an error,
  named at the file that holds the reference;
- a problem in either folder refuses the whole catalogue: nothing is half-merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from incident.kernel.errors import ConfigurationError
from notifications.obligations.regimes import Catalogue, Contacts, MetTrigger, Obligation, Regime

REGIMES_DIR = Path(__file__).parent.parent / "regimes"
"""The shipped catalogue: notifications/regimes/<id>.yaml, one regime per file."""
US_CONTACTS = REGIMES_DIR / "contacts" / "us-nationwide.yaml"
"""The US agencies state laws ask notices to name: consumer reporting agencies and the FTC."""


def load_contacts(path: Path = US_CONTACTS) -> Contacts:
    """The agencies in a contacts file; ValueError naming the file when it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
        return Contacts.model_validate(yaml.load(text, Loader=_SAFE_LOADER))  # noqa: S506
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one regime file."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class RegimeError(ConfigurationError, ValueError):
    """Regime files are invalid; `problems` lists every problem found, not just the first.

    A `ConfigurationError`: the service and every command that needs the catalogue refuse
    to start on it, printing one line per problem (file: field: problem)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in regime files:\n{lines}")


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
            for field, ref in _depends_on(obligation):
                if field != "trigger.met" and catalogue.obligation(ref) is None:  # that one: above
                    problems.append(Problem(paths[regime.id], f"obligations[{obligation.id}].{field}",
                                            f"{ref!r} is not an obligation of any loaded regime"))
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
    return problems + _loops(catalogue, paths)


def _depends_on(obligation: Obligation) -> list[tuple[str, str]]:
    """The duties whose result this one's is computed from, with the field that names each:
    the one it follows (`trigger.met`, first), the one it may not come after
    (`no_later_than.met`) and the one it arises with (`arises_with`)."""
    refs = []
    if isinstance(obligation.trigger, MetTrigger):
        refs.append(("trigger.met", obligation.trigger.met))
    if obligation.no_later_than is not None:
        refs.append(("no_later_than.met", obligation.no_later_than.met))
    if obligation.arises_with is not None:
        refs.append(("arises_with", obligation.arises_with))
    return refs


def _loops(catalogue: Catalogue, paths: Mapping[str, str]) -> list[Problem]:
    """A duty whose result needs, through follow-ups and limits, its own result cannot be
    computed: one problem per duty on such a loop (a pure follow-up loop is reported above)."""
    problems: list[Problem] = []
    for regime in catalogue:
        for obligation in regime.obligations:
            start = f"{regime.id}/{obligation.id}"
            edges = _depends_on(obligation)
            named = [field for field, _ in edges if field != "trigger.met"]
            if not named:
                continue
            stack, seen = [ref for _, ref in edges], set[str]()
            while stack:
                ref = stack.pop()
                if ref == start:
                    problems.append(Problem(paths[regime.id],
                                            f"obligations[{obligation.id}].{named[0]}",
                                            "depends on this duty itself (through follow-ups, "
                                            "limits or duties it arises with): it can never be "
                                            "computed"))
                    break
                if ref in seen or (found := catalogue.obligation(ref)) is None:
                    continue
                seen.add(ref)
                stack.extend(next_ref for _, next_ref in _depends_on(found[1]))
    return problems


Kind = Literal["shipped", "organisation"]


@dataclass(frozen=True)
class Origin:
    """Where a regime of the catalogue in use comes from: `kind` shipped or organisation,
    its file, and for an organisation regime with a shipped id, the shipped file it replaces."""

    kind: Kind
    path: str
    replaces: str | None = None


@dataclass(frozen=True)
class Loaded:
    """A validated catalogue and the origin of each of its regimes, by id."""

    catalogue: Catalogue
    origins: Mapping[str, Origin]


_PARSED: dict[tuple[str, int, int], tuple[Regime | None, list[Problem]]] = {}
"""Each file read so far, by path, modification time and size: reading a hundred regimes
costs most of a second, and the service, the commands and the checks read them often."""
PARSED_KEPT = 2000


def _parsed(file: Path) -> tuple[Regime | None, list[Problem]]:
    """`parse_regime` of the file, read again only when the file changed."""
    stat = file.stat()
    key = (str(file), stat.st_mtime_ns, stat.st_size)
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()
        found = _PARSED[key] = parse_regime(file.read_text(encoding="utf-8"), str(file))
    return found[0], list(found[1])


def _read_folder(folder: Path, problems: list[Problem]) -> dict[str, tuple[Regime, str]]:
    """Every valid regime of one folder by id, with its file; problems appended."""
    if not folder.is_dir():
        problems.append(Problem(str(folder), "(folder)", "is not a folder"))
        return {}
    files = sorted(folder.glob("*.yaml"))
    problems.extend(Problem(str(other), "(file)", "a regime file's name ends in .yaml")
                    for other in sorted(folder.glob("*.yml")))
    if not files:
        problems.append(Problem(str(folder), "(folder)", "no *.yaml regime files found"))
    found: dict[str, tuple[Regime, str]] = {}
    for file in files:
        regime, errors = _parsed(file)
        problems.extend(errors)
        if regime is None:
            continue
        if regime.id in found:
            other = found[regime.id][1]
            problems.append(Problem(str(file), "id", f"{regime.id!r} is also used by {other}"))
            continue
        found[regime.id] = (regime, str(file))
    return found


def load_catalogue(organisation: Path | None = None, *, shipped: Path = REGIMES_DIR) -> Loaded:
    """The shipped regimes merged with an organisation's folder (None: the shipped alone).

    The merge rule is the module's: a new id adds, a shipped id replaces wholly, every
    follow-up must resolve in the result. Raises RegimeError listing every problem of
    both folders.
    """
    problems: list[Problem] = []
    merged = _read_folder(shipped, problems)
    origins = {regime_id: Origin("shipped", path) for regime_id, (_, path) in merged.items()}
    if organisation is not None:
        for regime_id, (regime, path) in _read_folder(organisation, problems).items():
            replaced = origins.get(regime_id)
            merged[regime_id] = (regime, path)
            origins[regime_id] = Origin("organisation", path,
                                        replaced.path if replaced else None)
    ordered = tuple(merged[regime_id][0] for regime_id in sorted(merged))
    problems.extend(check_references(ordered, {k: v[1] for k, v in merged.items()}))
    if problems:
        raise RegimeError(problems)
    return Loaded(Catalogue(ordered), {regime_id: origins[regime_id] for regime_id in sorted(merged)})


def load_regimes(directory: Path | None = None) -> Catalogue:
    """Load and validate every `*.yaml` regime in `directory` alone (default: the shipped ones).

    Raises RegimeError listing every problem in every file, so one run shows them all.
    """
    return load_catalogue(shipped=REGIMES_DIR if directory is None else directory).catalogue
