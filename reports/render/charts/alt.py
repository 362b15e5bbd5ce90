"""Text alternatives that state a chart's key numbers (for screen readers and previews)."""

from __future__ import annotations

from datetime import timedelta

from reports.history.values import Breakdown, Series
from reports.render.charts.style import POINT_UNITS, format_value


def line_alt_text(history: Series, series: Series, *, title: str | None = None) -> str:
    """Describe a daily chart: latest value, change on the week, average, range, gaps.

    `series` is what the chart shows; `history` may reach further back (for the comparison).
    """
    metric, points = series.metric, series.points
    name = title or metric.label
    head = f"{name}, daily, {points[0].day:%-d %b} to {points[-1].day:%-d %b %Y}"
    known = [p for p in points if p.value is not None]
    if not known:
        return f"{head}: no data yet."
    latest = known[-1]
    parts = [f"latest {format_value(latest.value, metric.unit)} on {latest.day:%a %-d %b}"]
    week = {p.day: p for p in history.points}.get(latest.day - timedelta(days=7))
    if week is not None and week.value is not None and latest.value is not None:
        diff = latest.value - week.value
        if metric.unit in POINT_UNITS:
            unit = " points" if metric.unit == "percent" else " per 100 sessions"
            parts.append(f"{diff:+.1f}{unit} vs {week.day:%a %-d %b}")
        elif week.value:
            parts.append(f"{100.0 * diff / week.value:+.0f} % vs {week.day:%a %-d %b}")
    values = [p.value for p in known if p.value is not None]
    parts.append(
        f"range {format_value(min(values), metric.unit)} to "
        f"{format_value(max(values), metric.unit)}"
    )
    rolling = [v for v in history.rolling()[-len(points) :] if v is not None]
    if rolling:
        parts.append(f"7-day average {format_value(rolling[-1], metric.unit)}")
    gaps = len(points) - len(known)
    if gaps:
        parts.append(f"{gaps} day{'s' if gaps > 1 else ''} without data")
    flagged = [("late", sum(p.late for p in known)), ("estimated", sum(p.estimated for p in known))]
    parts += [f"{n} {what}" for what, n in flagged if n]
    for p in (p for p in known if p.odd_length):
        parts.append(f"{p.day:%-d %b} a {'short' if p.hours < 24 else 'long'} day ({p.hours} h)")
    return f"{head}: " + "; ".join(parts) + "."


def bar_alt_text(result: Breakdown) -> str:
    """Describe a ranked chart: the top entries with their values and shares."""
    metric = result.metric
    head = f"{metric.label}, {result.start:%-d %b} to {result.end:%-d %b %Y}"
    if not result.rows:
        return f"{head}: no data yet."
    items = []
    for row in result.rows[:5]:
        share = f" ({row.share:.0f} % of all)" if row.share is not None else ""
        items.append(f"{row.label} {format_value(row.value, metric.unit)}{share}")
    more = len(result.rows) - 5
    tail = f"; and {more} more" if more > 0 else ""
    return f"{head}: " + "; ".join(items) + tail + "."
