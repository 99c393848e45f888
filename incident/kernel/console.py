"""What every `breach` command shares: settings, running one use case against the database,
printing, reading JSON files, and parsing times in BREACH_TIMEZONE.

Errors end as one line on stderr and a non-zero exit status; nothing is half-written,
because every use case commits once or not at all."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor, cli_actor
from incident.kernel.db import (
    SchemaOutOfDate,
    check_schema,
    create_engine,
    current_revision,
    session_factory,
    upgrade,
)
from incident.kernel.errors import DomainError
from incident.kernel.settings import Settings, load_settings

T = TypeVar("T")


out = Console(highlight=False, soft_wrap=True)


err = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(click.ClickException):
    """Printed by `main` as one line, `breach: error: …`, with exit status 1."""


def load_settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BREACH_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise Failure(f"{name}: {first['msg']}") from None


def describe_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                         for e in exc.errors()[:5])
    return str(exc)


async def ensure_database(settings: Settings, engine: AsyncEngine) -> None:
    """Create the embedded database on first use; refuse any database that is out of date."""
    if settings.embedded_database and await current_revision(engine) is None:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade, settings.effective_database_url)
    await check_schema(engine)


def run(work: Callable[[Settings, AsyncSession, Actor], Coroutine[Any, Any, T]]) -> T:
    """Run one use case against the configured database as the console operator."""
    settings = load_settings_or_fail()

    async def main() -> T:
        engine = create_engine(settings.effective_database_url)
        try:
            await ensure_database(settings, engine)
            async with session_factory(engine)() as db:
                return await work(settings, db, cli_actor(getpass.getuser()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (DomainError, SchemaOutOfDate, ValidationError) as exc:
        raise Failure(describe_error(exc)) from None
    except OSError as exc:
        raise Failure(f"cannot reach the database: {exc}") from None


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def parse_time(value: str | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(f"{value!r} is not an ISO 8601 date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone)


def local_text(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if at else "—"


def span_text(delta: timedelta) -> str:
    """An elapsed time written as runbooks write theirs, largest unit first: `45m`, `2d3h10m`."""
    minutes = max(0, int(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text or "0m"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Failure(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Failure(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                      ) from None
