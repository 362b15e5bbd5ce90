"""Daily line charts: gaps drawn as gaps, late and estimated days marked, a 7-day average.

Speed matters (a nightly run renders thousands): the figure and its artists are built once and
only their data and texts change per chart; matplotlib's Figure API is used, never pyplot,
whose global state leaks figures and is not thread-safe. A lock serialises renders.
"""

from __future__ import annotations

import math
import threading
from datetime import date, timedelta
from typing import Any, Final

from reports.history.values import Point, Series
from reports.render.charts import png, style
from reports.render.charts.alt import line_alt_text
from reports.render.charts.marks import AlertMarks, MarkArtists

LABEL_CHARS: Final = 24  # of a project's label in the subtitle
SUBTITLE_CHARS: Final = 55  # what fits the figure's width at 11 pt
MIN_DAYS: Final = 4  # fewer days with data than this: no line, just the points and a note
NAN: Final = float("nan")
AVG_KEY: Final = "- - 7-day average"


class LineRenderer:
    """Renders Series to PNG, reusing one figure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.figure = png.new_figure()
        self.ax = self.figure.add_axes((0.1, 0.17, 0.86, 0.5))
        self._build_axes()
        self._build_texts()

    def _build_axes(self) -> None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax = self.ax
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_color(style.GRID)
        ax.grid(axis="y", color=style.GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(colors=style.MUTED, labelsize=style.TEXT_SIZE, length=0)
        (self.line,) = ax.plot([], [], color=style.BLUE, linewidth=2.4, solid_capstyle="round")
        (self.dots,) = ax.plot([], [], "o", color=style.BLUE, markersize=4.5)
        (self.avg,) = ax.plot([], [], color=style.ORANGE, linewidth=1.6, linestyle=(0, (4, 2)))
        marker: dict[str, Any] = {
            "markerfacecolor": "white",
            "markeredgewidth": 1.8,
            "linestyle": "none",
        }
        (self.late,) = ax.plot([], [], "o", color=style.PURPLE, markersize=7, **marker)
        (self.estimated,) = ax.plot([], [], "D", color=style.VERMILLION, markersize=6.5, **marker)
        (self.odd,) = ax.plot([], [], "s", color=style.SKY, markersize=7, **marker)
        self._labels: list[str] = []
        self._since: date | None = None
        self.marks = MarkArtists(ax)
        ax.xaxis.set_major_formatter(FuncFormatter(self._day_label))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3))

    def _build_texts(self) -> None:
        fig = self.figure

        def text(x: float, y: float, size: int, **kw: Any) -> Any:
            return fig.text(x, y, "", fontsize=size, color=kw.pop("color", style.INK), **kw)

        # Three lines above the plot, each with the whole width: at 360 px wide there is no
        # room for the subtitle and the change side by side.
        self.title = text(0.02, 0.9, style.TITLE_SIZE, fontweight="bold")
        self.value = text(0.98, 0.9, style.BIG_SIZE, fontweight="bold", ha="right")
        self.subtitle = text(0.02, 0.81, style.TEXT_SIZE, color=style.MUTED)
        self.change = text(0.02, 0.72, style.TEXT_SIZE)
        self.legend = text(0.02, 0.015, style.SMALL_SIZE, color=style.MUTED)
        self.note = self.ax.text(
            0.5,
            0.5,
            "",
            transform=self.ax.transAxes,
            ha="center",
            va="center",
            fontsize=style.TITLE_SIZE,
            color=style.MUTED,
        )

    def _day_label(self, x: float, _pos: int) -> str:
        i = int(round(x))
        return self._labels[i] if 0 <= i < len(self._labels) and abs(x - i) < 1e-6 else ""

    def render(
        self,
        series: Series,
        *,
        visible: int | None = None,
        title: str | None = None,
        source_label: str = "",
        first_day: date | None = None,
        key: style.KeyNumber | None = None,
        clear: bool = False,
        marks: AlertMarks | None = None,
    ) -> style.Chart:
        """Render the last `visible` days of a series (default: all of it), starting no
        earlier than `first_day` (the source's first stored day: before it is not missing).

        Pass a week more history than you show: the 7-day average then starts on the first
        day shown, and the latest day has last week's same weekday to compare with. `key`
        replaces the latest day's figure and change (a weekly report shows its week's);
        `clear` draws on no background (see png.encode). With `marks` (an alert), the rule's
        window, value and limit replace the 7-day average.
        """
        tail = series.tail(visible) if visible else series
        shown = tail.since(first_day)
        with self._lock:
            self._since = shown.points[0].day if shown is not tail else None
            self._draw(series, shown, title, source_label, marks)
            if key is not None:
                self._key(key)
            encoded = png.encode(self.figure, clear=clear)
        alt = line_alt_text(series, shown, title=title)
        if key is not None:
            alt += f" Shown: {_key_words(key)}."
        return style.Chart(encoded, f"{alt} {marks.alt_text()}" if marks else alt)

    def _draw(
        self,
        history: Series,
        series: Series,
        title: str | None,
        source_label: str,
        marks: AlertMarks | None,
    ) -> None:
        metric, points = series.metric, series.points
        xs = list(range(len(points)))
        ys = [p.value if p.value is not None else NAN for p in points]
        enough = series.days_with_data >= MIN_DAYS
        self.line.set_data(xs, ys if enough else [NAN] * len(xs))
        # Lone days between gaps have no neighbour to draw a line to: show them as dots.
        lone = [y if _lone(ys, i) or not enough else NAN for i, y in enumerate(ys)]
        self.dots.set_data(xs, lone)
        # An alert draws its own window's value: a 7-day average beside it would be a third number.
        wanted = enough and marks is None
        rolling: list[float | None] = history.rolling()[-len(points) :] if wanted else []
        rolling = rolling or [None] * len(points)
        self.avg.set_data(xs, [NAN if v is None else v for v in rolling])
        self.late.set_data(*_where(xs, ys, [p.late and not p.estimated for p in points]))
        self.estimated.set_data(*_where(xs, ys, [p.estimated for p in points]))
        self.odd.set_data(*_where(xs, ys, [p.odd_length and not p.late for p in points]))
        self._x_axis(points)
        self.marks.draw(marks, [p.day for p in points])
        self._scale_y(ys, [*rolling, *(marks.levels() if marks else ())], metric.unit)
        self._texts(history, series, title, source_label, enough)
        keys = ["— daily", *self.marks.legend(marks)] if marks else ["— daily", AVG_KEY]
        gap = "   " if marks else "    "  # an alert's legend says more
        self.legend.set_text(gap.join(_legend(points, keys if enough else [], enough)))
        if marks is not None:  # the headline is the rule's number, said as the alert says it
            self.value.set_text(marks.headline)
            self.change.set_text(marks.caption)
            self.change.set_color(style.VERMILLION if marks.fired else style.MUTED)

    def _x_axis(self, points: tuple[Point, ...]) -> None:
        """Day labels: every day up to 10 days, then every 3rd, 7th or 14th, ending on the last."""
        from matplotlib.ticker import FixedLocator

        self._labels = [_day_text(p.day, len(points)) for p in points]
        step = (
            1 if len(points) <= 10 else 3 if len(points) <= 21 else 7 if len(points) <= 45 else 14
        )
        last = len(points) - 1
        self.ax.xaxis.set_major_locator(FixedLocator(list(range(last % step, last + 1, step))))
        self.ax.set_xlim(-0.6, last + 0.6)

    def _scale_y(self, ys: list[float], rolling: list[float | None], unit: str) -> None:
        from matplotlib.ticker import FuncFormatter

        known = [y for y in ys if not math.isnan(y)] + [v for v in rolling if v is not None]
        top = max(known) if known else 1.0
        if unit == "percent" and top > 60:
            top = 100.0
        top = top * 1.15 if top > 0 else 1.0
        self.ax.set_ylim(0, top)
        ticks = [t for t in self.ax.yaxis.get_major_locator().tick_values(0, top) if t <= top]
        label = style.tick_formatter(ticks, unit, top)
        self.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: label(v)))

    def _texts(
        self, history: Series, series: Series, title: str | None, source_label: str, enough: bool
    ) -> None:
        metric, points = series.metric, series.points
        self.title.set_text(title or metric.label)
        first, last = points[0].day, points[-1].day
        where = f"{style.shorten(source_label, LABEL_CHARS)} · " if source_label else ""
        since = f" · stored since {self._since:%-d %b %Y}" if self._since else ""
        # Cut with an ellipsis rather than by the picture's edge.
        subtitle = f"{where}{first:%-d %b} – {last:%-d %b %Y} · {series.timezone}{since}"
        self.subtitle.set_text(style.shorten(subtitle, SUBTITLE_CHARS))
        latest = series.latest()
        self.value.set_text(style.format_value(latest.value if latest else None, metric.unit))
        _diff, change, _versus = week_delta(history)
        self.change.set_text(week_text(history) or ("latest" if latest else "no data yet"))
        self.change.set_color(style.change_colour(change, metric.higher_is_better))
        self.note.set_text("" if enough else _too_little(series.days_with_data))

    def _key(self, key: style.KeyNumber) -> None:
        """Show a report's own figure and change, saying what it covers."""
        self.value.set_text(key.value)
        self.change.set_text(_key_words(key))
        self.change.set_color(key.colour)


def _legend(points: tuple[Point, ...], keys: list[str], enough: bool) -> list[str]:
    """The legend: the lines drawn (`keys`), then the marks and gaps this chart has."""
    legend = list(keys)
    shown = [p for p in points if p.value is not None]  # a flag on a gap draws nothing
    if any(p.late and not p.estimated for p in shown):
        legend.append("○ late")
    if any(p.estimated for p in shown):
        legend.append("◇ estimated")
    for p in (p for p in shown if p.odd_length and not p.late):
        kind = "short" if p.hours < 24 else "long"
        legend.append(f"□ {p.day:%-d %b}: {kind} day ({p.hours} h)")
    gaps = sum(1 for p in points if p.value is None)
    if gaps and enough:
        legend.append(f"{gaps} day{'s' if gaps > 1 else ''} without data")
    return legend


def _key_words(key: style.KeyNumber) -> str:
    """`5.8k in the last 7 days · ▲ 3 % vs the week before`."""
    scope = f" in the {key.scope}" if key.scope else ""
    return f"{key.value}{scope}" + (f" · {key.change}" if key.change else "")


def _lone(ys: list[float], i: int) -> bool:
    left = i > 0 and not math.isnan(ys[i - 1])
    right = i + 1 < len(ys) and not math.isnan(ys[i + 1])
    return not math.isnan(ys[i]) and not left and not right


def _where(xs: list[int], ys: list[float], flags: list[bool]) -> tuple[list[int], list[float]]:
    picked = [(x, y) for x, y, f in zip(xs, ys, flags, strict=True) if f and not math.isnan(y)]
    return [x for x, _ in picked], [y for _, y in picked]


def _day_text(day: Any, span: int) -> str:
    return f"{day:%a} {day.day}" if span <= 10 else f"{day.day} {day:%b}"


def week_delta(series: Series) -> tuple[float | None, float | None, str]:
    """(absolute change, relative change in %, "vs Mon 2 Mar") of the latest day on the same
    weekday a week before; Nones when there is nothing to compare."""
    latest = series.latest()
    if latest is None or latest.value is None:
        return None, None, ""
    earlier = {p.day: p for p in series.points}.get(latest.day - timedelta(days=7))
    if earlier is None or earlier.value is None:
        return None, None, ""
    diff = latest.value - earlier.value
    pct = 100.0 * diff / earlier.value if earlier.value else None
    return diff, pct, f"vs {earlier.day:%a %-d %b}"


def week_text(series: Series) -> str:
    """The latest day's change in words, as every chart, caption and line says it:
    `▲ 2.6 pp vs Mon 2 Mar` for a percentage, `▼ 12 % vs Mon 2 Mar` for the rest, or ""."""
    diff, pct, versus = week_delta(series)
    delta = style.format_delta(series.metric.unit, diff, pct)
    return f"{delta} {versus}" if delta else ""


def _too_little(days: int) -> str:
    if days == 0:
        return "No data yet: the first snapshot is taken after midnight"
    return f"{days} day{'s' if days != 1 else ''} of history so far — a trend needs a few more"
