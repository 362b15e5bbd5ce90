"""PURE: what a report compares, in numbers and in words.

A daily report compares its last day with the same weekday a week before; a weekly report its
last 7 days with the 7 before; a monthly report its month (from the same day of the month
before, so a report on the 1st covers the calendar month) with the month before. Each period
is combined by the metric's rule (a total, a session-weighted average, a rate of sums, users
per day), by the functions the charts and the summary use, so a line, a tile, a subject and a
chart's header agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

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
    days_with_data: int | None = None  # of the period's days; None for a single day
    days: int = PERIOD_DAYS  # the period's days
    period: str = WEEK_SCOPE  # what a full period's value covers: `last 7 days`
    of_period: str = f"the {WEEK_SCOPE}"  # the same after "6 of": `the last 7 days`

    @property
    def number_text(self) -> str:
        """`5.8k`, `812 a day`; a dash without data."""
        text = format_value(self.value, self.metric.unit)
        return text + " a day" if self.per_day and self.value is not None else text

    @property
    def partial(self) -> bool:
        """A period's value with days missing (a gap is never counted as a zero)."""
        return self.days_with_data is not None and self.days_with_data < self.days

    @property
    def value_text(self) -> str:
        """`5.8k`, `812 a day`, `5.2k over 6 of 7 days`; a dash without data."""
        if self.partial and self.value is not None:
            return f"{self.number_text} over {self.days_with_data} of {self.days} days"
        return self.number_text

    @property
    def scope(self) -> str:
        """What a period's value covers: `last 7 days`, `6 of the last 7 days`; "" for a day."""
        if self.days_with_data is None:
            return ""
        return f"{self.days_with_data} of {self.of_period}" if self.partial else self.period

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
    start = history.end - timedelta(days=PERIOD_DAYS - 1)
    earlier = start - timedelta(days=PERIOD_DAYS)
    texts = ("vs the week before", "no two full weeks to compare", WEEK_SCOPE, f"the {WEEK_SCOPE}")
    return _period_change(history, metric, start, earlier, texts)


def month_change(history: History, metric: Metric) -> Change:
    """The month to the history's last day (from the same day of the month before) against
    the month before it, whatever their lengths (31 days against 28, as calendar months)."""
    end = history.end
    start = month_before(end + timedelta(days=1))
    days = (end - start).days + 1
    period, of_period = f"month to {end:%-d %b}", f"the {days} days to {end:%-d %b}"
    texts = ("vs the month before", "no two full months to compare", period, of_period)
    return _period_change(history, metric, start, month_before(start), texts)


def month_before(day: date) -> date:
    """The same day of the month before (its last day, when that month is shorter)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _period_change(
    history: History, metric: Metric, start: date, earlier: date, texts: tuple[str, str, str, str]
) -> Change:
    """start..the history's end against earlier..the day before start, by the metric's rule."""
    versus, missing, period, of_period = texts
    now = over(history, metric, start, history.end, level=False)
    before = over(history, metric, earlier, start - timedelta(days=1), level=False)
    diff = pct = None
    days = (history.end - start).days + 1
    lengths = (days, (start - earlier).days)
    alike = like_with_like(metric, now, before, lengths)
    if alike and now.value is not None and before.value is not None:
        diff, pct = now.value - before.value, pct_change(now.value, before.value)
    return Change(
        metric,
        now.value,
        diff,
        pct,
        versus,
        missing,
        now.per_day,
        now.days_with_data,
        days,
        period,
        of_period,
    )
