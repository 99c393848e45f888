"""`breach users` and `breach tokens`: people, roles and API tokens from the command line;
and who acts at the command line (`breach --as EMAIL`, BREACH_USER, BREACH_TOKEN)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from incident.kernel.bounds import ROW_ID_MAX
from incident.kernel.console import (
    NO_USER,
    Failure,
    Runtime,
    echo,
    parse_time,
    pass_runtime,
    print_json,
)
from incident.kernel.text import visible

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings

ROLES = ("admin", "responder", "approver", "auditor")
"""incident.kernel.auth.Role's values, written out so `--help` need not import auth (argon2);
tests/incident/accounts/test_cli.py keeps them equal."""


BOOTSTRAP = "bootstrap:"
"""How the timeline names the console that created the first user, before any user existed."""


def bootstrap_label() -> str:
    """`bootstrap:<os user>`: whoever created the first admin, as the timeline names them."""
    import getpass
    import os

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        name = f"uid{os.getuid()}"
    return f"{BOOTSTRAP}{name}"


async def who_acts(db: AsyncSession, runtime: Runtime, bootstrap: bool) -> Actor:
    """The user named for this run, checked as the API checks them (disabled: refused).

    Naming nobody is allowed only to bootstrap an empty database: the first admin's
    creation, recorded as `bootstrap:<os user>`.
    """
    from incident.accounts import service as accounts
    from incident.kernel.auth import Actor, Role

    if runtime.user is None and runtime.token is None:
        if bootstrap and await accounts.count_users(db) == 0:
            return Actor(label=bootstrap_label(), role=Role.ADMIN, via="cli")
        raise Failure(NO_USER)
    return await accounts.actor_for_cli(db, clock=runtime.clock, email=runtime.user,
                                        token=runtime.token)


@click.group()
def users() -> None:
    """Users and their roles."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default="")
@pass_runtime
def users_create(runtime: Runtime, email: str, role: str, name: str) -> None:
    """Create a user; prints a one-time password on the last line.

    On a database with no user yet, the first one (an admin) needs nobody to act as.
    """
    from incident.accounts import service as accounts

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        if actor.label.startswith(BOOTSTRAP) and role != "admin":
            # Someone must be able to create the others: the first user is an admin.
            raise Failure("the first user must be an admin: add `--role admin`")
        user, password = await accounts.create_user(
            db, clock=runtime.clock, actor=actor, email=email, role=role, name=name,
            first=actor.label.startswith(BOOTSTRAP))
        echo(f"created {user.email} ({user.role}); one-time password "
             "(to be changed at first sign-in):")
        return password

    echo(runtime.run(work, bootstrap=True))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def users_list(runtime: Runtime, as_json: bool) -> None:
    """List users: e-mail, role, active or disabled, and how each signs in on the web under
    this configuration (local password, single sign-on, break-glass admin)."""
    from incident.accounts import rules
    from incident.accounts import service as accounts
    from incident.accounts.schemas import sign_in_of

    async def work(settings: Settings, db: AsyncSession, actor: Actor
                   ) -> list[tuple[Any, rules.SignInWays]]:
        return [(u, sign_in_of(u, settings)) for u in await accounts.list_users(db, actor=actor)]

    rows = runtime.run(work)
    if as_json:
        print_json([{"email": u.email, "role": u.role, "active": u.active, "source": u.source,
                     "sign_in": ways.methods, "break_glass": ways.break_glass}
                    for u, ways in rows])
        return
    for user, ways in rows:
        echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}\t"
             f"{rules.sign_in_words(ways, source=user.source)}")


@users.command("disable")
@click.argument("email")
@pass_runtime
def users_disable(runtime: Runtime, email: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    from incident.accounts import service as accounts

    runtime.run(lambda s, db, actor: accounts.set_active(db, clock=runtime.clock, actor=actor,
                                                         email=email, active=False))
    echo(f"disabled {email}")


@users.command("enable")
@click.argument("email")
@pass_runtime
def users_enable(runtime: Runtime, email: str) -> None:
    """Enable a disabled user again."""
    from incident.accounts import service as accounts

    runtime.run(lambda s, db, actor: accounts.set_active(db, clock=runtime.clock, actor=actor,
                                                         email=email, active=True))
    echo(f"enabled {email}")


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@pass_runtime
def users_role(runtime: Runtime, email: str, role: str) -> None:
    """Give a user another role (the last active admin stays an admin)."""
    from incident.accounts import service as accounts

    runtime.run(lambda s, db, actor: accounts.set_role(db, clock=runtime.clock, actor=actor,
                                                       email=email, role=role))
    echo(f"{email} is now {role}")


@users.command("reset-password")
@click.argument("email")
@pass_runtime
def users_reset_password(runtime: Runtime, email: str) -> None:
    """A new one-time password for a user who forgot theirs (printed on the last line); their
    sessions end, and they choose their own at their next sign-in."""
    from incident.accounts import service as accounts

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        user, password = await accounts.reset_password(db, clock=runtime.clock, actor=actor,
                                                       email=email)
        echo(f"reset the password of {user.email}; one-time password "
             "(to be changed at next sign-in):")
        return password

    echo(runtime.run(work))


@users.command("reset-second-factor")
@click.argument("email")
@pass_runtime
def users_reset_second_factor(runtime: Runtime, email: str) -> None:
    """Remove a user's second factor (a lost phone)."""
    from incident.accounts import service as accounts

    runtime.run(lambda s, db, actor: accounts.reset_totp(db, clock=runtime.clock, actor=actor,
                                                         email=email))
    echo(f"reset the second factor of {email}")


@click.group()
def tokens() -> None:
    """API tokens (stored only as hashes)."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--scope", type=click.Choice(("read", "write")), default=None,
              help="what the token may do [default: read for auditors, write for others]")
@click.option("--expires-in", "expires_in", type=click.IntRange(1, 3650), default=None,
              metavar="DAYS", help="the token fails after this many days")
@click.option("--expires-at", "expires_at", default=None,
              help="ISO 8601; without an offset, in BREACH_TIMEZONE: the token fails after it")
@pass_runtime
def tokens_create(runtime: Runtime, email: str, name: str, scope: str | None,
                  expires_in: int | None, expires_at: str | None) -> None:
    """Create an API token for a user; prints the token on the last line."""
    from incident.accounts import service as accounts

    if expires_in is not None and expires_at is not None:
        raise click.UsageError("give --expires-in or --expires-at, not both")

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        until = (runtime.clock.now() + timedelta(days=expires_in) if expires_in is not None
                 else parse_time(expires_at, settings))
        token, secret = await accounts.create_token(db, clock=runtime.clock, actor=actor,
                                                    email=email, name=name, scope=scope,
                                                    expires_at=until)
        expiry = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        echo(f"token {token.id} ({token.name}, {token.scope}{expiry}) for {email}; "
             "shown only now:")
        return secret

    echo(runtime.run(work))


@tokens.command("list")
@click.argument("email", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def tokens_list(runtime: Runtime, email: str | None, as_json: bool) -> None:
    """List tokens (of one user, or everyone's) with their effective state:
    active, revoked, expired or user disabled."""
    from incident.accounts import service as accounts

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[Any]:
        return await accounts.list_tokens(db, clock=runtime.clock, actor=actor, email=email,
                                          all_users=email is None)

    rows = runtime.run(work)
    data = [{"id": t.token.id, "user_id": t.token.user_id, "name": t.token.name,
             "prefix": t.token.prefix, "scope": t.token.scope, "state": t.state,
             "created_at": t.token.created_at, "expires_at": t.token.expires_at,
             "last_used_at": t.token.last_used_at, "revoked_at": t.token.revoked_at}
            for t in rows]
    if as_json:
        print_json(data)
        return
    for t in data:
        echo(f"{t['id']}\tuser {t['user_id']}\t{visible(t['name'])}\t{t['prefix']}…\t"
             f"{t['scope']}\t{t['state']}")


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1, ROW_ID_MAX))
@pass_runtime
def tokens_revoke(runtime: Runtime, token_id: int) -> None:
    """Revoke a token by its id."""
    from incident.accounts import service as accounts

    runtime.run(lambda s, db, actor: accounts.revoke_token(db, clock=runtime.clock, actor=actor,
                                                           token_id=token_id))
    echo(f"revoked token {token_id}")
