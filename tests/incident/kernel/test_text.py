"""Which characters one-line and free-text fields refuse, and how stored text is printed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.kernel.text import (
    MULTI_LINE_PATTERN,
    NON_BLANK_LINE_PATTERN,
    ONE_LINE_PATTERN,
    ONE_LINE_REFUSED,
    multi_line_problem,
    single_line_problem,
    visible,
)

CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"]
"""NUL, BEL, ESC, DEL and two C1 controls (next line, control sequence introducer)."""
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff"]
LAYOUT = ["\n", "\r", "\t"]


@pytest.mark.parametrize("char", CONTROL + BIDI + INVISIBLE + LAYOUT)
def test_a_one_line_field_refuses_the_character_and_names_it(char: str) -> None:
    problem = single_line_problem(f"Lost{char}laptop")
    assert problem is not None and f"U+{ord(char):04X}" in problem


@pytest.mark.parametrize("char", CONTROL + BIDI)
def test_free_text_refuses_controls_and_bidi_overrides(char: str) -> None:
    problem = multi_line_problem(f"first line\n{char}second")
    assert problem is not None and f"U+{ord(char):04X}" in problem


@pytest.mark.parametrize("text", ["Lost laptop", "Café \u2013 Zürich № 5", "שלום עולם", "数据泄露",
                                  "emoji 🔥 and NBSP\u00a0ok"])
def test_ordinary_text_of_any_script_passes(text: str) -> None:
    assert single_line_problem(text) is None
    assert multi_line_problem(text) is None


def test_free_text_keeps_line_breaks_tabs_and_joiners() -> None:
    assert multi_line_problem("one\r\ntwo\n\tthree") is None
    assert multi_line_problem("family 👨\u200d👩\u200d👧") is None  # a joiner inside an emoji


def test_visible_escapes_what_would_drive_a_terminal() -> None:
    assert visible("a\x1b[31mred\x1b[0m") == "a\\x1b[31mred\\x1b[0m"
    assert visible("abc\u202edcba") == "abc\\u202edcba"
    assert visible("one\ntwo\tthree\x00") == "one\\x0atwo\\x09three\\x00"
    assert visible("\u200bzero\x85") == "\\u200bzero\\x85"
    assert visible("plain title é") == "plain title é"


def test_visible_with_layout_keeps_the_programs_own_lines_and_columns() -> None:
    assert visible("ref\tstatus\n\x1b]0;x\x07", layout=True) == "ref\tstatus\n\\x1b]0;x\\x07"
    assert "\x1b" not in visible("\x1b" * 3, layout=True)


def test_the_one_expression_refuses_exactly_what_the_check_refuses() -> None:
    for code in [*range(0x250), *range(0x2000, 0x2070), 0xFEFF, 0xFFFE]:
        char = chr(code)
        assert bool(ONE_LINE_REFUSED.search(char)) == (single_line_problem(char) is not None), hex(code)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_the_published_patterns_accept_exactly_what_the_checks_accept(text: str) -> None:
    """The same under every reading of a pattern a validator may have (schemathesis reads
    them with re.ASCII, pydantic with Unicode classes)."""
    for flags in (0, re.ASCII):
        def matches(pattern: str, flags: int = flags) -> bool:
            return re.fullmatch(pattern, text, flags) is not None

        assert matches(ONE_LINE_PATTERN) == (single_line_problem(text) is None)
        assert matches(MULTI_LINE_PATTERN) == (multi_line_problem(text) is None)
        assert matches(NON_BLANK_LINE_PATTERN) == (single_line_problem(text) is None
                                                   and text.strip() != "")


@pytest.mark.parametrize("char", CONTROL + BIDI + INVISIBLE + LAYOUT + ["\u2028", "\u00a0"])
def test_the_published_patterns_agree_on_every_listed_character(char: str) -> None:
    for text in (char, f"a{char}b"):
        assert (re.fullmatch(ONE_LINE_PATTERN, text) is not None) == (
            single_line_problem(text) is None)
        assert (re.fullmatch(MULTI_LINE_PATTERN, text) is not None) == (
            multi_line_problem(text) is None)
