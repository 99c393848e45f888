"""Single sign-on's pure rules: a provider's claims to a role, who may use a password, and how
each person signs in."""

from __future__ import annotations

from typing import Any

import pytest

from incident.accounts.rules import (
    claim_values,
    mapped_role,
    parse_role_mapping,
    password_allowed,
    sign_in_ways,
    sign_in_words,
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


GLASS = "root@example.com"


@pytest.mark.parametrize("who, settings, methods, glass, words", [
    # Passwords on, no provider: a local person uses their password.
    (dict(email="kim@example.com", has_password=True, linked=False, source="local"),
     dict(single_sign_on=False, local_sign_in=True), ["password"], False, "local password"),
    # A provider too: the local person keeps their password until they sign in with it.
    (dict(email="kim@example.com", has_password=True, linked=False, source="local"),
     dict(single_sign_on=True, local_sign_in=True), ["password"], False, "local password"),
    (dict(email="kim@example.com", has_password=True, linked=True, source="local"),
     dict(single_sign_on=True, local_sign_in=True), ["password", "sso"], False,
     "local password and single sign-on (SSO), role from the identity provider"),
    # Made by the provider at their first sign-in: no password here.
    (dict(email="ana@example.com", has_password=False, linked=True, source="sso"),
     dict(single_sign_on=True, local_sign_in=True), ["sso"], False,
     "single sign-on (SSO): made at first sign-in, role from the identity provider"),
    # Passwords off: a local person's password no longer works; the provider links them.
    (dict(email="kim@example.com", has_password=True, linked=False, source="local"),
     dict(single_sign_on=True, local_sign_in=False), ["sso"], False,
     "single sign-on (SSO), linked at first sign-in"),
    # ... but for the break-glass admin, whatever case the setting is written in.
    (dict(email="Root@Example.com", has_password=True, linked=False, source="local"),
     dict(single_sign_on=True, local_sign_in=False), ["password"], True,
     "local password; break-glass admin (a password while passwords are off)"),
    # A provider's person where the provider is no longer set up: no way in here.
    (dict(email="ana@example.com", has_password=False, linked=True, source="sso"),
     dict(single_sign_on=False, local_sign_in=True), [], False,
     "none here: no password, and single sign-on is not set up"),
])
def test_how_each_person_signs_in_follows_their_account_and_the_settings(
        who: dict[str, Any], settings: dict[str, bool], methods: list[str], glass: bool,
        words: str) -> None:
    ways = sign_in_ways(who["email"], has_password=who["has_password"], linked=who["linked"],
                        break_glass=GLASS, **settings)
    assert (ways.methods, ways.break_glass) == (methods, glass)
    assert sign_in_words(ways, source=who["source"]) == words
    # The password it shows is exactly the one the sign-in accepts.
    assert ways.password == (who["has_password"] and password_allowed(
        who["email"], local_sign_in=settings["local_sign_in"], break_glass=GLASS))
