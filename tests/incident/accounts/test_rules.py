"""Single sign-on's pure rules: a provider's claims to a role, and who may use a password."""

from __future__ import annotations

import pytest

from incident.accounts.rules import (
    claim_values,
    mapped_role,
    parse_role_mapping,
    password_allowed,
)
from incident.kernel.auth import Role

MAPPING = parse_role_mapping("breach-admins:admin, breach-responders:responder,"
                             "dpo:approver,audit:auditor")


def test_the_mapping_reads_value_role_pairs() -> None:
    assert MAPPING == {"breach-admins": Role.ADMIN, "breach-responders": Role.RESPONDER,
                       "dpo": Role.APPROVER, "audit": Role.AUDITOR}
    # A value may hold colons (a URN, a group path): the role follows the last one.
    assert parse_role_mapping("urn:example:group:sec:responder") == {
        "urn:example:group:sec": Role.RESPONDER}
    assert parse_role_mapping("") == {}


@pytest.mark.parametrize("text, problem", [
    ("breach-admins", "is not value:role"),
    (":admin", "is not value:role"),
    ("breach-admins:boss", "unknown role 'boss'"),
    ("team:admin,team:auditor", "mapped twice"),
])
def test_a_mapping_that_cannot_be_read_says_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_role_mapping(text)


def test_claim_values_come_from_a_string_a_list_or_a_nested_claim() -> None:
    assert claim_values({"groups": ["a", 3, "b"]}, "groups") == ["a", "b"]
    assert claim_values({"role": "dpo"}, "role") == ["dpo"]
    assert claim_values({"realm_access": {"roles": ["audit"]}}, "realm_access.roles") == [
        "audit"]
    assert claim_values({"groups": {"a": 1}}, "groups") == []
    assert claim_values({}, "groups") == []


def test_the_most_powerful_mapped_role_wins_and_no_mapped_value_means_no_access() -> None:
    assert mapped_role({"groups": ["audit", "breach-admins"]}, "groups", MAPPING) is Role.ADMIN
    assert mapped_role({"groups": ["audit", "dpo"]}, "groups", MAPPING) is Role.APPROVER
    assert mapped_role({"groups": ["breach-responders"]}, "groups", MAPPING) is Role.RESPONDER
    assert mapped_role({"groups": ["marketing"]}, "groups", MAPPING) is None
    assert mapped_role({}, "groups", MAPPING) is None
    # Values are compared exactly: a group of another case is another group.
    assert mapped_role({"groups": ["Breach-Admins"]}, "groups", MAPPING) is None


def test_with_local_sign_in_off_only_the_break_glass_admin_uses_a_password() -> None:
    assert password_allowed("kim@example.com", local_sign_in=True, break_glass="")
    assert not password_allowed("kim@example.com", local_sign_in=False,
                                break_glass="admin@example.com")
    assert password_allowed(" Admin@Example.com", local_sign_in=False,
                            break_glass="admin@example.com")
    assert not password_allowed("", local_sign_in=False, break_glass="")
