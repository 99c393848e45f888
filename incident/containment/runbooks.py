"""Runbooks as data: the schema of a runbook file, and what is done with a valid one.

A runbook is a YAML file in `runbooks/`: a proven plan for one or more kinds of
incident, as steps with a phase, a role, a due offset and guidance. The models are
strict (unknown fields are errors) and frozen; `suggest_runbooks` picks those for an
incident kind, and `runbook_to_dict`/`runbook_digest` pin the exact runbook an
incident started with.

Reading files and reporting their problems is `runbook_loader.py`'s job, and due
times are `due_offsets.py`'s: the schema changes when what a runbook says does.
Everything here is pure: values in, values out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from incident.containment.due_offsets import parse_due
from incident.kernel.schemas import MultiLine, SingleLine
from incident.lifecycle.rules import Kind
from incident.timeline.rules import canonical_json

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


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


Slug = Annotated[str, StringConstraints(strict=True, pattern=SLUG_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                        max_length=200), SingleLine]
LongText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                            max_length=2000), MultiLine]


class _Strict(BaseModel):
    # Unknown fields are errors so that a misspelt `evidence_requried` is caught
    # instead of silently defaulting; frozen so a loaded catalogue cannot drift.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One thing to do, by whom, and how long after aware_at it is due."""

    id: Slug
    title: Text
    reported_as: Text | None = None
    """How a report to an authority or to people says this step was done, in the past tense
    and for a reader ("The device was locked or wiped remotely."). Steps without it are not
    mentioned in reports."""
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
