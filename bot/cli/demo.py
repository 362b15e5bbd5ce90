"""`claritybot demo`: the sandbox, a SQLite file and N simulated nights of snapshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.history.catalogue import get_metric
from reports.ingest import sources
from reports.ingest.scheduler import Scheduler, TickReport
from reports.ingest.snapshot import SnapshotResult, Snapshotter
from reports.templates import template_env
from reports.textfmt import num, seconds, table
from reports.timezones import day_start, local_date, parse_timezone
from store import repository
from store.crypto import TokenCipher, generate_key
from store.db import make_engine, session_scope
from store.migrate import ensure_schema
from store.models import MetricRow, QuotaCall, RankedRow, RunLog, Snapshot
from store.quota import QuotaPolicy

DEMO_LABEL: Final = "Demo shop (sandbox)"
# One night of the demo runs this late, as if the server had been down: its snapshot is kept
# and marked late with the window it really covered.
LATE_NIGHT_DELAY: Final = timedelta(hours=7, minutes=30)


@dataclass(frozen=True)
class DemoRun:
    """What one demo run did and where it left its files."""

    out_dir: Path
    db_path: Path
    source_id: int
    timezone: str
    reports: tuple[TickReport, ...]
    key_created: bool
    charts: tuple[tuple[Path, str], ...] = ()
    digest: Path | None = None  # the emailed digest, as an .eml in the outbox
    summary: str = ""  # the digest's written summary
    alerts: tuple[tuple[str, str, str], ...] = ()  # (rule, state, why)

    @property
    def results(self) -> list[SnapshotResult]:
        """Every day the ticks took."""
        return [r for report in self.reports for r in report.results]


def _demo_key(out_dir: Path) -> tuple[str, bool]:
    path = out_dir / "secret.key"
    if path.exists():
        return path.read_text().strip(), False
    key = generate_key()
    path.write_text(key + "\n")
    os.chmod(path, 0o600)
    return key, True


def _demo_source(engine: Engine, cipher: TokenCipher, token: str, tz: str, now: datetime) -> int:
    with session_scope(engine) as session:
        workspace = repository.default_workspace(session=session)
        existing = [s for s in repository.list_sources(session=session) if s.label == DEMO_LABEL]
        if existing:
            return existing[0].id or 0
        workspace.timezone = tz
        session.add(workspace)
    return sources.add_source(engine, cipher=cipher, label=DEMO_LABEL, raw_token=token, now=now)


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


def run_demo(*, out_dir: Path, days: int, now: datetime, timezone: str) -> DemoRun:
    """Simulate `days` nights of ticks ending last night; idempotent when run again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key, key_created = _demo_key(out_dir)
    cipher = TokenCipher(key)
    db_path = out_dir / "claritybot.db"
    engine = make_engine(f"sqlite:///{db_path}")
    ensure_schema(engine)
    tz = parse_timezone(timezone)
    today = local_date(now, tz)
    reports: list[TickReport] = []
    with ClaritySandbox() as sandbox, httpx.Client(timeout=10.0) as http:
        created = day_start(today - timedelta(days=days), tz)
        source_id = _demo_source(engine, cipher, sandbox.issue_token("demo"), timezone, created)
        with session_scope(engine) as session:
            tz = parse_timezone(repository.default_workspace(session=session).timezone)
        client = ClarityClient(http=http, base_url=sandbox.url)
        snapshotter = Snapshotter(engine=engine, client=client, cipher=cipher, owner="demo")
        scheduler = Scheduler(
            engine=engine, snapshotter=snapshotter, policy=QuotaPolicy(), owner="demo"
        )
        for night in _nights(local_date(now, tz), days, tz):
            sandbox.set_now(night)
            reports.append(scheduler.tick(night))
    charts = write_charts(engine, source_id, out_dir / "charts", days=min(days, 90), now=now)
    digest = deliver_digest(engine, source_id, out_dir / "outbox", created=created, now=now)
    summary, alerts = (
        demo_summary(engine, source_id, now),
        demo_alerts(engine, source_id, out_dir / "outbox", now),
    )
    engine.dispose()
    return DemoRun(
        out_dir,
        db_path,
        source_id,
        str(tz),
        tuple(reports),
        key_created,
        charts,
        digest,
        summary,
        alerts,
    )


def demo_summary(engine: Engine, source_id: int, now: datetime) -> str:
    """The written summary the digest carries (the template: the demo has no AI key)."""
    from reports.history.load import load
    from reports.render.ai import Summarizer
    from reports.render.facts import DAYS, compute, needs

    metrics = [get_metric(k) for k in ("sessions", "rage_click_rate")]
    history = load(engine, source_id, [m for d in metrics for m in needs(d)], days=DAYS, now=now)
    found = [compute(history, m, source_label=DEMO_LABEL) for m in metrics]
    return Summarizer(None).summarize(found).text


DEMO_RULES: Final = ("rage_click_rate above 1% over 7d", "sessions below 100 over 7d")


def demo_alerts(
    engine: Engine, source_id: int, outbox: Path, now: datetime
) -> tuple[tuple[str, str, str], ...]:
    """Two rules on the demo data (one fires, one does not), evaluated as the worker would."""
    from reports.alerts.evaluate import AlertEvaluator
    from reports.alerts.rules import add_rule, describe, list_rules, parse_rule
    from reports.delivery.outbox import OutboxSender
    from reports.render.charts import ChartMaker

    if not list_rules(engine):
        for text in DEMO_RULES:
            add_rule(
                engine,
                parse_rule(text.split()),
                source_id=source_id,
                workspace_id=None,
                kind="outbox",
                destination=str(outbox),
                now=now,
                min_sessions=100,
            )
    AlertEvaluator(engine=engine, senders={"outbox": OutboxSender()}, charts=ChartMaker()).tick(now)
    return tuple((describe(r), r.state, r.state_reason or "") for r in list_rules(engine))


def deliver_digest(
    engine: Engine, source_id: int, outbox: Path, *, created: datetime, now: datetime
) -> Path | None:
    """Subscribe the outbox to a daily digest (once) and deliver what is due: an .eml to open."""
    from reports.delivery.dispatch import Dispatcher
    from reports.delivery.outbox import OutboxSender, eml_path
    from reports.delivery.subscriptions import NewSubscription, list_subscriptions, subscribe
    from reports.render.charts import ChartMaker

    mine = [s for s in list_subscriptions(engine) if s.destination == str(outbox)]
    sub = (
        mine[0]
        if mine
        else subscribe(
            engine,
            NewSubscription(
                source_id=source_id,
                metrics=["digest", "sessions", "rage_click_rate"],
                kind="outbox",
                destination=str(outbox),
                created_by="demo",
                summary=True,
            ),
            workspace_id=None,
            now=created,
        )
    )
    Dispatcher(
        engine=engine, senders={"outbox": OutboxSender()}, owner="demo", charts=ChartMaker()
    ).tick(now)
    found = sorted(outbox.glob(f"{eml_path(sub, '').stem}*.eml"))
    return found[-1] if found else None


# One chart per metric category: its headline metric.
CATEGORY_CHARTS: Final = {
    "traffic": "sessions",
    "engagement": "engagement_time",
    "frustration": "rage_click_rate",
    "breakdown": "top_pages_by_rage_clicks",
}


def write_charts(
    engine: Engine, source_id: int, folder: Path, *, days: int, now: datetime
) -> tuple[tuple[Path, str], ...]:
    """Render a chart per metric category and the digest; return (file, alt text) pairs."""
    from reports.history.load import load
    from reports.render.charts import ChartMaker, chart_days  # matplotlib loads only when drawn

    folder.mkdir(parents=True, exist_ok=True)
    metrics = [get_metric(key) for key in CATEGORY_CHARTS.values()]
    longest = max(chart_days(m, days) for m in metrics)
    history = load(engine, source_id, metrics, days=longest, now=now)
    maker, written = ChartMaker(), []
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


def _days_table(session: Session, source_id: int) -> str:
    query = (
        select(MetricRow, Snapshot)
        .join(Snapshot, col(Snapshot.id) == col(MetricRow.snapshot_id))
        .where(MetricRow.source_id == source_id, MetricRow.fetch_group == "overall")
        .order_by(col(MetricRow.local_date))
    )
    rows = [
        [
            f"{r.local_date}{'*' if snap.late else ''}{'~' if snap.estimated else ''}",
            num(r.sessions),
            num(r.distinct_users),
            num(r.bot_sessions),
            num(r.pages_per_session, 2),
            num(r.scroll_depth, 1, " %"),
            seconds(r.engagement_time_ms),
            num(r.rage_clicks),
            num(r.dead_clicks),
            num(r.quick_backs),
        ]
        for r, snap in session.exec(query).all()
    ]
    headers = [
        "date",
        "sessions",
        "users",
        "bots",
        "pages/s",
        "scroll",
        "active",
        "rage",
        "dead",
        "quick-backs",
    ]
    return table(headers, rows)


def _latest(session: Session, source_id: int, group: str) -> date | None:
    return session.exec(
        select(func.max(Snapshot.local_date)).where(
            Snapshot.source_id == source_id, Snapshot.fetch_group == group
        )
    ).one()


def _slices(session: Session, source_id: int, group: str, limit: int) -> list[MetricRow]:
    day = _latest(session, source_id, group)
    query = (
        select(MetricRow)
        .where(
            MetricRow.source_id == source_id,
            MetricRow.fetch_group == group,
            MetricRow.local_date == day,
        )
        .order_by(col(MetricRow.sessions).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def _ranked(session: Session, source_id: int, list_name: str, limit: int) -> list[RankedRow]:
    day = _latest(session, source_id, "overall")
    query = (
        select(RankedRow)
        .where(
            RankedRow.source_id == source_id,
            RankedRow.list_name == list_name,
            RankedRow.local_date == day,
        )
        .order_by(col(RankedRow.rank))
        .limit(limit)
    )
    return list(session.exec(query).all())


def _ledger(session: Session) -> list[tuple[date, int]]:
    query = select(col(QuotaCall.utc_day), func.count()).group_by(col(QuotaCall.utc_day))
    return [(day, n) for day, n in session.exec(query.order_by(col(QuotaCall.utc_day))).all()]


def _devices_table(session: Session, source_id: int) -> str:
    rows = [
        [
            d.device or "(none)",
            num(d.sessions),
            num(d.bot_sessions),
            num(d.rage_clicks),
            num(d.rage_clicks_sessions_pct, 2, " %"),
            num(d.dead_clicks),
            num(d.quick_backs),
        ]
        for d in _slices(session, source_id, "devices", 6)
    ]
    headers = ["device", "sessions", "bots", "rage", "rage sessions", "dead", "quick-backs"]
    return table(headers, rows)


def _runs_table(session: Session, source_id: int) -> str:
    query = (
        select(RunLog)
        .where(RunLog.source_id == source_id)
        .where((col(RunLog.outcome) != "stored") | col(RunLog.late) | col(RunLog.estimated))
        .order_by(col(RunLog.id))
    )
    # One line per day and outcome (groups joined): `claritybot runs` has every attempt.
    lines: dict[tuple[date, str], list[str]] = {}
    for e in session.exec(query).all():
        outcome = e.outcome + (" (late)" if e.late else "")
        line = lines.setdefault(
            (e.local_date, outcome),
            [f"{e.started_at:%Y-%m-%d %H:%M}", str(e.local_date), "", outcome, "0", e.error or ""],
        )
        line[2] = f"{line[2]}, {e.fetch_group}" if line[2] else e.fetch_group
        line[4] = str(int(line[4]) + e.calls)
    if not lines:
        return "  (every run was on time)"
    headers = ["run at (UTC)", "day", "groups", "outcome", "calls", "why"]
    return table(headers, list(lines.values()), align="llllrl")


def render_summary(run: DemoRun) -> str:
    """Render the readable summary of a demo run from what is stored."""
    outcomes = [o for r in run.results for o in r.outcomes]
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        context = {
            "run": run,
            "label": DEMO_LABEL,
            "calls": sum(report.calls for report in run.reports),
            "stored": sum(1 for o in outcomes if o.status == "stored")
            + sum(1 for r in run.results for x in r.recovered if x.status == "recovered"),
            "kept": sum(1 for o in outcomes if o.status == "already_stored"),
            "problems": [o for o in outcomes if o.status not in ("stored", "already_stored")],
            "days": _days_table(session, run.source_id),
            "pages": _ranked(session, run.source_id, "popular_page", 5),
            "titles": _ranked(session, run.source_id, "page_title", 3),
            "devices": _devices_table(session, run.source_id),
            "runs": _runs_table(session, run.source_id),
            "channels": _slices(session, run.source_id, "channels", 7),
            "ledger": _ledger(session)[-5:],
            "rows": session.exec(select(func.count()).select_from(MetricRow)).one(),
        }
    engine.dispose()
    return template_env().get_template("demo_summary.txt").render(**context)
