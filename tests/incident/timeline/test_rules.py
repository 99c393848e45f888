"""The hash chain as pure functions: every kind of tampering is named at the right event."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.timeline.rules import GENESIS, Link, canonical_json, format_instant, next_link, verify_chain

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def chain(n: int, name: str = "c") -> list[Link]:
    links: list[Link] = []
    seq, head = 0, GENESIS
    for i in range(n):
        link = next_link(head_seq=seq, head_hash=head, chain=name, at=T0 + timedelta(minutes=i),
                         actor="a@example.com", kind="note", payload={"text": f"event {i}"})
        links.append(link)
        seq, head = link.seq, link.hash
    return links


def verify(links: list[Link], head: Link | None = None) -> tuple[bool, int | None]:
    last = head or (links[-1] if links else None)
    result = verify_chain("c", links, head_seq=last.seq if last else 0,
                          head_hash=last.hash if last else None)
    return result.ok, result.first_bad_seq


def test_canonical_json_is_one_spelling() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_instants_have_one_spelling_whatever_the_offset() -> None:
    berlin = T0.astimezone(timezone(timedelta(hours=2)))
    assert format_instant(berlin) == format_instant(T0) == "2026-03-29T00:30:00.000000Z"
    with pytest.raises(ValueError):
        format_instant(datetime(2026, 1, 1))


def test_an_intact_chain_verifies() -> None:
    assert verify(chain(5)) == (True, None)
    assert verify([]) == (True, None)


def test_changed_payload_is_named() -> None:
    links = chain(5)
    links[2] = dataclasses.replace(links[2], payload='{"text":"rewritten"}')
    assert verify(links) == (False, 3)


@pytest.mark.parametrize("field", ["actor", "kind", "at"])
def test_changed_metadata_is_named(field: str) -> None:
    links = chain(4)
    value: Any = T0 + timedelta(days=1) if field == "at" else "forged"
    links[1] = dataclasses.replace(links[1], **{field: value})
    assert verify(links) == (False, 2)


def test_deleted_event_is_named() -> None:
    links = chain(5)
    del links[1]
    result = verify_chain("c", links, head_seq=5, head_hash=links[-1].hash)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "missing" in (result.problem or "")


def test_inserted_event_is_named() -> None:
    links = chain(4)
    forged = next_link(head_seq=1, head_hash=links[0].hash, chain="c", at=T0, actor="x",
                       kind="note", payload={"text": "backdated"})
    renumbered = [links[0], forged] + [dataclasses.replace(x, seq=x.seq + 1) for x in links[1:]]
    assert verify(renumbered) == (False, 3)


def test_reordered_events_are_named() -> None:
    links = chain(4)
    swapped = [links[0], dataclasses.replace(links[2], seq=2), dataclasses.replace(links[1], seq=3),
               links[3]]
    assert verify(swapped, head=links[3]) == (False, 2)


def test_recomputed_tail_is_caught_by_the_recorded_head() -> None:
    links = chain(5)
    assert verify(links[:3], head=links[4]) == (False, 4)


def test_a_wholly_recomputed_chain_needs_the_head_to_be_forged_too() -> None:
    # Rewriting every hash from event 2 on keeps the links consistent; only the
    # recorded head (and, later, signed checkpoints) reveal it.
    links = chain(3)
    forged = [links[0]]
    for old in links[1:]:
        forged.append(next_link(head_seq=forged[-1].seq, head_hash=forged[-1].hash, chain="c",
                                at=old.at, actor=old.actor, kind=old.kind,
                                payload={"text": "rewritten"}))
    result = verify_chain("c", forged, head_seq=3, head_hash=links[-1].hash)
    assert (result.ok, result.first_bad_seq) == (False, 3)


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_single_byte_change_breaks_the_chain_at_that_event(n: int, data: st.DataObject) -> None:
    links = chain(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    text = links[index].payload
    position = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    changed = text[:position] + ("X" if text[position] != "X" else "Y") + text[position + 1:]
    links[index] = dataclasses.replace(links[index], payload=changed)
    assert verify(links, head=links[-1]) == (False, index + 1)
