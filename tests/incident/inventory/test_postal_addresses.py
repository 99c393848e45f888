"""A person's postal address in the subject import: lines separated by line breaks (in CSV,
inside one quoted field), checked line by line, stored and updated like the other columns."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from incident.inventory.models import Subject
from incident.inventory.rules import (
    Format,
    InventoryRow,
    RowChecker,
    RowError,
    System,
    read_records,
    rows,
)
from incident.kernel.db import session_factory
from tests.factories import Person
from tests.incident.inventory.samples import CSV_HEADER, import_csv, make_system

SYSTEMS = {"crm": System(id=1, categories=1)}
HEADER = CSV_HEADER.rstrip("\n") + ",postal_address\n"


def checked(body: str, fmt: Format = Format.CSV) -> list[InventoryRow | RowError]:
    records = read_records(io.BytesIO(body.encode()), fmt)
    return list(rows(records, RowChecker(SYSTEMS)))


def test_an_address_in_a_quoted_field_keeps_its_lines_stripped_and_without_blank_ones() -> None:
    [row] = checked(HEADER + 'c-1,,Anna,pl,PL,,crm,,,,"ul. Długa 5 m. 3  \r\n\r\n00-238 Warszawa"\n')
    assert isinstance(row, InventoryRow)
    assert row.postal_address == "ul. Długa 5 m. 3\n00-238 Warszawa"
    assert row.subject[-1] == row.postal_address


def test_files_without_the_column_import_as_before_with_no_address() -> None:
    [row] = checked(CSV_HEADER + "c-1,,Anna,pl,PL,,crm,,,\n")
    assert isinstance(row, InventoryRow) and row.postal_address is None
    [moved] = checked("postal_address,external_id,country,system\n\"Main St 1\nSpringfield\","
                      "c-2,US,crm\n")
    assert isinstance(moved, InventoryRow) and moved.postal_address == "Main St 1\nSpringfield"


@pytest.mark.parametrize(("address", "reason"), [
    ("\n".join(f"line {n}" for n in range(1, 8)), "postal_address has 7 lines; at most 6"),
    ("Main St 1\n" + "x" * 101, "postal_address line 2 longer than 100 characters"),
    ("Main St\t1", "postal_address line 1 contains a control character"),
    ("Main St 1\nSpring\u202efield", "postal_address line 2 contains a control character"),
    ("Main St 1\u2028Springfield", "postal_address line 1 contains a control character"),
    ("Main St 1\x00", "postal_address line 1 contains a control character"),
])
def test_a_bad_address_rejects_its_line_with_the_reason(address: str, reason: str) -> None:
    good = "ok,,,,GB,,crm,,,,"
    result = checked(HEADER + f'{good}\nx,,X,en,US,,crm,,,,"{address}"\n{good}\n')
    assert [type(r) for r in result] == [InventoryRow, RowError, InventoryRow]
    error = result[1]
    assert isinstance(error, RowError) and reason in error.reason, error
    assert error.line == 3  # the line of the file the rejected line starts on


def test_six_lines_of_a_hundred_characters_are_accepted() -> None:
    address = "\n".join(str(n) * 100 for n in range(1, 7))
    [row] = checked(HEADER + f'c-1,,,,DE,,crm,,,,"{address}"\n')
    assert isinstance(row, InventoryRow) and row.postal_address == address


def test_json_lines_take_the_address_as_text_or_a_list_of_lines() -> None:
    lines = [json.dumps({"external_id": "e-1", "country": "IE", "system": "crm",
                         "postal_address": "1 Main Street\nDublin 2"}),
             json.dumps({"external_id": "e-2", "country": "IE", "system": "crm",
                         "postal_address": ["2 Main Street", "Dublin 2"]}),
             json.dumps({"external_id": "e-3", "country": "IE", "system": "crm",
                         "postal_address": ["x"] * 7})]
    first, second, third = checked("\n".join(lines) + "\n", Format.JSONL)
    assert isinstance(first, InventoryRow) and first.postal_address == "1 Main Street\nDublin 2"
    assert isinstance(second, InventoryRow) and second.postal_address == "2 Main Street\nDublin 2"
    assert isinstance(third, RowError) and third.line == 3 and "7 lines" in third.reason


async def addresses(engine: AsyncEngine) -> dict[str, str | None]:
    async with session_factory(engine)() as db:
        return {s.external_id: s.postal_address for s in (await db.exec(select(Subject))).all()}


async def test_an_import_stores_addresses_and_a_new_import_updates_them(
        client: httpx.AsyncClient, people: dict[str, Person], engine: AsyncEngine) -> None:
    admin = people["admin"]
    await make_system(client, admin, "crm", ["contact"])
    body = HEADER + ('c-1,,Anna Nowak,pl,PL,,crm,,,,"ul. Długa 5\n00-238 Warszawa"\n'
                     "c-2,bernd@example.com,Bernd,de,DE,,crm,,,,\n"
                     'c-3,,Carla,es,ES,,crm,,,,"Calle Mayor 1\tBajo\n28013 Madrid"\n'
                     'c-4,,Dora,de,DE,,crm,,,,"' + "\n".join(["x"] * 7) + '"\n'
                     "c-5,,Emil,de,DE,,crm,,,,Hauptstr. 1\n")
    report = (await import_csv(client, admin, body)).json()
    assert (report["rows"], report["imported"], report["rejected"]) == (5, 3, 2)
    assert [(e["line"], e["reason"]) for e in report["errors"]] == [
        (5, "postal_address line 1 contains a control character (tab, direction override, "
            "zero-width or similar; lines are separated by line breaks only)"),
        (7, "postal_address has 7 lines; at most 6")]
    assert await addresses(engine) == {"c-1": "ul. Długa 5\n00-238 Warszawa", "c-2": None,
                                       "c-5": "Hauptstr. 1"}

    again = HEADER + ('c-1,,Anna Nowak,pl,PL,,crm,,,,"ul. Krótka 7\n00-001 Warszawa"\n'
                      'c-2,bernd@example.com,Bernd,de,DE,,crm,,,,"Unter den Linden 1\n10117 Berlin"\n'
                      "c-5,,Emil,de,DE,,crm,,,,\n")
    assert (await import_csv(client, admin, again)).json()["imported"] == 3
    assert await addresses(engine) == {"c-1": "ul. Krótka 7\n00-001 Warszawa",
                                       "c-2": "Unter den Linden 1\n10117 Berlin", "c-5": None}
