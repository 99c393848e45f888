"""Input types shared by every capability's request shapes, and the paged list response.

Request models forbid unknown fields; text fields carry their limits here, once."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


LongText = Annotated[str, StringConstraints(max_length=20_000)]


SystemKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


Count = Annotated[int, Field(ge=0, le=10_000_000_000)]


Instant = Annotated[AwareDatetime, AfterValidator(lambda at: at.astimezone(UTC))]


"""A time-zone-aware instant, kept in UTC whatever offset it was sent with."""


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


InventoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


ScopeEntry = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


Justification = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=10_000)]


Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]
