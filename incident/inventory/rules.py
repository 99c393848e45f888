"""The data inventory's rules, as pure functions: import rows, categories, scopes and their overlap.

Import files (CSV or JSON Lines) hold one holding per line: a subject in one
system (a CSV line may span several lines of the file inside a quoted field, as a postal
address does). Each line is checked here and becomes either an `InventoryRow` or a
`RowError` naming the line and what is wrong; nothing here touches a database.

Data categories are stored as bit masks so the affected-set computation can
filter and combine them in set-based SQL on any database.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter
from typing import IO, Any, NamedTuple

import pycountry

from incident.kernel.bodies import MAX_JSON_DEPTH, too_deep
from incident.kernel.text import ONE_LINE_REFUSED
from incident.kernel.vocabulary import DataCategory, normalise_locale

COLUMNS = ("external_id", "email", "name", "locale", "country", "region", "system",
           "categories", "first_seen", "last_seen", "postal_address")
REQUIRED_COLUMNS = ("external_id", "country")
MAX_EXTERNAL_ID = 200
MAX_EMAIL = 254
MAX_NAME = 200
MAX_ADDRESS_LINES = 6
MAX_ADDRESS_LINE = 100

CATEGORY_BITS: Mapping[DataCategory, int] = {c: 1 << i for i, c in enumerate(DataCategory)}
ALL_CATEGORIES = sum(CATEGORY_BITS.values())

_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_OTHER_BREAKS = re.compile("[\u2028\u2029]")
"""Unicode's line and paragraph separators: line breaks a postal address must not hide."""
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
_REGIONS = frozenset(s.code for s in pycountry.subdivisions)


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of_filename(cls, name: str) -> Format | None:
        lowered = name.lower()
        if lowered.endswith(".csv"):
            return cls.CSV
        if lowered.endswith((".jsonl", ".ndjson")):
            return cls.JSONL
        return None

    @classmethod
    def of_media_type(cls, media_type: str) -> Format | None:
        kind = media_type.split(";")[0].strip().lower()
        if kind in ("text/csv", "application/csv"):
            return cls.CSV
        if kind in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines",
                    "application/jsonlines"):
            return cls.JSONL
        return None


class FileError(ValueError):
    """The file as a whole cannot be read (wrong header, not UTF-8): no row is imported."""


class InventoryRow(NamedTuple):
    """One valid line: one holding, then the subject it belongs to. Times are UTC epoch seconds.

    The field order is the order the database writers bind: the first five
    are the holding (keyed by external id), external_id and the last six the
    subject. A named tuple, because an import makes millions of them.
    """

    external_id: str
    system_id: int
    categories: int
    first_seen: int | None
    last_seen: int | None
    email: str | None
    name: str
    locale: str | None
    country: str
    region: str | None
    postal_address: str | None = None
    """Where a letter reaches them: lines joined by "\\n", the name excluded."""

    @property
    def subject(self) -> SubjectFields:
        return (self.external_id, *self[5:])

    @property
    def holding(self) -> tuple[str, int, int, int | None, int | None]:
        return self[:5]


SubjectFields = tuple[str, str | None, str, str | None, str, str | None, str | None]
"""external_id, email, name, locale, country, region, postal_address."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class _Reject(Exception):
    pass


def categories_mask(names: Iterable[str]) -> int:
    """The bit mask of category names; raises ValueError naming an unknown one."""
    mask = 0
    for name in names:
        try:
            mask |= CATEGORY_BITS[DataCategory(name)]
        except ValueError:
            raise ValueError(f"unknown data category {name!r}") from None
    return mask


def category_names(mask: int) -> list[str]:
    return [c.value for c, bit in CATEGORY_BITS.items() if mask & bit]


def _text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise _Reject(f"{field} longer than {limit} characters")
    if ONE_LINE_REFUSED.search(value):
        raise _Reject(f"{field} contains a control character (line break, tab, direction "
                      "override, zero-width or similar)")
    return value


def _postal_address(value: str) -> str | None:
    """Up to MAX_ADDRESS_LINES lines of at most MAX_ADDRESS_LINE characters, separated by line
    breaks (CR LF and CR read as LF); each line stripped, blank lines dropped."""
    if not value:
        return None
    lines = [line.strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > MAX_ADDRESS_LINES:
        raise _Reject(f"postal_address has {len(lines)} lines; at most {MAX_ADDRESS_LINES}")
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_ADDRESS_LINE:
            raise _Reject(f"postal_address line {number} longer than {MAX_ADDRESS_LINE} "
                          "characters")
        if ONE_LINE_REFUSED.search(line) or _OTHER_BREAKS.search(line):
            raise _Reject(f"postal_address line {number} contains a control character (tab, "
                          "direction override, zero-width or similar; lines are separated by "
                          "line breaks only)")
    return "\n".join(lines) or None


def _email(value: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_EMAIL or _EMAIL.fullmatch(value) is None:
        raise _Reject(f"invalid email {value[:80]!r}")
    return value.lower()


@lru_cache(maxsize=4096)
def _categories(value: str) -> int:
    names = [part.strip() for part in value.split(";") if part.strip()]
    try:
        return categories_mask(names)
    except ValueError as error:
        raise _Reject(str(error)) from None


@lru_cache(maxsize=65_536)
def _instant(value: str, field: str, end_of_day: bool) -> int | None:
    """ISO 8601 date or date-time to UTC epoch seconds; a bare date covers its whole (UTC) day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.max if end_of_day else time.min, UTC)
            return int(moment.timestamp())
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Reject(f"bad date in {field}: {value[:40]!r} (ISO 8601 expected)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


class System(NamedTuple):
    id: int
    categories: int
    """The categories assumed for a holding whose line names none."""


class RowChecker:
    """Checks lines given as fields in COLUMNS order, remembering the last subject checked:
    the lines of one subject usually follow each other, and are then checked once."""

    def __init__(self, systems: Mapping[str, System], default_system: str | None = None) -> None:
        self.systems = systems
        self.default_system = default_system
        self._last_raw: tuple[str, ...] = ()
        self._last_subject: SubjectFields | None = None

    def __call__(self, fields: Sequence[str], line: int) -> InventoryRow | RowError:
        try:
            raw_subject = (*fields[:6], fields[10])
            if raw_subject == self._last_raw and self._last_subject is not None:
                subject = self._last_subject
            else:
                subject = _subject(fields)
                self._last_raw, self._last_subject = raw_subject, subject
            system_key = fields[6].strip() or self.default_system
            if not system_key:
                raise _Reject("system is missing (give a system column or a default system)")
            system = self.systems.get(system_key)
            if system is None:
                raise _Reject(f"unknown system {system_key[:64]!r}")
            categories = _categories(fields[7]) or system.categories
            first_seen = _instant(fields[8].strip(), "first_seen", False)
            last_seen = _instant(fields[9].strip(), "last_seen", True)
            if first_seen is not None and last_seen is not None and first_seen > last_seen:
                raise _Reject("first_seen is after last_seen")
        except _Reject as reject:
            return RowError(line, str(reject))
        external_id, email, name, locale, country, region, postal_address = subject
        return InventoryRow(external_id, system.id, categories, first_seen, last_seen, email, name,
                            locale, country, region, postal_address)


def _subject(fields: Sequence[str]) -> SubjectFields:
    external_id = fields[0].strip()
    if not external_id:
        raise _Reject("external_id is missing")
    _text(external_id, "external_id", MAX_EXTERNAL_ID)
    country = fields[4].strip().upper()
    if not country:
        raise _Reject("country is missing")
    if country not in _COUNTRIES:
        raise _Reject(f"unknown country {country[:10]!r} (ISO 3166-1 alpha-2 expected)")
    region = fields[5].strip().upper() or None
    if region is not None:
        if region not in _REGIONS:
            raise _Reject(f"unknown region {region[:10]!r} (ISO 3166-2 expected, like US-CA)")
        if not region.startswith(country + "-"):
            raise _Reject(f"region {region} is not in country {country}")
    locale_text = fields[3].strip()
    try:
        locale = normalise_locale(locale_text) if locale_text else None
    except ValueError as error:
        raise _Reject(str(error)) from None
    return (external_id, _email(fields[1].strip()), _text(fields[2].strip(), "name", MAX_NAME),
            locale, country, region, _postal_address(fields[10]))


def _check_header(header: Sequence[str], default_system: str | None) -> list[str]:
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise FileError(f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise FileError(f"column {duplicated[0]!r} appears twice")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise FileError(f"missing column {missing[0]!r}")
    if "system" not in names and default_system is None:
        raise FileError("the file has no system column: name the system its rows belong to")
    return names


Record = tuple[int, Sequence[str]]
"""A line number and the line's fields in COLUMNS order ("" for a column the file lacks)."""


def read_records(stream: IO[bytes], fmt: Format, *, default_system: str | None = None
                 ) -> Iterator[Record | RowError]:
    """The lines of an import file as records, or their errors.

    The file is read as it goes, so memory stays flat whatever its size.
    Raises FileError for a file that cannot be read at all.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        if fmt is Format.CSV:
            yield from _csv_records(text, default_system)
        else:
            yield from _jsonl_records(text)
    except UnicodeDecodeError as error:
        raise FileError(f"the file is not UTF-8 text ({error.reason} at byte {error.start} "
                        "of a block)") from None
    except csv.Error as error:
        raise FileError(f"the CSV file cannot be read: {error}") from None
    finally:
        with contextlib.suppress(ValueError):  # the stream may be closed already
            text.detach()


def _csv_records(text: IO[str], default_system: str | None) -> Iterator[Record | RowError]:
    reader = csv.reader(text, strict=True)
    header = next(reader, None)
    if header is None:
        raise FileError("the file is empty: a header line is expected")
    names = _check_header(header, default_system)
    width = len(names)
    # The columns in COLUMNS order, perhaps without the last ones (files made before they were
    # added): the missing ones are padded at the end.
    in_order = names == list(COLUMNS[:width])
    padding = [""] * (len(COLUMNS) - width)
    # Columns the file lacks read the empty string appended at the end of each line.
    pick = itemgetter(*[names.index(c) if c in names else width for c in COLUMNS])
    # A line is named by the line of the file it starts on (a quoted field may span several).
    first = reader.line_num + 1
    for fields in reader:
        line, first = first, reader.line_num + 1
        if not fields:
            continue
        if len(fields) != width:
            yield RowError(line, f"{len(fields)} fields where the header has {width}")
            continue
        if in_order:
            if padding:
                fields += padding
            yield line, fields
        else:
            fields.append("")
            yield line, pick(fields)


def _jsonl_records(text: IO[str]) -> Iterator[Record | RowError]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        if too_deep(line):
            yield RowError(number, f"not a JSON object (nested deeper than {MAX_JSON_DEPTH} levels)")
            continue
        try:
            value = json.loads(line)
        except ValueError:
            yield RowError(number, "not a JSON object (invalid JSON)")
            continue
        if not isinstance(value, dict):
            yield RowError(number, "not a JSON object")
            continue
        record = _json_fields(value)
        if isinstance(record, str):
            yield RowError(number, record)
        else:
            yield number, [record.get(column, "") for column in COLUMNS]


_LISTS = {"categories": ";", "postal_address": "\n"}
"""The fields a JSON line may give as a list of strings, and what joins its items."""


def _json_fields(value: Mapping[str, Any]) -> dict[str, str] | str:
    record: dict[str, str] = {}
    for key, item in value.items():
        if key not in COLUMNS:
            return f"unknown field {str(key)[:40]!r}"
        if item is None:
            record[key] = ""
        elif key in _LISTS and isinstance(item, list) and all(isinstance(i, str) for i in item):
            record[key] = _LISTS[key].join(item)
        elif isinstance(item, str):
            record[key] = item
        else:
            return f"{key} must be a string"
    return record


def rows(records: Iterable[Record | RowError], check: RowChecker
         ) -> Iterator[InventoryRow | RowError]:
    for record in records:
        if isinstance(record, RowError):
            yield record
        else:
            yield check(record[1], record[0])


def epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def overlaps(first_seen: int | None, last_seen: int | None, window_from: int | None,
             window_to: int | None) -> bool:
    """Whether a holding held during [first_seen, last_seen] overlaps the exposure window.

    A missing bound is open: a holding with no last_seen is still held, and a
    scope with no exposure_to runs until now.
    """
    starts_before_end = first_seen is None or window_to is None or first_seen <= window_to
    ends_after_start = last_seen is None or window_from is None or last_seen >= window_from
    return starts_before_end and ends_after_start
