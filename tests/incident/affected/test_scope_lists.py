"""A scope form for someone who is shown no people keeps the stored include and exclude lists
(use-case level, both lanes), and the bar chart of a snapshot's counts (pure)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from incident.affected import service as affected
from incident.affected.chart import MAX_BARS, OTHERS, bar_chart
from incident.affected.schemas import AffectedScope
from incident.inventory import service as inventory
from incident.kernel.clock import FixedClock
from incident.kernel.db import session_factory
from incident.lifecycle import service as incident_service
from incident.lifecycle.schemas import IncidentCreate
from incident.timeline import service as journal
from tests.factories import CONSOLE, START


async def test_keeping_the_lists_changes_the_rest_of_the_scope_only(engine: AsyncEngine,
                                                                    clock: FixedClock) -> None:
    sessions = session_factory(engine)
    async with sessions() as db:
        await inventory.save_system(db, clock=clock, actor=CONSOLE, key="crm", name="CRM",
                                    data_categories=["contact"])
    async with sessions() as db:
        incident = await incident_service.create_incident(
            db, clock=clock, actor=CONSOLE,
            rules=incident_service.Rules(zone=ZoneInfo("UTC"), skew=timedelta(minutes=5)),
            data=IncidentCreate(title="t", kind="other", detected_at=START, aware_at=START))
    async with sessions() as db:
        await affected.set_scope(db, clock=clock, actor=CONSOLE, key=incident.id,
                                 scope=AffectedScope(include=["c-1", "ben@example.com"],
                                                     exclude=["c-4"]))
    async with sessions() as db:
        changed = await affected.set_scope(
            db, clock=clock, actor=CONSOLE, key=incident.id, keep_lists=True,
            scope=AffectedScope(systems=["crm"], data_categories=["contact"], include=["x"]))
    assert changed.scope is not None
    assert changed.scope["systems"] == ["crm"] and changed.scope["data_categories"] == ["contact"]
    assert (changed.scope["include"], changed.scope["exclude"]) == (["c-1", "ben@example.com"],
                                                                    ["c-4"])
    async with sessions() as db:
        events = await journal.events(db, str(incident.id))
    last = json.loads([e for e in events if e.kind == "scope_set"][-1].payload)
    assert (last["include"], last["exclude"]) == (2, 1)  # counts, never the people


def test_the_bar_chart_scales_to_the_largest_group_and_sums_the_smallest() -> None:
    chart = bar_chart({"PL": 5, "DE": 10, "FR": 0, "US-CA": 5})
    assert [(b.label, b.count) for b in chart.bars] == [("DE", 10), ("PL", 5), ("US-CA", 5)]
    longest = chart.bars[0].width
    assert chart.bars[1].width == chart.bars[2].width == longest / 2
    assert chart.words == "DE: 10; PL: 5; US-CA: 5"
    many = bar_chart({f"r{i:02}": 100 - i for i in range(12)})
    assert len(many.bars) == MAX_BARS
    assert many.bars[-1].label == OTHERS
    assert many.bars[-1].count == sum(100 - i for i in range(MAX_BARS - 1, 12))
    assert bar_chart({}).bars == ()
