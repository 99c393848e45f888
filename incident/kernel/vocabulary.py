"""Words every capability shares: the categories of personal data, and language tags."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from babel import Locale, UnknownLocaleError


class DataCategory(StrEnum):
    CONTACT = "contact"
    IDENTITY = "identity"
    OFFICIAL_ID = "official_id"
    FINANCIAL = "financial"
    CREDENTIALS = "credentials"
    LOCATION = "location"
    BEHAVIOURAL = "behavioural"
    HEALTH = "health"
    SPECIAL = "special"
    CHILDREN = "children"


@lru_cache(maxsize=1024)
def normalise_locale(value: str) -> str:
    """A locale such as `de-DE` or `pt_BR` in babel's form (`de_DE`); ValueError if unknown."""
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale {value!r}") from None
