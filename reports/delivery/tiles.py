"""The digest's key numbers as text: value, change and a tiny bar chart per metric.

An email shows these as HTML, not as a picture, so they read with images blocked, on a phone,
and in dark mode; the numbers are the same series the digest chart draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reports.history.catalogue import get_metric
from reports.history.load import History
from reports.render.charts import DIGEST_METRICS
from reports.render.charts.line import week_delta, week_text
from reports.render.charts.style import change_colour, format_value

SPARK_DAYS: Final = 14
SPARK_PX: Final = 28  # the tallest bar, in CSS pixels


@dataclass(frozen=True)
class Bar:
    """One day of a tile's tiny chart: its height in pixels (0 with no data) and its title."""

    height: int
    title: str


@dataclass(frozen=True)
class Tile:
    """One key number: its label, value, change (with colour) and the days behind it."""

    label: str
    value: str
    change: str  # "▼ 12 % vs Tue 3 Mar", "▲ 2.6 pp vs …" for a percentage, or "" with none
    colour: str
    bars: tuple[Bar, ...]
    low: str  # the tiny chart's scale: its lowest and highest day
    high: str


def digest_tiles(history: History) -> tuple[Tile, ...]:
    """A tile per digest metric, from the same series the digest chart draws."""
    return tuple(_tile(history, key) for key in DIGEST_METRICS)


def _tile(history: History, key: str) -> Tile:
    metric = get_metric(key)
    data = history.series(metric, SPARK_DAYS + 7)
    latest = data.latest()
    _diff, pct, _versus = week_delta(data)
    shown = data.points[-SPARK_DAYS:]
    known = [p.value for p in shown if p.value is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    span = high - low

    def bar(value: float | None) -> int:
        if value is None:
            return 0  # a gap is drawn as nothing, never as a zero
        # Bars span the tile's own range (like a sparkline) but never vanish: at least 3 px.
        return 3 + round((SPARK_PX - 3) * ((value - low) / span if span else 1.0))

    bars = tuple(
        Bar(bar(p.value), f"{p.day:%a %-d %b}: {format_value(p.value, metric.unit)}") for p in shown
    )
    return Tile(
        metric.label,
        format_value(latest.value if latest else None, metric.unit),
        week_text(data),
        change_colour(pct, metric.higher_is_better),
        bars,
        format_value(low if known else None, metric.unit),
        format_value(high if known else None, metric.unit),
    )
