"""Facts first, in code: what a summary may say about a metric, every number computed here.

A written summary (template or AI) only phrases these; an AI answer is checked against
`Facts.numbers()` and thrown away if it cites anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean
from typing import Final

from reports.history.catalogue import Metric, by_device, by_page
from reports.history.load import History

MOVER_MIN_SESSIONS: Final = 20  # a slice smaller than this moves by noise, not news
PERIOD_DAYS: Final = 7
DAYS: Final = 28  # the facts look back four weeks


@dataclass(frozen=True)
class Mover:
    """A page or device whose value changed most against the week before."""

    kind: str  # "page" | "device"
    label: str  # from a website: untrusted text
    value: float
    change_pct: float


def mover_words(mover: Mover) -> str:
    """`page /checkout (up 40 %)`."""
    way = "up" if mover.change_pct > 0 else "down"
    return f"{mover.kind} {mover.label} ({way} {abs(mover.change_pct):.0f} %)"


@dataclass(frozen=True)
class Facts:
    """Everything a summary of one metric may state."""

    metric: Metric
    source_label: str
    latest_day: date | None
    latest: float | None
    week_ago: float | None
    change_week_pct: float | None  # vs the same weekday a week before
    period: float | None  # the last PERIOD_DAYS days combined
    previous_period: float | None  # the PERIOD_DAYS before them
    change_period_pct: float | None
    baseline_7: float | None  # mean of the daily values over 7 / 28 days
    baseline_28: float | None
    days_with_data: int
    days_missing: int
    estimated_days: int
    late_days: int
    movers: tuple[Mover, ...]

    @property
    def sparse(self) -> bool:
        """Too little history to speak of a trend."""
        return self.days_with_data < 3

    def numbers(self) -> list[float]:
        """Every number a sentence about these facts may cite (dates and counts included)."""
        values = [
            self.latest,
            self.week_ago,
            self.change_week_pct,
            self.period,
            self.previous_period,
            self.change_period_pct,
            self.baseline_7,
            self.baseline_28,
            self.days_with_data,
            self.days_missing,
            self.estimated_days,
            self.late_days,
            PERIOD_DAYS,
            7,
            28,
        ]
        for mover in self.movers:
            values += [mover.value, mover.change_pct]
        if self.latest_day:
            week_ago = self.latest_day - timedelta(days=7)
            values += [self.latest_day.day, self.latest_day.year, week_ago.day]
        return [float(v) for v in values if v is not None]


def pct_change(now: float | None, before: float | None) -> float | None:
    """Relative change in %; None when either side is missing or the base is zero."""
    return 100.0 * (now - before) / before if now is not None and before else None


def needs(metric: Metric) -> tuple[Metric, ...]:
    """What the facts of a metric read: the metric, and its page and device splits (movers)."""
    return metric, by_page(metric), by_device(metric)


def compute(history: History, metric: Metric, *, source_label: str = "") -> Facts:
    """Compute the facts of a daily metric as of the history's last day (yesterday, local)."""
    data = history.series(metric, DAYS)
    points = data.points
    latest = data.latest()
    by_day = {p.day: p.value for p in points}
    week_ago = by_day.get(latest.day - timedelta(days=7)) if latest else None
    end = points[-1].day
    start = end - timedelta(days=PERIOD_DAYS - 1)
    period = history.aggregate(metric, start, end)
    before = history.aggregate(
        metric, start - timedelta(days=PERIOD_DAYS), start - timedelta(days=1)
    )
    values = [p.value for p in points if p.value is not None]
    last_7 = [p.value for p in points[-7:] if p.value is not None]
    comparable = before.days_with_data == period.days_with_data  # like with like only
    return Facts(
        metric=metric,
        source_label=source_label,
        latest_day=latest.day if latest else None,
        latest=latest.value if latest else None,
        week_ago=week_ago,
        change_week_pct=pct_change(latest.value if latest else None, week_ago),
        period=period.value,
        previous_period=before.value if comparable else None,
        change_period_pct=pct_change(period.value, before.value) if comparable else None,
        baseline_7=mean(last_7) if len(last_7) >= 4 else None,
        baseline_28=mean(values) if len(values) >= 14 else None,
        days_with_data=len(values),
        days_missing=len(points) - len(values),
        estimated_days=sum(1 for p in points if p.estimated),
        late_days=sum(1 for p in points if p.late),
        movers=movers(history, metric),
    )


def movers(history: History, metric: Metric, top: int = 3) -> tuple[Mover, ...]:
    """The pages and devices that changed most against the week before (with enough volume)."""
    found: list[Mover] = []
    for kind, split in (("page", by_page(metric)), ("device", by_device(metric))):
        for row in history.breakdown(split, PERIOD_DAYS, top_n=50).rows:
            if row.change_pct is not None and (row.sessions or 0) >= MOVER_MIN_SESSIONS:
                found.append(Mover(kind, row.label, row.value, row.change_pct))
    found.sort(key=lambda m: -abs(m.change_pct))
    return tuple(found[:top])
