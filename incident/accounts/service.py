"""Use cases for people and their credentials: users, API tokens, sign-in and sessions.

Changes land on the organisation's timeline chain, like incident changes on
theirs. Secrets are returned once to the caller and only their hashes stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, text, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts.models import ApiToken, LoginThrottle, User, WebSession
from incident.kernel import auth
from incident.kernel.auth import Actor, Permission, Role
from incident.kernel.clock import Clock
from incident.kernel.db import is_postgresql, transaction
from incident.kernel.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from incident.kernel.text import single_line_problem
from incident.timeline.models import ORGANISATION_CHAIN
from incident.timeline.service import append_event

FREE_FAILURES = 5
"""Failed sign-ins allowed before each further one blocks the address for a while."""
MAX_BLOCK = timedelta(minutes=15)

TokenState = Literal["active", "revoked", "expired", "user disabled"]


def user_actor(user: User, via: str) -> Actor:
    assert user.id is not None
    return Actor(label=user.email, role=Role(user.role), user_id=user.id, via=via)


def _valid_email(email: str) -> str:
    email = auth.normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email or len(email) > 254 or "\n" in email:
        raise Invalid.fields([("email", "is not an e-mail address")])
    return email


async def create_user(db: AsyncSession, *, clock: Clock, actor: Actor, email: str, role: str,
                      name: str = "", first: bool = False) -> tuple[User, str]:
    """Create a user with a one-time password, returned once; they must change it at sign-in.

    `first`: only while there is no user at all (the bootstrap admin). Checked under a lock
    in the transaction that inserts, so two bootstraps at once make one admin, not two.
    """
    auth.require(actor, Permission.MANAGE_USERS)
    email = _valid_email(email)
    if problem := single_line_problem(name):
        raise Invalid.fields([("name", problem)])
    try:
        chosen = Role(role)
    except ValueError:
        raise Invalid.fields([("role", f"must be one of {', '.join(r.value for r in Role)}")]
                             ) from None
    password = auth.generate_password()
    now = clock.now()
    async with transaction(db):
        if first:
            if is_postgresql(db):  # SQLite's write transactions are serial already
                await db.exec(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))  # type: ignore[call-overload]
            if await count_users(db) > 0:
                raise Conflict("there are users already: act as one of them to create more")
        if await _user_by_email(db, email) is not None:
            raise Conflict(f"a user with the e-mail {email} already exists")
        user = User(email=email, name=name.strip()[:200], role=chosen.value,
                    password_hash=auth.hash_password(password), must_change_password=True,
                    created_at=now)
        db.add(user)
        await db.flush()
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor, kind="user_created",
                           payload={"user_id": user.id, "role": chosen.value})
    return user, password


async def list_users(db: AsyncSession, *, actor: Actor) -> list[User]:
    auth.require(actor, Permission.MANAGE_USERS)
    return list((await db.exec(select(User).order_by(User.id))).all())  # type: ignore[arg-type]


async def set_active(db: AsyncSession, *, clock: Clock, actor: Actor, email: str,
                     active: bool) -> User:
    """Disable or re-enable a user; disabling also ends their sessions (tokens stop working)."""
    auth.require(actor, Permission.MANAGE_USERS)
    now = clock.now()
    async with transaction(db):
        user = await _user_by_email(db, auth.normalise_email(email))
        if user is None:
            raise NotFound(f"no user with the e-mail {email}")
        user.active = active
        if not active:
            await db.exec(delete(WebSession).where(WebSession.user_id == user.id))  # type: ignore[arg-type]
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="user_enabled" if active else "user_disabled",
                           payload={"user_id": user.id})
    return user


async def _user_by_email(db: AsyncSession, email: str) -> User | None:
    query = select(User).where(User.email == email)
    return (await db.exec(query)).one_or_none()


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    return await _user_by_email(db, auth.normalise_email(email))


async def change_password(db: AsyncSession, *, clock: Clock, actor: Actor, current: str,
                          new: str) -> None:
    problem = auth.password_problem(new)
    if problem:
        raise Invalid.fields([("new_password", problem)])
    now = clock.now()
    async with transaction(db):
        user = await db.get(User, actor.user_id)
        if user is None or not auth.verify_password(user.password_hash, current):
            raise Invalid.fields([("current_password", "is not your current password")])
        if current == new:
            raise Invalid.fields([("new_password", "must differ from the current one")])
        user.password_hash = auth.hash_password(new)
        user.must_change_password = False
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="password_changed", payload={"user_id": user.id})


# --- API tokens -------------------------------------------------------------------------------

async def create_token(db: AsyncSession, *, clock: Clock, actor: Actor, email: str | None,
                       name: str, scope: str | None = None,
                       expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new API token for `email` (admins, or the console) or for the actor themself.

    Without a scope it gets its owner's default (read for auditors, write for others), or
    read when asked for with a read token; auditors may hold only read tokens, and a read
    token may create only read tokens. An expiry, if given, must lie in the future.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid.fields([("name", "must have 1 to 100 characters")])
    if problem := single_line_problem(name):
        raise Invalid.fields([("name", problem)])
    if scope is not None and scope not in set(auth.TokenScope):
        raise Invalid.fields([("scope", "must be read or write")])
    now = clock.now()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise Invalid.fields([("expires_at", "must be a time zone-aware time in the future")])
    secret = auth.generate_token()
    async with transaction(db):
        owner = await _token_owner(db, actor, email)
        role = Role(owner.role)
        chosen = (auth.TokenScope(scope) if scope is not None
                  else auth.TokenScope.READ if actor.scope is auth.TokenScope.READ
                  else auth.default_scope(role))
        if chosen not in auth.allowed_scopes(role):
            raise Forbidden(f"a user with the role {role} may hold only read-scoped tokens; "
                            "ask for scope read", permission="write_scope")
        if actor.scope is auth.TokenScope.READ and chosen is not auth.TokenScope.READ:
            # A token never mints a wider one: a leaked read token stays read-only.
            raise Forbidden("a read-scoped API token may create only read-scoped tokens",
                            permission="write_scope")
        token = ApiToken(user_id=owner.id, name=name, prefix=secret[:10],  # type: ignore[arg-type]
                         token_hash=auth.secret_digest(secret), scope=chosen.value,
                         created_at=now, expires_at=expires_at)
        db.add(token)
        await db.flush()
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="token_created",
                           payload={"token_id": token.id, "user_id": owner.id, "name": name,
                                    "scope": chosen.value,
                                    "expires_at": expires_at.isoformat() if expires_at else None})
    return token, secret


async def _token_owner(db: AsyncSession, actor: Actor, email: str | None) -> User:
    if email is None or (actor.user_id is not None and email == actor.label):
        auth.require(actor, Permission.SELF_SERVICE)
        owner = await db.get(User, actor.user_id) if actor.user_id is not None else None
    else:
        auth.require(actor, Permission.MANAGE_USERS)
        owner = await _user_by_email(db, auth.normalise_email(email))
    if owner is None:
        raise NotFound(f"no user with the e-mail {email}")
    if not owner.active:
        raise Conflict(f"the user {owner.email} is disabled")
    return owner


@dataclass(frozen=True, slots=True)
class TokenListing:
    """A token as listed: its row and its effective state (what a request with it would meet)."""

    token: ApiToken
    state: TokenState


def token_state(token: ApiToken, *, user_active: bool, now: datetime) -> TokenState:
    """active, or why not: revoked first, then a disabled owner, then expiry."""
    if token.revoked_at is not None:
        return "revoked"
    if not user_active:
        return "user disabled"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


async def list_tokens(db: AsyncSession, *, clock: Clock, actor: Actor, email: str | None = None,
                      all_users: bool = False) -> list[TokenListing]:
    query = (select(ApiToken, User.active).join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
             .order_by(ApiToken.id))  # type: ignore[arg-type]
    if all_users or (email is not None and email != actor.label):
        auth.require(actor, Permission.MANAGE_USERS)
        if email is not None:
            owner = await _user_by_email(db, auth.normalise_email(email))
            if owner is None:
                raise NotFound(f"no user with the e-mail {email}")
            query = query.where(ApiToken.user_id == owner.id)
    else:
        auth.require(actor, Permission.SELF_SERVICE)
        query = query.where(ApiToken.user_id == actor.user_id)
    now = clock.now()
    return [TokenListing(token, token_state(token, user_active=active, now=now))
            for token, active in (await db.exec(query)).all()]


async def revoke_token(db: AsyncSession, *, clock: Clock, actor: Actor, token_id: int) -> ApiToken:
    now = clock.now()
    async with transaction(db):
        token = await db.get(ApiToken, token_id)
        if token is None or (token.user_id != actor.user_id and
                             not actor.can(Permission.MANAGE_USERS)):
            raise NotFound(f"no token {token_id}")
        if token.user_id == actor.user_id:
            auth.require(actor, Permission.SELF_SERVICE)
        if token.revoked_at is None:
            token.revoked_at = now
            await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                               kind="token_revoked", payload={"token_id": token.id})
    return token


async def actor_for_token(db: AsyncSession, *, clock: Clock, secret: str) -> Actor | None:
    """Who a bearer token belongs to, or None for an unknown, revoked, expired or disabled one.

    The actor carries the token's effective scope (narrowed by its owner's role) and id.
    """
    if not secret.startswith(auth.TOKEN_PREFIX) or len(secret) > 200:
        return None
    query = (select(ApiToken, User).join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
             .where(ApiToken.token_hash == auth.secret_digest(secret)))
    row = (await db.exec(query)).first()
    if row is None:
        return None
    token, user = row
    now = clock.now()
    if token_state(token, user_active=user.active, now=now) != "active":
        return None
    # Recorded at most once a minute: a busy client should not turn every request into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token_id = token.id
        await db.commit()  # end the read: SQLite cannot turn it into a write under contention
        async with transaction(db):
            await db.exec(update(ApiToken).where(ApiToken.id == token_id)  # type: ignore[arg-type]
                          .values(last_used_at=now))
    assert user.id is not None
    role = Role(user.role)
    return Actor(label=user.email, role=role, user_id=user.id, via="token",
                 scope=auth.effective_scope(role, auth.TokenScope(token.scope)), token_id=token.id)


# --- sign-in and sessions ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SignedIn:
    cookie_secret: str
    csrf_token: str
    user: User


async def sign_in(db: AsyncSession, *, clock: Clock, email: str, password: str,
                  session_hours: int) -> SignedIn:
    """Check a password under the throttle and open a session.

    Unknown and known addresses take the same path and time, so sign-in does
    not reveal who has an account.
    """
    email = auth.normalise_email(email)[:254]
    now = clock.now()
    async with transaction(db):
        throttle = await db.get(LoginThrottle, email)
        if throttle and throttle.blocked_until and throttle.blocked_until > now:
            wait = int((throttle.blocked_until - now).total_seconds()) + 1
            raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} seconds",
                                  retry_after=wait)
        user = await _user_by_email(db, email)
        ok = auth.verify_password(user.password_hash if user else auth.DUMMY_HASH, password)
        if not ok or user is None or not user.active:
            _record_failure(db, throttle, email, now)
        else:
            if throttle is not None:
                await db.delete(throttle)
            secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            db.add(WebSession(id_hash=auth.secret_digest(secret), user_id=user.id,  # type: ignore[arg-type]
                              csrf_token=csrf, created_at=now,
                              expires_at=now + timedelta(hours=session_hours)))
            await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                               actor=user_actor(user, "session"), kind="signed_in",
                               payload={"user_id": user.id})
            return SignedIn(secret, csrf, user)
    raise Unauthenticated("the e-mail or password is wrong")


def _record_failure(db: AsyncSession, throttle: LoginThrottle | None, email: str,
                    now: datetime) -> None:
    if throttle is None:
        throttle = LoginThrottle(email=email, failures=0, last_failure_at=now)
    throttle.failures += 1
    throttle.last_failure_at = now
    excess = throttle.failures - FREE_FAILURES
    if excess >= 0:
        throttle.blocked_until = now + min(timedelta(seconds=30 * 2**min(excess, 10)), MAX_BLOCK)
    db.add(throttle)


async def session_for(db: AsyncSession, *, clock: Clock, secret: str
                      ) -> tuple[Actor, WebSession, User] | None:
    query = (select(WebSession, User).join(User, WebSession.user_id == User.id)  # type: ignore[arg-type]
             .where(WebSession.id_hash == auth.secret_digest(secret)))
    row = (await db.exec(query)).first()
    if row is None:
        return None
    session, user = row
    if session.expires_at <= clock.now() or not user.active:
        return None
    return user_actor(user, "session"), session, user


async def sign_out(db: AsyncSession, *, secret: str) -> None:
    async with transaction(db):
        await db.exec(delete(WebSession).where(
            WebSession.id_hash == auth.secret_digest(secret)))  # type: ignore[arg-type]


async def count_users(db: AsyncSession) -> int:
    return int((await db.exec(select(func.count()).select_from(User))).one())


async def actor_for_cli(db: AsyncSession, *, clock: Clock, email: str | None,
                        token: str | None) -> Actor:
    """Who acts at the command line: the active user named by an API token (checked exactly as
    a bearer token is) or by e-mail, as the API would name them, with via="cli"."""
    if token is not None:
        actor = await actor_for_token(db, clock=clock, secret=token)
        if actor is None:
            raise Unauthenticated("BREACH_TOKEN is not a valid API token (unknown, revoked, "
                                  "expired, or its user is disabled)")
        if email is not None and auth.normalise_email(email) != actor.label:
            raise Unauthenticated(f"BREACH_TOKEN belongs to {actor.label}, not to {email}")
        return replace(actor, via="cli")
    user = await user_by_email(db, email or "")
    if user is None:
        raise Unauthenticated(f"no user with the e-mail {email}")
    if not user.active:
        raise Unauthenticated(f"the user {user.email} is disabled")
    return user_actor(user, "cli")
