"""The one Jinja2 environment for messages, and the filters its templates use.

`environment(templates_dir)` is sandboxed (templates cannot reach Python internals),
`StrictUndefined` (a missing value is an error, never an empty string), HTML
autoescaped and text not. Everything a responder typed (titles, descriptions,
measures, names) arrives as a value in the context, never as template source, so
`{{ 7*7 }}` in a title stays those seven characters and `<script>` in HTML becomes
`&lt;script&gt;`; every printed string has its direction controls balanced
(`contain_bidi`), and `one_line` makes a subject safe as a header.

The filters format dates, numbers and durations with babel in the recipient's locale
and time zone, and name categories, kinds and breach types in the locale's words; they
read those from the `Formatting` the Renderer puts into the context under FORMAT_KEY.

Separate from the Renderer (`render.py`), which finds templates and picks locales: this
module is the security boundary and the formatting rules, and changes with them alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup

from notifications.drafting.locales import Terms

SUBJECT_LIMIT = 200
FORMAT_KEY = "_format"
# Explicit embeddings, overrides and isolates: each opener with the character that closes it.
_BIDI_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
                 "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(" {2,}")



class RenderError(ValueError):
    """A message cannot be rendered: an unknown kind, a missing or wrong value, a broken file."""


@dataclass(frozen=True)
class Formatting:
    """How one message formats: the reader's locale and time zone, and the locale's words."""

    locale: Locale
    zone: ZoneInfo
    terms: Terms

    def when(self, value: datetime) -> str:
        """An instant as the `datetime` filter writes it."""
        return _local_datetime(local_text(value, self.zone), self.zone, self.locale)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def place(self, code: str) -> str:
        """A jurisdiction as the `jurisdiction` filter writes it."""
        return jurisdiction_name(code, self.locale)


# --------------------------------------------------------------------- the environment


def environment(templates_dir: Path) -> SandboxedEnvironment:
    """The one Jinja2 environment for messages, loading templates from `templates_dir`.

    Sandboxed (templates cannot reach Python internals), `StrictUndefined` (a missing value
    is an error, never an empty string), HTML escaped unless the template name ends in `.txt`
    (strings compiled with `from_string` are escaped too). Templates are read once: a change
    to a file takes effect when the service restarts.
    """
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(templates_dir), undefined=StrictUndefined,
        autoescape=_autoescape, finalize=_finalize, trim_blocks=True, lstrip_blocks=True,
        auto_reload=False)
    env.filters.update({
        "datetime": _datetime, "date": _date, "number": _number, "duration": _duration,
        "category": _term_filter("categories"), "categories": _names_filter("categories"),
        "consequence": _term_filter("consequences"), "advice": _term_filter("advice"),
        "kind": _term_filter("kinds"), "happened": _term_filter("happened"),
        "breach_types": _names_filter("breach_types"), "jurisdiction": _jurisdiction,
        "capfirst": _capfirst, "web_url": _web_url,
        "severity": _term_filter("severities"), "recommendation": _term_filter("recommendations"),
        "letter": _term_filter("letter"), "heading": _heading, "underline": _underline,
    })
    env.globals["invalid"] = _invalid
    return env


def _autoescape(name: str | None) -> bool:
    return name is None or not name.endswith(".txt")


def _finalize(value: Any) -> Any:
    if value is None:
        raise ValueError("a value to print is None; test optional values with {% if %}")
    if isinstance(value, str) and not isinstance(value, Markup):
        return contain_bidi(value)
    return value


def contain_bidi(text: str) -> str:
    """`text` with its explicit direction controls balanced, so none leaks past its end.

    An unclosed right-to-left override in a name would otherwise reverse the words that
    follow it in the message; closers without an opener are dropped.
    """
    if not _BIDI.search(text):
        return text
    out: list[str] = []
    stack: list[str] = []
    for char in text:
        if char in _BIDI_OPENERS:
            stack.append(char)
        elif char == "\u202c":
            if not stack or _BIDI_OPENERS[stack[-1]] != "\u202c":
                continue
            stack.pop()
        elif char == "\u2069":
            if not any(_BIDI_OPENERS[opener] == "\u2069" for opener in stack):
                continue
            while _BIDI_OPENERS[stack.pop()] != "\u2069":
                out.append("\u202c")
        out.append(char)
    out.extend(_BIDI_OPENERS[opener] for opener in reversed(stack))
    return "".join(out)


def one_line(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """`text` as a header value: controls and line breaks as spaces, runs of spaces as one, at
    most `limit` characters (cut with an ellipsis). No-break spaces stay, as in `2:05 PM`."""
    flat = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    flat = _SPACES.sub(" ", flat).strip(" ")
    if len(contain_bidi(flat)) <= limit:
        return contain_bidi(flat)
    cut = limit - 1
    while True:  # the closers of direction controls left open count towards the limit
        shortened = contain_bidi(flat[:cut].rstrip() + "…")
        if len(shortened) <= limit or cut == 0:
            return shortened
        cut -= 1


# ------------------------------------------------------------------------- filters


def _format(context: Context) -> Formatting:
    value = context.get(FORMAT_KEY)
    if not isinstance(value, Formatting):
        raise RenderError("localised filters work only in templates rendered by Renderer.render")
    return value


def _given(value: Any) -> Any:
    # A filter sees a missing key as an Undefined: report the missing key, not a wrong type.
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def local_text(value: Any, zone: ZoneInfo) -> datetime:
    """`value`, an aware datetime, on the wall clock of `zone`; anything else is an error."""
    value = _given(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone; pass aware datetimes")
    return value.astimezone(zone)


@pass_context
def _datetime(context: Context, value: Any) -> str:
    """`24 November 2026, 14:05 CET` in the recipient's locale and zone."""
    fmt = _format(context)
    return _local_datetime(local_text(value, fmt.zone), fmt.zone, fmt.locale)


# A batch of notices prints the same few instants in a few locales, again and again. Aware
# datetimes compare by instant alone, so the zone must be part of the key.
@lru_cache(maxsize=4096)
def _local_datetime(local: datetime, zone: ZoneInfo, locale: Locale) -> str:
    day = format_date(local, "long", locale=locale)
    clock = format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    glue = locale.datetime_formats["medium"].replace("'", "")
    return f"{glue.replace('{1}', day).replace('{0}', clock)} {_zone_label(local, locale)}"


def _zone_label(local: datetime, locale: Locale) -> str:
    # The locale's own abbreviation (MEZ) if it has one, else the zone's (CET), else an offset.
    short = format_datetime(local, "z", tzinfo=local.tzinfo, locale=locale)
    if short.isalpha():
        return short
    name = local.tzname() or ""
    return name if name.isalpha() else format_datetime(local, "ZZZZ", locale=locale)


@pass_context
def _date(context: Context, value: Any) -> str:
    fmt = _format(context)
    return _local_date(local_text(value, fmt.zone), fmt.zone, fmt.locale)


@lru_cache(maxsize=1024)
def _local_date(local: datetime, zone: ZoneInfo, locale: Locale) -> str:
    return format_date(local, "long", locale=locale)


@pass_context
def _number(context: Context, value: Any) -> str:
    if isinstance(_given(value), bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")
    return format_decimal(value, locale=_format(context).locale)


@pass_context
def _duration(context: Context, value: Any) -> str:
    """A length of time to the minute, in its two largest units: `1 day, 4 hours`.

    Rounded down, so "time left" never promises more than there is; the sign is dropped.
    """
    if not isinstance(_given(value), timedelta):
        raise TypeError(f"expected a timedelta, got {type(value).__name__} {value!r}")
    locale = _format(context).locale
    minutes = abs(int(value.total_seconds())) // 60
    amounts: list[tuple[Literal["day", "hour", "minute"], int]] = [
        ("day", minutes // 1440), ("hour", minutes // 60 % 24), ("minute", minutes % 60)]
    first = next((i for i, (_, n) in enumerate(amounts) if n), len(amounts) - 1)
    chosen = [(unit, n) for unit, n in amounts[first:first + 2] if n] or [("minute", 0)]
    parts = [format_timedelta(timedelta(**{f"{unit}s": n}), granularity=unit, threshold=10**9,
                              locale=locale) for unit, n in chosen]
    try:
        return format_list(parts, style="unit", locale=locale)
    except KeyError:  # CLDR lacks part of some languages' unit-list pattern (Spanish)
        return format_list(parts, locale=locale)


_WHAT = {"categories": "a data category", "consequences": "a data category",
         "advice": "a data category", "kinds": "an incident kind", "happened": "an incident kind",
         "breach_types": "a breach type", "severities": "a severity",
         "recommendations": "a recommendation", "letter": "a sentence of a notice"}


def _term(context: Context, group: str, value: Any) -> str:
    words: Mapping[str, str] = getattr(_format(context).terms, group)
    if not isinstance(_given(value), str) or value not in words:
        raise ValueError(f"{value!r} is not {_WHAT[group]} ({', '.join(words)})")
    return words[value]


def _names(context: Context, group: str, values: Any) -> str:
    if isinstance(_given(values), str) or not isinstance(values, Iterable):
        raise TypeError(f"expected a list of {group.replace('_', ' ')}, got {values!r}")
    names = [_term(context, group, v) for v in values]
    return format_list(names, locale=_format(context).locale) if names else "—"


def _term_filter(group: str) -> Callable[[Context, Any], str]:
    @pass_context
    def term(context: Context, value: Any) -> str:
        return _term(context, group, value)
    return term


def _names_filter(group: str) -> Callable[[Context, Any], str]:
    @pass_context
    def names(context: Context, values: Any) -> str:
        return _names(context, group, values)
    return names


@pass_context
def _heading(context: Context, own: Any, key: str) -> str:
    """A notice's heading: its own words, or the heading a California reader's law prescribes
    (Cal. Civ. Code 1798.82(d)(1)) when their letter follows that format."""
    if "california_format" in context.get("elements", ()):
        return _term(context, "letter", key)
    return str(_given(own))


def _underline(value: Any) -> str:
    """A heading of a plain-text message, underlined as wide as it is displayed (a CJK
    character takes two columns)."""
    text = str(_given(value))
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return f"{text}\n{'-' * width}"


@pass_context
def _jurisdiction(context: Context, code: Any) -> str:
    if not isinstance(_given(code), str):
        raise TypeError(f"expected a jurisdiction code, got {code!r}")
    return jurisdiction_name(code, _format(context).locale)


def jurisdiction_name(code: str, locale: Locale) -> str:
    """A country by its name in the locale (`Niemcy`); a region with its code (`USA (US-CA)`)."""
    country = locale.territories.get(code[:2].upper(), code[:2])
    return country if len(code) == 2 else f"{country} ({code})"


def _capfirst(value: Any) -> str:
    text = str(_given(value))
    return text[:1].upper() + text[1:]


def _web_url(value: Any) -> str:
    """`value` if it is an http(s) address: a link in a message must never run script."""
    parts = urlsplit(str(_given(value)))
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) address")
    return str(value)


def _invalid(name: str, value: Any) -> str:
    raise ValueError(f"{name} has an unexpected value {value!r}")
