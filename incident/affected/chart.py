"""The bar chart of a snapshot's counts, as geometry (pure).

One horizontal bar per group (a jurisdiction, a data category, a locale), longest first, scaled
to the largest count. This module only places the bars; the page's Jinja2 template draws them as
inline SVG, so the chart needs no script or style attribute and prints as it shows. The groups
beyond `MAX_BARS` are summed into one "others" bar, so the chart stays small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

WIDTH = 320
LABEL = 80
"""Room for the group's name at the left of its bar."""
COUNT = 50
"""Room for the count at the right of the longest bar."""
ROW = 22
BAR = 14
MAX_BARS = 8
OTHERS = "others"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    y: float
    """The top of the bar."""
    width: float
    text_y: float
    """The baseline of its label and count."""


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    bar_height: int
    bars: tuple[Bar, ...]

    @property
    def words(self) -> str:
        """What a reader of the chart's text alternative learns: each group and its count."""
        return "; ".join(f"{bar.label}: {bar.count}" for bar in self.bars)


def bar_chart(counts: Mapping[str, int]) -> BarChart:
    """The bars of `counts`, largest first (ties by name), scaled to the largest."""
    ordered = sorted(((str(k), int(v)) for k, v in counts.items() if v > 0),
                     key=lambda item: (-item[1], item[0]))
    if len(ordered) > MAX_BARS:
        rest = sum(count for _, count in ordered[MAX_BARS - 1:])
        ordered = [*ordered[:MAX_BARS - 1], (OTHERS, rest)]
    largest = max((count for _, count in ordered), default=0)
    room = WIDTH - LABEL - COUNT
    bars = tuple(Bar(label=label, count=count, y=float(i * ROW + (ROW - BAR) / 2),
                     width=round(room * count / largest, 1) if largest else 0.0,
                     text_y=float(i * ROW + ROW / 2 + 4))
                 for i, (label, count) in enumerate(ordered))
    return BarChart(width=WIDTH, height=max(len(bars), 1) * ROW, left=LABEL, bar_height=BAR,
                    bars=bars)
