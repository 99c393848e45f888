"""Input types shared by every capability's request shapes, and the paged list response.

Request models forbid unknown fields; text fields carry their limits here, once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from incident.kernel.bounds import COUNT_MAX, INSTANT_FORMAT, ROW_ID_MAX, instant_in_range
from incident.kernel.errors import Invalid
from incident.kernel.text import (
    MULTI_LINE_PATTERN,
    NON_BLANK_LINE_PATTERN,
    ONE_LINE_PATTERN,
    WHITE_SPACE_CLASS,
    multi_line_problem,
    single_line_problem,
)


@dataclass(frozen=True)
class Documented:
    """Annotation metadata adding JSON Schema keywords to a type's published schema, for a rule
    a validator enforces that pydantic cannot describe on its own."""

    keywords: dict[str, Any]

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), **self.keywords}

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.keywords)))


@dataclass(frozen=True)
class TextRule:
    """Which characters a text field may hold: checked by `problem` after the field's own
    constraints, and published as a `pattern` (one that also needs a visible character when
    the field needs any text at all, since the field is stripped before its length counts)."""

    problem: Callable[[str], str | None]
    pattern: str
    non_blank_pattern: str

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        described = handler(schema)
        if described.get("type") == "string" and "pattern" not in described:
            needs_text = described.get("minLength", 0) >= 1
            described["pattern"] = self.non_blank_pattern if needs_text else self.pattern
        return described

    def _check(self, value: str) -> str:
        if problem := self.problem(value):
            raise ValueError(problem)
        return value


SingleLine = TextRule(single_line_problem, ONE_LINE_PATTERN, NON_BLANK_LINE_PATTERN)
"""Put on every one-line text type (`Annotated[str, ..., SingleLine]`): titles, names, keys.
Refuses control, bidirectional-override and invisible characters."""

MultiLine = TextRule(multi_line_problem, MULTI_LINE_PATTERN, MULTI_LINE_PATTERN)
"""Put on every free-text type that keeps line breaks: descriptions, notes. Refuses control
characters (line breaks and tabs aside) and bidirectional overrides."""

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                  SingleLine]


LongText = Annotated[str, StringConstraints(max_length=20_000), MultiLine]


SystemKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                      SingleLine]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 SingleLine]
"""A person's or a token's name."""


def whole_number(value: Any) -> Any:
    """Only a JSON integer is a count: not "7", not true, not 7.5 (7.0 is the integer 7, as
    JSON Schema has it).

    A validator rather than StrictInt alone: Litestar validates bodies with `strict=False`,
    which overrides a field's own strictness.
    """
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is not int:
        raise ValueError("must be a whole number (a JSON integer, not text or true/false)")
    return value


def real_number(value: Any) -> Any:
    """Only a JSON number is a quantity: not "7.5", not true."""
    if type(value) not in (int, float):
        raise ValueError("must be a number (not text or true/false)")
    return value


Count = Annotated[int, Field(ge=0, le=COUNT_MAX), BeforeValidator(whole_number)]
"""A number of people or records: a JSON integer, 0 … COUNT_MAX."""

Version = Annotated[int, Field(ge=1, le=ROW_ID_MAX), BeforeValidator(whole_number)]
"""The version of a record the client read (an optimistic-lock check): a JSON integer."""

E = TypeVar("E")


def unique(values: list[E]) -> list[E]:
    """A list naming each value once: a repeat is refused rather than stored twice."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists {str(value)!r} more than once")
        seen.add(value)
    return values


@dataclass(frozen=True)
class _UniqueItems:
    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(unique, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "uniqueItems": True}


Unique = _UniqueItems()
"""Put on a list type (`Annotated[list[X], Unique]`) whose items must not repeat."""


RFC_3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:\d{2})")
"""A date and time with an offset (seconds optional, as datetime-local fields send them)."""

def instant_text(value: Any) -> Any:
    """Only RFC 3339 text (or a datetime, from code) is an instant: no numbers, no bare dates."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC_3339.fullmatch(value.strip()):
        raise ValueError(INSTANT_FORMAT)
    return value.strip()


INSTANT_YEARS = r"^(197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-7])-"
"""The years the published schema names: a year inside EARLIEST … LATEST, whatever the offset."""

Instant = Annotated[AwareDatetime, BeforeValidator(instant_text), AfterValidator(instant_in_range),
                    Documented({"pattern": INSTANT_YEARS,
                                "description": "a date and time with an offset (RFC 3339), "
                                               "1970 … 9998 (UTC)"})]
"""A time-zone-aware instant between 1970 and 9998, kept in UTC whatever offset it was sent with."""


def parse_instant(field: str, value: str | None) -> datetime | None:
    """A query parameter's instant (None when absent), or `Invalid` naming `field`."""
    if value is None or not value.strip():
        return None
    try:
        return instant_in_range(datetime.fromisoformat(instant_text(value).upper()))
    except ValueError as exc:
        message = str(exc) if str(exc).startswith("must") else INSTANT_FORMAT
        raise Invalid.fields([(field, message)]) from None


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


InventoryKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


ScopeEntry = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254),
                       SingleLine]


Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), SingleLine]


_NOT_IN_ADDRESS = f"@{WHITE_SPACE_CLASS}\\u0000-\\u001f\\u007f"
Email = Annotated[str, StringConstraints(
    strip_whitespace=True, max_length=254,
    pattern=f"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+\\.[^{_NOT_IN_ADDRESS}]+$")]


def bounded_text(field: str, value: str | None, *, limit: int, at_least: int = 0,
                 needed: str = "") -> str:
    """`value` without surrounding white space, or `Invalid` naming `field`.

    The one check behind every free-text limit the services enforce (notes, reasons,
    justifications), so the API, the pages and the CLI refuse the same text with the
    same words instead of one edge cutting it short. `needed` says why a short text is
    refused ("say why the record is reopened"); by default an empty one "is empty".
    """
    text = (value or "").strip()
    if problem := multi_line_problem(text):
        raise Invalid.fields([(field, problem)])
    if len(text) > limit:
        raise Invalid.fields([(field, f"is longer than {limit:,} characters ({len(text):,} given)")])
    if len(text) < at_least:
        raise Invalid.fields([(field, needed or ("is empty" if at_least <= 1 else
                                                 f"needs at least {at_least} characters"))])
    return text
