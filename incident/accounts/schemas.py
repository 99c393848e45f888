"""Users and API tokens as the API returns them; a token's secret is shown only once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from incident.accounts import rules
from incident.accounts.models import User
from incident.kernel.auth import Role, TokenScope
from incident.kernel.schemas import Email, Input, Instant, Name
from incident.kernel.settings import Settings


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime
    totp_enabled_at: datetime | None = Field(default=None, description="when the second "
                                             "factor for the web sign-in was set up, if it was")
    source: str = Field(default="local", description="local (made by an admin or at the "
                        "console) or sso (made at its first sign-in with the identity provider)")
    sign_in: list[Literal["password", "sso"]] = Field(description=(
        "how they sign in on the web under this service's settings: password, sso (the "
        "identity provider), both, or neither"))
    break_glass: bool = Field(description="the address BREACH_BREAK_GLASS names: its password "
                              "still works while passwords are off")


def sign_in_of(user: User, settings: Settings) -> rules.SignInWays:
    """How `user` signs in under `settings` (see `rules.sign_in_ways`)."""
    return rules.sign_in_ways(user.email, has_password=bool(user.password_hash),
                              linked=user.sso_subject is not None,
                              single_sign_on=settings.single_sign_on,
                              local_sign_in=settings.local_sign_in == "on",
                              break_glass=settings.break_glass)


def user_public(user: User, settings: Settings) -> UserPublic:
    ways = sign_in_of(user, settings)
    return UserPublic.model_validate({
        **{name: getattr(user, name) for name in UserPublic.model_fields
           if name not in ("sign_in", "break_glass")},
        "sign_in": ways.methods, "break_glass": ways.break_glass})


class UserCreate(Input):
    email: Email
    role: Role
    name: str = Field(default="", max_length=200)


class UserCreated(UserPublic):
    password: str = Field(description="the one-time password, shown once; to be changed at "
                                      "first sign-in")


def json_boolean(value: Any) -> Any:
    """Only a JSON boolean says yes or no: not 0, not "false" (Litestar's lax validation would
    take them)."""
    if value is not None and type(value) is not bool:
        raise ValueError("must be true or false (a JSON boolean, not text or a number)")
    return value


class UserChange(Input):
    role: Role | None = None
    active: Annotated[bool | None, BeforeValidator(json_boolean)] = Field(
        default=None, description="false disables the user: their sessions end and their "
                                  "tokens stop working")


class PasswordReset(BaseModel):
    user: UserPublic
    password: str = Field(description="a new one-time password, shown once")


class SessionPublic(BaseModel):
    id: str = Field(description="the session's handle (a hash, never the cookie's secret)")
    user_id: int
    email: str
    created_at: datetime
    expires_at: datetime


class TokenCreate(Input):
    name: Name
    scope: TokenScope | None = Field(default=None, description="read or write; by default read for "
                                "auditors, write for others")
    expires_at: Instant | None = Field(default=None, description="after this the token fails")


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str = Field(description="active, revoked, expired or user disabled")
    active: bool = Field(description="whether a request with the token would be let in")

    @classmethod
    def of(cls, token: Any, state: str) -> TokenPublic:
        """A token row with its effective state (the accounts service decides it)."""
        fields = {name: getattr(token, name) for name in cls.model_fields
                  if name not in ("state", "active", "token")}
        return cls(**fields, state=state, active=state == "active")


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once; only a hash is stored")
