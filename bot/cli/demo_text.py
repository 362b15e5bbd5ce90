"""The tables `claritybot demo --details` prints, read back from the demo's SQLite file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.cli.demo import DemoRun
from reports.templates import template_env
from reports.textfmt import num, seconds, table
from store.db import make_engine
from store.models import MetricRow, QuotaCall, RankedRow, RunLog, Snapshot
from store.vocab import Outcome


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
        .where((col(RunLog.outcome) != Outcome.STORED) | col(RunLog.late) | col(RunLog.estimated))
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


def render_details(run: DemoRun) -> str:
    """Render every table behind the story, read back from what is stored."""
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        context = {
            "run": run,
            "days": _days_table(session, run.source_id),
            "pages": _ranked(session, run.source_id, "popular_page", 5),
            "titles": _ranked(session, run.source_id, "page_title", 3),
            "devices": _devices_table(session, run.source_id),
            "runs": _runs_table(session, run.source_id),
            "channels": _slices(session, run.source_id, "channels", 7),
            "ledger": _ledger(session)[-5:],
        }
    engine.dispose()
    return template_env().get_template("demo_details.txt").render(**context)
