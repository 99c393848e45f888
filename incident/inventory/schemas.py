"""Request and response shapes of the data inventory's systems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from incident.kernel.schemas import Input, Title
from incident.kernel.vocabulary import DataCategory


class SystemSave(Input):
    name: Title
    data_categories: list[DataCategory] = Field(default_factory=list, max_length=20)


class SystemPublic(BaseModel):
    key: str
    name: str
    data_categories: list[DataCategory]
    subjects: int
    created_at: datetime
    updated_at: datetime


def system_public(system: Any, count: int | None) -> SystemPublic:
    return SystemPublic(key=system.key, name=system.name, data_categories=system.data_categories,
                        subjects=count or 0, created_at=system.created_at,
                        updated_at=system.updated_at)
