"""The ranges every edge (API, pages, CLI) holds input to. Pure code, light to import for the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

ROW_ID_MAX = 2**31 - 1
"""The largest value a row id column (SQL INTEGER, 32-bit in PostgreSQL) can hold."""

COUNT_MAX = 10_000_000_000
"""More people or records than any breach can hold (the world's population, rounded up)."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No breach, deadline or token predates the Unix epoch: earlier is a typo or a number."""

LATEST = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
"""A year short of the calendar's end, so deadlines computed from an instant never overflow."""

INSTANT_FORMAT = "must be a date and time with an offset, as in 2026-03-10T09:30:00+01:00"


def instant_in_range(at: datetime) -> datetime:
    """`at` in UTC, or ValueError outside EARLIEST … LATEST (the year is checked before any
    conversion, which would overflow at the calendar's ends)."""
    if at.utcoffset() is None:
        raise ValueError(INSTANT_FORMAT)
    if not EARLIEST.year <= at.year <= LATEST.year or not EARLIEST <= at <= LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return at.astimezone(UTC)
