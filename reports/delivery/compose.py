"""What one scheduled report says: its charts, a line per metric, the headline and caveats.

Composed as of the moment the report was due, so a retry the next morning still describes the
same period. Text here is plain: each channel (Slack, HTML, text mail) escapes it its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session, select

from reports.delivery.cadence import WINDOW_DAYS, Occurrence
from reports.delivery.subscriptions import DIGEST
from reports.history.catalogue import get_metric
from reports.history.query import Series, series, source_timezone
from reports.render.ai import Summarizer
from reports.render.charts import DIGEST_METRICS, ChartMaker
from reports.render.charts.line import week_change
from reports.render.charts.style import format_change, format_value
from reports.render.facts import compute
from reports.timezones import parse_timezone, yesterday
from store.models import Snapshot, Source, Subscription
from store.vocab import Frequency

SUMMARY_METRICS: Final = 3  # a summary speaks of at most this many metrics
TITLES: Final[dict[str, str]] = {
    Frequency.DAILY: "Daily report",
    Frequency.WEEKLY: "Weekly report",
    Frequency.MONTHLY: "Monthly report",
}


@dataclass(frozen=True)
class ReportChart:
    """One chart of a report, with its line of text."""

    key: str
    title: str
    png: bytes
    alt_text: str
    line: str  # "Sessions: 738 (▼ 12 % vs Tue 3 Mar)"


@dataclass(frozen=True)
class Report:
    """Everything a destination needs to send one report."""

    subscription_id: int
    period: str
    source_label: str
    title: str  # "Weekly report"
    period_label: str  # "week to Sun 8 Mar 2026"
    last_day: date  # the newest local day the report covers
    charts: tuple[ReportChart, ...]
    headline: str
    notes: tuple[str, ...]
    has_data: bool
    summary: str = ""  # written summary, when the subscription asks for one
    summary_source: str = ""  # a SummarySource, or "" without a summary
    thread: str = ""  # Slack: post as a reply in this thread (an alert that keeps holding)

    @property
    def subject(self) -> str:
        """The email subject: project, report, period and the headline change."""
        return f"{self.source_label}: {self.title}, {self.period_label} — {self.headline}"


def period_label(frequency: str, last_day: date, days: int) -> str:
    """Say which days a report covers."""
    if frequency == Frequency.DAILY:
        return f"{last_day:%a %-d %b %Y}"
    return f"{days} days to {last_day:%a %-d %b %Y}"


def metric_line(data: Series) -> str:
    """`Sessions: 738 (▼ 12 % vs Tue 3 Mar)`, or says there is no data."""
    latest = data.latest()
    if latest is None:
        return f"{data.metric.label}: no data in this period"
    pct, versus = week_change(data)
    change = f" ({format_change(pct)} {versus})" if pct is not None else ""
    return f"{data.metric.label}: {format_value(latest.value, data.metric.unit)}{change}"


def compose(
    engine: Engine,
    charts: ChartMaker,
    sub: Subscription,
    source: Source,
    occurrence: Occurrence,
    *,
    note: str | None = None,
    summarizer: Summarizer | None = None,
    warnings: Sequence[str] = (),
) -> Report:
    """Build the report of one period from stored history (no Clarity call)."""
    as_of = occurrence.due_at
    last_day = yesterday(as_of, parse_timezone(source_timezone(engine, source.id or 0)))
    days = WINDOW_DAYS[sub.frequency]
    keys = list(DIGEST_METRICS) if DIGEST in sub.metrics else []
    keys += [k for k in sub.metrics if k != DIGEST and k not in keys]
    lines, made = [], []
    sid = source.id or 0
    for key in keys:
        metric = get_metric(key)
        data = (
            None
            if metric.is_breakdown
            else series(engine, source_id=sid, metric=metric, days=days + 7, now=as_of)
        )
        if data is not None:
            lines.append((key, metric_line(data), data.latest() is not None))
    if DIGEST in sub.metrics:
        chart = charts.digest_chart(
            engine, source_id=sid, days=days, now=as_of, title=f"{source.label} · last {days} days"
        )
        made.append(ReportChart(DIGEST, "Key metrics", chart.png, chart.alt_text, ""))
    for key in (k for k in sub.metrics if k != DIGEST):
        metric = get_metric(key)
        chart = charts.metric_chart(
            engine, source_id=sid, metric=metric, days=days, now=as_of, source_label=source.label
        )
        line = next((text for k, text, _ in lines if k == key), metric.label)
        made.append(ReportChart(key, metric.label, chart.png, chart.alt_text, line))
    has_data = any(ok for _, _, ok in lines) or _any_day(engine, sid, last_day, days)
    # Data problems first: a reader must see them before the numbers they undermine.
    notes: tuple[str, ...] = (*warnings, *((note,) if note else ()))
    if not has_data:
        notes += (f"No data for these {days} days: is the Clarity project still connected?",)
    headline = lines[0][1] if lines else (made[0].title if made else "no metrics")
    summary = None
    if sub.summary and summarizer is not None:
        # The metrics asked for by name first, then the digest's.
        ordered = [k for k in sub.metrics if k != DIGEST] + [
            k for k in keys if k not in sub.metrics
        ]
        daily = [get_metric(k) for k in ordered if not get_metric(k).is_breakdown]
        daily = daily[:SUMMARY_METRICS]
        found = [
            compute(engine, source_id=sid, metric=m, now=as_of, source_label=source.label)
            for m in daily
        ]
        summary = summarizer.summarize(found)
    return Report(
        sub.id or 0,
        occurrence.period,
        source.label,
        TITLES[sub.frequency],
        period_label(sub.frequency, last_day, days),
        last_day,
        tuple(made),
        headline,
        notes,
        has_data,
        summary.text if summary else "",
        summary.source if summary else "",
    )


def _any_day(engine: Engine, source_id: int, last_day: date, days: int) -> bool:
    """True when any day of the window has stored data (breakdown-only subscriptions)."""
    first = last_day - timedelta(days=days - 1)
    with Session(engine) as session:
        found = session.exec(
            select(Snapshot.id).where(
                Snapshot.source_id == source_id,
                Snapshot.local_date >= first,
                Snapshot.local_date <= last_day,
            )
        ).first()
    return found is not None
