"""How deeply a JSON text nests, measured before anything parses it. Pure code.

msgspec (under Litestar) and Python's json decode recursively and raise RecursionError on very
deep nesting (a 500, or a traceback in the CLI). The web app (incident/app.py) and the CLI's
JSON readers measure the nesting first, in linear time and without recursion, and refuse a
text nested deeper than any of our inputs needs.
"""

from __future__ import annotations

import re
from itertools import accumulate

MAX_JSON_DEPTH = 32
"""Deeper than any input we take (the deepest, a profile's targets, is about 4 levels)."""

_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_OPENERS, _CLOSERS = b"[{", b"]}"
_STEPS = bytes.maketrans(_OPENERS + _CLOSERS, b"\x01\x01\xff\xff")
_OTHER_BYTES = bytes(b for b in range(256) if b not in _OPENERS + _CLOSERS)


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in `raw` (brackets inside strings do not count).

    Malformed text gets a number too; the parser refuses it afterwards.
    """
    brackets = _STRINGS.sub(b"", raw).translate(None, _OTHER_BYTES)
    steps = memoryview(brackets.translate(_STEPS)).cast("b")  # +1 per opener, -1 per closer
    return max(accumulate(steps), default=0)


def too_deep(raw: bytes | str) -> str | None:
    """Why `raw` is refused before parsing, or None when its nesting is within the limit."""
    text = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if json_depth(text) > MAX_JSON_DEPTH:
        return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return None
