"""The hash-linked timeline, as pure functions.

Each event's hash is SHA-256 over the previous hash and the canonical JSON of
the event, so changing, deleting, inserting or reordering a stored event breaks
the chain at that point. Payloads refer to people by id, never by their data,
so erasing a person never breaks a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text for a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def format_instant(at: datetime) -> str:
    """UTC, microseconds, a `Z`: one spelling per instant, so hashes do not depend on offsets."""
    if at.tzinfo is None:
        raise ValueError("timeline instants must be time-zone aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Link:
    """The stored fields of one event, as verification sees them."""

    chain: str
    seq: int
    at: datetime
    actor: str
    kind: str
    payload: str
    prev_hash: str
    hash: str


def link_hash(*, prev_hash: str, chain: str, seq: int, at: datetime, actor: str, kind: str,
              payload: str) -> str:
    body = canonical_json({"chain": chain, "seq": seq, "at": format_instant(at), "actor": actor,
                           "kind": kind, "payload": payload})
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def next_link(*, head_seq: int, head_hash: str, chain: str, at: datetime, actor: str, kind: str,
              payload: Mapping[str, Any]) -> Link:
    """The link that follows a chain's head."""
    text = canonical_json(dict(payload))
    seq = head_seq + 1
    digest = link_hash(prev_hash=head_hash, chain=chain, seq=seq, at=at, actor=actor, kind=kind,
                       payload=text)
    return Link(chain=chain, seq=seq, at=at, actor=actor, kind=kind, payload=text,
                prev_hash=head_hash, hash=digest)


@dataclass(frozen=True, slots=True)
class Verification:
    chain: str
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "ok": self.ok, "events": self.events,
                "head_seq": self.head_seq, "head_hash": self.head_hash,
                "first_bad_seq": self.first_bad_seq, "problem": self.problem}


def verify_chain(chain: str, links: Iterable[Link], *, head_seq: int | None,
                 head_hash: str | None, after: tuple[int, str] = (0, GENESIS)) -> Verification:
    """Recompute a chain from its first link (or from the link after `after`, a (seq, hash)
    already known to hold); name the first link that does not hold.

    `links` must come ordered by seq. The recorded head (seq and hash) catches a
    chain cut short at its end, which recomputing the links alone cannot.
    """
    prev_hash, expected_seq, count = after[1], after[0] + 1, after[0]
    last_hash = after[1]

    def broken(seq: int, problem: str) -> Verification:
        return Verification(chain=chain, ok=False, events=count, head_seq=expected_seq - 1,
                            head_hash=last_hash, first_bad_seq=seq, problem=problem)

    for link in links:
        if link.seq != expected_seq:
            if link.seq > expected_seq:
                return broken(expected_seq, f"event {expected_seq} is missing "
                              f"(the next stored event is {link.seq})")
            return broken(link.seq, f"event {link.seq} is out of order or repeated")
        if link.prev_hash != prev_hash:
            return broken(link.seq, "its link to the previous event does not match")
        recomputed = link_hash(prev_hash=prev_hash, chain=chain, seq=link.seq, at=link.at,
                               actor=link.actor, kind=link.kind, payload=link.payload)
        if recomputed != link.hash:
            return broken(link.seq, "its content does not match its hash")
        prev_hash = last_hash = link.hash
        expected_seq += 1
        count += 1
    if head_seq is not None and head_seq != count:
        return broken(count + 1, f"the chain ends at event {count} but its recorded head is "
                      f"event {head_seq}: events were removed from its end")
    if head_hash is not None and count and head_hash != last_hash:
        return broken(count, "the last event does not match the recorded head")
    return Verification(chain=chain, ok=True, events=count, head_seq=count, head_hash=last_hash)
