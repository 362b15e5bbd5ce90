"""Alert evaluation: after each night's snapshot, once per rule and day, and who is told.

No data in the window is "unknown", never zero: an empty day does not fire a "sessions down"
rule. A rule that keeps holding goes to the same Slack thread instead of a new post.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from reports.alerts.rules import describe, list_rules
from reports.delivery.compose import Report, ReportChart
from reports.delivery.dispatch import GRACE, READY_GROUP, Sender
from reports.errors import DeliveryError
from reports.history.breakdowns import breakdown
from reports.history.catalogue import by_page, get_metric
from reports.history.quality import QualityGuard, note_lines
from reports.history.query import aggregate, series, source_timezone
from reports.notify import Notifier
from reports.render.charts import ChartMaker
from reports.render.charts.style import format_value
from reports.render.facts import mover_words, movers
from reports.timezones import due_at, parse_timezone, require_aware, yesterday
from store import repository
from store.models import AlertEvent, AlertRule, Source, Subscription
from store.vocab import AlertState, Condition, DestinationKind, Direction, Frequency

log = logging.getLogger(__name__)
CHART_DAYS: Final = 30


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


def measure(
    engine: Engine, rule: AlertRule, day: date, now: datetime
) -> tuple[float | None, float | None, float | None]:
    """(value, baseline, sessions) of the rule's metric for its window ending `day`."""
    metric, sid = get_metric(rule.metric), rule.source_id
    if rule.page:
        result = breakdown(
            engine,
            source_id=sid,
            metric=by_page(metric),
            days=rule.window_days,
            top_n=1000,
            now=now,
        )
        row = next((r for r in result.rows if r.label.rstrip("/") == rule.page.rstrip("/")), None)
        return (row.value, row.previous, row.sessions) if row else (None, None, None)
    start = day - timedelta(days=rule.window_days - 1)
    sessions = aggregate(
        engine, source_id=sid, metric=get_metric("sessions"), start=start, end=day
    ).value
    if rule.condition == Condition.ANOMALY:
        data = series(engine, source_id=sid, metric=metric, days=7 * rule.weeks + 1, now=now)
        by_day = {p.day: p.value for p in data.points}
        past = [
            v
            for k in range(1, rule.weeks + 1)
            if (v := by_day.get(day - timedelta(days=7 * k))) is not None
        ]
        return by_day.get(day), (mean(past) if len(past) >= 2 else None), sessions
    now_agg = aggregate(engine, source_id=sid, metric=metric, start=start, end=day)
    before = aggregate(
        engine,
        source_id=sid,
        metric=metric,
        start=start - timedelta(days=rule.window_days),
        end=start - timedelta(days=1),
    )
    comparable = before.days_with_data == now_agg.days_with_data
    return now_agg.value, (before.value if comparable else None), sessions


def evaluate(engine: Engine, rule: AlertRule, now: datetime) -> Verdict | None:
    """The verdict on yesterday (local); None while that day may still arrive."""
    tz = parse_timezone(source_timezone(engine, rule.source_id))
    day = yesterday(now, tz)
    with Session(engine) as session:
        stored = repository.stored_groups(session=session, source_id=rule.source_id, local_date=day)
    if READY_GROUP not in stored:
        if now < due_at(day, tz) + GRACE:
            return None
        return Verdict(
            day, AlertState.UNKNOWN, None, None, f"no data for {day:%a %-d %b}: not judged"
        )
    value, baseline, sessions = measure(engine, rule, day, now)
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


class AlertEvaluator:
    """Evaluates every active rule once per day and tells its destination when it fires."""

    def __init__(
        self,
        *,
        engine: Engine,
        senders: Mapping[str, Sender],
        charts: ChartMaker,
        notifier: Notifier | None = None,
    ) -> None:
        self.engine, self.senders, self.charts = engine, senders, charts
        self.guard = QualityGuard(engine, notifier)

    def tick(self, now: datetime) -> dict[str, int]:
        """Evaluate what is due; return how many rules fired, cleared or stayed unknown."""
        now, counts = require_aware(now), dict[str, int]()
        for rule in list_rules(self.engine):
            try:
                state = self._one(rule, now)
            except Exception:  # one broken rule must not silence the others: logged, skipped
                log.exception("alert %s could not be evaluated", rule.id)
                state = "error"
            if state:
                counts[state] = counts.get(state, 0) + 1
        return counts

    def _one(self, rule: AlertRule, now: datetime) -> str:
        verdict = evaluate(self.engine, rule, now)
        if verdict is None or not self._claim(rule, verdict, now):
            return ""
        told = (
            self._tell(rule, verdict, rule.state, now)
            if verdict.state == AlertState.FIRED
            else None
        )
        self._record(rule, verdict, told, now)
        return verdict.state

    def _claim(self, rule: AlertRule, verdict: Verdict, now: datetime) -> bool:
        """One evaluation per rule and day, whoever runs: the unique key decides."""
        try:
            with Session(self.engine) as session:
                session.add(
                    AlertEvent(
                        rule_id=rule.id or 0,
                        local_date=verdict.day,
                        state=verdict.state,
                        value=verdict.value,
                        baseline=verdict.baseline,
                        message=verdict.text,
                        created_at=now,
                    )
                )
                session.commit()
            return True
        except IntegrityError:
            return False

    def _due_to_tell(self, rule: AlertRule, previous: str, now: datetime) -> bool:
        if rule.only_first:
            return previous != AlertState.FIRED
        if rule.cooldown_hours is None or rule.last_told_at is None:
            return True
        return now - rule.last_told_at >= timedelta(hours=rule.cooldown_hours)

    def _tell(self, rule: AlertRule, verdict: Verdict, previous: str, now: datetime) -> str:
        if not self._due_to_tell(rule, previous, now):
            return "not told (cooldown or first time only)"
        sender = self.senders.get(rule.destination_kind)
        if sender is None:
            return f"not told: no {rule.destination_kind} set up for the worker"
        with Session(self.engine) as session:
            source = repository.get_source(session=session, source_id=rule.source_id)
        # A repeat while it keeps holding goes to the thread of the first post.
        thread = (
            rule.thread.split(":", 1)[1] if rule.thread and previous == AlertState.FIRED else ""
        )
        try:
            return sender.deliver(
                self._report(rule, verdict, source, now, thread), _as_subscription(rule), now, None
            )
        except DeliveryError as exc:
            log.warning("alert %s could not be sent: %s", rule.id, exc)
            return f"not told: {exc}"

    def _report(
        self, rule: AlertRule, verdict: Verdict, source: Source, now: datetime, thread: str
    ) -> Report:
        metric = get_metric(rule.metric)
        chart = self.charts.metric_chart(
            self.engine,
            source_id=rule.source_id,
            metric=metric,
            days=CHART_DAYS,
            now=now,
            source_label=source.label,
        )
        found = movers(self.engine, source_id=rule.source_id, metric=metric, now=now)
        drivers = ", ".join(mover_words(m) for m in found)
        warnings = note_lines(self.guard.issues(source, now))
        notes = (*warnings, *((f"Driven by: {drivers}.",) if drivers else ()))
        return Report(
            rule.id or 0,
            f"a{rule.id}-{verdict.day}",
            source.label,
            "Alert",
            f"{verdict.day:%a %-d %b %Y}",
            verdict.day,
            (ReportChart(metric.key, metric.label, chart.png, chart.alt_text, ""),),
            f"{verdict.text} — rule: {describe(rule)}",
            notes,
            True,
            thread=thread,
        )

    def _record(self, rule: AlertRule, verdict: Verdict, told: str | None, now: datetime) -> None:
        """Keep the rule's state (for `alerts list`) and where the day's news went."""
        sent = told is not None and not told.startswith("not told")
        with Session(self.engine) as session:
            fresh = session.get(AlertRule, rule.id)
            event = session.exec(
                select(AlertEvent).where(
                    AlertEvent.rule_id == rule.id, AlertEvent.local_date == verdict.day
                )
            ).first()
            if fresh is None or event is None:
                return
            fresh.state, fresh.state_reason = verdict.state, verdict.text
            fresh.evaluated_day = verdict.day
            if sent:
                fresh.last_told_at = now
                if fresh.destination_kind == DestinationKind.SLACK and not (
                    rule.thread and rule.state == AlertState.FIRED
                ):
                    fresh.thread = told  # the first post of a run: repeats reply to it
            event.told = told
            session.add(fresh)
            session.add(event)
            session.commit()


def _as_subscription(rule: AlertRule) -> Subscription:
    """The destination of a rule, in the shape the senders take."""
    return Subscription(
        id=rule.id,
        workspace_id=rule.workspace_id,
        source_id=rule.source_id,
        metrics=[rule.metric],
        destination_kind=rule.destination_kind,
        destination=rule.destination,
        frequency=Frequency.DAILY,
    )
