"""The database kernel: the schema revision it writes out is the head of the migration history."""

from __future__ import annotations

from incident.kernel.db import SCHEMA_REVISION, migration_heads


def test_the_schema_revision_is_the_head_of_the_migration_history() -> None:
    assert migration_heads() == [SCHEMA_REVISION]
