"""What handlers receive by name from the app (see `create_app`'s dependencies)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from incident.kernel.auth import Actor
from incident.kernel.clock import Clock
from incident.kernel.settings import Settings

Db: TypeAlias = NamedDependency[AsyncSession]
Now: TypeAlias = NamedDependency[Clock]
Who: TypeAlias = NamedDependency[Actor]
Config: TypeAlias = NamedDependency[Settings]
Engine: TypeAlias = NamedDependency[AsyncEngine]
