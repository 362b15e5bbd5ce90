"""What an alert chart adds to a daily line: the rule's window, its value there, and the limit.

The numbers come from the alert rule (the same aggregation as its text); this module only
draws them. A total over a window is drawn as a day's worth (total ÷ days) so it sits on the
daily scale, and its label says the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from reports.render.charts import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class Window:
    """Days a rule measured, and its value there (in the chart's units) with its label."""

    first: date
    last: date
    level: float | None
    label: str  # its legend: "last 7 days: 1.8 %", "5.8k in 7 days = 827 a day"


@dataclass(frozen=True)
class AlertMarks:
    """An alert's picture: the window, the window compared with, and the level that fires."""

    window: Window
    before: Window | None  # change rules: the days the window is compared with
    limit: float | None  # the level that fires, in the chart's units
    limit_label: str  # drawn on the limit line: "limit above 1.0 %"
    headline: str  # the number as the alert says it: "1.8 %"
    caption: str  # which number it is: "rate over the last 7 days · limit above 1.0 %"
    fired: bool

    def levels(self) -> list[float]:
        """Every level drawn, so the y axis can show them all."""
        found = [self.window.level, self.limit, self.before.level if self.before else None]
        return [v for v in found if v is not None]

    def alt_text(self) -> str:
        """The marks in words, for the chart's text alternative."""
        w = self.window
        span = f"{w.first:%-d %b} to {w.last:%-d %b}" if w.first != w.last else f"{w.last:%-d %b}"
        text = f"Rule window {span}: {self.headline} ({self.caption})."
        if self.before is not None:
            b = self.before
            text += f" Compared with {b.first:%-d %b} to {b.last:%-d %b}: {b.label}."
        return text


class MarkArtists:
    """The artists of the marks on one axes, built once and moved per chart."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        shade: dict[str, Any] = {"linewidth": 0, "zorder": 0, "visible": False}
        self.span = ax.axvspan(0, 1, color=style.SKY, alpha=0.22, **shade)
        self.before_span = ax.axvspan(0, 1, color=style.GRID, alpha=0.45, **shade)
        (self.level,) = ax.plot([], [], color=style.INK, linewidth=2.0, zorder=4)
        (self.before_level,) = ax.plot([], [], color=style.MUTED, linewidth=1.6, zorder=4)
        self.limit = ax.axhline(
            0, color=style.VERMILLION, linewidth=1.5, linestyle=(0, (3, 2)), visible=False
        )
        # On the left, where the line is old news (an alert is about its right end), on a
        # white patch so a crossing line does not hide it.
        patch = {"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.85}
        self.limit_text = ax.text(
            0.005,
            0,
            "",
            color=style.VERMILLION,
            fontsize=style.SMALL_SIZE,
            va="bottom",
            transform=ax.get_yaxis_transform(),
            zorder=5,
            bbox=patch,
        )

    def draw(self, marks: AlertMarks | None, days: list[date]) -> None:
        """Show `marks` over a chart of `days` (or hide them all)."""
        shown = marks is not None
        for artist in (self.span, self.level, self.limit, self.limit_text):
            artist.set_visible(shown)
        before = marks.before if marks else None
        for artist in (self.before_span, self.before_level):
            artist.set_visible(before is not None)
        if marks is None:
            return
        _window(marks.window, days, self.span, self.level)
        if before is not None:
            _window(before, days, self.before_span, self.before_level)
        limit = marks.limit
        self.limit.set_visible(limit is not None)
        self.limit_text.set_visible(limit is not None)
        if limit is not None:
            self.limit.set_ydata([limit, limit])
            self.limit_text.set_y(limit)
            self.limit_text.set_text(marks.limit_label)

    def legend(self, marks: AlertMarks) -> list[str]:
        """The legend's words for the marks: what the level across each window is."""
        found = [f"━ {marks.window.label}"]
        return found + ([f"━ {marks.before.label}"] if marks.before else [])


def _window(window: Window, days: list[date], span: Any, level: Any) -> None:
    """Shade a window's days and draw its value across them."""
    first = next((i for i, d in enumerate(days) if d >= window.first), len(days))
    last = max((i for i, d in enumerate(days) if d <= window.last), default=-1)
    if last < first:  # the window is not in the chart: nothing to show
        span.set_visible(False)
        level.set_visible(False)
        return
    span.set_x(first - 0.5)
    span.set_width(last - first + 1)
    if window.level is None:
        level.set_data([], [])
        return
    level.set_data([first - 0.45, last + 0.45], [window.level, window.level])
