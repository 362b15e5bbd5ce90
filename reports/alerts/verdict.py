"""PURE: what an alert rule says about a day, from the source's History.

No data in the window is "unknown", never zero: an empty day does not fire a "sessions down"
rule, and a total over a window with a missing day is not judged against a threshold. Distinct
users are never summed: their rules judge the average per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean

from reports.delivery.readiness import GRACE, READY_GROUP
from reports.history.catalogue import Metric, by_page, get_metric
from reports.history.load import History
from reports.history.query import Aggregate, Breakdown, BreakdownRow
from reports.render.charts.style import POINT_UNITS, format_value
from reports.render.facts import points_words
from reports.timezones import due_at, parse_timezone
from store.models import AlertRule
from store.vocab import AlertState, Condition, Direction


@dataclass(frozen=True)
class Verdict:
    """What a rule says about one day."""

    day: date
    state: AlertState
    value: float | None
    baseline: float | None
    text: str


def decide(
    condition: str, threshold: float, direction: str, value: float, baseline: float | None
) -> tuple[AlertState, float | None]:
    """PURE: fired/clear/unknown for a value (and its baseline), with the change in %."""
    if condition == Condition.ABOVE:
        return _state(value > threshold), None
    if condition == Condition.BELOW:
        return _state(value < threshold), None
    if not baseline:
        return AlertState.UNKNOWN, None
    pct = 100.0 * (value - baseline) / baseline
    hit: dict[str, bool] = {
        Direction.UP: pct >= threshold,
        Direction.DOWN: pct <= -threshold,
        Direction.BOTH: abs(pct) >= threshold,
    }
    return _state(hit[direction]), pct


def _state(holds: bool) -> AlertState:
    """Fired when the condition holds, else clear."""
    return AlertState.FIRED if holds else AlertState.CLEAR


def rule_needs(rule: AlertRule) -> tuple[list[Metric], int]:
    """What judging a rule reads: its metric (by page, for a page), over its window and the one
    before it, or over its weeks."""
    metric = get_metric(rule.metric)
    metrics = [metric, by_page(metric)] if rule.page else [metric]
    return metrics, max(2 * rule.window_days, 7 * rule.weeks + 1)


@dataclass(frozen=True)
class Measure:
    """The rule's metric over its window: value, baseline, sessions, and how many days had data."""

    value: float | None
    baseline: float | None
    sessions: float | None
    days_with_data: int
    days: int


def measure(history: History, rule: AlertRule, day: date) -> Measure:
    """The rule's metric for its window ending `day` (the same aggregation as the charts)."""
    metric = get_metric(rule.metric)
    days = rule.window_days
    if rule.page:
        row = page_row(history.breakdown(by_page(metric), days, top_n=1000), rule.page)
        if row is None:
            return Measure(None, None, None, 0, days)
        return Measure(row.value, row.previous, row.sessions, days, days)
    start = day - timedelta(days=days - 1)
    sessions = history.aggregate(get_metric("sessions"), start, day).value
    if rule.condition == Condition.ANOMALY:
        data = history.series(metric, 7 * rule.weeks + 1)
        by_day = {p.day: p.value for p in data.points}
        past = [
            v
            for k in range(1, rule.weeks + 1)
            if (v := by_day.get(day - timedelta(days=7 * k))) is not None
        ]
        value = by_day.get(day)
        baseline = mean(past) if len(past) >= 2 else None
        return Measure(value, baseline, sessions, int(value is not None), 1)
    now_agg = history.aggregate(metric, start, day)
    before = history.aggregate(metric, start - timedelta(days=days), start - timedelta(days=1))
    comparable = before.days_with_data == now_agg.days_with_data
    value, baseline = _per_day(metric, now_agg), _per_day(metric, before)
    return Measure(
        value, baseline if comparable else None, sessions, now_agg.days_with_data, now_agg.days
    )


def page_row(result: Breakdown, page: str) -> BreakdownRow | None:
    """The slice of a page rule: the first ranked row whose path is the rule's page."""
    return next((r for r in result.rows if r.label.rstrip("/") == page.rstrip("/")), None)


def _per_day(metric: Metric, agg: Aggregate) -> float | None:
    """Distinct users over a window: the average per day with data, never their sum."""
    if metric.rule != "users" or agg.value is None or not agg.days_with_data:
        return agg.value
    return agg.value / agg.days_with_data


def evaluate(history: History, rule: AlertRule) -> Verdict | None:
    """The verdict on yesterday (local, as of the history's `now`); None while that day may
    still arrive."""
    day = history.end
    if READY_GROUP not in history.stored_groups(day):
        if history.now < due_at(day, parse_timezone(history.timezone)) + GRACE:
            return None
        return Verdict(
            day, AlertState.UNKNOWN, None, None, f"no data for {day:%a %-d %b}: not judged"
        )
    found = measure(history, rule, day)
    value, baseline, sessions = found.value, found.baseline, found.sessions
    if value is None:
        return Verdict(day, AlertState.UNKNOWN, None, None, "no data in the window: not judged")
    unjudged = _too_thin(found, rule, value, sessions)
    if unjudged is not None:
        return Verdict(day, AlertState.UNKNOWN, value, baseline, unjudged)
    state, pct = decide(rule.condition, rule.threshold, rule.direction, value, baseline)
    if state == AlertState.UNKNOWN:
        return Verdict(day, state, value, None, "nothing comparable before: not judged")
    text = _text(rule, value, baseline, pct, day)
    return Verdict(
        day, state, value, baseline, text if state == AlertState.FIRED else f"holds not: {text}"
    )


def _too_thin(found: Measure, rule: AlertRule, value: float, sessions: float | None) -> str | None:
    """Why a measured window is not judged (a total missing a day, too little traffic), if so."""
    gaps = found.days - found.days_with_data
    if gaps and get_metric(rule.metric).rule == "sum":
        total = format_value(value, get_metric(rule.metric).unit)
        return (
            f"{total} over {found.days_with_data} of {found.days} days ({gaps} without data): "
            "a total with a missing day is not judged"
        )
    if sessions is not None and sessions < rule.min_sessions:
        return (
            f"too little traffic ({sessions:.0f} sessions, the rule needs "
            f"{rule.min_sessions}): not judged"
        )
    return None


def _text(
    rule: AlertRule, value: float, baseline: float | None, pct: float | None, day: date
) -> str:
    metric = get_metric(rule.metric)
    label = metric.label + (f" on {rule.page}" if rule.page else "")
    unit = metric.unit
    v = format_value(value, unit)
    days = rule.window_days
    span = f"over the last {days} days" if days > 1 else f"on {day:%a %-d %b}"
    if metric.rule == "users" and days > 1:
        v, span = f"about {v} a day", f"over the last {days} days"
    if rule.condition in (Condition.ABOVE, Condition.BELOW):
        limit = format_value(rule.threshold, unit)
        return f"{label} is {v} {span} (limit: {rule.condition} {limit})"
    b = format_value(baseline, unit)
    change = change_words(unit, value, baseline, pct)
    if rule.condition == Condition.ANOMALY:
        return (
            f"{label} on {day:%a %-d %b} was {v}, {change} on the "
            f"{day:%A} average of the {rule.weeks} weeks before ({b})"
        )
    return f"{label} is {v} {span}, {change} on the {days} days before ({b})"


def change_words(unit: str, value: float, baseline: float | None, pct: float | None) -> str:
    """`up 12 %`, or `up 2.6 points (+89 %)` for a percentage or a rate per 100 sessions."""
    way = "up" if (pct or 0) > 0 else "down"
    if unit in POINT_UNITS and baseline is not None:
        return f"{way} {points_words(value - baseline, unit)} ({pct or 0:+.0f} %)"
    return f"{way} {abs(pct or 0):.0f} %"
