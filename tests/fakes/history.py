"""Stored history built to order: nights' totals and page slices, as snapshots leave them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from reports.clarity.rows import dimension_hash
from store import repository
from store.models import MetricRow, Snapshot, Source


def a_source(engine: Any, created: datetime) -> int:
    """A source in the default workspace (UTC)."""
    with Session(engine) as session:
        ws = repository.default_workspace(session=session)
        source = Source(workspace_id=ws.id, label="Shop", project_key="p", token_fingerprint="f",
                        created_at=created)  # fmt: skip
        session.add(source)
        session.commit()
        return source.id or 0


def store_day(
    engine: Any,
    sid: int,
    day: date,
    *,
    sessions: int = 1000,
    rage: int = 10,
    dead: int = 50,
    pages: dict[str, tuple[int, int] | dict[str, Any]] | None = None,
    late: bool = False,
    estimated: bool = False,
    **totals: Any,
) -> None:
    """One night: the `overall` totals (any MetricRow field in `totals`) and page slices, each
    (sessions, dead clicks) or its own fields; `late`/`estimated` flag the night's snapshots."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    overall = {"sessions": sessions, "rage_clicks": rage, "dead_clicks": dead, **totals}
    slices = [
        {"url": u} | (p if isinstance(p, dict) else {"sessions": p[0], "dead_clicks": p[1]})
        for u, p in (pages or {}).items()
    ]
    with Session(engine) as session:
        for group, rows in (("overall", [overall]), ("pages", slices)):
            snap = Snapshot(
                source_id=sid,
                local_date=day,
                fetch_group=group,
                window_start=start,
                window_end=start,
                due_at=start,
                late=late,
                estimated=estimated,
            )
            session.add(snap)
            session.flush()
            for row in rows:
                key = dimension_hash(("url",), (row.get("url"),))  # as a snapshot stores it
                session.add(
                    MetricRow(
                        snapshot_id=snap.id or 0,
                        source_id=sid,
                        local_date=day,
                        fetch_group=group,
                        dimension_hash=key,
                        **row,
                    )
                )
        session.commit()


def history(engine: Any, sid: int, *, end: date, days: int = 35, fn: Any = None) -> None:
    """`days` nights ending `end`; `fn(day)` gives each night's store_day keywords."""
    for back in range(days):
        day = end - timedelta(days=back)
        store_day(engine, sid, day, **(fn(day) if fn else {}))
