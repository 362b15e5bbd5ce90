"""Stored history → numbers: daily series, window aggregates and ranked breakdowns.

The numbers must be right: totals come only from the no-dimension group, averages are weighted
by sessions, distinct users are never summed silently, and a day without data is a gap (None),
never a zero. Every value keeps the ids of the stored rows it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from reports.errors import UsageError
from reports.history.catalogue import Metric
from reports.history.reads import metric_columns, read_place, read_totals
from reports.history.values import Aggregate, Breakdown, BreakdownRow, Point, Series
from reports.timezones import day_start, parse_timezone, yesterday

__all__ = [
    "Aggregate",
    "Breakdown",
    "BreakdownRow",
    "Point",
    "Series",
    "aggregate",
    "build_aggregate",
    "build_series",
    "combine",
    "day_hours",
    "day_parts",
    "day_value",
    "series",
    "window",
]


def day_value(metric: Metric, row: Any) -> float | None:
    """Return a metric's value for one stored row (a day, or a slice of a day)."""
    raw = getattr(row, metric.field)
    if metric.rule == "rate":
        per = getattr(row, metric.per or "sessions")
        return None if raw is None or not per else 100.0 * raw / per
    if raw is None:
        return None
    return raw / 1000.0 if metric.unit == "seconds" else float(raw)


def day_parts(metric: Metric, row: Any) -> tuple[float | None, float | None]:
    """Return (num, den) with value = num / den, so days combine by the metric's rule."""
    value = day_value(metric, row)
    if value is None:
        return None, None
    if metric.rule in ("weighted", "rate"):
        sessions = row.sessions if metric.rule == "weighted" else getattr(row, metric.per or "")
        return (value * sessions, float(sessions)) if sessions else (None, None)
    return value, 1.0


def combine(metric: Metric, rows: Sequence[Any]) -> float | None:
    """Combine the value of several rows (days or slices) by the metric's rule."""
    if metric.rule in ("sum", "users"):
        values = [getattr(r, metric.field) for r in rows if getattr(r, metric.field) is not None]
        return float(sum(values)) if values else None
    if metric.rule == "weighted":
        weighted = [(day_value(metric, r), r.sessions) for r in rows if r.sessions]
        usable = [(v, n) for v, n in weighted if v is not None]
        weight = sum(n for _, n in usable)
        return sum(v * n for v, n in usable) / weight if weight else None
    parts = [(getattr(r, metric.field), getattr(r, metric.per or "sessions")) for r in rows]
    known = [(n, d) for n, d in parts if n is not None and d]
    denominator = sum(d for _, d in known)
    return 100.0 * sum(n for n, _ in known) / denominator if denominator else None


def window(end: date, days: int) -> tuple[date, date]:
    """Return the first and last day of the `days` days ending `end`."""
    if days < 1:
        raise UsageError("--days must be 1 or more.")
    return end - timedelta(days=days - 1), end


def build_series(
    metric: Metric,
    source_id: int,
    timezone: str,
    stored: Mapping[date, Any],
    start: date,
    days: int,
) -> Series:
    """PURE: one point per day from start, gaps as None, from the stored totals by day."""
    if metric.is_breakdown:
        raise UsageError(f"{metric.key} is a breakdown: chart it as bars, not as a series.")
    points = []
    zone = parse_timezone(timezone)
    for offset in range(days):
        day = start + timedelta(days=offset)
        row, hours = stored.get(day), day_hours(day, zone)
        if row is None:
            points.append(Point(day, None, hours=hours))
            continue
        num, den = day_parts(metric, row)
        refs = (row.id or 0,)
        value = day_value(metric, row)
        points.append(Point(day, value, row.late, row.estimated, refs, num, den, hours))
    return Series(metric, source_id, timezone, tuple(points))


def day_hours(day: date, zone: ZoneInfo) -> int:
    """How many hours a local day lasts: 24, or 23/25 on a daylight-saving change."""
    length = day_start(day + timedelta(days=1), zone) - day_start(day, zone)
    return round(length.total_seconds() / 3600)


def build_aggregate(metric: Metric, rows: Iterable[Any], start: date, end: date) -> Aggregate:
    """PURE: a metric over the stored days start..end (None when no day has data)."""
    if metric.is_breakdown:
        raise UsageError(f"{metric.key} is a breakdown, not a single number.")
    usable = [r for r in rows if start <= r.local_date <= end and day_value(metric, r) is not None]
    return Aggregate(
        value=combine(metric, usable),
        days_with_data=len(usable),
        days=(end - start).days + 1,
        summed_daily_users=metric.rule == "users" and len(usable) > 1,
        refs=tuple(sorted(r.id or 0 for r in usable)),
    )


def series(engine: Engine, *, source_id: int, metric: Metric, days: int, now: datetime) -> Series:
    """Return one value per local day for the `days` days ending yesterday (one metric on its
    own, reading only its columns; a report or an alert reads a History with `load` instead)."""
    with engine.connect() as conn:
        timezone = read_place(conn, source_id)[1]
        start, end = window(yesterday(now, parse_timezone(timezone)), days)
        stored = read_totals(conn, source_id, start, end, metric_columns(metric))
    return build_series(metric, source_id, timezone, stored, start, days)


def aggregate(
    engine: Engine, *, source_id: int, metric: Metric, start: date, end: date
) -> Aggregate:
    """Return a metric over the days start..end (None when no day has data)."""
    with engine.connect() as conn:
        stored = read_totals(conn, source_id, start, end, metric_columns(metric))
    return build_aggregate(metric, stored.values(), start, end)
