"""Request and response shapes of an incident's scope and affected-people snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from incident.kernel.schemas import Input, Instant, InventoryKey, ScopeEntry, Unique
from incident.kernel.vocabulary import DataCategory


class AffectedScope(Input):
    """Which holdings an incident exposed; every part left empty means "no restriction"."""

    systems: Annotated[list[InventoryKey], Unique] = Field(default_factory=list, max_length=1_000)
    exposure_from: Instant | None = None
    exposure_to: Instant | None = None
    data_categories: Annotated[list[DataCategory], Unique] = Field(default_factory=list, max_length=20)
    include: Annotated[list[ScopeEntry], Unique] = Field(default_factory=list, max_length=1_000_000,
                                      description="external ids or e-mails affected whatever "
                                      "their holdings")
    exclude: Annotated[list[ScopeEntry], Unique] = Field(default_factory=list, max_length=1_000_000,
                                      description="external ids or e-mails never affected")


class AffectedSummary(BaseModel):
    snapshot: int
    total: int
    by_jurisdiction: dict[str, int]
    by_category: dict[str, int]
    by_system: dict[str, int]
    by_locale: dict[str, int]
    by_source: dict[str, int]
    unmatched: dict[str, int]
    digest: str
    computed_at: datetime
    computed_by: str
    scope: dict[str, Any]


class AffectedComputed(AffectedSummary):
    unmatched_entries: dict[str, list[str]]


class AffectedPerson(BaseModel):
    external_id: str
    email: str | None
    name: str | None
    jurisdiction: str
    locale: str
    categories: list[str]


class AffectedPage(BaseModel):
    snapshot: int
    total: int
    items: list[AffectedPerson]
    next_after: str | None
