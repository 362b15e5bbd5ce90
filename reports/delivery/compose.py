"""What one scheduled report says: its charts, a line per metric, the headline and caveats.

PURE: composed from a History loaded as of the moment the report was due, so a retry the next
morning still describes the same period. Text here is plain: each channel (Slack, HTML, text
mail) escapes it its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from reports.delivery.alertfacts import AlertFacts
from reports.delivery.cadence import WINDOW_DAYS, Occurrence
from reports.delivery.subscriptions import DIGEST
from reports.delivery.tiles import Tile, digest_tiles
from reports.history.catalogue import Metric, get_metric
from reports.history.load import History
from reports.history.query import Series
from reports.render.ai import Summarizer, Summary
from reports.render.charts import DIGEST_METRICS, LEAD_DAYS, ChartMaker
from reports.render.charts.style import shorten
from reports.render.compare import Change, day_change, month_before, month_change, week_change
from reports.render.facts import DAYS as FACTS_DAYS
from reports.render.facts import PERIOD_DAYS, compute, needs
from reports.render.summary import Bullet, bullets
from reports.urls import clarity_dashboard_url
from store.models import Subscription
from store.vocab import DestinationKind, Frequency

SUMMARY_METRICS: Final = 3  # a summary speaks of at most this many metrics
SUBJECT_MAX: Final = 78  # RFC 5322's line length: what a phone's mail list shows, roughly
LABEL_MIN: Final = 24  # a long project name gives way first, down to this
# An alert subject's (page path, project name) lengths, tried in turn until it fits.
SUBJECT_STEPS: Final = ((28, 200), (28, LABEL_MIN), (20, 16), (12, 12))
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
    line: str  # "Sessions: 738 (▼ 12 % vs Tue 3 Mar)", "Sessions: 5.2k (▲ 3 % vs the week before)"


@dataclass(frozen=True)
class Report:
    """Everything a destination needs to send one report."""

    subscription_id: int
    period: str
    source_label: str
    title: str  # "Weekly report"
    period_label: str  # "7 days to Sun 8 Mar 2026"
    last_day: date  # the newest local day the report covers
    charts: tuple[ReportChart, ...]
    headline: str
    notes: tuple[str, ...]
    has_data: bool
    summary: str = ""  # written summary, when the subscription asks for one
    summary_source: str = ""  # a SummarySource, or "" without a summary
    thread: str = ""  # Slack: post as a reply in this thread (an alert that keeps holding)
    tiles: tuple[Tile, ...] = ()  # the digest's key numbers as text (email)
    clarity_url: str = ""  # the project's dashboard in Clarity, when its id is known
    summary_labels: tuple[str, ...] = ()  # the metrics the summary speaks of, by label
    summary_note: bool = True  # False: the notes state the summary's caveats already
    alert: AlertFacts | None = None  # set when the report is an alert that fired

    @property
    def summary_points(self) -> tuple[Bullet, ...]:
        """The written summary as short bulleted lines (a metric's sentences under it)."""
        return bullets(self.summary, self.summary_labels, note=self.summary_note)

    @property
    def email_charts(self) -> tuple[ReportChart, ...]:
        """The pictures an email shows: the digest's numbers are its tiles, as text."""
        return tuple(c for c in self.charts if not (self.tiles and c.key == DIGEST))

    @property
    def subject(self) -> str:
        """The email subject (≤ 78 characters): for an alert what fired, then the project; for a
        report the project, report, period and the headline change."""
        if self.alert is not None:
            return alert_subject(self.alert, self.source_label)
        rest = f"{self.title}, {self.period_label} — {self.headline}"
        if len(self.source_label) + 2 + len(rest) > SUBJECT_MAX:
            rest = f"{self.title} — {self.headline}"  # the body says the period; keep the news
        return fit_subject(rest, f"{self.source_label}: ", project_last=False)


def alert_subject(alert: AlertFacts, project: str) -> str:
    """What fired, then the project, in SUBJECT_MAX characters: a long page path and project
    name give way (their middle and end) before the value and the limit do."""
    for page_chars, label_chars in SUBJECT_STEPS:
        text = f"{alert.subject(page_chars)} · {shorten(project, label_chars)}"
        if len(text) <= SUBJECT_MAX:
            return text
    return shorten(text, SUBJECT_MAX)


def fit_subject(text: str, project: str, *, project_last: bool) -> str:
    """`project` joined to `text` in SUBJECT_MAX characters: a long project name is shortened
    first (to LABEL_MIN), then the text is cut, each with an ellipsis."""
    room = SUBJECT_MAX - len(text)
    if len(project) > room:
        name = project.strip(" ·:")
        cut = shorten(name, max(LABEL_MIN, room - (len(project) - len(name))))
        project = project.replace(name, cut)
    text = shorten(text, SUBJECT_MAX - len(project))
    return text + project if project_last else project + text


def clear_charts(destination_kind: str) -> bool:
    """Whether a destination's charts are drawn clear (no ground): mail, read in dark mode too."""
    return destination_kind in (DestinationKind.EMAIL, DestinationKind.OUTBOX)


def period_label(frequency: str, last_day: date, days: int) -> str:
    """Say which days a report's numbers cover (a weekly report's: its last 7; a monthly
    one's: its month)."""
    if frequency == Frequency.DAILY:
        return f"{last_day:%a %-d %b %Y}"
    if frequency == Frequency.WEEKLY:
        days = PERIOD_DAYS
    if frequency == Frequency.MONTHLY:
        days = (last_day - month_before(last_day + timedelta(days=1))).days + 1
    return f"{days} days to {last_day:%a %-d %b %Y}"


def metric_caveat(data: Series) -> str | None:
    """What undermines one metric's own days in the report's window (without its name), or
    None."""
    known = [p for p in data.points if p.value is not None]
    parts = []
    if gaps := len(data.points) - len(known):
        parts.append(f"{gaps} of {len(data.points)} days without data")
    if estimated := sum(1 for p in known if p.estimated):
        parts.append(f"{estimated} estimated")
    if late := sum(1 for p in known if p.late):
        parts.append(f"{late} taken late")
    for p in (p for p in known if p.odd_length):
        parts.append(f"{p.day:%a %-d %b} was {p.hours} h long (clock change)")
    return ", ".join(parts) if parts else None


def report_keys(sub: Subscription) -> list[str]:
    """The daily lines of a report: the digest's metrics first, then the others asked for."""
    keys = list(DIGEST_METRICS) if DIGEST in sub.metrics else []
    return keys + [k for k in sub.metrics if k != DIGEST and k not in keys]


def summary_metrics(sub: Subscription) -> list[Metric]:
    """What a summary speaks of: the metrics asked for by name first, then the digest's."""
    named = [k for k in sub.metrics if k != DIGEST]
    ordered = named + [k for k in report_keys(sub) if k not in sub.metrics]
    return [m for m in map(get_metric, ordered) if not m.is_breakdown][:SUMMARY_METRICS]


def report_needs(sub: Subscription) -> tuple[list[Metric], int]:
    """What a report reads: its metrics (with the summary's splits) and how many days."""
    metrics = [get_metric(k) for k in report_keys(sub)]
    days = WINDOW_DAYS[sub.frequency] + LEAD_DAYS
    if sub.summary:
        metrics += [m for daily in summary_metrics(sub) for m in needs(daily)]
        days = max(days, FACTS_DAYS)
    return metrics, days


def compose(
    history: History,
    charts: ChartMaker,
    sub: Subscription,
    occurrence: Occurrence,
    *,
    note: str | None = None,
    summarizer: Summarizer | None = None,
    warnings: Sequence[str] = (),
) -> Report:
    """Build the report of one period from its history, loaded as of when it was due."""
    if history.now != occurrence.due_at:  # a retry must describe the period it was due for
        raise ValueError(f"History as of {history.now}, report due at {occurrence.due_at}")
    days = WINDOW_DAYS[sub.frequency]
    changes = _changes(history, report_keys(sub), days, sub.frequency)
    made = _charts(history, charts, sub, days, changes)
    first = history.end - timedelta(days=days - 1)
    has_data = any(c.value is not None for c in changes.values())
    has_data = has_data or history.any_day(first, history.end)
    # Data problems first: a reader must see them before the numbers they undermine.
    notes: tuple[str, ...] = (*warnings, *((note,) if note else ()))
    if not has_data:
        notes += (f"No data for these {days} days: is the Clarity project still connected?",)
    caveats = _caveats(history, report_keys(sub), days)
    notes += caveats
    headline = next((c.line for c in changes.values()), made[0].title if made else "no metrics")
    summary = _summary(history, sub, summarizer)
    return Report(
        sub.id or 0,
        occurrence.period,
        history.label,
        TITLES[sub.frequency],
        period_label(sub.frequency, history.end, days),
        history.end,
        made,
        headline,
        notes,
        has_data,
        summary.text if summary else "",
        summary.source if summary else "",
        tiles=digest_tiles(history, changes) if DIGEST in sub.metrics else (),
        clarity_url=clarity_dashboard_url(history.clarity_project_id) or "",
        summary_labels=tuple(m.label for m in summary_metrics(sub)),
        # The summary's own note repeats the caveats the report states (over as many days).
        summary_note=not caveats,
    )


def _summary(history: History, sub: Subscription, summarizer: Summarizer | None) -> Summary | None:
    """The written summary, when the subscription asks for one."""
    if not sub.summary or summarizer is None:
        return None
    found = [compute(history, m, source_label=history.label) for m in summary_metrics(sub)]
    return summarizer.summarize(found)


def _changes(history: History, keys: list[str], days: int, frequency: str) -> dict[str, Change]:
    """Each daily metric's figure and change, in order: a weekly report's are its week's, a
    monthly report's its month's."""
    found = {}
    for key in keys:
        metric = get_metric(key)
        if metric.is_breakdown:
            continue
        if frequency == Frequency.WEEKLY:
            found[key] = week_change(history, metric)
        elif frequency == Frequency.MONTHLY:
            found[key] = month_change(history, metric)
        else:
            found[key] = day_change(history.series(metric, days + LEAD_DAYS))
    return found


def _caveats(history: History, keys: list[str], days: int) -> tuple[str, ...]:
    """The daily metrics' caveats over the report's days since the first stored day; metrics
    with the same caveat share one line (six identical notes read as noise on a phone)."""
    found: dict[str, list[str]] = {}
    for metric in (m for m in map(get_metric, keys) if not m.is_breakdown):
        data = history.series(metric, days).since(history.first_day)
        if data.latest() is not None and (text := metric_caveat(data)):
            found.setdefault(text, []).append(metric.label)
    return tuple(f"{', '.join(labels)}: {text}." for text, labels in found.items())


def _charts(
    history: History, charts: ChartMaker, sub: Subscription, days: int, changes: dict[str, Change]
) -> tuple[ReportChart, ...]:
    """The digest figure (when asked for), then a chart per metric asked for by name.

    A weekly or monthly report's charts show its period's figures; an email's are dark-mode
    safe.
    """
    weekly = sub.frequency in (Frequency.WEEKLY, Frequency.MONTHLY)
    clear = clear_charts(sub.destination_kind)
    made = []
    if DIGEST in sub.metrics:
        title = f"{history.label} · last {days} days"
        keys = [changes[k].key_number() for k in DIGEST_METRICS] if weekly else None
        first = changes[DIGEST_METRICS[0]]
        figures = f"{first.period} {first.versus}" if weekly else ""
        chart = charts.digest_chart(history, days=days, title=title, keys=keys, figures=figures)
        made.append(ReportChart(DIGEST, "Key metrics", chart.png, chart.alt_text, ""))
    for key in (k for k in sub.metrics if k != DIGEST):
        metric = get_metric(key)
        change = changes.get(key)
        chart = charts.metric_chart(
            history,
            metric=metric,
            days=days,
            source_label=history.label,
            key=change.key_number() if change and weekly else None,
            clear=clear,
        )
        line = change.line if change else metric.label
        made.append(ReportChart(key, metric.label, chart.png, chart.alt_text, line))
    return tuple(made)
