"""Which characters user text may hold, and how stored text is shown safely on a terminal.

Pure functions, no imports beyond the standard library: the input types (kernel/schemas.py)
refuse what these find, the CLI (kernel/console.py) prints through `visible`, and every CSV
export writes its cells through `spreadsheet_safe`.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates: they reorder how the rest of a line reads."""

INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff")
"""Zero-width spaces and joiners, direction marks, word joiner, byte-order mark."""

ONE_LINE_REFUSED = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
"""The characters `single_line_problem` refuses, as one expression, for checks run on millions
of lines (an inventory import)."""

_ONE_LINE_CLASS = ("\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2060"
                   "\\u2066-\\u2069\\ufeff")
_MULTI_LINE_CLASS = ("\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
                     "\\u202a-\\u202e\\u2066-\\u2069")

ONE_LINE_PATTERN = f"^[^{_ONE_LINE_CLASS}]*$"
"""What a one-line field may hold, as a JSON Schema (ECMA-262) pattern for the API's schema."""

WHITE_SPACE_CLASS = ("\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
                     "\\u202f\\u205f\\u3000")
"""Unicode's White_Space, spelled out: what stripping removes. Patterns never say `\\s`, which
validators read differently (ASCII only, ECMA's list, or Unicode's)."""

NON_BLANK_LINE_PATTERN = (f"^[^{_ONE_LINE_CLASS}]*[^{WHITE_SPACE_CLASS}{_ONE_LINE_CLASS}]"
                          f"[^{_ONE_LINE_CLASS}]*$")
"""A one-line field that needs a visible character (it is stripped before its length counts)."""

MULTI_LINE_PATTERN = f"^[^{_MULTI_LINE_CLASS}]*$"
"""What a free text may hold (line breaks and tabs kept), as a JSON Schema pattern."""

LINE_BREAKS = frozenset("\n\r\t")
"""What a multi-line text may keep: line breaks and tabs."""


def _refused(char: str, *, multi_line: bool) -> bool:
    if multi_line and char in LINE_BREAKS:
        return False
    if char in BIDI_CONTROLS:
        return True
    if not multi_line and char in INVISIBLE:
        return True
    return unicodedata.category(char) == "Cc"


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name.lower()})" if name else "")


def single_line_problem(value: str) -> str | None:
    """Why `value` cannot be a one-line field (a title, a name, a key), or None.

    Refused: control characters (category Cc: line breaks, tab, ESC, NUL, DEL, C1),
    bidirectional embeddings/overrides/isolates and zero-width or invisible characters.
    """
    for char in value:
        if _refused(char, multi_line=False):
            return f"must not contain the character {_describe(char)}"
    return None


def multi_line_problem(value: str) -> str | None:
    """Why `value` cannot be a free text (a note, a reason), or None.

    Line breaks and tabs stay; other control characters and bidirectional
    embeddings/overrides/isolates are refused.
    """
    for char in value:
        if _refused(char, multi_line=True):
            return f"must not contain the character {_describe(char)}"
    return None


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, layout: bool = False) -> str:
    """`text` with every control, bidirectional and invisible character written as an escape
    (`\\x1b`, `\\u202e`), so text stored before it was checked cannot drive a terminal.

    With `layout`, line feeds and tabs stay: for a whole line or block the program laid out
    itself, whose one-line fields were escaped on their own (`visible(title)`).
    """
    if text.isprintable() and not any(c in BIDI_CONTROLS for c in text):
        return text
    return "".join(
        char if (layout and char in "\n\t")
        or not (char in BIDI_CONTROLS or char in INVISIBLE or unicodedata.category(char) == "Cc")
        else _escape(char)
        for char in text)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula: text starting like one is
    quoted with an apostrophe (OWASP CSV injection); None is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
