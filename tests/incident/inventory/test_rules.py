"""The inventory's pure rules: file formats, headers, each line checked into a row or an error,
category masks and the overlap of a holding with an exposure window. No database."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from incident.inventory.rules import (
    ALL_CATEGORIES,
    CATEGORY_BITS,
    FileError,
    Format,
    InventoryRow,
    RowChecker,
    RowError,
    System,
    categories_mask,
    category_names,
    epoch,
    overlaps,
    read_records,
    rows,
)
from incident.kernel.vocabulary import DataCategory

SYSTEMS = {"crm": System(id=1, categories=categories_mask(["contact"])),
           "shop": System(id=2, categories=categories_mask(["contact", "financial"]))}
HEADER = "external_id,email,name,locale,country,region,system,categories,first_seen,last_seen\n"


def checked(body: str, fmt: Format = Format.CSV, default_system: str | None = None
            ) -> list[InventoryRow | RowError]:
    """Every line of an import file, checked against SYSTEMS."""
    records = read_records(io.BytesIO(body.encode()), fmt, default_system=default_system)
    return list(rows(records, RowChecker(SYSTEMS, default_system)))


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(("name", "media_type", "expected"), [
    ("people.CSV", "text/csv; charset=utf-8", Format.CSV),
    ("people.jsonl", "application/x-ndjson", Format.JSONL),
    ("people.ndjson", "application/jsonlines", Format.JSONL),
    ("people.xlsx", "application/json", None),
])
def test_the_format_follows_the_file_name_or_media_type(name: str, media_type: str,
                                                        expected: Format | None) -> None:
    assert Format.of_filename(name) is expected
    assert Format.of_media_type(media_type) is expected


def test_categories_are_bits_and_back() -> None:
    assert len(set(CATEGORY_BITS.values())) == len(DataCategory)
    mask = categories_mask(["health", "contact", "contact"])
    assert category_names(mask) == sorted(["contact", "health"],
                                          key=[c.value for c in DataCategory].index)
    assert categories_mask([]) == 0 and category_names(0) == []
    assert category_names(ALL_CATEGORIES) == [c.value for c in DataCategory]
    with pytest.raises(ValueError, match="unknown data category 'gossip'"):
        categories_mask(["contact", "gossip"])


def test_a_good_line_becomes_a_row_in_utc_with_its_subject_normalised() -> None:
    [row] = checked(HEADER + "c-2,Ben@Example.COM,Ben Smith,en-US,us,us-ca,crm,"
                    "contact;health,2024-01-01,2024-12-31T23:00:00-01:00\n")
    assert row == InventoryRow(
        external_id="c-2", system_id=1, categories=categories_mask(["contact", "health"]),
        first_seen=at("2024-01-01T00:00:00+00:00"), last_seen=at("2025-01-01T00:00:00+00:00"),
        email="ben@example.com", name="Ben Smith", locale="en_US", country="US", region="US-CA")
    assert row.holding == ("c-2", 1, row.categories, row.first_seen, row.last_seen)
    assert row.subject == ("c-2", "ben@example.com", "Ben Smith", "en_US", "US", "US-CA", None)


def test_a_bare_last_seen_date_covers_its_whole_day_and_a_naive_time_is_utc() -> None:
    [row] = checked(HEADER + "c-1,,,,PL,,crm,,2025-06-01T08:30:00,2025-06-01\n")
    assert isinstance(row, InventoryRow)
    assert row.first_seen == at("2025-06-01T08:30:00+00:00")
    assert row.last_seen == at("2025-06-01T23:59:59.999999+00:00")
    assert (row.email, row.locale, row.region) == (None, None, None)
    assert row.categories == SYSTEMS["crm"].categories  # none named: the system's own


def test_columns_in_any_order_and_missing_ones_read_empty() -> None:
    [row] = checked("country,system,external_id\nDE,shop,c-3\n")
    assert isinstance(row, InventoryRow)
    assert (row.external_id, row.country, row.system_id, row.email, row.first_seen) == (
        "c-3", "DE", 2, None, None)


@pytest.mark.parametrize(("line", "reason"), [
    ("x,not-an-email,X,en,GB,,crm,,,", "invalid email 'not-an-email'"),
    ("x,,X,en,XX,,crm,,,", "unknown country 'XX'"),
    ("x,,X,en,US,DE-BY,crm,,,", "region DE-BY is not in country US"),
    ("x,,X,en,US,US-ZZ,crm,,,", "unknown region 'US-ZZ'"),
    ("x,,X,en,US,,crm,,2026-13-01,", "bad date in first_seen: '2026-13-01'"),
    ("x,,X,en,US,,nowhere,,,", "unknown system 'nowhere'"),
    ("x,,X,en,US,,,,,", "system is missing"),
    ("x,,X,en,US,,crm,gossip,,", "unknown data category 'gossip'"),
    ("x,,X,en,US,,crm,,2026-02-01,2026-01-01", "first_seen is after last_seen"),
    (",,X,en,US,,crm,,,", "external_id is missing"),
    ("x,,X,en,,,crm,,,", "country is missing"),
    ("x,,\"a\tb\",en,US,,crm,,,", "name contains a control character"),
    ("x,,a\u202eb,en,US,,crm,,,", "name contains a control character"),
    ("x\u200b,,ab,en,US,,crm,,,", "external_id contains a control character"),
    ("x,,X,en,US,,crm", "7 fields where the header has 10"),
])
def test_a_bad_line_is_an_error_naming_its_line_and_the_fault(line: str, reason: str) -> None:
    good = "ok,,,,GB,,crm,,,"
    result = checked(HEADER + f"{good}\n{line}\n{good}\n")
    assert [type(r) for r in result] == [InventoryRow, RowError, InventoryRow]
    error = result[1]
    assert isinstance(error, RowError) and error.line == 3
    assert reason in error.reason, error.reason
    assert str(error).startswith("line 3: ")


def test_the_lines_of_one_subject_may_hold_it_in_several_systems() -> None:
    result = checked(HEADER + "c-1,a@example.com,A,pl,PL,,crm,,,\nc-1,a@example.com,A,pl,PL,,shop,,,\n"
                     "c-1,a@example.com,A,pl,XX,,shop,,,\n")
    assert [(r.system_id, r.categories) for r in result if isinstance(r, InventoryRow)] == [
        (1, SYSTEMS["crm"].categories), (2, SYSTEMS["shop"].categories)]
    assert isinstance(result[2], RowError) and "unknown country 'XX'" in result[2].reason


@pytest.mark.parametrize(("body", "message"), [
    ("", "the file is empty"),
    ("id,email\n1,a@example.com\n", "unknown column 'id'"),
    ("external_id,country,country,system\n1,PL,PL,crm\n", "column 'country' appears twice"),
    ("external_id,email,system\n1,a@example.com,crm\n", "missing column 'country'"),
    ("external_id,country\n1,PL\n", "the file has no system column"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(body: str, message: str) -> None:
    with pytest.raises(FileError, match=message):
        checked(body)


def test_bytes_that_are_not_utf8_refuse_the_file() -> None:
    records = read_records(io.BytesIO(HEADER.encode() + b"x,\xff\xfe,,,PL,,crm,,,\n"), Format.CSV)
    with pytest.raises(FileError, match="not UTF-8"):
        list(records)


def test_a_default_system_stands_in_for_a_missing_column() -> None:
    [row] = checked("external_id,country\ne-1,IE\n", default_system="shop")
    assert isinstance(row, InventoryRow) and row.system_id == 2


def test_json_lines_take_strings_or_a_list_of_categories() -> None:
    lines = [json.dumps({"external_id": "e-1", "country": "IE", "system": "crm",
                         "categories": ["identity", "contact"], "email": None}),
             "", "not json", json.dumps(["a", "list"]),
             json.dumps({"external_id": "e-2", "country": "IE", "salary": "1"}),
             json.dumps({"external_id": "e-3", "country": "IE", "locale": 7})]
    result = checked("\n".join(lines) + "\n", Format.JSONL)
    first = result[0]
    assert isinstance(first, InventoryRow)
    assert first.categories == categories_mask(["contact", "identity"]) and first.email is None
    assert [(e.line, e.reason) for e in result[1:] if isinstance(e, RowError)] == [
        (3, "not a JSON object (invalid JSON)"), (4, "not a JSON object"),
        (5, "unknown field 'salary'"), (6, "locale must be a string")]


def test_epoch_is_whole_utc_seconds() -> None:
    assert epoch(None) is None
    assert epoch(datetime(1970, 1, 2, tzinfo=UTC)) == 86_400


@pytest.mark.parametrize(("holding", "window", "expected"), [
    ((10, 20), (20, 30), True),   # touching at the window's start counts
    ((30, 40), (20, 30), True),   # touching at its end counts
    ((10, 19), (20, 30), False),
    ((31, 40), (20, 30), False),
    ((None, 19), (20, 30), False),
    ((10, None), (20, 30), True),  # still held
    ((31, None), (None, 30), False),
    ((None, None), (20, 30), True),
    ((10, 19), (None, None), True),  # no window: every holding
    ((10, 19), (20, None), False),
])
def test_a_holding_overlaps_a_window_with_open_bounds_and_inclusive_edges(
        holding: tuple[int | None, int | None], window: tuple[int | None, int | None],
        expected: bool) -> None:
    assert overlaps(*holding, *window) is expected
