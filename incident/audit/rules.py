"""Signed checkpoints of the timeline, and what verifying against them finds. Pure.

A hash chain alone proves nothing to someone who can rewrite the database: they can
recompute every hash. A checkpoint records every chain's head (its last event's number and
hash), the list of chains and the previous checkpoint's hash, signed with a key kept outside
the database; checkpoints are kept in a log outside it as well. Against the latest
checkpoint, verification finds what the chains alone cannot: events removed from the end
with the head rewritten to match, a chain rehashed after a change, a chain deleted whole.

A checkpoint's text is canonical JSON: one spelling, so its SHA-256 and its signature are
reproducible by anyone (the offline verifier re-implements exactly this).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident.timeline.rules import GENESIS, Verification, canonical_json, format_instant

FORMAT = "breachdesk-checkpoint/1"


@dataclass(frozen=True)
class Head:
    """A chain's last event: its number (the count of events) and hash."""

    seq: int
    hash: str


def checkpoint_body(*, number: int, at: datetime, heads: Mapping[str, Head], previous: str,
                    key: str, last_event_id: int) -> dict[str, Any]:
    """What checkpoint `number` signs: every chain's head, by chain (so the list of chains is
    signed too), the previous checkpoint's hash (GENESIS for the first), the fingerprint of
    the key that signs it, and the last event stored when it was made."""
    return {"format": FORMAT, "number": number, "at": format_instant(at), "previous": previous,
            "key": key, "last_event_id": last_event_id,
            "chains": {chain: {"seq": head.seq, "hash": head.hash}
                       for chain, head in sorted(heads.items())}}


def body_text(body: Mapping[str, Any]) -> str:
    return canonical_json(dict(body))


def body_hash(body: Mapping[str, Any]) -> str:
    """The checkpoint's hash: SHA-256 of its canonical text, which the next one links to."""
    return hashlib.sha256(body_text(body).encode()).hexdigest()


def heads_of(body: Mapping[str, Any]) -> dict[str, Head]:
    return {chain: Head(int(head["seq"]), str(head["hash"]))
            for chain, head in dict(body["chains"]).items()}


class Finding(StrEnum):
    """What verification against a checkpoint finds for one chain."""

    OK = "ok"
    """Matches the checkpoint; no event since."""
    ADDED = "added"
    """Matches the checkpoint, and events were added after it (expected: not yet covered)."""
    NEW = "new"
    """A chain begun after the latest checkpoint: only its own hashes vouch for it."""
    BROKEN = "broken"
    """Its events do not hash to their links: changed, deleted, inserted or reordered."""
    TRUNCATED = "truncated"
    """It holds fewer events than the checkpoint signed: events removed from its end."""
    REWRITTEN = "rewritten"
    """Its event at the checkpoint's head does not have the signed hash: rehashed."""
    MISSING = "missing"
    """The checkpoint signed it, and it is gone."""
    UNCREATED = "uncreated"
    """An incident whose timeline does not begin with its creation."""


FAILURES = frozenset({Finding.BROKEN, Finding.TRUNCATED, Finding.REWRITTEN, Finding.MISSING,
                      Finding.UNCREATED})


@dataclass(frozen=True)
class ChainState:
    """A chain as the database holds it now: its own verification, and the hash of its event
    at the checkpoint's head (None where it has no such event)."""

    verification: Verification
    hash_at_signed_seq: str | None = None
    first_kind: str | None = None
    """The kind of its first event (an incident's must be `incident_created`)."""
    is_incident: bool = False


@dataclass(frozen=True)
class ChainReport:
    chain: str
    finding: Finding
    events: int
    signed_seq: int | None
    detail: str
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.finding not in FAILURES


def judge(chain: str, state: ChainState | None, signed: Head | None,
          checkpoint: int | None) -> ChainReport:
    """One chain against the latest checkpoint (`signed`: its head there, None when the
    checkpoint does not know it; `state`: None when the database has no trace of it)."""
    where = f"checkpoint {checkpoint}" if checkpoint is not None else "no checkpoint"
    if state is None or (state.verification.events == 0 and signed is not None
                         and signed.seq > 0):
        if signed is None:
            return ChainReport(chain, Finding.MISSING, 0, None, "gone")
        return ChainReport(chain, Finding.MISSING, 0, signed.seq,
                           f"{where} signed {_events(signed.seq)} of it; none is left",
                           first_bad_seq=1)
    checked = state.verification
    if not checked.ok:
        return ChainReport(chain, Finding.BROKEN, checked.events,
                           signed.seq if signed else None,
                           f"event {checked.first_bad_seq}: {checked.problem}",
                           first_bad_seq=checked.first_bad_seq)
    if state.is_incident and state.first_kind != "incident_created":
        return ChainReport(chain, Finding.UNCREATED, checked.events,
                           signed.seq if signed else None,
                           "the timeline does not begin with the incident's creation"
                           + (f" (its first event is {state.first_kind})"
                              if state.first_kind else " (it has no events)"),
                           first_bad_seq=1)
    if signed is None:
        return ChainReport(chain, Finding.NEW, checked.events, None,
                           "not yet signed: there is no checkpoint" if checkpoint is None
                           else f"begun after {where}: not yet signed")
    if checked.events < signed.seq:
        return ChainReport(chain, Finding.TRUNCATED, checked.events, signed.seq,
                           f"{where} signed {_events(signed.seq)}; {checked.events} "
                           f"{'is' if checked.events == 1 else 'are'} left",
                           first_bad_seq=checked.events + 1)
    if state.hash_at_signed_seq != signed.hash:
        return ChainReport(chain, Finding.REWRITTEN, checked.events, signed.seq,
                           f"event {signed.seq} is not the one {where} signed: the chain was "
                           "rewritten up to there", first_bad_seq=signed.seq)
    if checked.events > signed.seq:
        return ChainReport(chain, Finding.ADDED, checked.events, signed.seq,
                           f"{_events(checked.events - signed.seq)} added after {where}")
    return ChainReport(chain, Finding.OK, checked.events, signed.seq, f"as signed at {where}")


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


@dataclass(frozen=True)
class LogProblem:
    """Where the checkpoint log itself does not hold."""

    number: int | None
    line: int
    problem: str


@dataclass(frozen=True)
class LoggedCheckpoint:
    """One line of the checkpoint log, parsed."""

    body: dict[str, Any]
    hash: str
    signature: str
    key: str
    line: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return int(self.body["number"])


def check_log(entries: Iterable[LoggedCheckpoint],
              signature_ok: Mapping[str, bool]) -> list[LogProblem]:
    """The log's own integrity: each line's hash is its body's, its signature verifies
    (`signature_ok`, by hash, computed by the caller with the trusted keys), numbers run
    1, 2, 3… and each links to the previous line's hash."""
    problems: list[LogProblem] = []
    previous, expected = GENESIS, 1
    for entry in entries:
        number = entry.body.get("number")
        if body_hash(entry.body) != entry.hash:
            problems.append(LogProblem(number, entry.line, "its text does not match its hash"))
            return problems
        if not signature_ok.get(entry.hash, False):
            problems.append(LogProblem(number, entry.line,
                                       f"its signature does not verify with key {entry.key}"))
            return problems
        if number != expected:
            problems.append(LogProblem(number, entry.line,
                                       f"checkpoint {expected} was expected here"))
            return problems
        if entry.body.get("previous") != previous:
            problems.append(LogProblem(number, entry.line,
                                       "it does not link to the checkpoint before it"))
            return problems
        previous, expected = entry.hash, expected + 1
    return problems
