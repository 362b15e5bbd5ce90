"""The digest figure: small multiples of key metrics, each with its latest value and change."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from reports.history.query import Series
from reports.render.charts import png, style
from reports.render.charts.line import week_delta, week_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

DIGEST_METRICS: Final = (
    "sessions",
    "engagement_time",
    "scroll_depth",
    "sessions_with_rage_clicks",
    "sessions_with_dead_clicks",
    "sessions_with_quick_backs",
)
COLUMNS, ROWS = 3, 2


class DigestRenderer:
    """Renders up to six series as one figure, reusing it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.figure = png.new_figure()
        self.title = self.figure.text(
            0.03, 0.93, "", fontsize=style.TITLE_SIZE, fontweight="bold", color=style.INK
        )
        self.cells = [self._cell(i) for i in range(COLUMNS * ROWS)]

    def _cell(self, i: int) -> _Cell:
        col, row = i % COLUMNS, i // COLUMNS
        left, top = 0.03 + col * 0.325, 0.84 - row * 0.42
        fig = self.figure
        label = fig.text(left, top, "", fontsize=style.TEXT_SIZE, color=style.MUTED, va="top")
        value = fig.text(
            left,
            top - 0.05,
            "",
            fontsize=style.BIG_SIZE,
            fontweight="bold",
            color=style.INK,
            va="top",
        )
        change = fig.text(left, top - 0.145, "", fontsize=style.SMALL_SIZE, va="top")
        ax = fig.add_axes((left, top - 0.36, 0.28, 0.15))
        ax.set_axis_off()
        (line,) = ax.plot([], [], color=style.BLUE, linewidth=2.0)
        return _Cell(ax, line, label, value, change)

    def render(self, series: list[Series], *, title: str) -> style.Chart:
        """Render the key metrics of one source."""
        with self._lock:
            self.title.set_text(title)
            for i, cell in enumerate(self.cells):
                self._fill(cell, series[i] if i < len(series) else None)
            encoded = png.encode(self.figure)
        return style.Chart(encoded, _alt(series, title))

    def _fill(self, cell: _Cell, s: Series | None) -> None:
        if s is None:
            for text in (cell.label, cell.value, cell.change):
                text.set_text("")
            cell.line.set_data([], [])
            return
        ys = [p.value if p.value is not None else math.nan for p in s.points]
        cell.line.set_data(range(len(ys)), ys)
        known = [y for y in ys if not math.isnan(y)]
        cell.ax.set_xlim(-0.5, len(ys) - 0.5)
        # A sparkline shows shape, so it spans its own range rather than starting at zero.
        low, high = (min(known), max(known)) if known else (0.0, 1.0)
        pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
        cell.ax.set_ylim(low - pad, high + pad)
        latest = s.latest()
        cell.label.set_text(s.metric.label)
        cell.value.set_text(style.format_value(latest.value if latest else None, s.metric.unit))
        diff, pct, _versus = week_delta(s)
        change = style.format_delta(s.metric.unit, diff, pct)
        cell.change.set_text(change + (" on the week" if change else ""))
        cell.change.set_color(style.change_colour(pct, s.metric.higher_is_better))


@dataclass(frozen=True)
class _Cell:
    ax: Axes
    line: Line2D
    label: Text
    value: Text
    change: Text


def _alt(series: list[Series], title: str) -> str:
    parts = []
    for s in series:
        latest = s.latest()
        change = f" ({week_text(s)})" if week_text(s) else ""
        value = style.format_value(latest.value if latest else None, s.metric.unit)
        parts.append(f"{s.metric.label} {value}{change}")
    return f"{title}: " + "; ".join(parts) + "."
