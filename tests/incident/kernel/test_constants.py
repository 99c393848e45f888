"""Values the kernel writes out instead of computing at import, checked against their source."""

from __future__ import annotations

from incident.kernel import auth
from incident.kernel.db import SCHEMA_REVISION, migration_heads


def test_the_schema_revision_is_the_head_of_the_migration_history() -> None:
    assert migration_heads() == [SCHEMA_REVISION]


def test_the_dummy_hash_costs_what_a_real_password_check_costs() -> None:
    assert auth.verify_password(auth.DUMMY_HASH, "not a password anyone has")
    assert not auth.verify_password(auth.DUMMY_HASH, "any other password")
    # Same parameters as a fresh hash: verifying it takes as long as verifying a user's.
    assert not auth._hasher.check_needs_rehash(auth.DUMMY_HASH)
    assert auth.DUMMY_HASH.split("$")[:4] == auth.hash_password("x" * 12).split("$")[:4]
