"""Passwords: the dummy hash that unknown addresses are checked against, written out instead of
computed at import, costs what a real check costs."""

from __future__ import annotations

from incident.kernel import auth


def test_the_dummy_hash_costs_what_a_real_password_check_costs() -> None:
    assert auth.verify_password(auth.DUMMY_HASH, "not a password anyone has")
    assert not auth.verify_password(auth.DUMMY_HASH, "any other password")
    # Same parameters as a fresh hash: verifying it takes as long as verifying a user's.
    assert not auth._hasher.check_needs_rehash(auth.DUMMY_HASH)
    assert auth.DUMMY_HASH.split("$")[:4] == auth.hash_password("x" * 12).split("$")[:4]
