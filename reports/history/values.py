"""PURE: the values history reads produce — days, series, window aggregates, breakdowns.

Kept apart from the reads (no database import) so a chart worker process, which only draws
from these values, loads neither SQLAlchemy nor the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reports.history.catalogue import Metric


@dataclass(frozen=True)
class Point:
    """One local day of a series."""

    day: date
    value: float | None
    late: bool = False
    estimated: bool = False
    refs: tuple[int, ...] = ()
    # value == num / den; the parts let several days combine by the metric's rule.
    num: float | None = None
    den: float | None = None
    hours: int = 24  # the local day's length: 23 or 25 on a clock change

    @property
    def odd_length(self) -> bool:
        """True for a short or long local day (a daylight-saving change)."""
        return self.hours != 24


@dataclass(frozen=True)
class Series:
    """Per-day values of one metric, oldest first, with gaps as None."""

    metric: Metric
    source_id: int
    timezone: str
    points: tuple[Point, ...]

    @property
    def days_with_data(self) -> int:
        """How many days have a value."""
        return sum(1 for p in self.points if p.value is not None)

    def latest(self) -> Point | None:
        """Return the newest day that has a value."""
        return next((p for p in reversed(self.points) if p.value is not None), None)

    def since(self, first: date | None) -> Series:
        """The same series from `first` on: days before a source was connected are not gaps."""
        if first is None or first <= self.points[0].day:
            return self
        kept = tuple(p for p in self.points if p.day >= first) or self.points[-1:]
        return Series(self.metric, self.source_id, self.timezone, kept)

    def tail(self, days: int) -> Series:
        """Return the same series limited to its last `days` days."""
        return Series(self.metric, self.source_id, self.timezone, self.points[-days:])

    def rolling(self, window: int = 7, minimum: int = 4) -> list[float | None]:
        """Return the trailing `window`-day value per day, by the metric's rule (None when
        fewer than `minimum` of those days have data)."""
        out: list[float | None] = []
        for i in range(len(self.points)):
            parts = [p for p in self.points[max(0, i - window + 1) : i + 1] if p.den]
            den = sum(p.den or 0.0 for p in parts)
            enough = len(parts) >= minimum and den
            out.append(sum(p.num or 0.0 for p in parts) / den if enough else None)
        return out


@dataclass(frozen=True)
class Aggregate:
    """One metric over a window of days."""

    value: float | None
    days_with_data: int
    days: int
    summed_daily_users: bool = False  # True: a "sum of daily users", not distinct users
    refs: tuple[int, ...] = ()

    @property
    def complete(self) -> bool:
        """Every day of the window has data."""
        return self.days_with_data == self.days


@dataclass(frozen=True)
class BreakdownRow:
    """One ranked slice over a window."""

    label: str  # what to show (a path, not a full URL)
    key: str | None  # the slice itself (full URL, device name...)
    value: float
    share: float | None  # % of the site total, for counts
    previous: float | None
    change_pct: float | None
    sessions: int | None = None
    previous_sessions: int | None = None  # the slice's sessions in the period before


@dataclass(frozen=True)
class Breakdown:
    """A ranked breakdown over a window, compared with the window before."""

    metric: Metric
    start: date
    end: date
    rows: tuple[BreakdownRow, ...]
    total: float | None
