"""A draft's text per language. Pure rules.

Each field a person types holds either one text, in the organisation's language, or one
text per locale (`{"en": "…", "pl": "…"}`). A reader gets the text of their own locale or
of a parent with the same language (`de_AT`, then `de`); a recipient language with no text
for a field that has text in another language is a gap: sending is refused until it is
written, or the sender names, explicitly, the language those recipients get instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from notifications.drafting.locales import babel_locale, locale_chain


def normal_locale(tag: str) -> str | None:
    """`tag` as the templates name locales (`de_AT`, `pt_BR`), or None when babel does not
    know it."""
    found = babel_locale(tag.strip().replace("-", "_"))
    return str(found) if found is not None else None


def organisation_language(profile: Any | None) -> str:
    """The organisation's language as the templates name locales (`en` without a profile)."""
    tag = getattr(profile, "language", None) if profile is not None else None
    return (normal_locale(tag) if tag else None) or "en"


def texts_of(value: Any, default: str) -> dict[str, str]:
    """A stored field as {locale: text}, empty texts left out; a plain text is `default`'s."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if str(v).strip()}
    text = str(value or "")
    return {default: text} if text.strip() else {}


def merged(current: Any, change: Any, default: str) -> Any:
    """The field after an edit: a plain text replaces the organisation's language's text, a
    {locale: text} replaces those locales' texts; the others stay. Stored as a plain text
    while only the organisation's language has one."""
    texts = texts_of(current, default)
    if isinstance(change, Mapping):
        for locale, text in change.items():
            texts[str(locale)] = str(text)
    else:
        texts[default] = str(change)
    texts = {locale: text for locale, text in texts.items() if text.strip()}
    if set(texts) <= {default}:
        return texts.get(default, "")
    return dict(sorted(texts.items()))


def text_for(value: Any, locale: str, default: str) -> str:
    """The text a reader of `locale` gets: their locale's, a parent's of the same language,
    then (for a preview in a language not written yet) the organisation's; else ""."""
    texts = texts_of(value, default)
    language = locale.split("_")[0]
    for candidate in locale_chain(locale, default):
        if candidate in texts and (candidate.split("_")[0] == language
                                   or candidate == default):
            return texts[candidate]
    return ""


def written_in(value: Any, locale: str, default: str) -> bool:
    """Whether the field has text a reader of `locale` can read in their own language (or
    has no text at all, in any language: nothing is missing then)."""
    texts = texts_of(value, default)
    if not texts:
        return True
    language = locale.split("_")[0]
    return any(candidate in texts for candidate in locale_chain(locale, default)
               if candidate.split("_")[0] == language)


def gaps(fields: Mapping[str, Any], names: Iterable[str], readers: Mapping[str, int],
         default: str) -> dict[str, list[str]]:
    """For each language readers read (`readers`: the locale a letter is written in, with how
    many recipients), the fields with text elsewhere and none in it."""
    missing: dict[str, list[str]] = {}
    for locale in sorted(readers):
        lacking = [name for name in names if not written_in(fields.get(name), locale, default)]
        if lacking:
            missing[locale] = lacking
    return missing


def complete_languages(fields: Mapping[str, Any], names: Iterable[str], default: str) -> list[str]:
    """The locales every field with text has text in: what a sender may fall back to."""
    names = list(names)
    written = {locale for name in names for locale in texts_of(fields.get(name), default)}
    return sorted(locale for locale in written
                  if not gaps(fields, names, {locale: 1}, default))
