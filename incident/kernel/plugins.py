"""How capabilities join the application, without the kernel importing any of them.

Each top-level package (`incident`, `notifications`) describes what it adds in a
`Plugin`: the modules that define its tables, its `breach` commands, and a function
that builds its part of the web application. Packages are found through the
`breachdesk.plugins` entry point group declared in pyproject.toml, so `incident`
never imports `notifications`: the composition roots (`incident.app`,
`incident.cli`) load whatever is registered. References are "module:attribute"
strings, imported only when used, which keeps `breach --help` fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment
    from sqlalchemy.ext.asyncio import AsyncEngine

    from incident.kernel.clock import Clock
    from incident.kernel.settings import Settings

ENTRY_POINT_GROUP = "breachdesk.plugins"

HOOKS = {
    "incident.aware_at_changed": "async (db, incident) -> None, in the edit's transaction",
    "incident.circumstances_changed": "async (db, incident, *, now) -> None, in the change's "
                                      "transaction (the obligations follow the new facts)",
    "incident.pending_duties": "async (db, incident, *, now, recompute=True) -> the duties "
                               "still owed (neither met nor waived), each named in words; with "
                               "recompute, brought up to date in the move's transaction. "
                               "Resolving or closing with any needs an approver and a reason",
    "incident.next_due": "async (db, *, now) -> {incident id: {due_at, urgency, label, left}}: "
                         "each open incident's soonest pending duty (the incident list)",
    "organisation.zone": "async (db) -> ZoneInfo | None: the organisation's time zone, in which "
                         "the incident pages show and read times (None: not set)",
    "incident.page_sections": "async (request, db, *, actor, clock, incident, targets) -> dict "
                              "of template values for the incident page",
    "notification.page_sections": "async (request, db, *, actor, incident, notification) -> "
                                  "dict of template values for a notification's page",
    "runtime.settings": "async (settings) -> None: the settings a command's use case runs "
                        "with, given before it starts; raises ConfigurationError to refuse",
    "timeline.appended": "async (db, event) -> None, in the append's transaction, after the "
                         "event is flushed (outgoing webhooks are queued with their event)",
}
"""The hooks lower layers call. A capability above them adds its function by name."""


@dataclass(frozen=True, slots=True)
class Plugin:
    """What one package adds. Every reference is a "module:attribute" string."""

    name: str
    models: tuple[str, ...] = ()
    """Modules whose import registers the package's tables (for Alembic and queries)."""
    commands: Mapping[str, str] = field(default_factory=dict)
    """`breach NAME` -> the click command or group."""
    incident_commands: Mapping[str, str] = field(default_factory=dict)
    """`breach incidents NAME` -> the click command."""
    notification_commands: Mapping[str, str] = field(default_factory=dict)
    """`breach notifications NAME` -> the click command (the `notifications` group is the
    notifications package's; its higher layers add commands to it by name)."""
    audit_commands: Mapping[str, str] = field(default_factory=dict)
    """`breach audit NAME` -> the click command: reports for auditors from any package."""
    web: str | None = None
    """A function `(WebContext) -> WebParts` building the package's part of the web app."""
    hooks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Hook name -> functions a lower layer calls without importing them (see `HOOKS`)."""


@dataclass(frozen=True, slots=True)
class WebContext:
    """What a package's web part may build on: the app's settings, clock, engine and pages."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    pages: Environment
    catalogue: Any = None
    """A runbook catalogue given by the caller (tests); None: load BREACH_RUNBOOKS_DIR."""


@dataclass(slots=True)
class WebParts:
    """A package's contribution to the web application."""

    route_handlers: list[Any] = field(default_factory=list)
    dependencies: dict[str, Any] = field(default_factory=dict)
    """Name -> `litestar.di.Provide`: what handlers receive by name."""
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    """Values kept on the app's state, for code that has the request but no dependency."""
    middleware: list[Any] = field(default_factory=list)
    """ASGI middleware run after the actor is known (inside the access middleware)."""


def load(reference: str) -> Any:
    """Import "module:attribute" and return the attribute."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def plugins() -> Sequence[Plugin]:
    """Every registered plugin, `incident` first, then by name."""
    found = [entry.load() for entry in entry_points(group=ENTRY_POINT_GROUP)]
    for plugin in found:
        if not isinstance(plugin, Plugin):
            raise TypeError(f"entry point in {ENTRY_POINT_GROUP} is not a Plugin: {plugin!r}")
    return tuple(sorted(found, key=lambda p: (p.name != "incident", p.name)))


def import_models() -> None:
    """Register every package's tables with SQLModel's metadata."""
    for plugin in plugins():
        for module in plugin.models:
            importlib.import_module(module)


@cache
def hooks(name: str) -> tuple[Any, ...]:
    """The functions every plugin registered for hook `name`, in plugin order."""
    if name not in HOOKS:
        raise KeyError(f"unknown hook {name!r}")
    return tuple(load(ref) for plugin in plugins() for ref in plugin.hooks.get(name, ()))
