"""`claritybot demo`: the sandbox, a SQLite file and N simulated nights of snapshots.

The demo is an ordinary Runtime over the sandbox: its environment names the demo's SQLite
file, the sandbox's URL and a demo-only key, and nothing else from the caller's, so a real
SMTP server, Slack workspace or AI key is never touched by it.
"""

from __future__ import annotations

import logging
import os
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.cli.runtime import Runtime
from reports.clarity.sandbox import ClaritySandbox
from reports.history.catalogue import get_metric
from reports.ingest import sources
from reports.ingest.scheduler import TickReport
from reports.ingest.snapshot import SnapshotResult
from reports.notify import LogNotifier
from reports.timezones import day_start, local_date, parse_timezone
from store import repository
from store.crypto import generate_key
from store.db import session_scope
from store.ledger_rows import recent
from store.models import Delivery, Subscription
from store.vocab import DeliveryStatus, DestinationKind

if TYPE_CHECKING:  # the delivery stack loads with the demo's digest, not at import
    from reports.delivery.compose import Report

log = logging.getLogger(__name__)

DEMO_LABEL: Final = "Demo shop (sandbox)"
DEMO_OWNER: Final = "demo"  # the worker name on the demo's claims and deliveries
# One night of the demo runs this late, as if the server had been down: its snapshot is kept
# and marked late with the window it really covered.
LATE_NIGHT_DELAY: Final = timedelta(hours=7, minutes=30)
# The digest goes out just after the nightly snapshot (00:03), so it covers the last night the
# story tells of, whatever the time the demo runs (at 09:00 it described the night before).
DIGEST_SEND_AT: Final = "00:30"


@dataclass(frozen=True)
class DemoRun:
    """What one demo run did and where it left its files."""

    out_dir: Path
    db_path: Path
    source_id: int
    timezone: str
    reports: tuple[TickReport, ...]
    key_created: bool
    days: int = 0  # the simulated nights asked for (one of them the worker was down)
    charts: tuple[tuple[Path, str], ...] = ()
    digest: Path | None = None  # the emailed digest, as an .eml in the outbox
    report: Report | None = None  # what that .eml says, composed as the dispatcher composed it
    alerts: tuple[tuple[str, str, str], ...] = ()  # (rule, state, why)

    @property
    def results(self) -> list[SnapshotResult]:
        """Every day the ticks took."""
        return [r for report in self.reports for r in report.results]

    @property
    def summary(self) -> str:
        """The digest's written summary ("" without a digest)."""
        return self.report.summary if self.report else ""


@dataclass(frozen=True)
class _Nights:
    """What the simulated nights left: the source, its timezone and each tick's report."""

    source_id: int
    timezone: str
    last_night: datetime  # the last tick: the digest subscription starts then
    reports: tuple[TickReport, ...]


def run_demo(*, out_dir: Path, days: int, now: datetime, timezone: str) -> DemoRun:
    """Simulate `days` nights of ticks ending last night; idempotent when run again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key, key_created = _demo_key(out_dir)
    db_path = out_dir / "claritybot.db"
    with ClaritySandbox() as sandbox, closing(demo_runtime(db_path, key, sandbox.url)) as rt:
        nights = _simulate(rt, sandbox, days=days, now=now, timezone=timezone)
        source_id, outbox = nights.source_id, out_dir / "outbox"
        charts = write_charts(rt, source_id, out_dir / "charts", days=min(days, 90), now=now)
        digest, report = deliver_digest(rt, source_id, outbox, nights=nights, now=now)
        alerts = demo_alerts(rt, source_id, outbox, now)
    return DemoRun(
        out_dir,
        db_path,
        source_id,
        nights.timezone,
        nights.reports,
        key_created,
        days=days,
        charts=charts,
        digest=digest,
        report=report,
        alerts=alerts,
    )


def demo_runtime(db_path: Path, key: str, clarity_url: str) -> Runtime:
    """The normal composition root, configured for the demo's folder and the sandbox."""
    environ = {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "CLARITY_API_URL": clarity_url,
        "CLARITY_TIMEOUT_SECONDS": "10",
        "CLARITYBOT_SECRET_KEY": key,
    }
    runtime = Runtime(environ=environ)
    # The demo's story says what was lost and why; the same notice as a log line is noise.
    runtime.notifier = StoryNotifier()
    return runtime


class StoryNotifier(LogNotifier):
    """The demo's owner notices: at INFO, since the printed story already tells them."""

    def day_lost(
        self, source_id: int, label: str, day: date, groups: tuple[str, ...], reason: str
    ) -> None:
        """Record the gap at INFO (`LOG_LEVEL=INFO` shows it)."""
        log.info("source %s (%s): %s lost for %s: %s", source_id, label, day, groups, reason)


def _simulate(
    rt: Runtime, sandbox: ClaritySandbox, *, days: int, now: datetime, timezone: str
) -> _Nights:
    """Add the demo source (once), then tick once a night with the sandbox at that night."""
    tz = parse_timezone(timezone)
    created = day_start(local_date(now, tz) - timedelta(days=days), tz)
    source_id = _demo_source(rt, sandbox.issue_token("demo"), timezone, created)
    with session_scope(rt.engine) as session:  # a second run keeps the first run's timezone
        tz = parse_timezone(repository.default_workspace(session=session).timezone)
    reports, nights = [], _nights(local_date(now, tz), days, tz)
    for night in nights:
        sandbox.set_now(night)
        # Built per night so that its Clarity calls are recorded at that night, not today.
        reports.append(rt.scheduler(night, owner=DEMO_OWNER).tick(night))
    return _Nights(source_id, str(tz), nights[-1], tuple(reports))


def _demo_key(out_dir: Path) -> tuple[str, bool]:
    path = out_dir / "secret.key"
    if path.exists():
        return path.read_text().strip(), False
    key = generate_key()
    path.write_text(key + "\n")
    os.chmod(path, 0o600)
    return key, True


def _demo_source(rt: Runtime, token: str, tz: str, now: datetime) -> int:
    with session_scope(rt.engine) as session:
        workspace = repository.default_workspace(session=session)
        existing = [s for s in repository.list_sources(session=session) if s.label == DEMO_LABEL]
        if existing:
            return existing[0].id or 0
        workspace.timezone = tz
        session.add(workspace)
    return sources.add_source(
        rt.engine, cipher=rt.cipher, label=DEMO_LABEL, raw_token=token, now=now
    )


def _nights(today: date, days: int, tz: ZoneInfo) -> list[datetime]:
    """Return the demo's tick times: just after each local midnight, with one late night and
    one night the worker was down (so the run log shows a late and a recovered day)."""
    nights = []
    for back in range(days, 0, -1):
        night = day_start(today - timedelta(days=back - 1), tz) + timedelta(minutes=3)
        if days >= 7 and back == days - 4:
            continue  # the worker was down: tomorrow's run rebuilds this day's totals
        if days >= 5 and back == days - 1:
            night += LATE_NIGHT_DELAY
        nights.append(night)
    return nights


DEMO_RULES: Final = ("sessions_with_rage_clicks above 1% over 7d", "sessions below 100 over 7d")


def demo_alerts(
    rt: Runtime, source_id: int, outbox: Path, now: datetime
) -> tuple[tuple[str, str, str], ...]:
    """Two rules on the demo data (one fires, one does not), evaluated as the worker would."""
    from reports.alerts.rules import add_rule, describe, list_rules, parse_rule

    if not list_rules(rt.engine):
        for text in DEMO_RULES:
            add_rule(
                rt.engine,
                parse_rule(text.split()),
                source_id=source_id,
                workspace_id=None,
                kind=DestinationKind.OUTBOX,
                destination=str(outbox),
                now=now,
                min_sessions=100,
            )
    rt.alerts().tick(now)
    return tuple((describe(r), r.state, r.state_reason or "") for r in list_rules(rt.engine))


def deliver_digest(
    rt: Runtime, source_id: int, outbox: Path, *, nights: _Nights, now: datetime
) -> tuple[Path | None, Report | None]:
    """Subscribe the outbox to a daily digest (once) and deliver what is due: an .eml to open,
    and the report it holds (the newest sent, composed again as of when it was due)."""
    from reports.delivery.cadence import Occurrence
    from reports.delivery.subscriptions import list_subscriptions

    mine = [s for s in list_subscriptions(rt.engine) if s.destination == str(outbox)]
    sub = mine[0] if mine else _subscribe_digest(rt, source_id, outbox, nights.last_night)
    dispatcher = rt.dispatcher(DEMO_OWNER)
    dispatcher.tick(now)
    sent = _last_sent(rt, sub.id or 0)
    if sent is None or not sent.message_id:
        return None, None
    day = local_date(sent.due_at, parse_timezone(sub.timezone or nights.timezone))
    # The very composition the dispatcher sent: same history as of due_at, same note.
    report = dispatcher.build(sub, Occurrence(sent.period, day, sent.due_at), sent.note)
    return Path(sent.message_id), report


def _subscribe_digest(rt: Runtime, source_id: int, outbox: Path, starts: datetime) -> Subscription:
    """The daily digest, sent just after the nightly snapshot: its first report is the one
    due after the last simulated night (no stack of missed days before it)."""
    from reports.delivery.subscriptions import NewSubscription, subscribe

    request = NewSubscription(
        source_id=source_id,
        metrics=["digest", "sessions", "sessions_with_rage_clicks"],
        kind=DestinationKind.OUTBOX,
        destination=str(outbox),
        send_at=DIGEST_SEND_AT,
        created_by="demo",
        summary=True,
    )
    return subscribe(rt.engine, request, workspace_id=None, now=starts)


def _last_sent(rt: Runtime, subscription_id: int) -> Delivery | None:
    """The subscription's newest sent report in the delivery ledger."""
    sent = (
        row
        for row in recent(rt.engine)
        if row.subscription_id == subscription_id and row.status == DeliveryStatus.SENT
    )
    return next(sent, None)


# One chart per metric category: its headline metric.
CATEGORY_CHARTS: Final = {
    "traffic": "sessions",
    "engagement": "engagement_time",
    "frustration": "sessions_with_rage_clicks",
    "breakdown": "top_pages_by_rage_clicks",
}


def write_charts(
    rt: Runtime, source_id: int, folder: Path, *, days: int, now: datetime
) -> tuple[tuple[Path, str], ...]:
    """Render a chart per metric category and the digest; return (file, alt text) pairs."""
    from reports.history.load import load
    from reports.render.charts import chart_days

    folder.mkdir(parents=True, exist_ok=True)
    metrics = [get_metric(key) for key in CATEGORY_CHARTS.values()]
    longest = max(chart_days(m, days) for m in metrics)
    history = load(rt.engine, source_id, metrics, days=longest, now=now)
    maker, written = rt.charts, []
    for category, key in CATEGORY_CHARTS.items():
        chart = maker.metric_chart(
            history, metric=get_metric(key), days=days, source_label=DEMO_LABEL
        )
        path = folder / f"{category}-{key}.png"
        path.write_bytes(chart.png)
        written.append((path, chart.alt_text))
    digest = maker.digest_chart(history, days=days, title=f"{DEMO_LABEL} — last {days} days")
    (folder / "digest.png").write_bytes(digest.png)
    written.append((folder / "digest.png", digest.alt_text))
    return tuple(written)
