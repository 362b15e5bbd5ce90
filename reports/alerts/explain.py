"""PURE: an alert explained once — its words (mail, Slack) and its chart's marks (window, value,
limit) come from the verdict's own numbers, so text and picture say the same thing.

The chart's headline used to be the last day's value while the text spoke of the window (6.8 %
against 6.0 %); an alert's chart now shows the rule's number and says which number it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from reports.alerts.rules import describe
from reports.alerts.verdict import Verdict, change_words, decide, page_row
from reports.delivery.alertfacts import AlertFacts
from reports.history.catalogue import Metric, by_page, get_metric
from reports.history.load import History
from reports.history.query import Series
from reports.render.charts import LEAD_DAYS
from reports.render.charts.marks import AlertMarks, Window
from reports.render.charts.style import format_value, shorten
from reports.urls import clarity_dashboard_url
from store.models import AlertRule
from store.vocab import AlertState, Condition, Direction

CHART_DAYS: Final = 30
PAGE_CHARS: Final = 28  # a page path in a chart title or a subject: its middle goes first
# Which number an alert speaks of, by the metric's rule (the same aggregation as the verdict).
HOW: Final[dict[str, str]] = {
    "sum": "total, last {n} days",
    "weighted": "session-weighted, last {n} days",
    "rate": "rate over the last {n} days",
    "users": "daily average, last {n} days",
}


@dataclass(frozen=True)
class Explained:
    """An alert's words, and what its chart draws."""

    facts: AlertFacts
    marks: AlertMarks
    series: Series  # the site's daily metric, or the page's
    title: str
    days: int  # how many days the chart shows


@dataclass(frozen=True)
class _Limit:
    """What a rule's value is held against, said and drawn."""

    words: str  # "above 1.0 %", "up 50 % on the 7 days before (70): fires at 105"
    level: float | None  # the level that fires, in the chart's units
    label: str  # on the limit line
    moved: str  # a change rule's move: "up 100 %"; "" for a fixed limit
    versus: str = ""  # what it moved against: "the 7 days before"


def chart_days(rule: AlertRule) -> int:
    """Days an alert's chart shows: a month, or more when the rule looks further back."""
    reach = 2 * rule.window_days if rule.condition == Condition.CHANGE else rule.window_days
    return max(CHART_DAYS, reach)


def read_days(rule: AlertRule) -> int:
    """Days of history the chart of a rule reads."""
    return chart_days(rule) + LEAD_DAYS


def explain(
    rule: AlertRule, verdict: Verdict, history: History, project_id: str | None = None
) -> Explained:
    """Words and marks for a verdict that has a value (fired, or judged clear)."""
    metric = get_metric(rule.metric)
    n = 1 if rule.condition == Condition.ANOMALY else rule.window_days
    scale = n if metric.rule == "sum" and n > 1 else 1  # a total is drawn as a day's worth
    limit = _limit(rule, metric, verdict, scale)
    marks = _marks(rule, metric, verdict, limit, scale)
    page = f" on {shorten(rule.page, PAGE_CHARS, middle=True)}" if rule.page else ""
    said = (
        f"{limit.moved} ({marks.headline}), limit {rule.threshold:g} %"
        if limit.moved
        else f"{marks.headline}, {limit.words}"
    )
    facts = AlertFacts(
        rule_id=rule.id or 0,
        label=metric.label,
        page=rule.page,
        value=marks.headline,
        how=_how(metric, n, verdict.day),
        limit=limit.words,
        window=_window_words(marks.window, marks.before, history.timezone),
        project=history.label,
        rule=describe(rule, labels=True),
        said=said,
        clarity_url=clarity_dashboard_url(project_id),
    )
    series = _series(rule, metric, history)
    return Explained(facts, marks, series, metric.label + page, chart_days(rule))


def _marks(
    rule: AlertRule, metric: Metric, verdict: Verdict, limit: _Limit, scale: int
) -> AlertMarks:
    """What the chart draws: the window and its level, the window before, the limit."""
    n = 1 if rule.condition == Condition.ANOMALY else rule.window_days
    value = verdict.value or 0.0
    before = _before(rule, metric, verdict, scale)
    amount = _amount(metric, value, n, scale)
    if scale == 1:
        amount = f"{verdict.day:%a %-d %b}: {amount}" if n == 1 else f"last {n} days: {amount}"
    elif before is None:  # room in the legend: say it is a total
        amount = amount.replace(" = ", f" in {n} days = ", 1)
    first = verdict.day - timedelta(days=n - 1)
    window = Window(first, verdict.day, value / scale, amount)
    how = _how(metric, n, verdict.day)
    caption = (
        f"{how} · {limit.moved} vs {limit.versus}"
        if limit.moved
        else f"{how} · limit {limit.words}"
    )
    fired = verdict.state == AlertState.FIRED
    return AlertMarks(
        window, before, limit.level, limit.label, _value(metric, value, n), caption, fired
    )


def _value(metric: Metric, value: float, n: int) -> str:
    """The number as the verdict says it (distinct users: per day, never summed)."""
    said = format_value(value, metric.unit)
    return f"{said} a day" if metric.rule == "users" and n > 1 else said


def _how(metric: Metric, n: int, day: date) -> str:
    return f"on {day:%a %-d %b}" if n == 1 else HOW[metric.rule].format(n=n)


def _amount(metric: Metric, value: float, n: int, scale: int) -> str:
    """A window's value as its level is drawn: a total with its daily worth (`5.8k = 827 a day`)."""
    said = _value(metric, value, n)
    return said if scale == 1 else f"{said} = {format_value(value / scale, metric.unit)} a day"


def _limit(rule: AlertRule, metric: Metric, verdict: Verdict, scale: int) -> _Limit:
    unit, t = metric.unit, rule.threshold
    if rule.condition in (Condition.ABOVE, Condition.BELOW):
        per = f" in {rule.window_days} days" if scale > 1 else ""
        words = f"{rule.condition} {format_value(t, unit)}{per}"
        return _Limit(words, t / scale, f"limit {words}", "")
    value, baseline = verdict.value or 0.0, verdict.baseline
    _, pct = decide(rule.condition, t, rule.direction, value, baseline)
    up = rule.direction == Direction.UP or (rule.direction == Direction.BOTH and (pct or 0) >= 0)
    versus = (
        f"the {rule.window_days} days before"
        if rule.condition == Condition.CHANGE
        else f"the {verdict.day:%A} average"
    )
    moved = change_words(unit, value, baseline, pct)
    if baseline is None:
        return _Limit(f"{rule.direction} {t:g} % on {versus}", None, "", moved, versus)
    level = baseline * (1 + (t if up else -t) / 100)
    fires = format_value(level, unit)
    of = f" of {rule.weeks} weeks" if rule.condition == Condition.ANOMALY else ""
    base = format_value(baseline, unit)
    words = f"{'up' if up else 'down'} {t:g} % on {versus}{of} ({base}): fires at {fires}"
    label = f"fires at {fires} ({'+' if up else '−'}{t:g} %)"
    return _Limit(words, level / scale, label, moved, versus)


def _before(rule: AlertRule, metric: Metric, verdict: Verdict, scale: int) -> Window | None:
    """A change rule's comparison: the same number of days just before the window."""
    if rule.condition != Condition.CHANGE or verdict.baseline is None:
        return None
    n = rule.window_days
    last = verdict.day - timedelta(days=n)
    label = f"before: {_amount(metric, verdict.baseline, n, scale)}"
    return Window(last - timedelta(days=n - 1), last, verdict.baseline / scale, label)


def _window_words(window: Window, before: Window | None, timezone: str) -> str:
    days = (window.last - window.first).days + 1
    span = (
        f"{window.last:%a %-d %b %Y}"
        if days == 1
        else f"{window.first:%-d %b} – {window.last:%-d %b %Y} ({days} days)"
    )
    if before is not None:
        span += f", against {before.first:%-d %b} – {before.last:%-d %b}"
    return f"{span}, {timezone}"


def _series(rule: AlertRule, metric: Metric, history: History) -> Series:
    """What the chart draws: the site's metric, or the page's own days for a page rule."""
    days = read_days(rule)
    if not rule.page:
        return history.series(metric, days)
    split = by_page(metric)
    # The slice the verdict measured, by its full URL.
    row = page_row(history.breakdown(split, rule.window_days, top_n=1000), rule.page)
    return history.slice_series(metric, split, row.key if row else rule.page, chart_days(rule))
