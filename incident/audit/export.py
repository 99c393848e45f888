"""An incident's timeline as JSON Lines or CSV, streamed event by event exactly as stored."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from incident.timeline.models import TimelineEvent
from incident.timeline.rules import format_instant

EXPORT_COLUMNS = ["seq", "at", "actor", "kind", "payload", "prev_hash", "hash"]


def export_row(event: TimelineEvent) -> dict[str, Any]:
    """The stored fields verbatim (the payload as its hashed JSON text), so exports re-verify."""
    return {"seq": event.seq, "at": format_instant(event.at), "actor": event.actor,
            "kind": event.kind, "payload": event.payload, "prev_hash": event.prev_hash,
            "hash": event.hash}


async def export_jsonl(events: AsyncIterator[TimelineEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield json.dumps(export_row(event), ensure_ascii=False) + "\n"


async def export_csv(events: AsyncIterator[TimelineEvent]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    async for event in events:
        writer.writerow(export_row(event))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
