"""The digest figure: key metrics as a 2 × 3 grid, each with its value, change and a sparkline
whose highest and lowest days are labelled (a line without a scale says nothing of its size).

Typeset in inches for the narrowest place it is shown (a 360 px Slack preview): every text is
at least 11 pt, and no text runs into its neighbour's cell, whatever the metric's label.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from reports.history.values import Series
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
COLUMNS, ROWS = 2, 3
# Inches: 5 in wide like every chart, taller to hold three rows of cells.
SIZE: Final = (5.0, 4.35)
LEFT, GUTTER, RIGHT, TOP = 0.12, 0.15, 0.08, 0.62
CELL_W: Final = (SIZE[0] - LEFT - GUTTER - RIGHT) / COLUMNS
CELL_H: Final = 1.24
TITLE_CHARS: Final = 40  # what fits the width in bold 13 pt
SCALE_W: Final = 0.92  # right of a sparkline, for its scale ("1 min 34 s" at 11 pt)


def _at(x: float, y: float) -> tuple[float, float]:
    """Figure coordinates of a point `x` inches from the left and `y` from the top."""
    return x / SIZE[0], 1 - y / SIZE[1]


class DigestRenderer:
    """Renders up to six series as one figure, reusing it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.figure = png.new_figure(SIZE)
        self.title = self._text(LEFT, 0.1, style.TITLE_SIZE, fontweight="bold")
        self.subtitle = self._text(LEFT, 0.34, style.TEXT_SIZE, color=style.MUTED)
        self.cells = [self._cell(i) for i in range(COLUMNS * ROWS)]

    def _text(self, x: float, y: float, size: int, **kw: Any) -> Text:
        colour = kw.pop("color", style.INK)
        return self.figure.text(*_at(x, y), "", fontsize=size, color=colour, va="top", **kw)

    def _cell(self, i: int) -> _Cell:
        x = LEFT + (i % COLUMNS) * (CELL_W + GUTTER)
        y = TOP + (i // COLUMNS) * CELL_H
        label = self._text(x, y, style.TEXT_SIZE, color=style.MUTED)
        value = self._text(x, y + 0.2, style.BIG_SIZE, fontweight="bold")
        change = self._text(x, y + 0.48, style.SMALL_SIZE)
        left, bottom = _at(x, y + 1.08)
        ax = self.figure.add_axes((left, bottom, (CELL_W - SCALE_W) / SIZE[0], 0.38 / SIZE[1]))
        ax.set_axis_off()
        (line,) = ax.plot([], [], color=style.BLUE, linewidth=2.0)
        (last,) = ax.plot([], [], "o", color=style.BLUE, markersize=4)
        # x in the axes, y in data: each scale label sits level with the day it names.
        where = ax.get_yaxis_transform()
        high, low = (
            ax.text(
                1.04,
                0.0,
                "",
                transform=where,
                fontsize=style.SMALL_SIZE,
                color=style.MUTED,
                va="center",
            )
            for _ in range(2)
        )
        return _Cell(ax, line, last, label, value, change, high, low)

    def render(
        self,
        series: list[Series],
        *,
        title: str,
        keys: Sequence[style.KeyNumber] | None = None,
        subtitle: str = "",
    ) -> style.Chart:
        """Render the key metrics of one source; `keys` replace each cell's own figure and
        change (a weekly report's week), in the order of `series`."""
        with self._lock:
            self.title.set_text(style.shorten(title, TITLE_CHARS))  # a label can be long
            self.subtitle.set_text(subtitle)
            for i, cell in enumerate(self.cells):
                s = series[i] if i < len(series) else None
                self._fill(cell, s, keys[i] if keys and s else None)
            encoded = png.encode(self.figure)
        return style.Chart(encoded, _alt(series, title, keys), *png.pixels(self.figure))

    def _fill(self, cell: _Cell, s: Series | None, key: style.KeyNumber | None) -> None:
        if s is None:
            for text in (cell.label, cell.value, cell.change, cell.high, cell.low):
                text.set_text("")
            cell.line.set_data([], [])
            cell.last.set_data([], [])
            return
        self._spark(cell, s)
        cell.label.set_text(s.metric.label)
        key = key or _own_key(s)
        cell.value.set_text(key.value)
        cell.change.set_text(key.change or key.scope)
        cell.change.set_color(key.colour)

    def _spark(self, cell: _Cell, s: Series) -> None:
        ys = [p.value if p.value is not None else math.nan for p in s.points]
        cell.line.set_data(range(len(ys)), ys)
        known = [(i, y) for i, y in enumerate(ys) if not math.isnan(y)]
        cell.last.set_data([i for i, _ in known[-1:]], [y for _, y in known[-1:]])
        cell.ax.set_xlim(-0.5, len(ys) - 0.5)
        # A sparkline shows shape, so it spans its own range rather than starting at zero;
        # its scale says how big that range is.
        values = [y for _, y in known]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
        cell.ax.set_ylim(low - pad, high + pad)
        unit = s.metric.unit
        cell.high.set_text(style.format_value(high, unit) if values else "")
        cell.high.set_y(high)
        cell.low.set_text(style.format_value(low, unit) if values and low != high else "")
        cell.low.set_y(low)


@dataclass(frozen=True)
class _Cell:
    ax: Axes
    line: Line2D
    last: Line2D
    label: Text
    value: Text
    change: Text
    high: Text
    low: Text


def _own_key(s: Series) -> style.KeyNumber:
    """The latest day and its change on the same weekday a week before."""
    latest = s.latest()
    _diff, pct, _versus = week_delta(s)
    return style.KeyNumber(
        style.format_value(latest.value if latest else None, s.metric.unit),
        week_text(s),
        style.change_colour(pct, s.metric.higher_is_better),
    )


def _alt(series: list[Series], title: str, keys: Sequence[style.KeyNumber] | None) -> str:
    parts = []
    for i, s in enumerate(series):
        key = keys[i] if keys else _own_key(s)
        scope = f" ({key.scope})" if key.scope else ""
        change = f" ({key.change})" if key.change else ""
        parts.append(f"{s.metric.label}{scope} {key.value}{change}")
    return f"{title}: " + "; ".join(parts) + "."
