"""What every `breach` command shares: the runtime (settings, clock, who acts), running one use
case against the database, printing, reading JSON files, and parsing times in BREACH_TIMEZONE.

Errors end as one line on stderr and a non-zero exit status; nothing is half-written,
because every use case commits once or not at all.

`breach --help` imports every command module, and each of them imports this one: nothing
heavy is imported here at module level (no SQLAlchemy, pydantic, rich…), only inside the
functions that need it, so listing commands stays fast (bench/cli.py measures it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from incident.kernel.bodies import too_deep
from incident.kernel.bounds import instant_in_range
from incident.kernel.clock import Clock, SystemClock
from incident.kernel.text import visible

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from incident.kernel.auth import Actor
    from incident.kernel.settings import Settings

T = TypeVar("T")

Work = Callable[["Settings", "AsyncSession", "Actor"], Coroutine[Any, Any, T]]
"""One use case: given the settings, a session and who acts, do it and return what to print."""

Identify = Callable[["AsyncSession", "Runtime", bool], Coroutine[Any, Any, "Actor"]]
"""Who acts, read from the database: `(db, runtime, bootstrap) -> Actor`. The root group
(incident/cli.py) supplies it, since the kernel cannot import the accounts capability."""

NO_USER = ("name the Breachdesk user you act as: `breach --as EMAIL …`, or set BREACH_USER=EMAIL "
           "(or BREACH_TOKEN to one of your API tokens)")


class Failure(click.ClickException):
    """Printed by `main` as one line, `breach: error: …`, with exit status 1."""


class Runtime:
    """What every `breach` command runs with: settings, clock, and who acts.

    The root group puts one in click's context (`ctx.obj`) unless the caller gave one, so a
    test runs a command in-process with its own settings and a moved clock:
    `CliRunner().invoke(cli, [...], obj=Runtime(settings=..., clock=FixedClock(...)))`.
    Settings are read from the environment only when a command first needs them, so
    `--help` never reads (or fails on) them.
    """

    def __init__(self, *, settings: Settings | None = None, clock: Clock | None = None,
                 user: str | None = None, token: str | None = None,
                 identify: Identify | None = None) -> None:
        self._settings = settings
        self.clock: Clock = clock or SystemClock()
        self.user = user
        """The e-mail of the user who acts (`--as`, BREACH_USER)."""
        self.token = token
        """An API token of the user who acts (BREACH_TOKEN)."""
        self.identify = identify

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings_or_fail()
        return self._settings

    @property
    def file_settings(self) -> Settings:
        """The settings of a command that only reads files (the regime catalogue): no secret
        key is generated, so such a command leaves nothing behind under var/."""
        return self._settings or load_settings_or_fail(secret=False)

    def run(self, work: Work[T], *, bootstrap: bool = False) -> T:
        """Run one use case against the configured database as the user named for this run.

        With `bootstrap`, and no user named, it runs as `bootstrap:<os user>` while the
        database has no user at all (the first admin's creation); otherwise naming no
        user is refused before the database is opened.
        """
        import asyncio

        if not bootstrap and self.user is None and self.token is None:
            raise Failure(NO_USER)
        identify = self.identify
        if identify is None:
            raise RuntimeError("Runtime.identify is unset: run commands through the `breach` group")
        settings = self.settings
        from pydantic import ValidationError

        from incident.kernel.db import SchemaOutOfDate, create_engine, session_factory
        from incident.kernel.errors import ConfigurationError, DomainError
        from incident.kernel.plugins import hooks

        async def main() -> T:
            for configure in hooks("runtime.settings"):
                await configure(settings)
            engine = create_engine(settings.effective_database_url)
            try:
                await ensure_database(settings, engine)
                sessions = session_factory(engine)
                async with sessions() as db:
                    actor = await identify(db, self, bootstrap)
                async with sessions() as db:
                    return await work(settings, db, actor)
            finally:
                await engine.dispose()

        try:
            return asyncio.run(main())
        except (DomainError, SchemaOutOfDate, ValidationError) as exc:
            raise Failure(describe_error(exc)) from None
        except ConfigurationError as exc:  # a configured file is invalid: one line per problem
            raise Failure(str(exc)) from None
        except OSError as exc:
            raise Failure(f"cannot reach the database: {exc}") from None


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)
"""Gives a command the `Runtime` of this invocation as its first argument."""


def load_settings_or_fail(*, secret: bool = True) -> Settings:
    from pydantic import ValidationError

    from incident.kernel.settings import load_settings

    try:
        return load_settings(secret=secret)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BREACH_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise Failure(f"{name}: {first['msg']}") from None


def describe_error(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                         for e in exc.errors()[:5])
    return str(exc)


async def ensure_database(settings: Settings, engine: AsyncEngine) -> None:
    """Create the embedded database on first use; refuse any database that is out of date."""
    import asyncio

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from incident.kernel.db import check_schema, current_revision, upgrade

    where = make_url(settings.effective_database_url).render_as_string(hide_password=True)
    location = make_url(settings.effective_database_url).database or ""
    if (not settings.embedded_database and engine.dialect.name == "sqlite"
            and location not in ("", ":memory:") and not Path(location).parent.is_dir()):
        # Said before connecting: SQLite's driver thread would outlive the failed attempt.
        raise Failure(f"the database at {where} cannot be opened: its folder "
                      f"{Path(location).parent} does not exist")
    try:
        if settings.embedded_database and await current_revision(engine) is None:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(upgrade, settings.effective_database_url)
        await check_schema(engine)
    except (OperationalError, OSError) as exc:  # server down, refused login, no permission
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Failure(f"the database at {where} cannot be opened: {reason}") from None


def echo(message: str, *, err: bool = False) -> None:
    """Print the way every command prints user text: control, bidirectional and invisible
    characters written as escapes (`\\x1b`, `\\u202e`), so a title or a note stored before
    it was checked cannot move the cursor, recolour or reorder the terminal. Tabs and line
    feeds stay, as the command's own layout; a one-line field goes through `visible` first."""
    click.echo(visible(message, layout=True), err=err)


def _console(*, stderr: bool) -> Console:
    from rich.console import Console

    class Neutral(Console):
        """A console whose text arguments are printed through `visible` (layout kept)."""

        def print(self, *objects: Any, **options: Any) -> None:
            super().print(*(visible(o, layout=True) if isinstance(o, str) else o
                            for o in objects), **options)

    return Neutral(stderr=stderr, highlight=False, soft_wrap=True, markup=False)


def out() -> Console:
    """Standard output as rich prints it (plain text: no markup, no highlighting, no wrapping), with
    control and bidirectional characters in text written as escapes."""
    return _console(stderr=False)


def err() -> Console:
    """Standard error as rich prints it; progress bars go here, only on a terminal."""
    return _console(stderr=True)


JSON_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
"""What `json.dumps(ensure_ascii=False)` leaves raw yet a terminal obeys: DEL, C1, bidi."""


def print_json(value: Any) -> None:
    """`value` as JSON; characters a terminal would act on are written as `\\uXXXX` escapes."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    click.echo(JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def parse_time(value: str | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(f"{value!r} is not an ISO 8601 date and time") from None
    try:  # the same range as the API's Instant
        return instant_in_range(parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone))
    except (ValueError, OverflowError) as exc:
        raise Failure(f"{value!r} {exc}") from None


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
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Failure(f"{path}: not UTF-8 text") from None
    if reason := too_deep(text):
        raise Failure(f"{path}: {reason}")
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise Failure(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Failure(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                      ) from None
