"""The inventory's counts and the rules of the systems form, at the use-case level (both lanes):
how many people, by system, by jurisdiction (region where given, else country) and by locale."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.inventory import service as inventory
from incident.inventory.rules import Format
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.kernel.errors import Conflict, Forbidden, NotFound
from tests.factories import CONSOLE
from tests.incident.inventory.samples import PEOPLE_CSV

AUDITOR = Actor(label="auditor@example.com", role=Role.AUDITOR, user_id=99)


async def test_counts_by_system_jurisdiction_and_locale(engine: AsyncEngine,
                                                        clock: FixedClock) -> None:
    sessions = session_factory(engine)
    async with sessions() as db:
        empty = await inventory.inventory_counts(db, actor=AUDITOR)
    assert (empty.subjects, empty.holdings, empty.by_jurisdiction, empty.by_locale) == (0, 0, [], [])
    for key, name in (("crm", "Customer records"), ("shop", "Web shop"), ("hr", "Payroll")):
        async with sessions() as db:
            await inventory.save_system(db, clock=clock, actor=CONSOLE, key=key, name=name,
                                        data_categories=["contact"])
    async with sessions() as db:
        await inventory.import_subjects(db, clock=clock, actor=CONSOLE, fmt=Format.CSV,
                                        stream=io.BytesIO(PEOPLE_CSV.encode()))
    async with sessions() as db:
        counts = await inventory.inventory_counts(db, actor=AUDITOR)  # counts name nobody
    assert (counts.subjects, counts.holdings) == (4, 5)
    # c-1 is in crm and shop; c-2 and c-4 in crm; c-3 in shop; nobody in hr.
    assert counts.by_system == [("crm", "Customer records", 3), ("shop", "Web shop", 2),
                                ("hr", "Payroll", 0)]
    # c-2 lives in California (region US-CA); the others by country.
    assert counts.by_jurisdiction == [("DE", 1), ("FR", 1), ("PL", 1), ("US-CA", 1)]
    # Locales as the import normalised them; Dana (c-4) gave none.
    assert counts.by_locale == [(None, 1), ("de", 1), ("en_US", 1), ("pl", 1)]


async def test_adding_a_system_refuses_a_key_in_use_and_changing_one_needs_it_to_exist(
        engine: AsyncEngine, clock: FixedClock) -> None:
    sessions = session_factory(engine)
    async with sessions() as db:
        await inventory.save_system(db, clock=clock, actor=CONSOLE, key="crm", name="CRM",
                                    data_categories=["contact"], new=True)
    async with sessions() as db:
        with pytest.raises(Conflict, match="exists already"):
            await inventory.save_system(db, clock=clock, actor=CONSOLE, key="crm", name="Other",
                                        data_categories=[], new=True)
    async with sessions() as db:
        kept = await inventory.get_system(db, actor=CONSOLE, key="crm")
        assert (kept.name, kept.data_categories) == ("CRM", ["contact"])
        with pytest.raises(NotFound):
            await inventory.get_system(db, actor=CONSOLE, key="ghost")
    async with sessions() as db:  # without `new`, the same call changes it (PUT semantics)
        await inventory.save_system(db, clock=clock, actor=CONSOLE, key="crm", name="CRM",
                                    data_categories=["contact", "financial"])
    async with sessions() as db:
        changed = await inventory.get_system(db, actor=CONSOLE, key="crm")
        assert changed.data_categories == ["contact", "financial"]
        with pytest.raises(Forbidden):
            await inventory.save_system(db, clock=clock, actor=AUDITOR, key="hr", name="HR",
                                        data_categories=[], new=True)


async def test_changing_a_system_refuses_a_key_no_system_has(engine: AsyncEngine,
                                                             clock: FixedClock) -> None:
    async with session_factory(engine)() as db:
        with pytest.raises(NotFound):
            await inventory.save_system(db, clock=clock, actor=CONSOLE, key="ghost", name="G",
                                        data_categories=[], existing=True)
    async with session_factory(engine)() as db:
        assert await inventory.list_systems(db, actor=CONSOLE) == []
