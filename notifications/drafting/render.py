"""Rendering of notification messages: one subject, text and HTML per kind and locale.

Templates are files under `<templates_dir>/email/<kind>/<locale>.{subject.txt,txt,html}`,
compiled by the one Jinja2 environment `environment()` builds: sandboxed, `StrictUndefined`,
HTML autoescaped and text not. Everything a responder typed (titles, descriptions,
measures, names) arrives as a value in the context, never as template source, so
`{{ 7*7 }}` in a title stays those seven characters and `<script>` in HTML becomes
`&lt;script&gt;`. The words the templates need for each data category, incident kind and
breach type live in `<templates_dir>/email/terms/<locale>.yaml`, beside the templates.

A requested locale falls back along its parents to `en` (`de_AT` -> `de` -> `en`); dates,
numbers and durations are formatted by babel in the most specific locale that speaks the
template's language (so `de_AT` reads `Jänner` from the German templates) and in the
recipient's time zone.

Context keys each kind expects (every key must be present; "may be empty" means "" or [],
"or None" means None is allowed; times are aware datetimes, durations timedeltas):

`subject_notice`, the notice to an affected person (GDPR Art. 34(2)):
    organisation, incident_reference, recipient_name (may be empty), kind (an incident
    kind), description (may be empty: what happened, in the organisation's words),
    occurred_from and occurred_to (or None), aware_at, categories (this person's exposed
    data categories), consequences (may be empty: more on likely consequences), measures
    (what the organisation did; may be empty), dpo_name, dpo_email, dpo_phone (may be empty).

`authority_report`, the report to a supervisory authority (GDPR Art. 33(3), phased per 33(4)):
    authority, organisation, incident_reference, authority_reference (may be empty: the
    authority's case number), supplement (0 for the initial report, n for the n-th
    supplement), first_reported_at (or None for the initial report), reported_at, kind,
    breach_types, description, occurred_from and occurred_to (or None), detected_at,
    aware_at, contained_at (or None), categories, subjects_estimate and records_estimate
    (numbers, or None when not yet known), jurisdictions (a list of {code, subjects}, code
    ISO 3166-1 or 3166-2), consequences, measures_taken and measures_proposed (may be
    empty), dpo_name, dpo_email, dpo_phone (may be empty), delay_reason (may be empty: set
    when the report is late, Art. 33(1)), due_at (the deadline, shown when late).

`reminder`, an internal reminder that an obligation falls due:
    recipient_name (may be empty), incident_reference, incident_title, incident_url,
    obligation, regime, obligation_recipient, due_at, time_left.

`escalation`, an internal escalation that an obligation is overdue or its deliveries fail:
    recipient_name (may be empty), issue (`obligation_overdue` or `delivery_failing`),
    incident_reference, incident_title, incident_url, obligation, regime,
    obligation_recipient, due_at, since (when the problem began), elapsed (how long it has
    lasted); for `delivery_failing` also deliveries_failed, deliveries_total and
    last_error (may be empty: the server's last reply, verbatim).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, pass_context
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup

from incident.kernel.vocabulary import DataCategory
from incident.lifecycle.rules import BreachType, Kind

DEFAULT_LOCALE = "en"
SUBJECT_LIMIT = 200
PARTS = ("subject.txt", "txt", "html")
_FORMAT_KEY = "_format"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LOCALE_NAME = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]+)*")
# Explicit embeddings, overrides and isolates: each opener with the character that closes it.
_BIDI_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
                 "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(" {2,}")


class RenderError(ValueError):
    """A message cannot be rendered: an unknown kind, a missing or wrong value, a broken file."""


class Rendered(NamedTuple):
    """One rendered message; `locale` is the template locale used after fallback."""

    subject: str
    text: str
    html: str
    locale: str


@dataclass(frozen=True)
class Terms:
    """The words for one locale that templates take from `email/terms/<locale>.yaml`."""

    categories: Mapping[str, str]
    consequences: Mapping[str, str]
    advice: Mapping[str, str]
    kinds: Mapping[str, str]
    happened: Mapping[str, str]
    breach_types: Mapping[str, str]


_TERM_KEYS: Mapping[str, frozenset[str]] = {
    "categories": frozenset(DataCategory), "consequences": frozenset(DataCategory),
    "advice": frozenset(DataCategory), "kinds": frozenset(Kind), "happened": frozenset(Kind),
    "breach_types": frozenset(BreachType),
}


@dataclass(frozen=True)
class _Format:
    locale: Locale
    zone: ZoneInfo
    terms: Terms


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
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return contain_bidi(flat)


# ------------------------------------------------------------------------- filters


def _format(context: Context) -> _Format:
    value = context.get(_FORMAT_KEY)
    if not isinstance(value, _Format):
        raise RenderError("localised filters work only in templates rendered by Renderer.render")
    return value


def _given(value: Any) -> Any:
    # A filter sees a missing key as an Undefined: report the missing key, not a wrong type.
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def local_text(value: Any, zone: ZoneInfo) -> datetime:
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
    return format_list(parts, style="unit", locale=locale)


_WHAT = {"categories": "a data category", "consequences": "a data category",
         "advice": "a data category", "kinds": "an incident kind", "happened": "an incident kind",
         "breach_types": "a breach type"}


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
def _jurisdiction(context: Context, code: Any) -> str:
    """A country by its name in the locale (`Niemcy`); a region with its code (`USA (US-CA)`)."""
    if not isinstance(_given(code), str):
        raise TypeError(f"expected a jurisdiction code, got {code!r}")
    territories = _format(context).locale.territories
    country = territories.get(code[:2].upper(), code[:2])
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


# ------------------------------------------------------------------------ renderer


class Renderer:
    """Renders the messages found under `<templates_dir>/email/`; build it with `renderer()`."""

    def __init__(self, env: SandboxedEnvironment, templates: Mapping[str, frozenset[str]],
                 terms: Mapping[str, Terms]) -> None:
        self._env = env
        self._templates = templates
        self._terms = terms
        self._resolved: dict[tuple[str, str], tuple[str, Locale, Terms]] = {}
        self._compiled: dict[str, Template] = {}

    def kinds(self) -> list[str]:
        """The kinds of message there are templates for, sorted."""
        return sorted(self._templates)

    def locales(self, kind: str) -> list[str]:
        """The locales `kind` has templates in, sorted; RenderError for an unknown kind."""
        return sorted(self._known(kind))

    def resolve_locale(self, kind: str, locale: str) -> str:
        """The template locale a message of `kind` for `locale` is written in, after fallback."""
        return self._resolve(kind, locale)[0]

    def render(self, kind: str, locale: str, context: Mapping[str, Any], *,
               zone: ZoneInfo) -> Rendered:
        """Render `kind` for a recipient who reads `locale` and lives in `zone`.

        Raises RenderError naming the kind, locale and template for anything the templates
        cannot render: a missing key, a value of the wrong type or outside its choices.
        The subject is one line of at most SUBJECT_LIMIT characters; the bodies use `\\n`
        line ends, whatever the values held.
        """
        used, babel_locale, terms = self._resolve(kind, locale)
        values = {**context, _FORMAT_KEY: _Format(babel_locale, zone, terms)}
        subject, text, html = (self._render_one(f"email/{kind}/{used}.{part}", kind, locale, values)
                               for part in PARTS)
        return Rendered(one_line(subject), _line_ends(text), _line_ends(html), used)

    def _render_one(self, name: str, kind: str, locale: str, values: Mapping[str, Any]) -> str:
        try:
            template = self._compiled.get(name) or self._compiled.setdefault(
                name, self._env.get_template(name))
            return template.render(values)
        except (TemplateError, ValueError, TypeError) as exc:
            where = name + _template_line(exc.__traceback__, name)
            raise RenderError(f"cannot render {kind!r} for locale {locale!r}: {where}: {exc}") from exc

    def _known(self, kind: str) -> frozenset[str]:
        if kind not in self._templates:
            raise RenderError(f"unknown message kind {kind!r}; there are: {', '.join(self.kinds())}")
        return self._templates[kind]

    def _resolve(self, kind: str, locale: str) -> tuple[str, Locale, Terms]:
        key = (kind, locale)
        if key not in self._resolved:
            candidates = locale_chain(locale)
            used = next(c for c in candidates if c in self._known(kind))
            language = used.split("_")[0]
            babel_name = next(c for c in candidates if c.split("_")[0] == language)
            terms = next(self._terms[c] for c in locale_chain(used) if c in self._terms)
            self._resolved[key] = (used, _babel(babel_name) or _babel(used) or Locale("en"), terms)
        return self._resolved[key]


def locale_chain(locale: str) -> list[str]:
    """`locale` and its parents, ending with `en`: `de-AT` -> [`de_AT`, `de`, `en`]."""
    name = locale.strip().replace("-", "_")
    found = _babel(name)
    name = str(found) if found else name
    parts = name.split("_")
    chain = ["_".join(parts[:i]) for i in range(len(parts), 0, -1)]
    return [*chain, DEFAULT_LOCALE] if DEFAULT_LOCALE not in chain else chain


def _babel(name: str) -> Locale | None:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _line_ends(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _template_line(tb: TracebackType | None, name: str) -> str:
    # Jinja rewrites tracebacks so that template frames carry the template's own line numbers.
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" line {line}" if line else ""


def renderer(templates_dir: Path) -> Renderer:
    """A Renderer for the templates under `templates_dir/email`, checked when built.

    Every kind needs `en`; every locale needs all three parts and words in
    `email/terms/<locale>.yaml` (its own or a parent's of the same language).
    Raises RenderError naming the file for anything missing or malformed.
    """
    email = templates_dir / "email"
    if not email.is_dir():
        raise RenderError(f"{email} does not exist: no message templates")
    terms = {path.stem: _load_terms(path) for path in sorted((email / "terms").glob("*.yaml"))}
    if DEFAULT_LOCALE not in terms:
        raise RenderError(f"{email / 'terms' / DEFAULT_LOCALE}.yaml is missing")
    templates: dict[str, frozenset[str]] = {}
    for folder in sorted(p for p in email.iterdir() if p.is_dir() and p.name != "terms"):
        locales = _locales(folder)
        if not locales:
            continue
        if not _NAME.fullmatch(folder.name):
            raise RenderError(f"{folder}: a kind is named in lower case letters, digits and _")
        if DEFAULT_LOCALE not in locales:
            raise RenderError(f"{folder}: every kind needs {DEFAULT_LOCALE} templates")
        for locale in locales:
            language = locale.split("_")[0]
            if not any(c in terms for c in locale_chain(locale) if c.split("_")[0] == language):
                raise RenderError(f"{folder / locale}: no words in email/terms/ for this language")
        templates[folder.name] = frozenset(locales)
    return Renderer(environment(templates_dir), templates, terms)


def _locales(folder: Path) -> set[str]:
    found: dict[str, set[str]] = {}
    for path in folder.iterdir():
        part = next((p for p in PARTS if path.name.endswith("." + p)), None)
        if part is None:
            continue
        locale = path.name[: -len(part) - 1]
        if not _LOCALE_NAME.fullmatch(locale) or _babel(locale) is None:
            raise RenderError(f"{path}: {locale!r} is not a locale such as en, de or pt_BR")
        found.setdefault(locale, set()).add(part)
    for locale, parts in found.items():
        missing = [p for p in PARTS if p not in parts]
        if missing:
            raise RenderError(f"{folder}: {locale} has no {', '.join(f'{locale}.{p}' for p in missing)}")
    return set(found)


def _load_terms(path: Path) -> Terms:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"{path}: expected a mapping of {', '.join(_TERM_KEYS)}")
    problems = [f"unknown group {group!r}" for group in data if group not in _TERM_KEYS]
    for group, keys in _TERM_KEYS.items():
        words = data.get(group)
        if not isinstance(words, dict):
            problems.append(f"{group}: missing")
            continue
        problems += [f"{group}: {key} is missing" for key in sorted(keys - words.keys())]
        problems += [f"{group}: {key} is unknown" for key in sorted(words.keys() - keys)]
        problems += [f"{group}: {k} is not text" for k, v in words.items() if not isinstance(v, str)]
    if problems:
        raise RenderError(f"{path}: " + "; ".join(problems))
    return Terms(**{group: dict(data[group]) for group in _TERM_KEYS})


# --------------------------------------------------------------------------- samples


def sample_context(kind: str) -> dict[str, Any]:
    """Realistic example values for every key `kind` expects, for tests and previews."""
    aware = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    incident = {"incident_reference": "BR-2026-0007"}
    dpo = {"dpo_name": "Anna Nowak", "dpo_email": "dpo@smartcp.example", "dpo_phone": "+48 34 000 12 34"}
    internal = {**incident, "recipient_name": "Marek Zieliński",
                "incident_title": "Customer CRM export found on a public file share",
                "incident_url": "https://breachdesk.example/incidents/BR-2026-0007",
                "obligation": "Notify the supervisory authority", "regime": "GDPR",
                "obligation_recipient": "Prezes Urzędu Ochrony Danych Osobowych (UODO)",
                "due_at": aware + timedelta(hours=72)}
    samples: dict[str, dict[str, Any]] = {
        "subject_notice": {
            **incident, **dpo, "organisation": "SmartCP (SmartAction.io Sp. z o.o.)",
            "recipient_name": "Jan Kowalski", "kind": "unauthorized_access",
            "description": "An export of our customer database was stored on a file share that "
                           "could be reached from the internet without a password.",
            "occurred_from": datetime(2026, 11, 20, 23, 10, tzinfo=UTC),
            "occurred_to": datetime(2026, 11, 24, 9, 5, tzinfo=UTC), "aware_at": aware,
            "categories": ["contact", "credentials", "financial"],
            "consequences": "",
            "measures": ["We removed the file from the share and closed public access to it.",
                         "We reset the passwords of all affected accounts.",
                         "We reported the incident to the data protection authority."],
        },
        "authority_report": {
            **incident, **dpo, "authority": "Prezes Urzędu Ochrony Danych Osobowych (UODO)",
            "organisation": "SmartCP (SmartAction.io Sp. z o.o.)", "authority_reference": "DKN.5131.88.2026",
            "supplement": 2, "first_reported_at": datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
            "reported_at": datetime(2026, 12, 3, 10, 15, tzinfo=UTC), "kind": "unauthorized_access",
            "breach_types": ["confidentiality", "integrity"],
            "description": "A CRM export was reachable on a public file share; access logs show "
                           "two downloads from unknown addresses.",
            "occurred_from": datetime(2026, 11, 20, 23, 10, tzinfo=UTC),
            "occurred_to": datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
            "detected_at": datetime(2026, 11, 24, 7, 45, tzinfo=UTC), "aware_at": aware,
            "contained_at": datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
            "categories": ["contact", "credentials", "financial"],
            "subjects_estimate": 12480, "records_estimate": 1250000,
            "jurisdictions": [{"code": "PL", "subjects": 9120}, {"code": "DE", "subjects": 2310},
                              {"code": "US-CA", "subjects": 1050}],
            "consequences": "Phishing aimed at the people concerned; attempts to sign in with "
                            "the exposed password hashes; payment fraud with the last four card digits.",
            "measures_taken": ["Public access to the file share removed",
                               "Passwords of affected accounts reset",
                               "Access logs preserved as evidence"],
            "measures_proposed": ["Notify the affected people by email",
                                  "Scan all file shares for public exposure weekly"],
            "delay_reason": "The exported file had to be restored from backup to establish which "
                            "people it named; this took longer than 72 hours.",
            "due_at": aware + timedelta(hours=72),
        },
        "reminder": {**internal, "time_left": timedelta(hours=19, minutes=40)},
        "escalation": {**internal, "issue": "delivery_failing",
                       "since": datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
                       "elapsed": timedelta(hours=3, minutes=25),
                       "deliveries_failed": 1312, "deliveries_total": 12480,
                       "last_error": "451 4.7.1 Greylisted, please try again later"},
    }
    if kind not in samples:
        raise RenderError(f"no sample context for {kind!r}; there are: {', '.join(samples)}")
    return samples[kind]
