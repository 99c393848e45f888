"""Running `breach` in-process: the real command group, the test's database and a moved clock.

Each call builds a fresh `Runtime` (as a new process would) with the test's settings and
clock, and names who acts through BREACH_USER, as an operator's shell would. Errors go
through the group's own `main`, so they read exactly as the console script prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from incident.cli import cli
from incident.kernel.clock import FixedClock
from incident.kernel.console import Runtime
from incident.kernel.settings import Settings

ADMIN = "admin@example.com"


def one_line_error(done: Result) -> str:
    """The single line a failed command printed on stderr."""
    assert done.exit_code != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


class Breach:
    """Runs `breach …` in this process against `settings` at `clock`'s time, as `user`."""

    def __init__(self, settings: Settings, clock: FixedClock, *, user: str | None = ADMIN
                 ) -> None:
        self.settings, self.clock, self.user = settings, clock, user

    def __call__(self, *args: str, ok: bool = True, user: str | bool | None = True,
                 env: dict[str, str | None] | None = None, settings: Settings | None = None,
                 input: str | bytes | None = None) -> Result:
        """`user=True`: the default user; `None`: nobody named; a string: that e-mail."""
        acting = self.user if user is True else user
        environment: dict[str, str | None] = {"BREACH_USER": acting or None,
                                              "BREACH_TOKEN": None, **(env or {})}
        runtime = Runtime(settings=settings or self.settings, clock=self.clock)
        done = CliRunner().invoke(cli, list(args), obj=runtime, env=environment, input=input,
                                  catch_exceptions=False)
        if ok:
            assert done.exit_code == 0, done.stderr
        return done

    def json(self, *args: str, **options: Any) -> Any:
        return json.loads(self(*args, "--json", **options).stdout)

    def error(self, *args: str, **options: Any) -> str:
        return one_line_error(self(*args, ok=False, **options))

    def bootstrap(self, email: str = ADMIN) -> str:
        """Create the first admin as an operator does on a new install; returns their e-mail."""
        self("users", "create", email, "--role", "admin", user=None)
        return email

    def person(self, role: str, email: str | None = None) -> str:
        """Another user, created by the default (admin) user; returns their e-mail."""
        email = email or f"{role}@example.com"
        self("users", "create", email, "--role", role)
        return email


@pytest.fixture
def breach(settings: Settings, clock: FixedClock, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Breach:
    """`breach` with a first admin already created, run from the test's own folder."""
    monkeypatch.chdir(tmp_path)  # relative file arguments and downloads land in tmp_path
    runner = Breach(settings, clock)
    runner.bootstrap()
    return runner
