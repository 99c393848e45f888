"""Loading runbook files, with a complete report of everything wrong in them.

Files are written by people, often under pressure and often by an organisation beside
ours, so loading never stops at the first mistake: it reports every problem in every
file with the file's path, the line, the field (`steps[3].phase`) and what is wrong,
and raises one `RunbookError` carrying them all, so `breach runbooks check` can print
the lot and the service can refuse to start on a broken runbook. Rules across steps
(unique ids, the legal clock of the notification steps) are checked on the raw data,
so they are reported even in a file that is broken elsewhere.

Nothing is read at import time; `load_catalogue(folder)` is the only way in from disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from incident.containment.due_offsets import DECIDE_NOTIFIABLE, LEGAL_CLOCK, NOTIFY_AUTHORITY, parse_due
from incident.containment.runbooks import SLUG_PATTERN, Catalogue, Reference, Runbook, Step

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
