"""PURE: what an alert rule says about a day, from the source's History.

No data in the window is "unknown", never zero: an empty day does not fire a "sessions down"
rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean

from reports.delivery.dispatch import GRACE, READY_GROUP
from reports.history.catalogue import Metric, by_page, get_metric
from reports.history.load import History
from reports.render.charts.style import format_value
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


def measure(
    history: History, rule: AlertRule, day: date
) -> tuple[float | None, float | None, float | None]:
    """(value, baseline, sessions) of the rule's metric for its window ending `day`."""
    metric = get_metric(rule.metric)
    if rule.page:
        result = history.breakdown(by_page(metric), rule.window_days, top_n=1000)
        row = next((r for r in result.rows if r.label.rstrip("/") == rule.page.rstrip("/")), None)
        return (row.value, row.previous, row.sessions) if row else (None, None, None)
    start = day - timedelta(days=rule.window_days - 1)
    sessions = history.aggregate(get_metric("sessions"), start, day).value
    if rule.condition == Condition.ANOMALY:
        data = history.series(metric, 7 * rule.weeks + 1)
        by_day = {p.day: p.value for p in data.points}
        past = [
            v
            for k in range(1, rule.weeks + 1)
            if (v := by_day.get(day - timedelta(days=7 * k))) is not None
        ]
        return by_day.get(day), (mean(past) if len(past) >= 2 else None), sessions
    now_agg = history.aggregate(metric, start, day)
    before = history.aggregate(
        metric, start - timedelta(days=rule.window_days), start - timedelta(days=1)
    )
    comparable = before.days_with_data == now_agg.days_with_data
    return now_agg.value, (before.value if comparable else None), sessions


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
    value, baseline, sessions = measure(history, rule, day)
    if value is None:
        return Verdict(day, AlertState.UNKNOWN, None, None, "no data in the window: not judged")
    if sessions is not None and sessions < rule.min_sessions:
        return Verdict(
            day,
            AlertState.UNKNOWN,
            value,
            baseline,
            f"too little traffic ({sessions:.0f} sessions, the rule needs "
            f"{rule.min_sessions}): not judged",
        )
    state, pct = decide(rule.condition, rule.threshold, rule.direction, value, baseline)
    if state == AlertState.UNKNOWN:
        return Verdict(day, state, value, None, "nothing comparable before: not judged")
    text = _text(rule, value, baseline, pct, day)
    return Verdict(
        day, state, value, baseline, text if state == AlertState.FIRED else f"holds not: {text}"
    )


def _text(
    rule: AlertRule, value: float, baseline: float | None, pct: float | None, day: date
) -> str:
    metric = get_metric(rule.metric)
    label = metric.label + (f" on {rule.page}" if rule.page else "")
    v = format_value(value, metric.unit)
    if rule.condition in (Condition.ABOVE, Condition.BELOW):
        limit = format_value(rule.threshold, metric.unit)
        days = rule.window_days
        return f"{label} is {v} over the last {days} days (limit: {rule.condition} {limit})"
    b = format_value(baseline, metric.unit)
    way = "up" if (pct or 0) > 0 else "down"
    if rule.condition == Condition.ANOMALY:
        return (
            f"{label} on {day:%a %-d %b} was {v}, {way} {abs(pct or 0):.0f} % on the "
            f"{day:%A} average of the {rule.weeks} weeks before ({b})"
        )
    return (
        f"{label} is {v} over the last {rule.window_days} days, {way} {abs(pct or 0):.0f} % "
        f"on the {rule.window_days} days before ({b})"
    )
