"""Benchmark: a 90-day series read from a database of many projects × many days.

Not part of the test suite. Run:
    python3 tests/bench/bench_history.py [--sources 1000] [--days 365] [--postgres URL]
Fills a fresh SQLite file (and PostgreSQL database) with `overall` nights for every source,
then times `reports.history.query.series` for 90 days on random sources, after printing the
query plan of its read (which must use the series index). Prints per backend
    history: backend=<name> sources=<n> days=<n> series_ms_median=<ms> p95=<ms> ...
with the load average: the machine is shared, and a busy one shows in the p95 first.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import Engine, create_engine, insert, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from reports.history.catalogue import get_metric  # noqa: E402
from reports.history.query import series  # noqa: E402
from reports.history.reads import metric_columns, totals_query  # noqa: E402
from store import repository  # noqa: E402
from store.db import make_engine, normalize_database_url  # noqa: E402
from store.migrate import ensure_schema  # noqa: E402
from store.models import MetricRow, Snapshot, Source  # noqa: E402
from tests.bench.bench_fanout import fresh_postgres  # noqa: E402

END = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 9, tzinfo=UTC)


def fill(engine: Engine, sources: int, days: int) -> None:
    """Add `sources` sources with `days` nights of totals each, in bulk."""
    with Session(engine) as session:
        ws = repository.default_workspace(session=session)
        created = datetime(2020, 1, 1, tzinfo=UTC)
        session.add_all(
            Source(
                workspace_id=ws.id or 0,
                label=f"Shop {i}",
                project_key=f"p{i}",
                token_fingerprint=f"f{i}",
                created_at=created,
            )
            for i in range(sources)
        )
        session.commit()
        ids = list(session.execute(select(Source.id)).scalars())  # type: ignore[call-overload]
    for sid in ids:
        nights = [END - timedelta(days=back) for back in range(days)]
        with engine.begin() as conn:
            snaps = [_snapshot(sid, day) for day in nights]
            conn.execute(insert(Snapshot.__table__), snaps)  # type: ignore[attr-defined]
            found = conn.execute(
                select(Snapshot.id, Snapshot.local_date).where(Snapshot.source_id == sid)  # type: ignore[arg-type]
            ).all()
            conn.execute(
                insert(MetricRow.__table__), [_row(sid, snap_id, day) for snap_id, day in found]
            )


def _snapshot(sid: int, day: date) -> dict[str, object]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return {
        "source_id": sid,
        "local_date": day,
        "fetch_group": "overall",
        "window_start": start,
        "window_end": start,
        "due_at": start,
        "dimensions": [],
        "truncated_blocks": [],
        "unknown_blocks": [],
    }


def _row(sid: int, snap_id: int, day: date) -> dict[str, object]:
    return {
        "snapshot_id": snap_id,
        "source_id": sid,
        "local_date": day,
        "fetch_group": "overall",
        "dimension_hash": "-",
        "sessions": 1000 + day.toordinal() % 97,
        "rage_clicks": 10,
        "dead_clicks": 50,
    }


def measure(engine: Engine, sources: int, runs: int = 200) -> list[float]:
    """Time `runs` 90-day series on random sources (ms)."""
    rng, metric, times = random.Random(7), get_metric("sessions"), []
    for _ in range(runs):
        sid = rng.randint(1, sources)
        started = time.perf_counter()
        result = series(engine, source_id=sid, metric=metric, days=90, now=NOW)
        times.append((time.perf_counter() - started) * 1000)
        assert len(result.points) == 90
    return times


def plan(engine: Engine) -> list[str]:
    """The database's plan for the series read of one source (EXPLAIN [QUERY PLAN])."""
    query = totals_query(metric_columns(get_metric("sessions")))
    compiled = query.compile(dialect=engine.dialect)
    values = {"source_id": 1, "start": END - timedelta(days=89), "end": END}
    params = {**compiled.params, **{k: v for k, v in values.items() if k in compiled.params}}
    sqlite = engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    with engine.connect() as conn:
        if sqlite:
            ordered = tuple(params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql(explain + str(compiled), ordered).all()
        else:
            rows = conn.exec_driver_sql(explain + str(compiled), params).all()
    return [str(row[-1]) for row in rows]


def bench(url: str, name: str, args: argparse.Namespace) -> None:
    """Fill one database, show the plan, measure and print."""
    engine = make_engine(url)
    ensure_schema(engine)
    started = time.perf_counter()
    fill(engine, args.sources, args.days)
    filled = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # as autovacuum would soon: plans from real sizes
    steps = plan(engine)
    print(f"{name} plan:", *(f"  {step}" for step in steps), sep="\n")
    if not any("ix_metric_row_series" in step for step in steps):
        print(f"WARNING: the {name} series read does not use ix_metric_row_series")
    times = sorted(measure(engine, args.sources))
    print(
        f"history: backend={name} sources={args.sources} days={args.days} "
        f"series_ms_median={statistics.median(times):.2f} p95={times[int(len(times) * 0.95)]:.2f} "
        f"fill_s={filled:.0f} load_average={os.getloadavg()[0]:.2f}"
    )
    engine.dispose()


def main() -> None:
    """Parse flags and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--postgres", help="also on this PostgreSQL server (a fresh database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/history.db", "sqlite", args)
    if args.postgres:
        # A name of its own: another run of this benchmark on the same server keeps its own.
        name = f"bench_history_{os.getpid()}"
        try:
            bench(fresh_postgres(args.postgres, name), "postgresql", args)
        finally:
            drop_database(args.postgres, name)


def drop_database(url: str, name: str) -> None:
    """Drop the benchmark's database."""
    admin = create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


if __name__ == "__main__":
    main()
