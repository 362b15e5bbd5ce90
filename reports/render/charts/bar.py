"""Ranked horizontal bar charts for breakdowns (top pages, devices, channels...).

Like the line chart, the figure is built once with ten bar slots; a render only moves them.
"""

from __future__ import annotations

import threading
from typing import Final

from reports.history.values import Breakdown, BreakdownRow
from reports.render.charts import png, style
from reports.render.charts.alt import bar_alt_text

SLOTS: Final = 10
LABEL_CHARS: Final = 20  # at 11 pt, what fits left of the bars in a 5 in figure


class BarRenderer:
    """Renders Breakdowns to PNG, reusing one figure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.figure = png.new_figure()
        self.ax = self.figure.add_axes((0.37, 0.08, 0.5, 0.62))
        self._build_axes()
        self._build_texts()

    def _build_axes(self) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = self.ax
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.spines["left"].set_color(style.GRID)
        ax.grid(axis="x", color=style.GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(colors=style.INK, labelsize=style.TEXT_SIZE, length=0)
        ax.tick_params(axis="x", colors=style.MUTED, labelsize=style.SMALL_SIZE)
        self.bars = ax.barh(range(SLOTS), [0.0] * SLOTS, height=0.68, color=style.BLUE)
        ax.set_ylim(SLOTS - 0.4, -0.6)  # rank 1 at the top
        ax.set_yticks([])
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))

    def _build_texts(self) -> None:
        ax = self.ax
        # Labels are our own texts, not tick labels: re-creating ticks on every render is slow.
        self.labels = [
            ax.text(
                -0.015,
                i,
                "",
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=style.TEXT_SIZE,
                color=style.INK,
            )
            for i in range(SLOTS)
        ]
        self.values = [
            ax.text(0, i, "", va="center", fontsize=style.SMALL_SIZE, color=style.INK)
            for i in range(SLOTS)
        ]
        fig = self.figure
        self.title = fig.text(
            0.03, 0.915, "", fontsize=style.TITLE_SIZE, fontweight="bold", color=style.INK
        )
        self.subtitle = fig.text(
            0.03, 0.86, "", fontsize=style.TEXT_SIZE, color=style.MUTED, va="top", linespacing=1.2
        )
        self.note = ax.text(
            0.5,
            0.5,
            "",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=style.TITLE_SIZE,
            color=style.MUTED,
        )

    def render(
        self, result: Breakdown, *, source_label: str = "", clear: bool = False
    ) -> style.Chart:
        """Render a breakdown; `clear` draws on no background (see png.encode)."""
        with self._lock:
            self._draw(result, source_label)
            encoded = png.encode(self.figure, clear=clear)
        return style.Chart(encoded, bar_alt_text(result))

    def _draw(self, result: Breakdown, source_label: str) -> None:
        from matplotlib.ticker import FuncFormatter

        metric, rows = result.metric, result.rows[:SLOTS]
        top = max((r.value for r in rows), default=1.0) or 1.0
        for i, (bar, text, label) in enumerate(
            zip(self.bars, self.values, self.labels, strict=True)
        ):
            row = rows[i] if i < len(rows) else None
            bar.set_width(row.value if row else 0.0)
            bar.set_visible(row is not None)
            label.set_text(
                style.shorten(row.label, LABEL_CHARS, middle=metric.dimension == "url")
                if row
                else ""
            )
            if row is None:
                text.set_text("")
                continue
            share = f" · {row.share:.0f} %" if row.share is not None else ""
            change = _change(metric.unit, row)
            text.set_text(
                f"{style.format_value(row.value, metric.unit)}{share}"
                f"{'  ' + change if change else ''}"
            )
            text.set_x(row.value + top * 0.015)
        limit = top * 1.3
        self.ax.set_xlim(0, limit)
        ticks = [t for t in self.ax.xaxis.get_major_locator().tick_values(0, limit) if t <= limit]
        tick = style.tick_formatter(ticks, metric.unit, limit)
        self.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: tick(v)))
        self.title.set_text(metric.label)
        where = f"{source_label} · " if source_label else ""
        days = (result.end - result.start).days + 1
        span = f"{days} days" if days > 1 else "1 day"
        drawn = any(_change(metric.unit, r) for r in rows)
        # on its own line: at 360 px the dates and the comparison do not fit on one
        changes = f"\nchanges vs the {span} before" if drawn else ""
        self.subtitle.set_text(f"{where}{result.start:%-d %b} – {result.end:%-d %b %Y}{changes}")
        self.note.set_text("" if rows else "No data for this period yet")


def _change(unit: str, row: BreakdownRow) -> str:
    """A slice's change as drawn: points for a percentage, relative for the rest."""
    if row.previous is None:
        return ""
    return style.format_delta(unit, row.value - row.previous, row.change_pct)
