"""Locales: the words each language's messages use, and the fallback from one locale to another.

The words the templates need for each data category, incident kind and breach type
live in `<templates_dir>/email/terms/<locale>.yaml`, beside the templates; `load_terms`
reads one file and checks that it covers every category, kind and breach type, no
more and no less. `locale_chain` says where a requested locale falls back to: its
parents, then `en` (`de_AT` -> `de` -> `en`).

Separate from the Jinja2 environment and from the Renderer because it changes when a
language is added or the vocabulary grows, not when rendering does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError

from incident.kernel.vocabulary import DataCategory
from incident.lifecycle.rules import BreachType, Kind
from notifications.obligations.assessment import Recommendation
from notifications.obligations.enisa import Severity

DEFAULT_LOCALE = "en"


class TermsError(ValueError):
    """A terms file is unreadable or does not cover the vocabulary; the message names the file."""


@dataclass(frozen=True)
class Terms:
    """The words for one locale that templates take from `email/terms/<locale>.yaml`."""

    categories: Mapping[str, str]
    consequences: Mapping[str, str]
    advice: Mapping[str, str]
    kinds: Mapping[str, str]
    happened: Mapping[str, str]
    breach_types: Mapping[str, str]
    severities: Mapping[str, str]
    recommendations: Mapping[str, str]
    letter: Mapping[str, str]
    report: Mapping[str, str]


TERM_KEYS: Mapping[str, frozenset[str]] = {
    "categories": frozenset(DataCategory), "consequences": frozenset(DataCategory),
    "advice": frozenset(DataCategory), "kinds": frozenset(Kind), "happened": frozenset(Kind),
    "breach_types": frozenset(BreachType),
    "severities": frozenset(Severity), "recommendations": frozenset(Recommendation),
    "letter": frozenset({
        "notice_title", "what_happened", "information_involved", "what_we_are_doing",
        "what_you_can_do", "more_information", "notice_date", "not_delayed", "delay_reason",
        "protection_heading", "credit_bureaus", "federal_agencies", "state_agencies",
        "security_freeze", "police_report", "password_change", "phone", "website"}),
    "report": frozenset({
        "controller", "our_reference", "authority_reference", "phase", "initial_report",
        "supplement", "changes", "nature", "kind", "period", "detected", "aware", "categories",
        "subjects", "counted", "estimated", "not_yet_known", "subjects_by_category",
        "subjects_by_country", "records", "records_estimate", "contact", "consequences",
        "measures_taken", "measures_proposed", "delay_reason", "content_required"}),
}
"""Each group's keys. `letter` holds what a notice adds where a law protecting its reader
asks for it: California's title and headings, the date, agencies to contact, and more.
`report` holds the labels of a report's field-by-field sheet."""


def locale_chain(locale: str, fallback: str = DEFAULT_LOCALE) -> list[str]:
    """`locale` and its parents, then `fallback` (the organisation's language) and its
    parents, ending with `en`: `de-AT` -> [`de_AT`, `de`, `en`]; `es-MX` with fallback `pl`
    -> [`es_MX`, `es`, `pl`, `en`]."""
    chain: list[str] = []
    for name in (locale, fallback, DEFAULT_LOCALE):
        for step in _parents(name):
            if step not in chain:
                chain.append(step)
    return chain


LANGUAGE_ALIASES: Mapping[str, str] = {"no": "nb", "zh": "zh_Hans"}
"""Tags that name a language our templates know by another name: Norwegian is written in
Bokmål (`nb`) unless `nn` is asked for; Chinese without a script is Simplified."""


def _parents(locale: str) -> list[str]:
    name = locale.strip().replace("-", "_")
    language, _, rest = name.partition("_")
    if language == "no":
        name = "_".join(filter(None, (LANGUAGE_ALIASES["no"], rest)))
    elif name == "zh":
        name = LANGUAGE_ALIASES["zh"]
    found = babel_locale(name)
    name = str(found) if found else name
    parts = name.split("_")
    return ["_".join(parts[:i]) for i in range(len(parts), 0, -1)]


def babel_locale(name: str) -> Locale | None:
    """babel's Locale for `name` (`de_AT`, `pt-BR`), or None when babel knows no such locale."""
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: every process reads every terms file at start."""


def load_terms(path: Path) -> Terms:
    """The words in one `email/terms/<locale>.yaml`, covering exactly our vocabulary.

    Raises TermsError naming the file and every missing, unknown or non-text entry.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise TermsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TermsError(f"{path}: expected a mapping of {', '.join(TERM_KEYS)}")
    problems = [f"unknown group {group!r}" for group in data if group not in TERM_KEYS]
    for group, keys in TERM_KEYS.items():
        words = data.get(group)
        if not isinstance(words, dict):
            problems.append(f"{group}: missing")
            continue
        problems += [f"{group}: {key} is missing" for key in sorted(keys - words.keys())]
        problems += [f"{group}: {key} is unknown" for key in sorted(words.keys() - keys)]
        problems += [f"{group}: {k} is not text" for k, v in words.items() if not isinstance(v, str)]
    if problems:
        raise TermsError(f"{path}: " + "; ".join(problems))
    return Terms(**{group: dict(data[group]) for group in TERM_KEYS})
