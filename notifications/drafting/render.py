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

`Renderer.prepared` serves many readers who share all of a context but their names: it
renders once per language (and per name being None, empty or set) and fills each reader's
name into the pieces, byte for byte what `render` gives, where reading the templates and
rendering them with two stand-ins prove that they only print the name; otherwise it renders
each message in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from string import ascii_lowercase
from types import TracebackType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale
from jinja2 import Template, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

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
        self._printing: dict[tuple[str, str, tuple[str, ...]], bool] = {}

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
        subject, text, html, used = self._raw(kind, locale, context, zone, fallback)
        return Rendered(one_line(subject), _line_ends(text), _line_ends(html), used)

    def prepared(self, kind: str, locale: str, context: Mapping[str, Any], *, zone: ZoneInfo,
                 fallback: str = DEFAULT_LOCALE,
                 personal: Sequence[str] = ("recipient_name",)) -> Prepared:
        """`kind` for readers of `locale` in `zone` who share `context` but for the values
        named in `personal` (a notice's `recipient_name`): `fill` gives each their message.

        `prepared(...).fill(**values)` returns exactly what `render(kind, locale,
        {**context, **values}, zone=zone, fallback=fallback)` returns (or raises), for any
        values; where the templates provably only print a personal value, as `{{ name }}`,
        or test whether it is set, it does so without rendering the templates again. Raises
        RenderError for an unknown kind, ValueError for more than 26 personal names.
        """
        self._known(kind)
        return Prepared(self, kind, locale, context, zone, fallback, tuple(personal))

    def formatting(self, kind: str, locale: str, *, zone: ZoneInfo,
                   fallback: str = DEFAULT_LOCALE) -> Formatting:
        """How a message of `kind` for a reader of `locale` formats: its words, dates and
        numbers (for documents made without a template, such as a report's sheet)."""
        _, formats_in, terms = self._resolve(kind, locale, fallback)
        return Formatting(formats_in, zone, terms)

    def _raw(self, kind: str, locale: str, context: Mapping[str, Any], zone: ZoneInfo,
             fallback: str) -> tuple[str, str, str, str]:
        # The three parts as the templates print them, before a subject is made one line and
        # line ends are normalised, and the template locale used.
        used, formats_in, terms = self._resolve(kind, locale, fallback)
        values = {**context, FORMAT_KEY: Formatting(formats_in, zone, terms)}
        subject, text, html = (self._render_one(f"email/{kind}/{used}.{part}", kind, locale, values)
                               for part in PARTS)
        return subject, text, html, used

    def _prints_only(self, kind: str, used: str, personal: tuple[str, ...]) -> bool:
        # Whether every part of `kind` in template locale `used` (and all it extends and
        # includes) only prints the personal values or tests whether they are set.
        key = (kind, used, personal)
        if key not in self._printing:
            self._printing[key] = all(
                self._closure_prints_only(f"email/{kind}/{used}.{part}", frozenset(personal))
                for part in PARTS)
        return self._printing[key]

    def _closure_prints_only(self, root: str, personal: frozenset[str]) -> bool:
        loader = self._env.loader
        if loader is None or self._finalize() is None:
            return False
        escaped = self._escapes(root)
        seen: set[str] = set()
        waiting = [root]
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            seen.add(name)
            if self._escapes(name) != escaped:
                return False
            try:
                tree = self._env.parse(loader.get_source(self._env, name)[0], name)
            except TemplateError:
                return False
            if not _prints_only(tree, personal):
                return False
            for referenced in meta.find_referenced_templates(tree):
                if referenced is None:  # a template named by a value: cannot be followed
                    return False
                waiting.append(referenced)
        return True

    def _escapes(self, name: str) -> bool:
        autoescape = self._env.autoescape
        return bool(autoescape(name) if callable(autoescape) else autoescape)

    def _finalize(self) -> Callable[[Any], Any] | None:
        # The environment's `finalize`, applied to every printed value, when it takes the
        # value alone (one that also takes the context cannot be applied outside a render).
        finalize: Callable[[Any], Any] | None = self._env.finalize
        if finalize is None:
            return lambda value: value
        return None if hasattr(finalize, "jinja_pass_arg") else finalize

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


_UNSET, _EMPTY, _SET = 0, 1, 2
"""What a template can tell of a personal value without printing it: None, "" or some text."""
_FIRST = tuple(f"qxz{letter}personalqxz" for letter in ascii_lowercase)
_SECOND = tuple(f"qxz{letter}personalsecondvalueqxz" for letter in ascii_lowercase)
_MISSING = object()

_Part = str | tuple[str | int, ...]
"""A part of a prepared message: its finished text, or its text as printed split at the
personal values (each the index of its name)."""
_Split = tuple[_Part, _Part, _Part, str, tuple[bool, bool, bool]]
"""A prepared message: subject, text and HTML, the template locale, and which parts print
values HTML-escaped."""


class Prepared:
    """A message shared by many readers but for a few personal values; see `Renderer.prepared`.

    For each combination of personal values being None, empty or set (all that the templates
    may test of them), the parts are rendered twice with stand-ins of different lengths in place of the
    set values; where the second rendering is the first with the other stand-ins and the
    templates only print these values as they are (`{{ recipient_name }}`, no filter, no
    comparison, no macro), each part is kept split at the stand-ins and a reader's message
    is put together from the pieces. Anything else (a value that is not text, a template
    that transforms, measures or compares the value, an error) is rendered in full.
    """

    def __init__(self, renderer: Renderer, kind: str, locale: str, context: Mapping[str, Any],
                 zone: ZoneInfo, fallback: str, personal: tuple[str, ...]) -> None:
        if len(personal) > len(_FIRST) or len(set(personal)) != len(personal):
            raise ValueError(f"at most {len(_FIRST)} distinct personal names, not {personal!r}")
        self._renderer = renderer
        self._kind, self._locale, self._zone, self._fallback = kind, locale, zone, fallback
        self._context = dict(context)
        self._personal = personal
        self._names = frozenset(personal)
        self._shapes: dict[tuple[int, ...], _Split | None] = {}

    @property
    def personal(self) -> tuple[str, ...]:
        """The names of the values each reader has their own of."""
        return self._personal

    def fill(self, **values: Any) -> Rendered:
        """The message for one reader: what `Renderer.render` gives (or raises) for the shared
        context with `values`, the reader's own, in place of its personal values."""
        found = self._pieces(values)
        if found is None:
            return self._full(values)
        (subject, text, html, used, escapes), printed = found
        plain = [str(p) for p in printed]
        escaped = [str(escape(p)) for p in printed] if any(escapes) else plain
        subject_values, text_values, html_values = (escaped if e else plain for e in escapes)
        return Rendered(_assemble(subject, subject_values, one_line),
                        _assemble(text, text_values, _line_ends),
                        _assemble(html, html_values, _line_ends), used)

    def in_full(self, **values: Any) -> bool:
        """Whether `fill(**values)` renders the templates in full: a value that is not text,
        a template that does more with it than print it, a message that cannot be rendered."""
        return self._pieces(values) is None

    def _pieces(self, values: Mapping[str, Any]) -> tuple[_Split, list[Any]] | None:
        # The prepared parts for `values`' shape and each value as the templates print it;
        # None where the message must be rendered in full.
        finalize = self._renderer._finalize()
        if finalize is None or not self._names.issuperset(values):
            return None
        shape: list[int] = []
        given: list[Any] = []
        for name in self._personal:
            value = values[name] if name in values else self._context.get(name, _MISSING)
            # Exactly str: a subclass (Markup) prints otherwise, and so does anything else.
            if value is not None and type(value) is not str:
                return None
            shape.append(_UNSET if value is None else _SET if value else _EMPTY)
            given.append(value)
        key = tuple(shape)
        if key not in self._shapes:
            self._shapes[key] = self._prepare(key)
        split = self._shapes[key]
        if split is None:
            return None
        try:
            return split, [finalize(v) if s == _SET else "" for v, s in zip(given, shape, strict=True)]
        except (ValueError, TypeError):
            return None

    def _full(self, values: Mapping[str, Any]) -> Rendered:
        return self._renderer.render(self._kind, self._locale, {**self._context, **values},
                                     zone=self._zone, fallback=self._fallback)

    def _prepare(self, shape: tuple[int, ...]) -> _Split | None:
        # The parts for readers whose values have this shape, split at the set values; None
        # where they must be rendered in full.
        first, second = ({name: None if s == _UNSET else stand_in[i] if s == _SET else ""
                          for i, (name, s) in enumerate(zip(self._personal, shape, strict=True))}
                         for stand_in in (_FIRST, _SECOND))
        render = self._renderer._raw
        try:
            *once, used = render(self._kind, self._locale, {**self._context, **first},
                                 self._zone, self._fallback)
            *twice, _ = render(self._kind, self._locale, {**self._context, **second},
                               self._zone, self._fallback)
        except RenderError:
            return None
        marks = {_FIRST[i]: i for i, s in enumerate(shape) if s == _SET}
        if marks and not self._renderer._prints_only(self._kind, used, self._personal):
            return None
        pattern = re.compile("(" + "|".join(marks) + ")") if marks else None
        seconds = [_SECOND[i] for i in range(len(shape))]
        parts: list[_Part] = []
        for raw, again, finish in zip(once, twice, (one_line, _line_ends, _line_ends), strict=True):
            pieces = tuple(marks.get(piece, piece) for piece in pattern.split(raw) if piece) \
                if pattern else ()
            if "".join(seconds[p] if isinstance(p, int) else p for p in pieces or (raw,)) != again:
                return None  # the value is changed, measured or compared: render in full
            parts.append(pieces if any(isinstance(p, int) for p in pieces) else finish(raw))
        subject, text, html = (self._renderer._escapes(f"email/{self._kind}/{used}.{part}")
                               for part in PARTS)
        return parts[0], parts[1], parts[2], used, (subject, text, html)


def _assemble(part: _Part, values: Sequence[str], finish: Callable[[str], str]) -> str:
    if isinstance(part, str):
        return part
    return finish("".join(values[p] if isinstance(p, int) else p for p in part))


_CAPTURING = (nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock,
              nodes.EvalContextModifier)
"""Nodes whose output is not printed where they stand but passed on, perhaps transformed."""
_PLACING = (nodes.Template, nodes.Output, nodes.If, nodes.For, nodes.Block, nodes.With)
"""Nodes that only decide whether and where their body is printed."""
_SHAPE_TESTS = frozenset({"none", "defined", "undefined", "string"})
"""Tests whose answer for a value None, "" or text depends on which of these it is alone."""


def _prints_only(tree: nodes.Template, personal: frozenset[str]) -> bool:
    """Whether `tree` uses the values named in `personal` only by printing them directly
    (`{{ name }}` where nothing captures the output) or testing whether they are set
    (`{% if name %}`, `not name`, `name is none`), and never names them otherwise."""
    for node in tree.find_all((nodes.Name, nodes.Macro, nodes.Import, nodes.FromImport)):
        if isinstance(node, nodes.Macro) and node.name in personal:
            return False
        if isinstance(node, nodes.Import) and node.target in personal:
            return False
        if isinstance(node, nodes.FromImport) and any(
                (n if isinstance(n, str) else n[-1]) in personal for n in node.names):
            return False
        if isinstance(node, nodes.Name) and node.name in ("self", "super"):
            return False  # a block's output can be printed again elsewhere, or transformed
    for node in tree.find_all((*_CAPTURING, nodes.For)):
        if isinstance(node, nodes.For) and not node.recursive:
            continue  # a recursive loop's body can be printed through `loop(...)|filter`
        if any(n.name in personal for n in node.find_all(nodes.Name)) or any(
                True for _ in node.find_all((nodes.Block, nodes.Include, nodes.Extends))):
            return False
    return _uses_ok(tree, [], personal)


def _uses_ok(node: nodes.Node, ancestors: list[nodes.Node], personal: frozenset[str]) -> bool:
    if isinstance(node, nodes.Name) and node.name in personal:
        if node.ctx != "load":
            return False
        parent = ancestors[-1]
        if isinstance(parent, nodes.Output):
            return all(isinstance(a, _PLACING) for a in ancestors)
        return _as_truth(node, ancestors)
    ancestors.append(node)
    try:
        return all(_uses_ok(child, ancestors, personal) for child in node.iter_child_nodes())
    finally:
        ancestors.pop()


def _as_truth(node: nodes.Node, ancestors: Sequence[nodes.Node]) -> bool:
    # Whether only the truth (or None-ness) of `node`'s value can reach the output.
    if not ancestors:
        return False
    parent, above = ancestors[-1], ancestors[:-1]
    if isinstance(parent, nodes.If | nodes.CondExpr | nodes.For):
        return parent.test is node
    if isinstance(parent, nodes.Not):
        return True
    if isinstance(parent, nodes.Test):
        return (parent.name in _SHAPE_TESTS and not parent.args and not parent.kwargs
                and parent.dyn_args is None and parent.dyn_kwargs is None)
    if isinstance(parent, nodes.And | nodes.Or):
        return _as_truth(parent, above)
    return False


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
