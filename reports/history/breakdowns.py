"""Ranked breakdowns over a window (top pages, devices, channels...), with the change since the
window before. Slices are never summed into totals; shares are against the site's own total."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine
from sqlmodel import Session, select

from reports.errors import UsageError
from reports.history.catalogue import Metric, get_metric
from reports.history.query import Breakdown, BreakdownRow, combine, last_days, totals
from reports.urls import url_path
from store.models import MetricRow, RankedRow

# A page ranked by an average (scroll depth) needs enough sessions for the average to mean
# something: at least this many, and at least 1 % of the window's sessions.
MIN_SESSIONS: Final = 20


def _slices(engine: Engine, source_id: int, metric: Metric, start: date, end: date) -> list[Any]:
    model: Any = RankedRow if metric.source == "ranked" else MetricRow
    group_column = model.list_name if metric.source == "ranked" else model.fetch_group
    with Session(engine) as session:
        query = select(model).where(
            model.source_id == source_id,
            group_column == metric.group,
            model.local_date >= start,
            model.local_date <= end,
        )
        return list(session.exec(query).all())


def _key(metric: Metric, row: Any) -> str | None:
    if metric.source == "ranked":
        return row.name  # type: ignore[no-any-return]
    return getattr(row, metric.dimension or "url")  # type: ignore[no-any-return]


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


def _site_total(engine: Engine, source_id: int, metric: Metric, days: set[date]) -> float | None:
    """The site total over exactly the days the breakdown has data for, so shares compare."""
    if metric.rule != "sum" or not days:
        return None  # an average or a rate has no share of a total
    total_metric = get_metric("sessions" if metric.field == "count" else metric.field)
    stored = totals(engine, source_id, min(days), max(days))
    return combine(total_metric, [row for day, (row, _) in stored.items() if day in days])


def breakdown(
    engine: Engine, *, source_id: int, metric: Metric, days: int, top_n: int, now: datetime
) -> Breakdown:
    """Return the top `top_n` slices over the last `days` days, with their previous values."""
    if not metric.is_breakdown:
        raise UsageError(f"{metric.key} is a daily series: chart it as a line, not as bars.")
    start, end = last_days(engine, source_id, days, now)
    now_rows = _slices(engine, source_id, metric, start, end)
    before = start - timedelta(days=days), start - timedelta(days=1)
    then_rows = _slices(engine, source_id, metric, *before)
    covered = {r.local_date for r in now_rows}
    current = _values(metric, now_rows)
    # Compare only like with like: a period with fewer days of data would look like a drop.
    comparable = len({r.local_date for r in then_rows}) == len(covered)
    previous = _values(metric, then_rows) if comparable else {}
    total = _site_total(engine, source_id, metric, covered)
    if metric.rule == "sum":
        current = {k: v for k, v in current.items() if v[0] > 0}  # e.g. the bots-only "Other"
    if metric.rule == "weighted":
        floor = max(MIN_SESSIONS, 0.01 * sum(w for _, w in current.values()))
        current = {k: v for k, v in current.items() if v[1] >= floor}
    ranked = sorted(current.items(), key=lambda item: (-item[1][0], str(item[0])))[:top_n]
    rows = []
    for key, (value, weight) in ranked:
        prev = previous.get(key, (None, 0))[0]
        change = 100.0 * (value - prev) / prev if prev else None
        share = 100.0 * value / total if total else None
        rows.append(BreakdownRow(label_for(metric, key), key, value, share, prev, change, weight))
    return Breakdown(metric, start, end, tuple(rows), total)
