"""Input types shared by every capability's request shapes, and the paged list response.

Request models forbid unknown fields; text fields carry their limits here, once."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from incident.kernel.errors import Invalid

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


Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]


def bounded_text(field: str, value: str | None, *, limit: int, at_least: int = 0,
                 needed: str = "") -> str:
    """`value` without surrounding white space, or `Invalid` naming `field`.

    The one check behind every free-text limit the services enforce (notes, reasons,
    justifications), so the API, the pages and the CLI refuse the same text with the
    same words instead of one edge cutting it short. `needed` says why a short text is
    refused ("say why the record is reopened"); by default an empty one "is empty".
    """
    text = (value or "").strip()
    if len(text) > limit:
        raise Invalid.fields([(field, f"is longer than {limit:,} characters ({len(text):,} given)")])
    if len(text) < at_least:
        raise Invalid.fields([(field, needed or ("is empty" if at_least <= 1 else
                                                 f"needs at least {at_least} characters"))])
    return text
