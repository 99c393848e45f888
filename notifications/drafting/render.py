"""Rendering of notification messages: one subject, text and HTML per kind and locale.

Templates are files under `<templates_dir>/email/<kind>/<locale>.{subject.txt,txt,html}`,
compiled by the one sandboxed Jinja2 environment (`environment.py`). `renderer()` finds
the kinds and locales there and checks the set when it is built (every kind has `en`,
every locale all three parts and its words in `email/terms/`); `Renderer.render` picks
the template locale after fallback (`de_AT` -> `de` -> `en`, see `locales.py`), formats
dates, numbers and durations with babel in the most specific locale that speaks the
template's language (so `de_AT` reads `Jänner` from the German templates) and in the
recipient's time zone, and returns the three parts with a one-line subject.

What each kind's context holds is written down, with example values, in `contexts.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale
from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from notifications.drafting.environment import FORMAT_KEY, Formatting, RenderError, environment, one_line
from notifications.drafting.locales import (
    DEFAULT_LOCALE,
    Terms,
    TermsError,
    babel_locale,
    load_terms,
    locale_chain,
)

PARTS = ("subject.txt", "txt", "html")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LOCALE_NAME = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]+)*")


class Rendered(NamedTuple):
    """One rendered message; `locale` is the template locale used after fallback."""

    subject: str
    text: str
    html: str
    locale: str


class Renderer:
    """Renders the messages found under `<templates_dir>/email/`; build it with `renderer()`."""

    def __init__(self, env: SandboxedEnvironment, templates: Mapping[str, frozenset[str]],
                 terms: Mapping[str, Terms]) -> None:
        self._env = env
        self._templates = templates
        self._terms = terms
        self._resolved: dict[tuple[str, str, str], tuple[str, Locale, Terms]] = {}
        self._compiled: dict[str, Template] = {}

    def kinds(self) -> list[str]:
        """The kinds of message there are templates for, sorted."""
        return sorted(self._templates)

    def locales(self, kind: str) -> list[str]:
        """The locales `kind` has templates in, sorted; RenderError for an unknown kind."""
        return sorted(self._known(kind))

    def resolve_locale(self, kind: str, locale: str, fallback: str = DEFAULT_LOCALE) -> str:
        """The template locale a message of `kind` for `locale` is written in, after fallback
        to `locale`'s parents, then `fallback` (the organisation's language), then English."""
        return self._resolve(kind, locale, fallback)[0]

    def render(self, kind: str, locale: str, context: Mapping[str, Any], *,
               zone: ZoneInfo, fallback: str = DEFAULT_LOCALE) -> Rendered:
        """Render `kind` for a recipient who reads `locale` and lives in `zone` (in
        `fallback`, the organisation's language, when `locale` has no template).

        Raises RenderError naming the kind, locale and template for anything the templates
        cannot render: a missing key, a value of the wrong type or outside its choices.
        The subject is one line of at most SUBJECT_LIMIT characters; the bodies use `\\n`
        line ends, whatever the values held.
        """
        used, formats_in, terms = self._resolve(kind, locale, fallback)
        values = {**context, FORMAT_KEY: Formatting(formats_in, zone, terms)}
        subject, text, html = (self._render_one(f"email/{kind}/{used}.{part}", kind, locale, values)
                               for part in PARTS)
        return Rendered(one_line(subject), _line_ends(text), _line_ends(html), used)

    def formatting(self, kind: str, locale: str, *, zone: ZoneInfo,
                   fallback: str = DEFAULT_LOCALE) -> Formatting:
        """How a message of `kind` for a reader of `locale` formats: its words, dates and
        numbers (for documents made without a template, such as a report's sheet)."""
        _, formats_in, terms = self._resolve(kind, locale, fallback)
        return Formatting(formats_in, zone, terms)

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

    def _resolve(self, kind: str, locale: str, fallback: str) -> tuple[str, Locale, Terms]:
        key = (kind, locale, fallback)
        if key not in self._resolved:
            candidates = locale_chain(locale, fallback)
            used = next(c for c in candidates if c in self._known(kind))
            language = used.split("_")[0]
            babel_name = next(c for c in candidates if c.split("_")[0] == language)
            terms = next(self._terms[c] for c in locale_chain(used) if c in self._terms)
            found = babel_locale(babel_name) or babel_locale(used) or Locale("en")
            self._resolved[key] = (used, found, terms)
        return self._resolved[key]


COPY_RULE = "\n\n" + "=" * 72 + "\n"


def with_english_copy(original: Rendered, english: Rendered) -> Rendered:
    """A message in another language followed by its English copy (a report to an authority:
    in the authority's language, and in English for anyone else who reads it). The subject
    and the language stay the original's; the English HTML document is placed, whole, in
    the original's body."""
    if original.locale.split("_")[0] == "en":
        return original
    body = english.html.split("<body", 1)[-1].split(">", 1)[-1].rsplit("</body>", 1)[0]
    html = original.html.replace(
        "</body>", '<section lang="en" style="break-before:page;margin-top:32px;">'
                   '<hr><p style="font-size:18px;font-weight:bold;">English copy</p>'
                   f"{body}</section></body>", 1)
    return original._replace(text=f"{original.text.rstrip()}{COPY_RULE}English copy\n\n"
                                  f"{english.text}", html=html)


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
    try:
        terms = {path.stem: load_terms(path) for path in sorted((email / "terms").glob("*.yaml"))}
    except TermsError as exc:
        raise RenderError(str(exc)) from exc
    if DEFAULT_LOCALE not in terms:
        raise RenderError(f"{email / 'terms' / DEFAULT_LOCALE}.yaml is missing")
    templates: dict[str, frozenset[str]] = {}
    for folder in sorted(p for p in email.iterdir() if p.is_dir() and p.name not in ("terms", "parts")):
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
        if not _LOCALE_NAME.fullmatch(locale) or babel_locale(locale) is None:
            raise RenderError(f"{path}: {locale!r} is not a locale such as en, de or pt_BR")
        found.setdefault(locale, set()).add(part)
    for locale, parts in found.items():
        missing = [p for p in PARTS if p not in parts]
        if missing:
            raise RenderError(f"{folder}: {locale} has no {', '.join(f'{locale}.{p}' for p in missing)}")
    return set(found)
