"""What handlers receive by name from the app (see `create_app`'s dependencies)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.auth import Actor
from incident.clock import Clock
from incident.runbooks import Catalogue
from incident.services import Rules
from incident.settings import Settings

Db: TypeAlias = NamedDependency[AsyncSession]
Now: TypeAlias = NamedDependency[Clock]
Who: TypeAlias = NamedDependency[Actor]
IncidentRules: TypeAlias = NamedDependency[Rules]
Config: TypeAlias = NamedDependency[Settings]
Engine: TypeAlias = NamedDependency[AsyncEngine]
Runbooks: TypeAlias = NamedDependency[Catalogue]
