"""The JSON API of accounts: who am I, users and their roles, password resets, second factors,
sessions and API tokens."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from incident.accounts import service as accounts
from incident.accounts.schemas import (
    PasswordReset,
    SessionPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserChange,
    UserCreate,
    UserCreated,
    UserPublic,
    user_public,
)
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import also_answers
from incident.kernel.params import RowId

Everyone = Annotated[bool, QueryParameter(description="admins: everyone's, not only one's own")]
SessionId = Annotated[str, PathParameter(max_length=64)]


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", guards=[requires(Permission.SELF_SERVICE)])
    async def me(self, db: Db, actor: Who, settings: Config) -> UserPublic:
        user = await accounts.user_by_email(db, actor.label)
        assert user is not None
        return user_public(user, settings)

    @get("/users", guards=[requires(Permission.MANAGE_USERS)])
    async def list_users(self, db: Db, actor: Who, settings: Config) -> list[UserPublic]:
        """Everyone, with how each signs in (`sign_in`, `break_glass`) under these settings."""
        return [user_public(u, settings) for u in await accounts.list_users(db, actor=actor)]

    @post("/users", guards=[requires(Permission.MANAGE_USERS)], status_code=HTTP_201_CREATED,
          opt=also_answers(409))
    async def create_user(self, db: Db, clock: Now, actor: Who, settings: Config,
                          data: JSONBody[UserCreate]) -> UserCreated:
        user, password = await accounts.create_user(db, clock=clock, actor=actor,
                                                    email=data.email, role=data.role,
                                                    name=data.name)
        return UserCreated(**user_public(user, settings).model_dump(), password=password)

    @patch("/users/{user_id:int}", guards=[requires(Permission.MANAGE_USERS)])
    async def change_user(self, db: Db, clock: Now, actor: Who, settings: Config,
                          user_id: RowId, data: JSONBody[UserChange]) -> UserPublic:
        user = await accounts.change_user(db, clock=clock, actor=actor, user_id=user_id,
                                          role=data.role, active=data.active)
        return user_public(user, settings)

    @post("/users/{user_id:int}/password-reset", guards=[requires(Permission.MANAGE_USERS)],
          status_code=200)
    async def reset_password(self, db: Db, clock: Now, actor: Who, settings: Config,
                             user_id: RowId) -> PasswordReset:
        user, password = await accounts.reset_password(db, clock=clock, actor=actor,
                                                       user_id=user_id)
        return PasswordReset(user=user_public(user, settings), password=password)

    @delete("/users/{user_id:int}/totp", guards=[requires(Permission.MANAGE_USERS)],
            status_code=200)
    async def reset_totp(self, db: Db, clock: Now, actor: Who, settings: Config,
                         user_id: RowId) -> UserPublic:
        user = await accounts.reset_totp(db, clock=clock, actor=actor, user_id=user_id)
        return user_public(user, settings)

    @get("/sessions", guards=[requires(Permission.SELF_SERVICE)])
    async def list_sessions(self, db: Db, clock: Now, actor: Who,
                            all: Everyone = False) -> list[SessionPublic]:
        listed = await accounts.list_sessions(db, clock=clock, actor=actor, all_users=all)
        return [SessionPublic(id=s.id, user_id=s.user_id, email=s.email,
                              created_at=s.created_at, expires_at=s.expires_at) for s in listed]

    @delete("/sessions/{session_id:str}", guards=[requires(Permission.SELF_SERVICE)])
    async def revoke_session(self, db: Db, clock: Now, actor: Who,
                             session_id: SessionId) -> None:
        await accounts.revoke_session(db, clock=clock, actor=actor, session_id=session_id)

    @get("/tokens", guards=[requires(Permission.SELF_SERVICE)])
    async def list_tokens(self, db: Db, clock: Now, actor: Who,
                          all: Everyone = False) -> list[TokenPublic]:
        listed = await accounts.list_tokens(db, clock=clock, actor=actor, all_users=all)
        return [TokenPublic.of(t.token, t.state) for t in listed]

    @post("/tokens", guards=[requires(Permission.SELF_SERVICE)], status_code=HTTP_201_CREATED)
    async def create_token(self, db: Db, clock: Now, actor: Who,
                           data: JSONBody[TokenCreate]) -> TokenCreated:
        token, secret = await accounts.create_token(db, clock=clock, actor=actor, email=None,
                                                    name=data.name, scope=data.scope,
                                                    expires_at=data.expires_at)
        return TokenCreated(**TokenPublic.of(token, "active").model_dump(), token=secret)

    @delete("/tokens/{token_id:int}", guards=[requires(Permission.SELF_SERVICE)], status_code=200)
    async def revoke_token(self, db: Db, clock: Now, actor: Who,
                           token_id: RowId) -> TokenPublic:
        token = await accounts.revoke_token(db, clock=clock, actor=actor, token_id=token_id)
        return TokenPublic.of(token, "revoked")
