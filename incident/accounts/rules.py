"""Pure rules of single sign-on: which role a provider's claims give, and who may still sign
in with a password. No database, no network: the service and the pages apply them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident.kernel.auth import Role

ROLE_RANK = (Role.ADMIN, Role.APPROVER, Role.RESPONDER, Role.AUDITOR)
"""Most to least powerful: a person in several mapped groups gets the most powerful role."""


def parse_role_mapping(text: str) -> dict[str, Role]:
    """`BREACH_OIDC_ROLES`: `value:role` pairs, comma-separated, such as
    `breach-admins:admin,breach-responders:responder`. A value may itself hold colons (the
    role follows the last one); a value named twice is an error, not a silent choice."""
    mapping: dict[str, Role] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        value, colon, role = part.strip().rpartition(":")
        value = value.strip()
        if not colon or not value:
            raise ValueError(f"{part.strip()!r} is not value:role (such as "
                             "breach-admins:admin)")
        try:
            chosen = Role(role.strip())
        except ValueError:
            raise ValueError(f"unknown role {role.strip()!r} in {part.strip()!r}: use "
                             f"{', '.join(r.value for r in Role)}") from None
        if value in mapping and mapping[value] is not chosen:
            raise ValueError(f"{value!r} is mapped twice, to {mapping[value]} and {chosen}")
        mapping[value] = chosen
    return mapping


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The values of a claim: a string, a list of strings, or (a dotted name such as
    `realm_access.roles`) one nested in objects. Anything else gives none."""
    found: Any = claims
    for name in claim.split("."):
        found = found.get(name) if isinstance(found, Mapping) else None
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [v for v in found if isinstance(v, str)]
    return []


def mapped_role(claims: Mapping[str, Any], claim: str,
                mapping: Mapping[str, Role]) -> Role | None:
    """The most powerful role any value of `claim` maps to; None (no access) when none does."""
    granted = {mapping[v] for v in claim_values(claims, claim) if v in mapping}
    return next((role for role in ROLE_RANK if role in granted), None)


def password_allowed(email: str, *, local_sign_in: bool, break_glass: str) -> bool:
    """Whether `email` may sign in with a password: everyone while local sign-in is on;
    otherwise only the break-glass admin (compared as the accounts compare addresses:
    trimmed, lower case)."""
    if local_sign_in:
        return True
    wanted = break_glass.strip().lower()
    return bool(wanted) and email.strip().lower() == wanted
