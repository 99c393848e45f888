"""`breach users` and `breach tokens`: people, roles and API tokens from the command line."""

from __future__ import annotations

from typing import Any

import click
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.accounts import service as accounts
from incident.kernel.auth import Actor, Role
from incident.kernel.clock import SystemClock
from incident.kernel.console import print_json, run
from incident.kernel.settings import Settings


@click.group()
def users() -> None:
    """Users and their roles."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
def users_create(email: str, role: str, name: str) -> None:
    """Create a user; prints a one-time password on the last line."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        user, password = await accounts.create_user(db, clock=SystemClock(), actor=actor,
                                                    email=email, role=role, name=name)
        click.echo(f"created {user.email} ({user.role}); one-time password "
                   "(to be changed at first sign-in):")
        return password

    click.echo(run(work))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """List users."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[Any]:
        return await accounts.list_users(db, actor=actor)

    rows = run(work)
    if as_json:
        print_json([{"email": u.email, "role": u.role, "active": u.active} for u in rows])
        return
    for user in rows:
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}")


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    run(lambda s, db, actor: accounts.set_active(db, clock=SystemClock(), actor=actor,
                                                 email=email, active=False))
    click.echo(f"disabled {email}")


@click.group()
def tokens() -> None:
    """API tokens (stored only as hashes)."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
def tokens_create(email: str, name: str) -> None:
    """Create an API token for a user; prints the token on the last line."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> str:
        token, secret = await accounts.create_token(db, clock=SystemClock(), actor=actor,
                                                    email=email, name=name)
        click.echo(f"token {token.id} ({token.name}) for {email}; shown only now:")
        return secret

    click.echo(run(work))


@tokens.command("list")
@click.argument("email", required=False)
@click.option("--json", "as_json", is_flag=True)
def tokens_list(email: str | None, as_json: bool) -> None:
    """List tokens (of one user, or everyone's)."""

    async def work(settings: Settings, db: AsyncSession, actor: Actor) -> list[Any]:
        return await accounts.list_tokens(db, actor=actor, email=email, all_users=email is None)

    rows = run(work)
    data = [{"id": t.id, "user_id": t.user_id, "name": t.name, "prefix": t.prefix,
             "created_at": t.created_at, "last_used_at": t.last_used_at,
             "revoked_at": t.revoked_at} for t in rows]
    if as_json:
        print_json(data)
        return
    for t in data:
        state = "revoked" if t["revoked_at"] else "active"
        click.echo(f"{t['id']}\tuser {t['user_id']}\t{t['name']}\t{t['prefix']}…\t{state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    run(lambda s, db, actor: accounts.revoke_token(db, clock=SystemClock(), actor=actor,
                                                   token_id=token_id))
    click.echo(f"revoked token {token_id}")
