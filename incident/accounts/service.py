"""Use cases for people and their credentials: users, API tokens, sign-in and sessions.

Changes land on the organisation's timeline chain, like incident changes on
theirs. Secrets are returned once to the caller and only their hashes stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import bindparam, delete, func, text, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts import rules, totp
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

ANONYMOUS = Actor(label="anonymous", role=Role.AUDITOR, via="session")
"""Who a refused sign-in is recorded as when it names nobody known (the address typed is
not kept: it is whatever a stranger typed)."""


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
    if len(name.strip()) > 200:
        raise Invalid.fields([("name", "may have at most 200 characters")])
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


async def user_by_id(db: AsyncSession, *, actor: Actor, user_id: int) -> User:
    auth.require(actor, Permission.MANAGE_USERS)
    return await _named_user(db, user_id=user_id)


async def change_user(db: AsyncSession, *, clock: Clock, actor: Actor,
                      user_id: int | None = None, email: str | None = None,
                      role: str | None = None, active: bool | None = None) -> User:
    """Change a user's role, their being active, or both, in one transaction: both or neither.

    Disabling also ends their sessions (their tokens stop working); their open sessions act
    with a new role from their next request (the role is read on every request). The last
    active admin can be neither demoted nor disabled. A role already held appends no event.
    """
    auth.require(actor, Permission.MANAGE_USERS)
    chosen = _chosen_role(role) if role is not None else None
    now = clock.now()
    async with transaction(db):
        await _lock_users(db)
        user = await _named_user(db, user_id=user_id, email=email)
        before = Role(user.role)
        after_role = chosen or before
        after_active = user.active if active is None else active
        if (before is Role.ADMIN and user.active
                and (after_role is not Role.ADMIN or not after_active)
                and await _active_admins(db) <= 1):
            raise Conflict(f"{user.email} is the last active admin: make someone else an "
                           "admin first")
        if after_role is not before:
            user.role = after_role.value
            await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                               kind="user_role_changed",
                               payload={"user_id": user.id, "from": before.value,
                                        "to": after_role.value})
        if active is not None:
            user.active = active
            if not active:
                await db.exec(delete(WebSession).where(WebSession.user_id == user.id))  # type: ignore[arg-type]
            await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                               kind="user_enabled" if active else "user_disabled",
                               payload={"user_id": user.id})
    return user


def _chosen_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid.fields([("role", f"must be one of {', '.join(r.value for r in Role)}")]
                             ) from None


async def set_active(db: AsyncSession, *, clock: Clock, actor: Actor, active: bool,
                     email: str | None = None, user_id: int | None = None) -> User:
    """Disable or re-enable a user (named by e-mail or id): see `change_user`."""
    return await change_user(db, clock=clock, actor=actor, user_id=user_id, email=email,
                             active=active)


async def set_role(db: AsyncSession, *, clock: Clock, actor: Actor, role: str,
                   user_id: int | None = None, email: str | None = None) -> User:
    """Give a user another role: see `change_user`."""
    return await change_user(db, clock=clock, actor=actor, user_id=user_id, email=email,
                             role=role)


async def reset_password(db: AsyncSession, *, clock: Clock, actor: Actor,
                         user_id: int | None = None,
                         email: str | None = None) -> tuple[User, str]:
    """A new one-time password for a user who forgot theirs, returned once: their sessions
    end, their sign-in throttle is lifted, and they must choose a password at next sign-in."""
    auth.require(actor, Permission.MANAGE_USERS)
    password = auth.generate_password()
    digest = auth.hash_password(password)
    now = clock.now()
    async with transaction(db):
        user = await _named_user(db, user_id=user_id, email=email)
        if not user.active:
            raise Conflict(f"the user {user.email} is disabled: enable them first")
        if user.source == "sso":
            raise Conflict(f"{user.email} signs in with the identity provider, which keeps "
                           "their password")
        user.password_hash = digest
        user.must_change_password = True
        await db.exec(delete(WebSession).where(WebSession.user_id == user.id))  # type: ignore[arg-type]
        await db.exec(delete(LoginThrottle).where(LoginThrottle.email == user.email))  # type: ignore[arg-type]
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="password_reset", payload={"user_id": user.id})
    return user, password


async def _lock_users(db: AsyncSession) -> None:
    """On PostgreSQL, serialise changes that count admins (two admins demoting each other at
    once must leave one); SQLite's write transactions are serial already."""
    if is_postgresql(db):
        await db.exec(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))  # type: ignore[call-overload]


async def _active_admins(db: AsyncSession) -> int:
    query = select(func.count()).select_from(User).where(
        User.role == Role.ADMIN.value, User.active == True)  # noqa: E712
    return int((await db.exec(query)).one())


async def _named_user(db: AsyncSession, *, email: str | None = None,
                      user_id: int | None = None) -> User:
    user = (await db.get(User, user_id) if user_id is not None
            else await _user_by_email(db, auth.normalise_email(email or "")))
    if user is None:
        raise NotFound(f"no user {user_id}" if user_id is not None
                       else f"no user with the e-mail {email}")
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


_TOKEN_AND_OWNER = (select(ApiToken, User).join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
                    .where(ApiToken.token_hash == bindparam("digest")))
"""Built once: every API request looks its token up, and building the query cost more
than running it."""


async def actor_for_token(db: AsyncSession, *, clock: Clock, secret: str) -> Actor | None:
    """Who a bearer token belongs to, or None for an unknown, revoked, expired or disabled one.

    The actor carries the token's effective scope (narrowed by its owner's role) and id.
    """
    if not secret.startswith(auth.TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = (await db.exec(_TOKEN_AND_OWNER, params={"digest": auth.secret_digest(secret)})).first()
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


@dataclass(frozen=True, slots=True)
class SecondFactorNeeded:
    """The password was right; a code is needed before a session opens.

    `proof` ties the next step to the password as it is now (a reset in between voids it);
    `enrol_secret` is set when the person's role requires a second factor they have not
    set up yet: they set it up now, confirmed by its first code."""

    user_id: int
    email: str
    proof: str
    enrol_secret: str | None = None


def _proof(user: User) -> str:
    return auth.secret_digest(f"{user.id}:{user.password_hash}")[:32]


PASSWORDS_OFF = ("passwords are turned off here: sign in with {provider} (only the "
                 "break-glass admin signs in with a password)")


async def sign_in(db: AsyncSession, *, clock: Clock, email: str, password: str,
                  session_hours: int, totp_roles: frozenset[str] = frozenset(),
                  key: str = "", local_sign_in: bool = True, break_glass: str = "",
                  provider: str = "single sign-on") -> SignedIn | SecondFactorNeeded:
    """Check a password under the throttle and open a session, or ask for the second factor
    (enrolled, or required for the user's role by BREACH_REQUIRE_TOTP_FOR).

    Unknown and known addresses take the same path and time, so sign-in does
    not reveal who has an account. With local sign-in off (BREACH_LOCAL_SIGN_IN), only the
    break-glass admin's password opens a session; whoever else gives a right password is
    told to use the identity provider. A failure is on the organisation timeline (an
    unknown address by no name: it is whatever was typed).
    """
    email = auth.normalise_email(email)[:254]
    now = clock.now()
    refusal = "the e-mail or password is wrong"
    async with transaction(db):
        throttle = await _throttled(db, email, now)
        user = await _user_by_email(db, email)
        ok = auth.verify_password(user.password_hash if user and user.password_hash
                                  else auth.DUMMY_HASH, password) and bool(
                                      user and user.password_hash)
        allowed = rules.password_allowed(email, local_sign_in=local_sign_in,
                                         break_glass=break_glass)
        if not ok or user is None or not user.active or not allowed:
            _record_failure(db, throttle, email, now)
            reason = ("password" if not ok or user is None else "disabled" if not user.active
                      else "passwords_off")
            if reason == "passwords_off":
                refusal = PASSWORDS_OFF.format(provider=provider)
            await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                               actor=user_actor(user, "session") if user else ANONYMOUS,
                               kind="sign_in_failed",
                               payload={"user_id": user.id if user else None,
                                        "method": "password", "reason": reason})
        else:
            if throttle is not None:
                await db.delete(throttle)
            if user.totp_secret is not None or user.role in totp_roles:
                assert user.id is not None
                return SecondFactorNeeded(user.id, user.email, _proof(user),
                                          _enrolment_secret(user, key))
            return await _open_session(db, user, now, session_hours,
                                       break_glass=not local_sign_in)
    raise Unauthenticated(refusal)


def _enrolment_secret(user: User, key: str) -> str | None:
    """For a user without a second factor: the secret being set up (made now if none is
    pending, or if the pending one was sealed under another key). Flushed by the caller's
    transaction."""
    if user.totp_secret is not None:
        return None
    pending = totp.unseal(user.totp_pending, key) if user.totp_pending else None
    if pending is None:
        pending = totp.new_secret()
        user.totp_pending = totp.seal(pending, key)
    return pending


async def _throttled(db: AsyncSession, email: str, now: datetime) -> LoginThrottle | None:
    throttle = await db.get(LoginThrottle, email)
    if throttle and throttle.blocked_until and throttle.blocked_until > now:
        wait = int((throttle.blocked_until - now).total_seconds()) + 1
        raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} seconds",
                              retry_after=wait)
    return throttle


async def _open_session(db: AsyncSession, user: User, now: datetime, session_hours: int, *,
                        method: str = "password", break_glass: bool = False) -> SignedIn:
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.add(WebSession(id_hash=auth.secret_digest(secret), user_id=user.id,  # type: ignore[arg-type]
                      csrf_token=csrf, created_at=now,
                      expires_at=now + timedelta(hours=session_hours)))
    payload: dict[str, object] = {"user_id": user.id, "method": method}
    if break_glass:
        payload["break_glass"] = True
    await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                       actor=user_actor(user, "session"), kind="signed_in", payload=payload)
    return SignedIn(secret, csrf, user)


SECOND_STEP_STALE = "the sign-in has expired; enter your e-mail and password again"


async def second_factor(db: AsyncSession, *, user_id: int, proof: str, key: str,
                        totp_roles: frozenset[str]) -> SecondFactorNeeded:
    """Where a sign-in waiting for its code stands (for its form, shown again)."""
    async with transaction(db):
        user = await db.get(User, user_id)
        if user is None or not user.active or not secrets.compare_digest(proof, _proof(user)):
            raise Unauthenticated(SECOND_STEP_STALE)
        return SecondFactorNeeded(user_id, user.email, proof, _enrolment_secret(user, key))


async def sign_in_with_code(db: AsyncSession, *, clock: Clock, user_id: int, proof: str,
                            code: str, key: str, session_hours: int,
                            local_sign_in: bool = True) -> SignedIn:
    """The second step of a sign-in: a code from the authenticator (or, while setting it up,
    the first code of the pending secret, which confirms it). Wrong codes count as failed
    sign-ins of the address; a code already accepted is refused until the next one."""
    now = clock.now()
    refusal = "the code is wrong: enter the six digits your authenticator app shows now"
    async with transaction(db):
        user = await db.get(User, user_id)
        if user is None or not user.active or not secrets.compare_digest(proof, _proof(user)):
            raise Unauthenticated(SECOND_STEP_STALE)
        throttle = await _throttled(db, user.email, now)
        enrolling = user.totp_secret is None
        sealed = user.totp_pending if enrolling else user.totp_secret
        secret = totp.unseal(sealed, key) if sealed else None
        verdict = (totp.check_code(secret, code, now, user.totp_last_step) if secret
                   else totp.CodeCheck(None))
        if verdict.accepted:
            if throttle is not None:
                await db.delete(throttle)
            user.totp_last_step = verdict.step
            if enrolling:
                _enrol(user, now)
                await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                                   actor=user_actor(user, "session"), kind="totp_enrolled",
                                   payload={"user_id": user.id})
            return await _open_session(db, user, now, session_hours,
                                       method="password+totp", break_glass=not local_sign_in)
        _record_failure(db, throttle, user.email, now)
        await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                           actor=user_actor(user, "session"), kind="sign_in_failed",
                           payload={"user_id": user.id, "method": "password+totp",
                                    "reason": "code_replayed" if verdict.replayed
                                    else "code"})
        if verdict.replayed:
            refusal = "that code was used already: wait for the next one your app shows"
    raise Unauthenticated(refusal, field="code")


def _enrol(user: User, now: datetime) -> None:
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.totp_enabled_at = now


async def begin_totp(db: AsyncSession, *, clock: Clock, actor: Actor, key: str) -> None:
    """Start setting up one's second factor: a pending secret, shown until its first code
    confirms it. One already set up is changed only after an admin resets it."""
    auth.require(actor, Permission.SELF_SERVICE)
    now = clock.now()
    async with transaction(db):
        user = await _named_user(db, user_id=actor.user_id) if actor.user_id else None
        if user is None:
            raise NotFound("only a user signed in as themself has a second factor")
        if user.totp_secret is not None:
            raise Conflict("your second factor is set up already; an admin can reset it if "
                           "you lost it")
        if user.totp_pending is None or totp.unseal(user.totp_pending, key) is None:
            user.totp_pending = totp.seal(totp.new_secret(), key)
            await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                               kind="totp_enrolment_started", payload={"user_id": user.id})


async def pending_totp(db: AsyncSession, *, actor: Actor, key: str) -> str | None:
    """The secret of one's own second factor while it awaits its first code; never after."""
    auth.require(actor, Permission.SELF_SERVICE)
    user = await db.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.totp_secret is not None or user.totp_pending is None:
        return None
    return totp.unseal(user.totp_pending, key)


async def confirm_totp(db: AsyncSession, *, clock: Clock, actor: Actor, key: str,
                       code: str) -> None:
    """Confirm one's pending second factor with its first code."""
    auth.require(actor, Permission.SELF_SERVICE)
    now = clock.now()
    async with transaction(db):
        user = await db.get(User, actor.user_id) if actor.user_id else None
        secret = (totp.unseal(user.totp_pending, key)
                  if user is not None and user.totp_pending else None)
        if user is None or secret is None:
            raise Conflict("no second factor is being set up: start again")
        if totp.normalised_code(code) is None:
            raise Invalid.fields([("code", "must be the six digits your app shows")])
        verdict = totp.check_code(secret, code, now, user.totp_last_step)
        if not verdict.accepted:
            raise Invalid.fields([("code", "is not the code your app shows now: check that "
                                           "the secret was entered right, then try the next")])
        user.totp_last_step = verdict.step
        _enrol(user, now)
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="totp_enrolled", payload={"user_id": user.id})


async def reset_totp(db: AsyncSession, *, clock: Clock, actor: Actor,
                     user_id: int | None = None, email: str | None = None) -> User:
    """Remove a user's second factor (a lost phone): they sign in with their password alone,
    or set up a new one at their next sign-in if their role requires it."""
    auth.require(actor, Permission.MANAGE_USERS)
    now = clock.now()
    async with transaction(db):
        user = await _named_user(db, user_id=user_id, email=email)
        if user.totp_secret is None and user.totp_pending is None:
            return user
        user.totp_secret = user.totp_pending = None
        user.totp_enabled_at = user.totp_last_step = None
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="totp_reset", payload={"user_id": user.id})
    return user


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


@dataclass(frozen=True, slots=True)
class SessionListing:
    """A signed-in browser as listed: its handle (the stored hash, never the cookie's secret),
    whose it is, and since and until when."""

    id: str
    user_id: int
    email: str
    created_at: datetime
    expires_at: datetime


async def list_sessions(db: AsyncSession, *, clock: Clock, actor: Actor,
                        all_users: bool = False) -> list[SessionListing]:
    """The actor's open sessions, or (admins) everyone's; expired ones are left out."""
    auth.require(actor, Permission.MANAGE_USERS if all_users else Permission.SELF_SERVICE)
    query = (select(WebSession, User.email).join(User, WebSession.user_id == User.id)  # type: ignore[arg-type]
             .where(WebSession.expires_at > clock.now(), User.active == True)  # noqa: E712
             .order_by(WebSession.created_at.desc()))  # type: ignore[attr-defined]
    if not all_users:
        query = query.where(WebSession.user_id == actor.user_id)
    return [SessionListing(id=s.id_hash, user_id=s.user_id, email=email,
                           created_at=s.created_at, expires_at=s.expires_at)
            for s, email in (await db.exec(query)).all()]


async def revoke_session(db: AsyncSession, *, clock: Clock, actor: Actor,
                         session_id: str) -> None:
    """End a session: one's own, or (admins) anyone's. Someone else's is as unknown as a
    session that never existed."""
    auth.require(actor, Permission.SELF_SERVICE)
    now = clock.now()
    async with transaction(db):
        session = await db.get(WebSession, session_id[:64])
        if session is None or (session.user_id != actor.user_id
                               and not actor.can(Permission.MANAGE_USERS)):
            raise NotFound("no such session (it may have ended already)")
        await db.delete(session)
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=actor,
                           kind="session_revoked", payload={"user_id": session.user_id})


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


# --- single sign-on ---------------------------------------------------------------------------

class NoAccess(Forbidden):
    """A sign-in with the identity provider that opens no session here (no mapped role, a
    disabled user, an address taken by another account, the last admin's demotion)."""

    slug, title = "no-access", "No access to Breachdesk"


async def sign_in_sso(db: AsyncSession, *, clock: Clock, subject: str, email: str,
                      email_verified: bool, name: str, role: Role | None,
                      session_hours: int) -> SignedIn:
    """Open a session for a person the identity provider vouched for.

    They are found by the provider's subject identifier; on their first sign-in by their
    address (an account made here beforehand, linked only when the provider says the
    address is verified), else created (source "sso"). Their role follows the provider's
    claims (`rules.mapped_role`) at every sign-in; no mapped role means no access, and the
    last active admin is not demoted this way either. Each outcome is on the timeline, a
    refusal too (NoAccess is raised once it is recorded).
    """
    email = auth.normalise_email(email)[:254]
    now = clock.now()
    async with transaction(db):
        await _lock_users(db)
        outcome = await _sso_session(db, now, subject=subject, email=email,
                                     email_verified=email_verified, name=name, role=role,
                                     session_hours=session_hours)
        if isinstance(outcome, tuple):
            user, reason, refusal = outcome
            await append_event(db, chain=ORGANISATION_CHAIN, at=now,
                               actor=user_actor(user, "sso") if user else ANONYMOUS,
                               kind="sign_in_failed",
                               payload={"user_id": user.id if user else None, "method": "sso",
                                        "reason": reason, "subject": subject[:255]})
    if isinstance(outcome, tuple):
        raise refusal
    return outcome


async def _sso_session(db: AsyncSession, now: datetime, *, subject: str, email: str,
                       email_verified: bool, name: str, role: Role | None, session_hours: int
                       ) -> SignedIn | tuple[User | None, str, NoAccess]:
    """The session, or who was refused (if known), why, and what to say."""
    user = (await db.exec(select(User).where(User.sso_subject == subject))).one_or_none()
    if user is None:
        same = await _user_by_email(db, email)
        if same is not None and (same.sso_subject is not None or not email_verified):
            return same, "address_taken", NoAccess(
                f"an account with the address {email} exists already and the identity "
                "provider does not vouch for that address: ask an admin")
        user = same
    if role is None:
        return user, "no_role", NoAccess(
            "your identity provider account has no role in Breachdesk: ask an admin to add "
            "you to one of the groups that give one")
    if user is not None and not user.active:
        return user, "disabled", NoAccess(f"the account {user.email} is disabled here: ask "
                                          "an admin")
    if user is None:
        _valid_email(email)
        user = User(email=email, name=name.strip()[:200], role=role.value, source="sso",
                    sso_subject=subject, must_change_password=False, created_at=now)
        db.add(user)
        await db.flush()
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=user_actor(user, "sso"),
                           kind="user_created",
                           payload={"user_id": user.id, "role": role.value, "source": "sso"})
        return await _open_session(db, user, now, session_hours, method="sso")
    before = Role(user.role)
    if before is not role:
        if before is Role.ADMIN and await _active_admins(db) <= 1:
            return user, "last_admin", NoAccess(
                f"{user.email} is the last active admin and the identity provider now gives "
                f"the role {role}: make someone else an admin first")
        user.role = role.value
        await append_event(db, chain=ORGANISATION_CHAIN, at=now, actor=user_actor(user, "sso"),
                           kind="user_role_changed",
                           payload={"user_id": user.id, "from": before.value, "to": role.value,
                                    "by": "sso"})
    if user.sso_subject is None and user.must_change_password:
        # Linked before its one-time password was ever changed: that password is void now.
        user.password_hash, user.must_change_password = "", False
    user.sso_subject = subject
    return await _open_session(db, user, now, session_hours, method="sso")


async def record_sso_failure(db: AsyncSession, *, clock: Clock, reason: str) -> None:
    """A sign-in with the provider that failed before anyone was identified (state, code,
    token, an unreachable provider): on the organisation timeline, by reason."""
    async with transaction(db):
        await append_event(db, chain=ORGANISATION_CHAIN, at=clock.now(), actor=ANONYMOUS,
                           kind="sign_in_failed",
                           payload={"user_id": None, "method": "sso", "reason": reason})
