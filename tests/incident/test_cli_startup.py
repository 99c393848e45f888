"""`breach` starts fast: its command modules import nothing heavy until a command runs, and
the choices they list without importing the enums stay equal to those enums."""

from __future__ import annotations

import json
import subprocess
import sys

COMMAND_MODULES = [
    "incident.cli", "incident.plugin", "notifications.plugin",
    "incident.accounts.cli", "incident.lifecycle.cli", "incident.audit.cli",
    "incident.containment.cli", "incident.containment.evidence_cli", "incident.inventory.cli",
    "incident.affected.cli", "notifications.obligations.cli", "notifications.drafting.cli",
    "notifications.delivery.cli", "notifications.scheduler.cli",
]
HEAVY = ["sqlalchemy", "sqlmodel", "litestar", "pydantic", "rich", "jinja2", "babel", "alembic",
         "yaml", "argon2", "uvicorn", "asyncio"]


def imported_after(code: str) -> list[str]:
    """The heavy packages a fresh interpreter holds after running `code`."""
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_command_modules_import_nothing_heavy() -> None:
    imports = "\n".join(f"import {module}" for module in COMMAND_MODULES)
    assert imported_after(imports) == []


def test_help_of_every_group_imports_nothing_heavy() -> None:
    """`breach --help` and each group's `--help` load every command object they list."""
    run = ("from click.testing import CliRunner\nfrom incident.cli import cli\n"
           "for args in ([], ['incidents'], ['users'], ['steps'], ['evidence'], ['systems'],\n"
           "             ['affected'], ['organisation'], ['notifications'], ['scheduler'],\n"
           "             ['incidents', 'create'], ['steps', 'set']):\n"
           "    done = CliRunner().invoke(cli, [*args, '--help'])\n"
           "    assert done.exit_code == 0, (args, done.output)\n")
    assert imported_after(run) == []


def test_listed_choices_are_the_enums() -> None:
    from incident.accounts.cli import ROLES
    from incident.containment.cli import STEP_STATES
    from incident.containment.rules import StepState
    from incident.inventory.cli import DATA_CATEGORIES, FORMATS
    from incident.inventory.rules import Format
    from incident.kernel.auth import Role
    from incident.kernel.vocabulary import DataCategory
    from incident.lifecycle.cli import KINDS, STATUSES
    from incident.lifecycle.rules import Kind, Status

    for listed, enum in ((ROLES, Role), (STEP_STATES, StepState), (FORMATS, Format),
                         (DATA_CATEGORIES, DataCategory), (KINDS, Kind), (STATUSES, Status)):
        assert listed == tuple(e.value for e in enum), enum.__name__


def test_no_command_acts_as_an_all_powerful_console() -> None:
    """Commands act as a named user; `auth.cli_actor` is left only for test fixtures."""
    from incident.kernel.settings import REPOSITORY

    users = [path.relative_to(REPOSITORY).as_posix()
             for package in ("incident", "notifications")
             for path in sorted((REPOSITORY / package).rglob("*.py"))
             if "cli_actor(" in path.read_text(encoding="utf-8")]
    assert users == ["incident/kernel/auth.py"]
