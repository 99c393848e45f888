"""How many sending processes `breach serve` starts (their life is tested with real processes
in tests/notifications/scheduler/test_restart.py)."""

from __future__ import annotations

import os

import pytest

from notifications.delivery.workers import how_many


def test_one_on_sqlite_one_per_core_up_to_four_on_postgresql_unless_set() -> None:
    assert how_many("auto", "sqlite") == 1  # one writer at a time: more would only wait
    assert how_many("auto", "postgresql") == max(1, min((os.cpu_count() or 1) - 1, 4))
    assert how_many(0, "postgresql") == 0  # sent from the web process itself
    assert how_many(3, "sqlite") == 3


@pytest.mark.parametrize(("cores", "processes"), [(1, 1), (2, 1), (3, 2), (16, 4)])
def test_postgresql_leaves_a_core_to_the_service_and_the_database(cores: int, processes: int
                                                                   ) -> None:
    assert how_many("auto", "postgresql", cores) == processes
