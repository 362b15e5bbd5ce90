"""Ranked breakdowns over a window (top pages, devices, channels...), with the change since the
window before. Slices are never summed into totals; shares are against the site's own total."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reports.errors import UsageError
from reports.history.catalogue import Metric, get_metric
from reports.history.query import (
    Breakdown,
    BreakdownRow,
    Point,
    Series,
    combine,
    day_hours,
    window,
)
from reports.history.reads import read_place, read_totals
from reports.timezones import parse_timezone, yesterday
from reports.urls import url_path
from store.models import MetricRow, RankedRow

# A page ranked by an average (scroll depth) needs enough sessions for the average to mean
# something: at least this many, and at least 1 % of the window's sessions.
MIN_SESSIONS: Final = 20


@dataclass(frozen=True, slots=True)
class RankedSlice:
    """One entry of a stored top-10 list (a plain value: `count` would clash with a row's own
    tuple method of that name)."""

    local_date: date
    name: str | None
    count: int | None


def group_of(metric: Metric) -> tuple[str, str]:
    """Where a breakdown's slices are stored: ("rows", fetch group) or ("ranked", list name)."""
    return metric.source or "", metric.group or ""


def read_slices(
    session: Session, source_id: int, metrics: Sequence[Metric], start: date, end: date
) -> tuple[Any, ...]:
    """Return the slices of one group in start..end with the columns `metrics` need (one query;
    rows are read-only tuples with named columns)."""
    source, group = group_of(metrics[0])
    if source == "ranked":
        ranked = select(col(RankedRow.local_date), col(RankedRow.name), col(RankedRow.count)).where(
            RankedRow.source_id == source_id,
            RankedRow.list_name == group,
            RankedRow.local_date >= start,
            RankedRow.local_date <= end,
        )
        return tuple(RankedSlice(*row) for row in session.exec(ranked).all())
    names = {"sessions"} | {n for m in metrics for n in (m.dimension or "url", m.field, m.per)}
    picked = [getattr(MetricRow, n) for n in sorted(n for n in names if n)]
    query = (
        select(col(MetricRow.local_date), *picked)
        .where(
            MetricRow.source_id == source_id,
            MetricRow.fetch_group == group,
            MetricRow.local_date >= start,
            MetricRow.local_date <= end,
        )
        .order_by(col(MetricRow.local_date), col(MetricRow.dimension_hash))
    )
    return tuple(session.exec(query).all())


def _key(metric: Metric, row: Any) -> str | None:
    if metric.source == "ranked":
        return row.name  # type: ignore[no-any-return]
    return getattr(row, metric.dimension or "url")  # type: ignore[no-any-return]


def slice_series(
    split: Metric,
    daily: Metric,
    rows: Iterable[Any],
    key: str | None,
    place: tuple[int, str],
    start: date,
    days: int,
) -> Series:
    """PURE: one slice's value per day (one page's), gaps as None, combined by the metric's rule
    exactly as a breakdown combines the slice over a window. `place`: (source id, timezone)."""
    by_day: dict[date, list[Any]] = {}
    for row in rows:
        if _key(split, row) == key:
            by_day.setdefault(row.local_date, []).append(row)
    zone, points = parse_timezone(place[1]), []
    for offset in range(days):
        day = start + timedelta(days=offset)
        value = combine(split, by_day[day]) if day in by_day else None
        points.append(Point(day, value, hours=day_hours(day, zone)))
    return Series(daily, place[0], place[1], tuple(points))


def _weight(metric: Metric, row: Any) -> int:
    return (row.count if metric.source == "ranked" else row.sessions) or 0


def _values(metric: Metric, rows: Iterable[Any]) -> dict[str | None, tuple[float, int]]:
    grouped: dict[str | None, list[Any]] = {}
    for row in rows:
        grouped.setdefault(_key(metric, row), []).append(row)
    values = {}
    for key, members in grouped.items():
        value = combine(metric, members)
        if value is not None:
            values[key] = (value, sum(_weight(metric, r) for r in members))
    return values


def label_for(metric: Metric, key: str | None) -> str:
    """Return what to show for a slice: a path for pages, and words for missing values."""
    if key is None:
        return "(none)"
    if key == "":
        return "(empty)"
    return (url_path(key) or key) if metric.dimension == "url" else key


def _site_total(metric: Metric, totals: Mapping[date, Any], days: set[date]) -> float | None:
    """The site total over exactly the days the breakdown has data for, so shares compare."""
    if metric.rule != "sum" or not days:
        return None  # an average or a rate has no share of a total
    total_metric = get_metric("sessions" if metric.field == "count" else metric.field)
    return combine(total_metric, [row for day, row in totals.items() if day in days])


def rank(
    metric: Metric,
    rows: Iterable[Any],
    totals: Mapping[date, Any],
    *,
    end: date,
    days: int,
    top_n: int,
) -> Breakdown:
    """PURE: the top `top_n` slices over the `days` days ending `end`, with their values in the
    `days` before; `rows` are the group's slices over both periods, `totals` the site's days."""
    if not metric.is_breakdown:
        raise UsageError(f"{metric.key} is a daily series: chart it as a line, not as bars.")
    start, end = window(end, days)
    before = start - timedelta(days=days)
    rows = tuple(rows)
    now_rows = [r for r in rows if start <= r.local_date <= end]
    then_rows = [r for r in rows if before <= r.local_date < start]
    covered = {r.local_date for r in now_rows}
    current = _values(metric, now_rows)
    # Compare only like with like: a period with fewer days of data would look like a drop.
    comparable = len({r.local_date for r in then_rows}) == len(covered)
    previous = _values(metric, then_rows) if comparable else {}
    total = _site_total(metric, totals, covered)
    ranked = sorted(_kept(metric, current).items(), key=lambda i: (-i[1][0], str(i[0])))[:top_n]
    out = []
    for key, (value, weight) in ranked:
        prev, prev_weight = previous.get(key, (None, 0))
        change = 100.0 * (value - prev) / prev if prev else None
        share = 100.0 * value / total if total else None
        label = label_for(metric, key)
        out.append(BreakdownRow(label, key, value, share, prev, change, weight, prev_weight))
    return Breakdown(metric, start, end, tuple(out), total)


def _kept(
    metric: Metric, current: dict[str | None, tuple[float, int]]
) -> dict[str | None, tuple[float, int]]:
    """The slices worth ranking."""
    if metric.rule == "sum":
        return {k: v for k, v in current.items() if v[0] > 0}  # e.g. the bots-only "Other"
    if metric.rule == "weighted":
        floor = max(MIN_SESSIONS, 0.01 * sum(w for _, w in current.values()))
        return {k: v for k, v in current.items() if v[1] >= floor}
    return current


def breakdown(
    engine: Engine, *, source_id: int, metric: Metric, days: int, top_n: int, now: datetime
) -> Breakdown:
    """Return the top `top_n` slices over the last `days` days, with their previous values."""
    if not metric.is_breakdown:
        raise UsageError(f"{metric.key} is a daily series: chart it as a line, not as bars.")
    with Session(engine) as session:
        timezone = read_place(session, source_id)[1]
        start, end = window(yesterday(now, parse_timezone(timezone)), days)
        rows = read_slices(session, source_id, [metric], start - timedelta(days=days), end)
        totals = read_totals(session, source_id, start, end)
    return rank(metric, rows, totals, end=end, days=days, top_n=top_n)
