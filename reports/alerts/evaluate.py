"""Alert evaluation: after each night's snapshot, once per rule and day, and who is told.

Each rule reads its source's History once to be judged (`verdict.py`), and once more, wider,
only when it is told (its chart, movers and data check). A rule that keeps holding goes to the
same Slack thread instead of a new post.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from reports.alerts.explain import explain, read_days
from reports.alerts.rules import describe, list_rules
from reports.alerts.verdict import Verdict, decide, evaluate, rule_needs
from reports.delivery.compose import Report, ReportChart, clear_charts
from reports.delivery.dispatch import Sender
from reports.errors import DeliveryError
from reports.history.catalogue import Metric, get_metric
from reports.history.load import History, load
from reports.history.quality import DAYS as QUALITY_DAYS
from reports.history.quality import QualityGuard, note_lines
from reports.notify import Notifier
from reports.render.charts import ChartMaker
from reports.render.facts import mover_words, movers, needs
from reports.timezones import require_aware
from store.models import AlertEvent, AlertRule, Source, Subscription
from store.vocab import AlertState, DestinationKind, Frequency

__all__ = ["AlertEvaluator", "Verdict", "decide", "evaluate"]  # the verdict's names, as before

log = logging.getLogger(__name__)


def alert_needs(rule: AlertRule) -> tuple[list[Metric], int]:
    """What telling of a rule reads: its chart, what drove it (page and device splits), and
    the days the quality check looks at."""
    return list(needs(get_metric(rule.metric))), max(read_days(rule), QUALITY_DAYS)


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
            except DBAPIError:
                raise  # the database is away: the worker waits it out, the tick says so
            except Exception:  # one broken rule must not silence the others: logged, skipped
                log.exception("alert %s could not be evaluated", rule.id)
                state = "error"
            if state:
                counts[state] = counts.get(state, 0) + 1
        return counts

    def _one(self, rule: AlertRule, now: datetime) -> str:
        metrics, days = rule_needs(rule)
        history = load(self.engine, rule.source_id, metrics, days=days, now=now)
        verdict = evaluate(history, rule)
        if verdict is None or not self._claim(rule, verdict, now):
            return ""
        told = self._tell(rule, verdict, now) if verdict.state == AlertState.FIRED else None
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

    def _tell(self, rule: AlertRule, verdict: Verdict, now: datetime) -> str:
        previous = rule.state
        if rule.muted_until is not None and now < rule.muted_until:
            # Still judged and recorded (the list shows it): only the telling waits.
            return f"not told: muted until {rule.muted_until:%Y-%m-%d %H:%M} UTC"
        if not self._due_to_tell(rule, previous, now):
            return "not told (cooldown or first time only)"
        sender = self.senders.get(rule.destination_kind)
        if sender is None:
            return f"not told: no {rule.destination_kind} set up for the worker"
        # A repeat while it keeps holding goes to the thread of the first post.
        thread = (
            rule.thread.split(":", 1)[1] if rule.thread and previous == AlertState.FIRED else ""
        )
        # Only now is the rest read: most rules on most days are judged and not told.
        metrics, days = alert_needs(rule)
        history = load(self.engine, rule.source_id, metrics, days=days, now=now)
        report = self.report(rule, verdict, history, thread, self._project_id(rule))
        try:
            return sender.deliver(report, _as_subscription(rule), now, None)
        except DeliveryError as exc:
            log.warning("alert %s could not be sent: %s", rule.id, exc)
            return f"not told: {exc}"

    def _project_id(self, rule: AlertRule) -> str | None:
        """The source's Clarity project id, for a link to its dashboard (None: no link)."""
        with Session(self.engine) as session:
            source = session.get(Source, rule.source_id)
            return source.clarity_project_id if source else None

    def report(
        self,
        rule: AlertRule,
        verdict: Verdict,
        history: History,
        thread: str = "",
        project_id: str | None = None,
    ) -> Report:
        """What is sent when a rule fires: its chart (the rule's window, value and limit), what
        drove it and any data problem."""
        metric = get_metric(rule.metric)
        told = explain(rule, verdict, history, project_id)
        chart = self.charts.alert_chart(
            told.series,
            days=told.days,
            marks=told.marks,
            title=told.title,
            source_label=history.label,
            first_day=history.first_day,
            clear=clear_charts(rule.destination_kind),  # mail: dark-mode safe, like the digest's
        )
        drivers = ", ".join(mover_words(m) for m in movers(history, metric))
        warnings = note_lines(self.guard.issues(history))
        notes = (*warnings, *((f"Driven by: {drivers}.",) if drivers else ()))
        return Report(
            rule.id or 0,
            f"a{rule.id}-{verdict.day}",
            history.label,
            "Alert",
            f"{verdict.day:%a %-d %b %Y}",
            verdict.day,
            (ReportChart(metric.key, told.title, chart.png, chart.alt_text, ""),),
            f"{verdict.text} — rule: {describe(rule, labels=True)}",
            notes,
            True,
            thread=thread,
            alert=told.facts,
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
