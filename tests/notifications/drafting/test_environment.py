"""The message environment: sandboxed, escaped where it must be, and header-safe text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from notifications.drafting.environment import (
    SUBJECT_LIMIT,
    RenderError,
    contain_bidi,
    environment,
    one_line,
)

WINTER = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)


# ------------------------------------------------------------------------ text for headers


def test_one_line_flattens_every_line_break_and_control() -> None:
    assert one_line(" a\r\nb\u2028c\x00d\x85e\tf \n") == "a b c d e f"
    assert one_line("x" * 500) == "x" * (SUBJECT_LIMIT - 1) + "…"
    assert one_line("word " * 100, limit=12) == "word word w…"
    # A direction control left open is closed inside the limit, not past it.
    for opened in ("\u202a", "\u202a\u202b"):
        assert len(one_line("a" * 198 + opened + "b" * 10)) <= SUBJECT_LIMIT
        subject = one_line(opened + "b" * 300)
        assert len(subject) == SUBJECT_LIMIT and subject.endswith("…" + "\u202c" * len(opened))


def test_direction_controls_are_balanced_within_each_value() -> None:
    assert contain_bidi("plain text") == "plain text"
    assert contain_bidi("\u202eabc") == "\u202eabc\u202c"
    assert contain_bidi("abc\u202c\u2069") == "abc"
    assert contain_bidi("\u2067x\u202ey\u2069z") == "\u2067x\u202ey\u202c\u2069z"
    assert contain_bidi("\u202bok\u202c") == "\u202bok\u202c"


# ------------------------------------------------------------------------- sandbox


def test_the_environment_escapes_html_and_strings_but_not_text(tmp_path: Path) -> None:
    env = environment(tmp_path)
    (tmp_path / "a.txt").write_text("{{ v }}")
    (tmp_path / "a.html").write_text("{{ v }}")

    assert env.get_template("a.txt").render(v="<b>") == "<b>"
    assert env.get_template("a.html").render(v="<b>") == "&lt;b&gt;"
    assert env.from_string("{{ v }}").render(v="<b>") == "&lt;b&gt;"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ invalid.__globals__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{% set items = [] %}{{ items.append(1) }}",
    "{{ {}.update(a=1) }}",
])
def test_the_sandbox_refuses_to_reach_python_internals(tmp_path: Path, source: str) -> None:
    with pytest.raises(SecurityError):
        environment(tmp_path).from_string(source).render()


def test_localised_filters_need_the_renderer(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"Renderer\.render"):
        environment(tmp_path).from_string("{{ d | datetime }}").render(d=WINTER)
