"""Facts first, in code: what a summary may say about a metric, every number computed here.

A written summary (template or AI) only phrases these; an AI answer is checked against
`Facts.numbers()` and thrown away if it cites anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from reports.history.catalogue import Metric, by_device, by_page
from reports.history.load import History
from reports.render.charts.style import POINT_UNITS

MOVER_MIN_SESSIONS: Final = 100  # in both weeks: a smaller slice moves by noise, not news
MOVER_MIN_CHANGE: Final = 0.5  # and at least this much of its unit (points, seconds, counts...)
PERIOD_DAYS: Final = 7
DAYS: Final = 28  # the facts look back four weeks


@dataclass(frozen=True)
class Mover:
    """A page or device whose value changed most against the week before."""

    kind: str  # "page" | "device"
    label: str  # from a website: untrusted text
    value: float
    change_pct: float
    change: float = 0.0  # absolute: percentage points for a percentage
    unit: str = "count"


def mover_words(mover: Mover) -> str:
    """`page /checkout (up 40 %)`, or `(up 2.6 points)` for a percentage."""
    way = "up" if mover.change_pct > 0 else "down"
    if mover.unit in POINT_UNITS:
        return f"{mover.kind} {mover.label} ({way} {points_words(mover.change, mover.unit)})"
    return f"{mover.kind} {mover.label} ({way} {abs(mover.change_pct):.0f} %)"


def points_words(diff: float, unit: str) -> str:
    """`2.6 points` for a percentage, `2.6 per 100 sessions` for a rate."""
    size = f"{abs(diff):.1f}"
    return f"{size} points" if unit == "percent" else f"{size} per 100 sessions"


@dataclass(frozen=True)
class Window:
    """A metric over a window, by the catalogue's rule, with how many of its days had data.

    `value` is the window's figure: a total for counts, a session-weighted or rate-of-sums value
    for averages and rates, and the average *per day* for distinct users (never summed).
    """

    value: float | None
    days_with_data: int
    days: int
    per_day: bool = False  # value is a daily average (users; the level of a count)

    @property
    def complete(self) -> bool:
        """Every day of the window has data."""
        return self.days_with_data == self.days


def over(history: History, metric: Metric, start: date, end: date, *, level: bool) -> Window:
    """A metric over start..end by its rule; `level`: counts as a mean per day with data."""
    start = history.since(start)
    days = max(0, (end - start).days + 1)
    if days == 0:
        return Window(None, 0, 0)
    agg = history.aggregate(metric, start, end)
    per_day = metric.rule == "users" or (level and metric.rule == "sum")
    value = agg.value
    if per_day and value is not None and agg.days_with_data:
        value = value / agg.days_with_data
    return Window(value, agg.days_with_data, days, per_day)


@dataclass(frozen=True)
class Facts:
    """Everything a summary of one metric may state."""

    metric: Metric
    source_label: str
    latest_day: date | None
    latest: float | None
    week_ago: float | None
    change_week_pct: float | None  # vs the same weekday a week before
    period: Window  # the last PERIOD_DAYS days combined
    previous_period: float | None  # the PERIOD_DAYS before them (when like with like)
    change_period_pct: float | None
    baseline_7: Window  # the level (per day, or weighted) over 7 / 28 days
    baseline_28: Window
    days_with_data: int
    days_missing: int  # since the first stored day: before it is not missing
    days: int  # days looked at: 28, or fewer since connecting
    estimated_days: int  # of this metric's own values
    late_days: int
    odd_days: tuple[tuple[date, int], ...]  # short/long local days with a value, and hours
    movers: tuple[Mover, ...]

    @property
    def sparse(self) -> bool:
        """Too little history to speak of a trend."""
        return self.days_with_data < 3

    @property
    def in_points(self) -> bool:
        """Changes of a percentage (or a rate per 100) are said in points."""
        return self.metric.unit in POINT_UNITS

    @property
    def change_week(self) -> float | None:
        """The absolute change on the same weekday a week before."""
        return _diff(self.latest, self.week_ago)

    @property
    def change_period(self) -> float | None:
        """The absolute change on the PERIOD_DAYS before."""
        return _diff(self.period.value, self.previous_period)

    def numbers(self) -> list[float]:
        """Every number a sentence about these facts may cite (dates and counts included)."""
        values = [
            self.latest,
            self.week_ago,
            self.change_week_pct,
            self.change_week,
            self.period.value,
            self.period.days_with_data,
            self.period.days,
            self.previous_period,
            self.change_period_pct,
            self.change_period,
            self.baseline_7.value,
            self.baseline_28.value,
            self.baseline_28.days_with_data,
            self.days_with_data,
            self.days_missing,
            self.days,
            self.estimated_days,
            self.late_days,
            PERIOD_DAYS,
            7,
            28,
            24,
        ]
        values += [v for day, hours in self.odd_days for v in (day.day, hours)]
        for mover in self.movers:
            values += [mover.value, mover.change_pct, mover.change]
        if self.latest_day:
            week_ago = self.latest_day - timedelta(days=7)
            values += [self.latest_day.day, self.latest_day.year, week_ago.day]
        return [float(v) for v in values if v is not None]


def _diff(now: float | None, before: float | None) -> float | None:
    return now - before if now is not None and before is not None else None


def pct_change(now: float | None, before: float | None) -> float | None:
    """Relative change in %; None when either side is missing or the base is zero."""
    return 100.0 * (now - before) / before if now is not None and before else None


def like_with_like(
    metric: Metric, period: Window, before: Window, lengths: tuple[int, int] = (PERIOD_DAYS,) * 2
) -> bool:
    """Two windows (of `lengths` days) compare: both complete (a total), or both with data (an
    average, a rate)."""
    if (period.days_with_data, before.days_with_data) == lengths:
        return True
    return metric.rule != "sum" and bool(period.days_with_data and before.days_with_data)


def needs(metric: Metric) -> tuple[Metric, ...]:
    """What the facts of a metric read: the metric, and its page and device splits (movers)."""
    return metric, by_page(metric), by_device(metric)


def compute(history: History, metric: Metric, *, source_label: str = "") -> Facts:
    """Compute the facts of a daily metric as of the history's last day (yesterday, local)."""
    data = history.series(metric, DAYS)
    points = data.since(history.first_day).points
    latest = data.latest()
    by_day = {p.day: p.value for p in data.points}
    week_ago = by_day.get(latest.day - timedelta(days=7)) if latest else None
    end = history.end
    start = end - timedelta(days=PERIOD_DAYS - 1)
    period = over(history, metric, start, end, level=False)
    before = over(
        history, metric, start - timedelta(days=PERIOD_DAYS), start - timedelta(days=1), level=False
    )
    comparable = like_with_like(metric, period, before)
    shown = [p for p in points if p.value is not None]
    return Facts(
        metric=metric,
        source_label=source_label,
        latest_day=latest.day if latest else None,
        latest=latest.value if latest else None,
        week_ago=week_ago,
        change_week_pct=pct_change(latest.value if latest else None, week_ago),
        period=period,
        previous_period=before.value if comparable else None,
        change_period_pct=pct_change(period.value, before.value) if comparable else None,
        baseline_7=_level(history, metric, 7, minimum=4),
        baseline_28=_level(history, metric, DAYS, minimum=14),
        days_with_data=len(shown),
        days_missing=len(points) - len(shown),
        days=len(points),
        estimated_days=sum(1 for p in shown if p.estimated),
        late_days=sum(1 for p in shown if p.late),
        odd_days=tuple((p.day, p.hours) for p in shown if p.odd_length),
        movers=movers(history, metric),
    )


def _level(history: History, metric: Metric, days: int, *, minimum: int) -> Window:
    """The metric's usual level over the last `days` days, by its rule; None with too few days."""
    found = over(history, metric, history.end - timedelta(days=days - 1), history.end, level=True)
    return found if found.days_with_data >= minimum else Window(None, found.days_with_data, days)


def movers(history: History, metric: Metric, top: int = 3) -> tuple[Mover, ...]:
    """The pages and devices that changed most against the week before (with enough volume
    in both weeks, and a change that is more than rounding)."""
    found: list[Mover] = []
    for kind, split in (("page", by_page(metric)), ("device", by_device(metric))):
        for row in history.breakdown(split, PERIOD_DAYS, top_n=50).rows:
            if row.change_pct is None or row.previous is None:
                continue
            volume = min(row.sessions or 0, row.previous_sessions or 0)
            change = row.value - row.previous
            if volume >= MOVER_MIN_SESSIONS and abs(change) >= MOVER_MIN_CHANGE:
                found.append(Mover(kind, row.label, row.value, row.change_pct, change, metric.unit))
    found.sort(key=lambda m: -abs(m.change if m.unit in POINT_UNITS else m.change_pct))
    return tuple(found[:top])
