"""Click groups whose commands come from the registered plugins, imported only when used.

`breach --help` lists every command by loading each plugin's command objects; the
modules that define them import only click at the top and the rest inside each
command, so listing stays fast (see bench/cli.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from incident.kernel.plugins import Plugin, load, plugins


class PluginGroup(click.Group):
    """A group that adds the commands plugins register for it to its own."""

    def __init__(self, *args: Any, registered: Callable[[Plugin], Mapping[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registered = registered

    def _references(self) -> dict[str, str]:
        return {name: ref for plugin in plugins() for name, ref in self._registered(plugin).items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._references()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        reference = self._references().get(cmd_name)
        if reference is None:
            return None
        found = load(reference)
        if not isinstance(found, click.Command):
            raise TypeError(f"{reference} is not a click command")
        return found
