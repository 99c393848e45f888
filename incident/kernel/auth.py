"""Roles, what each may do, and the secrets that prove who is asking.

Passwords are hashed with argon2. API tokens and session cookies are long
random secrets, so a plain SHA-256 of them is safe to store and fast to look up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from incident.kernel.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    APPROVER = "approver"
    AUDITOR = "auditor"


class Permission(StrEnum):
    READ_INCIDENTS = "read_incidents"
    WRITE_INCIDENTS = "write_incidents"
    DISMISS_INCIDENTS = "dismiss_incidents"
    VERIFY_TIMELINE = "verify_timeline"
    # The auditor's evidence: the signed evidence pack of an incident, the breach register
    # (GDPR Art. 33(5)) and the deadline-compliance report.
    AUDIT_REPORTS = "audit_reports"
    READ_EVIDENCE = "read_evidence"
    READ_PERSONAL_DATA = "read_personal_data"
    MANAGE_INVENTORY = "manage_inventory"
    # Override assessments, waive obligations, approve notifications: the DPO's calls.
    APPROVE = "approve"
    MANAGE_ORGANISATION = "manage_organisation"
    MANAGE_USERS = "manage_users"
    SELF_SERVICE = "self_service"


_ALL = frozenset(Permission)
PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: _ALL,
    Role.RESPONDER: frozenset({Permission.READ_INCIDENTS, Permission.WRITE_INCIDENTS,
                               Permission.READ_EVIDENCE, Permission.READ_PERSONAL_DATA,
                               Permission.VERIFY_TIMELINE, Permission.SELF_SERVICE}),
    # Declaring that a breach is not reportable is the DPO's call, not the responder's.
    Role.APPROVER: frozenset({Permission.READ_INCIDENTS, Permission.WRITE_INCIDENTS,
                              Permission.DISMISS_INCIDENTS, Permission.APPROVE,
                              Permission.READ_EVIDENCE, Permission.READ_PERSONAL_DATA,
                              Permission.VERIFY_TIMELINE, Permission.AUDIT_REPORTS,
                              Permission.SELF_SERVICE}),
    # Auditors see counts and digests of affected people, never the people themselves.
    # Auditors check evidence against the hashes on the timeline, so they may read it.
    Role.AUDITOR: frozenset({Permission.READ_INCIDENTS, Permission.READ_EVIDENCE,
                             Permission.VERIFY_TIMELINE, Permission.AUDIT_REPORTS,
                             Permission.SELF_SERVICE}),
}


class TokenScope(StrEnum):
    """How much of its owner's role an API token carries."""

    READ = "read"
    WRITE = "write"


READ_PERMISSIONS = frozenset({Permission.READ_INCIDENTS, Permission.READ_EVIDENCE,
                              Permission.READ_PERSONAL_DATA, Permission.VERIFY_TIMELINE,
                              Permission.AUDIT_REPORTS, Permission.SELF_SERVICE})
"""What a read-scoped token keeps of its owner's role: looking, never changing.

SELF_SERVICE stays so a read token can answer "who am I" and list or revoke its owner's
tokens; the accounts service lets it create only read tokens (never a wider one)."""
SCOPE_PERMISSIONS: Mapping[TokenScope, frozenset[Permission]] = {
    TokenScope.READ: READ_PERMISSIONS,
    TokenScope.WRITE: _ALL,
}


def default_scope(role: Role) -> TokenScope:
    """The scope a new token gets when none is asked for: read for auditors, write otherwise."""
    return TokenScope.READ if role is Role.AUDITOR else TokenScope.WRITE


def allowed_scopes(role: Role) -> frozenset[TokenScope]:
    """Auditors look, never change: their tokens are read-only."""
    return frozenset({TokenScope.READ}) if role is Role.AUDITOR else frozenset(TokenScope)


def effective_scope(role: Role, stored: TokenScope) -> TokenScope:
    """The scope a token acts with: its own, but never wider than its owner's role allows
    (an auditor's token acts read-only even if it was stored as write)."""
    return stored if stored in allowed_scopes(role) else TokenScope.READ


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever performs an action: a signed-in user, a token's owner, or the operator's CLI.

    `scope` is set only for a token's owner: their permissions are the role's within it.
    """

    label: str
    role: Role
    user_id: int | None = None
    via: str = "session"  # session | token | cli | system
    scope: TokenScope | None = None
    token_id: int | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """The role's permissions, narrowed to the token's scope when acting by token."""
        granted = PERMISSIONS[self.role]
        return granted if self.scope is None else granted & SCOPE_PERMISSIONS[self.scope]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM = Actor(label="system", role=Role.ADMIN, via="system")
"""Breachdesk itself, for what it does on its own: recomputing obligations, reminders."""


def cli_actor(name: str) -> Actor:
    """The operator at the console has the database itself; they act with every permission."""
    return Actor(label=f"cli:{name}", role=Role.ADMIN, via="cli")


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        what = permission.value.replace('_', ' ')
        if permission in PERMISSIONS[actor.role]:
            raise Forbidden(f"a {actor.scope}-scoped API token may not {what}",
                            permission=permission.value)
        raise Forbidden(f"the role {actor.role} may not {what}", permission=permission.value)


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$KWKpENezN3yLK4FcqRrjNA$"
              "im4p8BlSAScdkMOOqR17KPWN9x/nUbqvl6xy+ambgN4")
"""Verified against when an e-mail is unknown, so timing does not tell which addresses exist.

The hash of "not a password anyone has" with the hasher's parameters, written out rather
than computed at import (argon2 is slow by design, and every command imports this module);
a test checks that it verifies and needs no rehash, so its cost equals a real user's."""

MIN_PASSWORD_LENGTH = 12


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "a password may have at most 1024 characters"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(18)


TOKEN_PREFIX = "bd_"  # noqa: S105  (a marker, not a secret)


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(value: str, key: str) -> str:
    mac = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(signed: str, key: str) -> str | None:
    value = signed.rpartition(".")[0]
    if not value or not hmac.compare_digest(sign(value, key), signed):
        return None
    return value


def normalise_email(email: str) -> str:
    return email.strip().lower()
