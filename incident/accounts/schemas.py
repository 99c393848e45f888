"""Users and API tokens as the API returns them; a token's secret is shown only once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from incident.kernel.auth import Role, TokenScope
from incident.kernel.schemas import Input, Instant, Name


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime


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
