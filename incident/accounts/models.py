"""Accounts' tables: users, API tokens and web sessions (stored as hashes), sign-in throttling."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(default="", max_length=200)
    must_change_password: bool = True
    active: bool = True
    created_at: datetime
    # The second factor (incident/accounts/totp.py): secrets sealed with a key derived from
    # BREACH_SECRET_KEY, never returned once enrolment is confirmed; the last time step
    # accepted, so a code cannot be used twice.
    totp_secret: str | None = Field(default=None, max_length=255)
    totp_pending: str | None = Field(default=None, max_length=255)
    totp_enabled_at: datetime | None = None
    totp_last_step: int | None = None
    # How the account came to be: "local" (made by an admin or at the console) or "sso"
    # (made at its first sign-in with the identity provider); the provider's subject
    # identifier once it has signed in that way.
    source: str = Field(default="local", max_length=10)
    sso_subject: str | None = Field(default=None, max_length=255, unique=True, index=True)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scope: str = Field(default="read", max_length=10)
    """incident.kernel.auth.TokenScope: read tokens keep only the role's read permissions."""
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the cookie's secret is stored."""

    __tablename__ = "web_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per e-mail address, known or not, so guessing is slowed for both."""

    __tablename__ = "login_throttle"

    email: str = Field(primary_key=True, max_length=254)
    failures: int = 0
    last_failure_at: datetime
    blocked_until: datetime | None = None
