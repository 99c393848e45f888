"""Plugins found through their entry points: every reference they give loads to what it names,
and their model modules register exactly the tables the migrations create."""

from __future__ import annotations

import importlib
import inspect
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from types import ModuleType

import click
import pytest

from incident.kernel.db import upgrade
from incident.kernel.plugins import HOOKS, Plugin, hooks, load, plugins
from incident.kernel.settings import REPOSITORY

IMPORT_MODELS_ALONE = (
    "import json\n"
    "from sqlmodel import SQLModel\n"
    "from incident.kernel.plugins import import_models\n"
    "before = sorted(SQLModel.metadata.tables)\n"
    "import_models()\n"
    "print(json.dumps([before, sorted(SQLModel.metadata.tables)]))\n"
)
"""Run in a fresh interpreter: in this one, the app the fixtures build has imported every model
already, so import_models would pass even if it registered nothing."""


def test_both_plugins_are_found_through_their_entry_points_incident_first() -> None:
    found = plugins()
    assert all(isinstance(plugin, Plugin) for plugin in found)
    assert [plugin.name for plugin in found] == ["incident", "notifications"]


@pytest.mark.parametrize("plugin", plugins(), ids=lambda plugin: plugin.name)
def test_every_command_reference_loads_to_a_click_command(plugin: Plugin) -> None:
    references = {**plugin.commands, **plugin.incident_commands}
    assert references, f"{plugin.name} registers no commands"
    for name, reference in references.items():
        assert isinstance(load(reference), click.Command), (name, reference)


@pytest.mark.parametrize("plugin", plugins(), ids=lambda plugin: plugin.name)
def test_every_web_part_and_hook_loads_to_a_callable(plugin: Plugin) -> None:
    assert plugin.web is not None and callable(load(plugin.web))
    for name, references in plugin.hooks.items():
        assert name in HOOKS, f"{plugin.name} adds to an unknown hook {name!r}"
        for reference in references:
            assert inspect.iscoroutinefunction(load(reference)), (name, reference)


@pytest.mark.parametrize("plugin", plugins(), ids=lambda plugin: plugin.name)
def test_every_model_reference_is_a_module(plugin: Plugin) -> None:
    assert plugin.models, f"{plugin.name} registers no tables"
    for reference in plugin.models:
        assert isinstance(importlib.import_module(reference), ModuleType), reference


def test_every_hook_is_answered_in_plugin_order() -> None:
    for name in HOOKS:
        expected = [load(reference) for plugin in plugins()
                    for reference in plugin.hooks.get(name, ())]
        assert list(hooks(name)) == expected
        assert expected, f"no plugin answers {name!r}"


def test_an_unknown_hook_name_raises() -> None:
    with pytest.raises(KeyError, match=r"unknown hook 'incident\.no_such_hook'"):
        hooks("incident.no_such_hook")


def test_import_models_registers_every_table_the_migrations_create(tmp_path: Path) -> None:
    database = tmp_path / "migrated.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{database}")
    with closing(sqlite3.connect(database)) as connection:
        migrated = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")} - {"alembic_version"}
    done = subprocess.run([sys.executable, "-c", IMPORT_MODELS_ALONE], cwd=REPOSITORY,
                          capture_output=True, text=True, timeout=60, check=True)
    before, registered = json.loads(done.stdout)
    assert before == []  # importing the plugin machinery registers no table by itself
    assert set(registered) == migrated
