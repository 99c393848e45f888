"""The JSON API of accounts: who am I, users, and API tokens."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from incident.accounts import service as accounts
from incident.accounts.schemas import TokenCreate, TokenCreated, TokenPublic, UserPublic
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.injected import Db, Now, Who
from incident.kernel.params import RowId


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", guards=[requires(Permission.SELF_SERVICE)])
    async def me(self, db: Db, actor: Who) -> UserPublic:
        user = await accounts.user_by_email(db, actor.label)
        return UserPublic.model_validate(user)

    @get("/users", guards=[requires(Permission.MANAGE_USERS)])
    async def list_users(self, db: Db, actor: Who) -> list[UserPublic]:
        return [UserPublic.model_validate(u) for u in await accounts.list_users(db, actor=actor)]

    @get("/tokens", guards=[requires(Permission.SELF_SERVICE)])
    async def list_tokens(self, db: Db, clock: Now, actor: Who) -> list[TokenPublic]:
        listed = await accounts.list_tokens(db, clock=clock, actor=actor)
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
