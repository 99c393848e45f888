"""What every notifications test shares: nothing a test started outlives it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.delivery.processes import kill_left_running


@pytest.fixture(autouse=True)
def no_process_left_running() -> Iterator[None]:
    yield
    kill_left_running()
