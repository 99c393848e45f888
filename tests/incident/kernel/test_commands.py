"""Click groups filled from the plugins: they list their own commands and the registered ones,
load a registered one only when asked, and refuse a reference that is not a click command."""

from __future__ import annotations

import re

import click
import pytest

from incident.kernel.commands import PluginGroup
from incident.kernel.plugins import Plugin, load, plugins


@click.command()
def local() -> None:
    """A command the group defines itself."""


def group(registered: dict[str, dict[str, str]] | None = None) -> PluginGroup:
    """A group with one command of its own; `registered` maps plugin name -> its references, or
    None for the commands the plugins really register at the top level."""
    def references(plugin: Plugin) -> dict[str, str]:
        return dict(plugin.commands) if registered is None else registered.get(plugin.name, {})
    made = PluginGroup(name="breach", registered=references)
    made.add_command(local)
    return made


def test_the_list_holds_its_own_and_every_plugins_commands_sorted() -> None:
    listed = group().list_commands(click.Context(click.Command("x")))
    expected = {"local"} | {name for plugin in plugins() for name in plugin.commands}
    assert listed == sorted(expected)
    assert {"users", "audit"} <= set(listed)


def test_a_registered_command_is_loaded_by_name_and_an_unknown_one_is_none() -> None:
    made, ctx = group(), click.Context(click.Command("x"))
    incident = next(p for p in plugins() if p.name == "incident")
    assert made.get_command(ctx, "users") is load(incident.commands["users"])
    assert made.get_command(ctx, "local") is local
    assert made.get_command(ctx, "no-such-command") is None


def test_the_groups_own_command_wins_over_a_registered_one_of_the_same_name() -> None:
    made = group({"incident": {"local": "incident.accounts.cli:users"}})
    assert made.get_command(click.Context(click.Command("x")), "local") is local


def test_a_reference_that_is_not_a_click_command_is_refused() -> None:
    made = group({"notifications": {"broken": "incident.kernel.plugins:load"}})
    with pytest.raises(TypeError, match=re.escape("incident.kernel.plugins:load is not a click command")):
        made.get_command(click.Context(click.Command("x")), "broken")
