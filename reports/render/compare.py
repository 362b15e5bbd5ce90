"""PURE: what a report compares, in numbers and in words.

A daily report compares its last day with the same weekday a week before; a weekly report its
last 7 days with the 7 before, each week combined by the metric's rule (a total, a
session-weighted average, a rate of sums, users per day). Both are computed by the functions
the charts and the summary use, so a line, a tile, a subject and a chart's header agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from reports.history.catalogue import Metric
from reports.history.load import History
from reports.history.query import Series
from reports.render.charts.line import week_delta
from reports.render.charts.style import KeyNumber, change_colour, format_delta, format_value
from reports.render.facts import PERIOD_DAYS, like_with_like, over, pct_change

WEEK_SCOPE = f"last {PERIOD_DAYS} days"


@dataclass(frozen=True)
class Change:
    """A metric's figure for a report and its change, with what each covers."""

    metric: Metric
    value: float | None
    diff: float | None  # absolute (points for a percentage)
    pct: float | None  # relative, in %
    versus: str  # "vs Sun 22 Nov", "vs the week before"
    missing: str  # what to say when there is nothing to compare with
    per_day: bool = False  # the value is a daily average (a week's distinct users)
    days_with_data: int | None = None  # of a week's 7 days; None for a single day

    @property
    def number_text(self) -> str:
        """`5.8k`, `812 a day`; a dash without data."""
        text = format_value(self.value, self.metric.unit)
        return text + " a day" if self.per_day and self.value is not None else text

    @property
    def partial(self) -> bool:
        """A week's value with days missing (a gap is never counted as a zero)."""
        return self.days_with_data is not None and self.days_with_data < PERIOD_DAYS

    @property
    def value_text(self) -> str:
        """`5.8k`, `812 a day`, `5.2k over 6 of 7 days`; a dash without data."""
        if self.partial and self.value is not None:
            return f"{self.number_text} over {self.days_with_data} of {PERIOD_DAYS} days"
        return self.number_text

    @property
    def scope(self) -> str:
        """What a week's value covers: `last 7 days`, `6 of the last 7 days`; "" for a day."""
        if self.days_with_data is None:
            return ""
        return f"{self.days_with_data} of the {WEEK_SCOPE}" if self.partial else WEEK_SCOPE

    @property
    def delta_text(self) -> str:
        """`▲ 12 % vs Tue 3 Mar`, `▼ 0.8 pp vs the week before`, or ""."""
        delta = format_delta(self.metric.unit, self.diff, self.pct)
        return f"{delta} {self.versus}" if delta else ""

    @property
    def colour(self) -> str:
        """Green for good news, vermillion for bad, grey for noise or nothing to compare."""
        return change_colour(self.pct, self.metric.higher_is_better)

    @property
    def line(self) -> str:
        """`Sessions: 738 (▼ 12 % vs Tue 3 Mar)`, or says there is no data."""
        if self.value is None:
            return f"{self.metric.label}: no data in this period"
        delta = self.delta_text
        return f"{self.metric.label}: {self.value_text}" + (f" ({delta})" if delta else "")

    def key_number(self) -> KeyNumber:
        """The same figure and change, for a chart to show."""
        return KeyNumber(self.number_text, self.delta_text, self.colour, self.scope)


def day_change(series: Series) -> Change:
    """The series' last day with data against the same weekday a week before."""
    latest = series.latest()
    diff, pct, versus = week_delta(series)
    value = latest.value if latest else None
    return Change(series.metric, value, diff, pct, versus, "no week-ago day to compare")


def week_change(history: History, metric: Metric) -> Change:
    """The last 7 days to the history's last day against the 7 days before them."""
    end = history.end
    start = end - timedelta(days=PERIOD_DAYS - 1)
    week = over(history, metric, start, end, level=False)
    earlier = start - timedelta(days=PERIOD_DAYS)
    before = over(history, metric, earlier, start - timedelta(days=1), level=False)
    diff = pct = None
    if like_with_like(metric, week, before) and week.value is not None and before.value is not None:
        diff, pct = week.value - before.value, pct_change(week.value, before.value)
    missing = "no two full weeks to compare"
    return Change(
        metric,
        week.value,
        diff,
        pct,
        "vs the week before",
        missing,
        week.per_day,
        week.days_with_data,
    )
