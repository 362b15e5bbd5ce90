"""`claritybot demo`: the sandbox, a SQLite file and N simulated nights of snapshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reports import sources
from reports.clarity import ClarityClient
from reports.paths import template_env
from reports.sandbox import ClaritySandbox
from reports.snapshot import SnapshotResult, Snapshotter
from reports.textfmt import num, seconds, table
from reports.timezones import day_start, local_date, parse_timezone
from store import repository
from store.crypto import TokenCipher, generate_key
from store.db import make_engine, session_scope
from store.migrate import ensure_schema
from store.models import MetricRow, QuotaCall, RankedRow, Snapshot

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
    results: tuple[SnapshotResult, ...]
    key_created: bool


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


def run_demo(*, out_dir: Path, days: int, now: datetime, timezone: str) -> DemoRun:
    """Simulate `days` nights ending last night; idempotent when run again in the same folder."""
    tz = parse_timezone(timezone)
    out_dir.mkdir(parents=True, exist_ok=True)
    key, key_created = _demo_key(out_dir)
    cipher = TokenCipher(key)
    db_path = out_dir / "claritybot.db"
    engine = make_engine(f"sqlite:///{db_path}")
    ensure_schema(engine)
    results: list[SnapshotResult] = []
    with ClaritySandbox() as sandbox, httpx.Client(timeout=10.0) as http:
        source_id = _demo_source(engine, cipher, sandbox.issue_token("demo"), timezone, now)
        with session_scope(engine) as session:
            tz = parse_timezone(repository.default_workspace(session=session).timezone)
        client = ClarityClient(http=http, base_url=sandbox.url)
        today = local_date(now, tz)
        for back in range(days, 0, -1):
            night = day_start(today - timedelta(days=back - 1), tz) + timedelta(minutes=3)
            if back == max(days - 2, 1) and days >= 5:
                night += LATE_NIGHT_DELAY
            sandbox.set_now(night)
            snapshotter = Snapshotter(engine=engine, client=client, cipher=cipher)
            results.append(snapshotter.take_yesterday(source_id, now=night))
    engine.dispose()
    return DemoRun(out_dir, db_path, source_id, str(tz), tuple(results), key_created)


def _days_table(session: Session, source_id: int) -> str:
    query = (
        select(MetricRow, Snapshot)
        .join(Snapshot, col(Snapshot.id) == col(MetricRow.snapshot_id))
        .where(MetricRow.source_id == source_id, MetricRow.fetch_group == "overall")
        .order_by(col(MetricRow.local_date))
    )
    rows = [
        [
            f"{r.local_date}{'*' if snap.late else ''}",
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
    headers = ["date", "sessions", "users", "bots", "pages/s", "scroll", "active", "rage",
               "dead", "quick-backs"]  # fmt: skip
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


def render_summary(run: DemoRun) -> str:
    """Render the readable summary of a demo run from what is stored."""
    outcomes = [o for r in run.results for o in r.outcomes]
    engine = make_engine(f"sqlite:///{run.db_path}")
    with Session(engine) as session:
        context = {
            "run": run,
            "label": DEMO_LABEL,
            "calls": sum(r.calls_spent for r in run.results),
            "stored": sum(1 for o in outcomes if o.status == "stored"),
            "kept": sum(1 for o in outcomes if o.status == "already_stored"),
            "problems": [o for o in outcomes if o.status not in ("stored", "already_stored")],
            "days": _days_table(session, run.source_id),
            "pages": _ranked(session, run.source_id, "popular_page", 5),
            "titles": _ranked(session, run.source_id, "page_title", 3),
            "devices": _devices_table(session, run.source_id),
            "channels": _slices(session, run.source_id, "channels", 7),
            "ledger": _ledger(session)[-5:],
            "rows": session.exec(select(func.count()).select_from(MetricRow)).one(),
        }
    engine.dispose()
    return template_env().get_template("demo_summary.txt").render(**context)
