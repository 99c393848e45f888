"""Pure rules of single sign-on: which role a provider's claims give, and who may still sign
in with a password. No database, no network: the service and the pages apply them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class SignInWays:
    """How a person signs in on the web under the current settings."""

    password: bool
    """A password of theirs opens a session (a one-time one included)."""
    sso: bool
    """The identity provider does: linked to it, or (no password) linked at first sign-in."""
    break_glass: bool
    """The one address whose password still works while passwords are off."""
    linked: bool
    """Signed in with the provider before (its subject identifier is kept)."""

    @property
    def methods(self) -> list[str]:
        return [name for name, on in (("password", self.password), ("sso", self.sso)) if on]


def sign_in_ways(email: str, *, has_password: bool, linked: bool, single_sign_on: bool,
                 local_sign_in: bool, break_glass: str) -> SignInWays:
    """How `email` signs in: with a password when they have one and passwords are allowed
    them (`password_allowed`); with single sign-on when it is set up and they are linked to
    the provider, or have no password here (they are linked at their first sign-in, when the
    provider vouches for the address). The break-glass admin is the address named in
    BREACH_BREAK_GLASS."""
    password = has_password and password_allowed(email, local_sign_in=local_sign_in,
                                                 break_glass=break_glass)
    wanted = break_glass.strip().lower()
    return SignInWays(password=password, sso=single_sign_on and (linked or not password),
                      break_glass=bool(wanted) and email.strip().lower() == wanted,
                      linked=linked)


def sign_in_words(ways: SignInWays, *, source: str) -> str:
    """The ways in, as the people page and `breach users list` say them."""
    if ways.sso:
        if source == "sso":
            how = "single sign-on (SSO): made at first sign-in, role from the identity provider"
        elif ways.linked:
            how = "single sign-on (SSO), role from the identity provider"
        else:
            how = "single sign-on (SSO), linked at first sign-in"
        if ways.password:
            how = "local password and " + how
    elif ways.password:
        how = "local password"
    else:
        how = "none here: no password, and single sign-on is not set up"
    return how + ("; break-glass admin (a password while passwords are off)"
                  if ways.break_glass else "")
