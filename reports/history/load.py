"""One read of stored history → a History value that charts, facts, reports and alerts share.

A report used to have each of its parts run its own queries (119 for a digest, most of them
re-reading the same source); now it reads once, in a handful of queries, and everything after
is pure. The numbers are built by the same functions as `series`, `aggregate` and `breakdown`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from reports.history.breakdowns import group_of, rank, read_slices, slice_series
from reports.history.catalogue import Metric
from reports.history.query import (
    Aggregate,
    Breakdown,
    Series,
    build_aggregate,
    build_series,
    window,
)
from reports.history.reads import read_place, read_totals
from reports.timezones import parse_timezone, yesterday
from store.models import Snapshot


@dataclass(frozen=True)
class History:
    """A source's stored days up to yesterday as of `now`: what a report or an alert reads."""

    source_id: int
    label: str
    timezone: str
    now: datetime
    end: date  # the last local day: yesterday as of `now`
    days: int  # how many days up to `end` were read (breakdowns: twice as many)
    totals: Mapping[date, Any]  # the no-dimension row of each stored day, with its flags
    slices: Mapping[tuple[str, str], tuple[Any, ...]]  # each breakdown group's slices
    groups: Mapping[date, frozenset[str]]  # the fetch groups stored on each day
    first_day: date | None = None  # the source's first stored day ever: "connected" from then
    clarity_project_id: str | None = None  # for "Open in Clarity" links

    def since(self, start: date) -> date:
        """`start`, or the first stored day when later: days before it are not missing."""
        return max(start, self.first_day) if self.first_day else start

    @property
    def start(self) -> date:
        """The first day read."""
        return self.end - timedelta(days=self.days - 1)

    def series(self, metric: Metric, days: int) -> Series:
        """One value per local day for the `days` days ending `end`."""
        start, _ = window(self.end, days)
        self._covers(start, days)
        return build_series(metric, self.source_id, self.timezone, self.totals, start, days)

    def aggregate(self, metric: Metric, start: date, end: date) -> Aggregate:
        """A metric over the days start..end (None when no day has data)."""
        self._covers(start, (end - start).days + 1)
        return build_aggregate(metric, self.totals.values(), start, end)

    def breakdown(self, metric: Metric, days: int, top_n: int) -> Breakdown:
        """The top `top_n` slices over the last `days` days, with their previous values."""
        self._covers(self.end - timedelta(days=days - 1), days)
        rows = self.slices.get(group_of(metric)) if metric.is_breakdown else ()
        if rows is None:
            raise ValueError(f"{metric.key}: its slices were not loaded (pass it to load)")
        return rank(metric, rows, self.totals, end=self.end, days=days, top_n=top_n)

    def slice_series(self, daily: Metric, split: Metric, key: str | None, days: int) -> Series:
        """One slice of `daily` split as `split` (a page, by its full URL) per day, for the
        `days` days ending `end`: what a page's alert charts."""
        start, _ = window(self.end, days)
        self._covers(start, days)
        rows = self.slices.get(group_of(split))
        if rows is None:
            raise ValueError(f"{split.key}: its slices were not loaded (pass it to load)")
        place = (self.source_id, self.timezone)
        return slice_series(split, daily, rows, key, place, start, days)

    def stored_groups(self, day: date) -> frozenset[str]:
        """The fetch groups stored for a day."""
        self._covers(day, 1)
        return self.groups.get(day, frozenset())

    def any_day(self, first: date, last: date) -> bool:
        """True when any day in first..last has something stored (any group)."""
        self._covers(first, (last - first).days + 1)
        return any(first <= day <= last for day in self.groups)

    def need(self, days: int) -> None:
        """Raise unless the last `days` days were read."""
        self._covers(self.end - timedelta(days=days - 1), days)

    def _covers(self, start: date, days: int) -> None:
        """A History answers only for the days it read: anything else is a caller's bug."""
        if start < self.start or days > self.days:
            raise ValueError(f"History read {self.days} days from {self.start}, not {start}")


def load(
    db: Session | Engine, source_id: int, metrics: Iterable[Metric], *, days: int, now: datetime
) -> History:
    """Read `days` days of a source's history up to yesterday (local) as of `now`, with the
    slices of the breakdowns among `metrics` over twice as many days (for their comparison)."""
    if isinstance(db, Session):
        return _read(db, source_id, list(metrics), days, now)
    with Session(db) as session:
        return _read(session, source_id, list(metrics), days, now)


def _read(
    session: Session, source_id: int, metrics: list[Metric], days: int, now: datetime
) -> History:
    label, timezone, project_id = read_place(session, source_id)
    start, end = window(yesterday(now, parse_timezone(timezone)), days)
    wanted: dict[tuple[str, str], list[Metric]] = {}
    for metric in (m for m in metrics if m.is_breakdown):
        wanted.setdefault(group_of(metric), []).append(metric)
    earlier = start - timedelta(days=days)
    slices = {g: read_slices(session, source_id, ms, earlier, end) for g, ms in wanted.items()}
    totals = read_totals(session, source_id, start, end)
    groups = _stored_groups(session, source_id, start, end)
    first = session.exec(
        select(func.min(col(Snapshot.local_date))).where(Snapshot.source_id == source_id)
    ).first()
    return History(
        source_id, label, timezone, now, end, days, totals, slices, groups, first, project_id
    )


def _stored_groups(
    session: Session, source_id: int, start: date, end: date
) -> dict[date, frozenset[str]]:
    query = select(col(Snapshot.local_date), col(Snapshot.fetch_group)).where(
        Snapshot.source_id == source_id,
        Snapshot.local_date >= start,
        Snapshot.local_date <= end,
    )
    found: dict[date, set[str]] = {}
    for day, group in session.exec(query).all():
        found.setdefault(day, set()).add(group)
    return {day: frozenset(groups) for day, groups in found.items()}
