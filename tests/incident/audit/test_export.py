"""A timeline exported as JSON Lines or CSV keeps every stored field verbatim, so an auditor can
verify the chain again from the export alone. No database: events are built as stored."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from incident.audit.export import EXPORT_COLUMNS, export_csv, export_jsonl
from incident.timeline.models import TimelineEvent
from incident.timeline.rules import GENESIS, Link, next_link, verify_chain

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
PAYLOADS: list[dict[str, Any]] = [
    {"text": "first, with a comma"}, {"text": 'quoted "words"\nand a line break'},
    {"text": "ünïcödé ✓", "n": 3}]


def stored(chain: str = "c") -> list[TimelineEvent]:
    """Three linked events as the database would hold them, the middle one at a UTC+2 offset."""
    events: list[TimelineEvent] = []
    seq, head = 0, GENESIS
    for i, payload in enumerate(PAYLOADS):
        at = T0 + timedelta(minutes=i)
        if i == 1:
            at = at.astimezone(timezone(timedelta(hours=2)))
        link = next_link(head_seq=seq, head_hash=head, chain=chain, at=at,
                         actor="a@example.com", kind="note", payload=payload)
        events.append(TimelineEvent(chain=chain, seq=link.seq, at=link.at, actor=link.actor,
                                    kind=link.kind, payload=link.payload,
                                    prev_hash=link.prev_hash, hash=link.hash))
        seq, head = link.seq, link.hash
    return events


async def source(events: list[TimelineEvent]) -> AsyncIterator[TimelineEvent]:
    for event in events:
        yield event


async def collect(chunks: AsyncIterator[str]) -> list[str]:
    return [chunk async for chunk in chunks]


def reverified(rows: list[dict[str, str]], chain: str = "c") -> tuple[bool, int | None]:
    links = [Link(chain=chain, seq=int(r["seq"]), at=datetime.fromisoformat(r["at"]),
                  actor=r["actor"], kind=r["kind"], payload=r["payload"],
                  prev_hash=r["prev_hash"], hash=r["hash"]) for r in rows]
    result = verify_chain(chain, links, head_seq=len(links), head_hash=links[-1].hash)
    return result.ok, result.first_bad_seq


async def test_json_lines_hold_one_event_a_line_with_the_stored_fields() -> None:
    events = stored()
    lines = await collect(export_jsonl(source(events)))
    assert len(lines) == 3 and all(line.endswith("\n") and line.count("\n") == 1
                                   for line in lines)
    rows = [json.loads(line) for line in lines]
    assert [list(row) for row in rows] == [EXPORT_COLUMNS] * 3
    assert [row["payload"] for row in rows] == [e.payload for e in events]  # the hashed text
    assert rows[1]["at"] == "2026-03-29T00:31:00.000000Z"  # one spelling, in UTC
    assert "ünïcödé ✓" in lines[2]  # kept readable, not escaped
    assert reverified(rows) == (True, None)


async def test_csv_has_a_header_then_one_record_per_event_and_reverifies() -> None:
    events = stored()
    chunks = await collect(export_csv(source(events)))
    assert chunks[0].startswith(",".join(EXPORT_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert [int(row["seq"]) for row in rows] == [1, 2, 3]
    assert [row["payload"] for row in rows] == [e.payload for e in events]
    assert reverified(rows) == (True, None)


async def test_a_changed_export_no_longer_verifies() -> None:
    rows = [json.loads(line) for line in await collect(export_jsonl(source(stored())))]
    rows[1]["payload"] = rows[1]["payload"].replace("quoted", "altered")
    assert reverified(rows) == (False, 2)


async def test_an_empty_timeline_exports_only_the_csv_header() -> None:
    assert await collect(export_jsonl(source([]))) == []
    assert "".join(await collect(export_csv(source([])))) == ",".join(EXPORT_COLUMNS) + "\r\n"
