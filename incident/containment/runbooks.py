"""Runbooks as data: the schema, loading with complete error reports, and step due times.

A runbook is a YAML file in `runbooks/`. Files are written by people, often
under pressure and often by an organisation beside ours, so loading never stops
at the first mistake: it reports every problem in every file with the file's
path, the line, the field (`steps[3].phase`) and what is wrong, and raises one
`RunbookError` carrying them all, so `breach runbooks check` can print the lot
and the service can refuse to start on a broken runbook.

Everything here is pure: values in, values out. Nothing is read at import time;
`load_catalogue(folder)` is the only way in from disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)

from incident.lifecycle.rules import Kind
from incident.timeline.rules import canonical_json

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

#: Well-known step ids whose timing is a legal matter, not a preference. GDPR
#: Art. 33(1) gives the controller 72 hours from awareness to notify the
#: supervisory authority, and the decision whether to notify must come first.
DECIDE_NOTIFIABLE = "decide-notifiable"
NOTIFY_AUTHORITY = "notify-authority"
LEGAL_CLOCK = timedelta(hours=72)

#: The longest offset a step may have: anything later is almost surely a typo
#: (`300d` for `30d`) and would hide a step from every overdue list.
MAX_DUE = timedelta(days=365)

_DUE_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")


class Phase(StrEnum):
    """Where a step sits in the response; the order is the NIST SP 800-61 life cycle."""

    IDENTIFY = "identify"
    CONTAIN = "contain"
    ERADICATE = "eradicate"
    RECOVER = "recover"
    NOTIFY = "notify"
    REVIEW = "review"


class StepRole(StrEnum):
    """Who is expected to do a step. Auditors are read-only, so they own no steps."""

    RESPONDER = "responder"
    APPROVER = "approver"
    ADMIN = "admin"


def parse_due(text: str) -> timedelta:
    """Turn due notation (`30m`, `4h`, `2d`, `1d12h`) into elapsed time after aware_at.

    Units are days, hours and minutes, each at most once, largest first. A day
    is 24 elapsed hours, not a calendar day: a step's urgency does not change
    because the clocks went forward. Raises ValueError with a fix-it message.
    """
    match = _DUE_RE.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"bad due notation {text!r}: write elapsed time after aware_at as "
                         "days, hours, minutes in that order, e.g. '30m', '4h', '2d', '1d12h'")
    parts = {unit: int(value) for unit, value in match.groupdict().items() if value}
    offset = timedelta(days=parts.get("d", 0), hours=parts.get("h", 0),
                       minutes=parts.get("m", 0))
    if offset <= timedelta(0):
        raise ValueError(f"due {text!r} is zero; a step needs time to be done, e.g. '30m'")
    if offset > MAX_DUE:
        raise ValueError(f"due {text!r} is later than {MAX_DUE.days}d after aware_at")
    return offset


Slug = Annotated[str, StringConstraints(strict=True, pattern=SLUG_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                        max_length=200)]
LongText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                            max_length=2000)]


class _Strict(BaseModel):
    # Unknown fields are errors so that a misspelt `evidence_requried` is caught
    # instead of silently defaulting; frozen so a loaded catalogue cannot drift.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One thing to do, by whom, and how long after aware_at it is due."""

    id: Slug
    title: Text
    phase: Phase
    role: StepRole
    due: str
    evidence_required: StrictBool
    guidance: LongText

    @field_validator("due", mode="before")
    @classmethod
    def _check_due(cls, value: object) -> str:
        # YAML reads `due: 4` as a number; say what to write rather than "not a string".
        if not isinstance(value, str):
            raise ValueError(f"due needs a unit, e.g. '{value}h' or '{value}d' (got {value!r})")
        parse_due(value)
        return value.strip()

    @property
    def offset(self) -> timedelta:
        """Elapsed time from aware_at to this step's due time."""
        return parse_due(self.due)


class Reference(_Strict):
    """A public source the runbook's guidance was checked against."""

    title: Text
    url: Annotated[str, StringConstraints(strict=True, pattern=r"^https?://\S+$")] | None = None


class Runbook(_Strict):
    """A proven plan for one or more kinds of incident."""

    id: Slug
    version: StrictInt = Field(ge=1)
    title: Text
    applies_to: list[Kind] = Field(min_length=1)
    description: LongText
    steps: list[Step] = Field(min_length=1)
    references: list[Reference] = Field(default_factory=list)

    @field_validator("applies_to")
    @classmethod
    def _distinct_kinds(cls, kinds: list[Kind]) -> list[Kind]:
        repeated = sorted({k.value for k in kinds if kinds.count(k) > 1})
        if repeated:
            raise ValueError(f"kinds listed more than once: {', '.join(repeated)}")
        return kinds

    def step(self, step_id: str) -> Step:
        """The step with this id; KeyError if the runbook has none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


_ALLOWED_FIELDS = {"": tuple(Runbook.model_fields), "steps": tuple(Step.model_fields),
                   "references": tuple(Reference.model_fields)}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one file, precise enough to fix without guessing."""

    path: Path
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class RunbookError(Exception):
    """Every problem found while loading runbooks, in file and line order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (str(p.path), p.line or 0,
                                                               p.field)))
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in runbooks"
        return "\n".join([head, *(f"  {problem}" for problem in self.problems)])


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The validated runbooks of a folder, by id, with the file each came from."""

    runbooks: Mapping[str, Runbook]
    sources: Mapping[str, Path]

    def __iter__(self) -> Iterator[Runbook]:
        return iter(self.runbooks.values())

    def __len__(self) -> int:
        return len(self.runbooks)

    def __contains__(self, runbook_id: object) -> bool:
        return runbook_id in self.runbooks

    def __getitem__(self, runbook_id: str) -> Runbook:
        return self.runbooks[runbook_id]

    def get(self, runbook_id: str) -> Runbook | None:
        return self.runbooks.get(runbook_id)


def suggest_runbooks(catalogue: Iterable[Runbook], kind: Kind | str) -> list[Runbook]:
    """The runbooks that apply to an incident kind, by id.

    A str is accepted so callers holding a stored kind need not convert it;
    an unknown kind raises ValueError rather than quietly suggesting nothing.
    """
    wanted = Kind(kind)
    return sorted((rb for rb in catalogue if wanted in rb.applies_to), key=lambda rb: rb.id)


def step_due_at(step: Step, aware_at: datetime) -> datetime:
    """When a step is due: aware_at plus the step's offset in elapsed time.

    The sum is taken in UTC because Python adds a timedelta to a zoned datetime
    on the wall clock, which would make a 24h step 23h or 25h across a DST
    change. The result is returned in aware_at's own time zone for display.
    """
    if aware_at.tzinfo is None or aware_at.utcoffset() is None:
        raise ValueError("aware_at must be time-zone aware")
    return (aware_at.astimezone(UTC) + step.offset).astimezone(aware_at.tzinfo)


def runbook_to_dict(runbook: Runbook) -> dict[str, Any]:
    """The runbook as plain JSON values, field for field as in the file.

    `Runbook.model_validate` reads it back unchanged, so an incident can store
    this dict to pin the exact runbook it started with.
    """
    return runbook.model_dump(mode="json")


def runbook_summary(runbook: Runbook) -> dict[str, Any]:
    """The one-line view of a runbook, as listed by the API and the CLI."""
    return {"id": runbook.id, "version": runbook.version, "title": runbook.title,
            "applies_to": [kind.value for kind in runbook.applies_to], "steps": len(runbook.steps)}


def runbook_digest(runbook: Runbook) -> str:
    """SHA-256 (hex) over the canonical JSON of `runbook_to_dict(runbook)`.

    Version numbers are bumped by people and can be forgotten; the digest
    changes with any edit of content, so a pinned incident can prove which
    steps and guidance it was run against. Comments and key order in the
    YAML do not change it.
    """
    return hashlib.sha256(canonical_json(runbook_to_dict(runbook)).encode()).hexdigest()


def parse_runbook(text: str, *, path: Path | str) -> Runbook:
    """Validate one runbook from YAML text; `path` names it in error reports."""
    checked = _check_text(text, Path(path))
    if checked.runbook is None:
        raise RunbookError(checked.problems)
    return checked.runbook


def load_runbook(path: Path | str) -> Runbook:
    """Read and validate one runbook file, raising RunbookError listing every problem."""
    checked = _check_file(Path(path))
    if checked.runbook is None:
        raise RunbookError(checked.problems)
    return checked.runbook


def load_catalogue(folder: Path | str) -> Catalogue:
    """Read and validate every `*.yaml`/`*.yml` in a folder into a catalogue.

    All files are checked even when an early one is broken, runbook ids must be
    unique across files, and an empty or missing folder is an error: it nearly
    always means a wrong BREACH_RUNBOOKS_DIR rather than a wish for no runbooks.
    """
    root = Path(folder)
    if not root.is_dir():
        raise RunbookError([Problem(root, "", "runbook folder does not exist")])
    files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise RunbookError([Problem(root, "", "no runbook files (*.yaml, *.yml) in folder")])
    problems: list[Problem] = []
    runbooks: dict[str, Runbook] = {}
    sources: dict[str, Path] = {}
    for path in files:
        checked = _check_file(path)
        problems.extend(checked.problems)
        if checked.id is not None and checked.id in sources:
            problems.append(Problem(path, "id", f"runbook id {checked.id!r} is already used by "
                                                f"{sources[checked.id]}", checked.id_line))
            continue
        if checked.id is not None:
            sources[checked.id] = path
        if checked.runbook is not None:
            runbooks[checked.runbook.id] = checked.runbook
    if problems:
        raise RunbookError(problems)
    ordered = sorted(runbooks)
    return Catalogue(runbooks={i: runbooks[i] for i in ordered},
                     sources={i: sources[i] for i in ordered})


# --- checking one file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    runbook: Runbook | None
    problems: list[Problem]
    id: str | None = None  # as written, even in a broken file, to catch duplicates
    id_line: int | None = None


def _check_file(path: Path) -> _Checked:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return _Checked(None, [Problem(path, "", f"cannot read file: {exc.strerror or exc}")])
    except UnicodeDecodeError as exc:
        return _Checked(None, [Problem(path, "", f"not UTF-8 text (byte {exc.start})")])
    return _check_text(text, path)


def _check_text(text: str, path: Path) -> _Checked:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return _Checked(None, [Problem(path, "", f"YAML syntax error: {what}",
                                       mark.line + 1 if mark else None)])
    except yaml.YAMLError as exc:
        return _Checked(None, [Problem(path, "", f"YAML error: {exc}")])
    finally:
        loader.dispose()
    if node is None:
        return _Checked(None, [Problem(path, "", "file is empty; expected a runbook mapping")])
    if not isinstance(data, dict):
        return _Checked(None, [Problem(path, "", "top level must be a mapping of runbook "
                                                 f"fields, found {_type_name(data)}",
                                       _line(node, ()))])

    problems = [Problem(path, _field(loc), message, line)
                for loc, message, line in _duplicate_keys(node, ())]
    runbook: Runbook | None = None
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            problems.append(Problem(path, _field(loc), _message(error, loc), _line(node, loc)))
    problems.extend(Problem(path, _field(loc), message, _line(node, loc))
                    for loc, message in _cross_step_problems(data))

    raw_id = data.get("id")
    clean_id = raw_id if isinstance(raw_id, str) and re.fullmatch(SLUG_PATTERN, raw_id) else None
    return _Checked(runbook if not problems else None, problems, clean_id,
                    _line(node, ("id",)))


def _cross_step_problems(data: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Rules across steps, checked on the raw data so they report even in broken files."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    first_at: dict[str, int] = {}
    offsets: dict[str, tuple[int, timedelta]] = {}
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("id"), str):
            continue
        step_id = step["id"]
        if step_id in first_at:
            yield ("steps", index, "id"), (f"duplicate step id {step_id!r} "
                                           f"(first used by steps[{first_at[step_id]}])")
            continue
        first_at[step_id] = index
        due = step.get("due")
        if step_id in (DECIDE_NOTIFIABLE, NOTIFY_AUTHORITY) and isinstance(due, str):
            try:
                offsets[step_id] = (index, parse_due(due))
            except ValueError:
                continue  # the schema already reports the notation
    hours = int(LEGAL_CLOCK.total_seconds() // 3600)
    for step_id, (index, offset) in offsets.items():
        if offset > LEGAL_CLOCK:
            yield ("steps", index, "due"), (f"{step_id!r} must be due within {hours}h of "
                                            "aware_at (GDPR Art. 33 notification clock)")
    if DECIDE_NOTIFIABLE in offsets and NOTIFY_AUTHORITY in offsets:
        (index, decide), (_, notify) = offsets[DECIDE_NOTIFIABLE], offsets[NOTIFY_AUTHORITY]
        if decide > notify:
            yield ("steps", index, "due"), (f"{DECIDE_NOTIFIABLE!r} is due after "
                                            f"{NOTIFY_AUTHORITY!r}; decide before notifying")


def _message(error: Mapping[str, Any], loc: Sequence[Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing field"
    if kind == "extra_forbidden":
        section = next((part for part in loc[:-1] if isinstance(part, str)), "")
        allowed = _ALLOWED_FIELDS.get(section, ())
        return f"unknown field (allowed here: {', '.join(allowed)})"
    if kind == "too_short":
        return f"must not be empty (at least {error['ctx']['min_length']} item)"
    if kind == "string_pattern_mismatch":
        # Say what the pattern means; a regular expression is not a fix-it hint.
        slug = error.get("ctx", {}).get("pattern") == SLUG_PATTERN
        what = ("must be a slug: lowercase letters and digits, words joined by single hyphens"
                if slug else "must be an http:// or https:// URL")
        return f"{what} (got {error['input']!r})"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("enum", "bool_type", "int_type", "string_type", "greater_than_equal"):
        message = f"{message} (got {error['input']!r})"
    return message


def _field(loc: Sequence[Any]) -> str:
    """`('steps', 3, 'phase')` -> `steps[3].phase`, the way people write paths into YAML."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(node: yaml.Node, loc: Sequence[Any]) -> int:
    """The 1-based line of the deepest node on `loc` that exists in the file.

    For a missing field that is the mapping it is missing from; for an unknown
    field it is the key itself.
    """
    current = node
    for depth, part in enumerate(loc):
        if isinstance(current, yaml.MappingNode):
            pair = next(((k, v) for k, v in current.value
                         if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            if pair is None:
                break
            if depth == len(loc) - 1:
                return int(pair[0].start_mark.line) + 1
            current = pair[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(current.value):
                break
            current = current.value[part]
        else:
            break
    return int(current.start_mark.line) + 1


def _duplicate_keys(node: yaml.Node,
                    loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str, int]]:
    """Keys given twice in one mapping: YAML keeps the last silently, people mean the first."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            line = int(key.start_mark.line) + 1
            if name is not None and name in seen:
                yield (*loc, name), f"duplicate key (first at line {seen[name]})", line
            elif name is not None:
                seen[name] = line
            yield from _duplicate_keys(value, (*loc, name) if name is not None else loc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index))


def _type_name(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"
