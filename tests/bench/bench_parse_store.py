"""Benchmark: parse and store a Clarity URL response with 1,000 rows per block.

Not part of the test suite. Run: python3 tests/bench/bench_parse_store.py [--runs N] [--pg URL]
Prints milliseconds per response for parsing alone and for the whole snapshot of one group
(quota reservation, raw copy, parse, ~1,000 rows written) on SQLite and optionally PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reports.clarity.client import ClarityClient  # noqa: E402
from reports.clarity.dimensions import resolve_dimensions  # noqa: E402
from reports.clarity.parser import parse_insights  # noqa: E402
from reports.clarity.sandbox import BIG_URL_PROFILE, ClaritySandbox  # noqa: E402
from reports.ingest import sources  # noqa: E402
from reports.ingest.fetch_plan import DEFAULT_PLAN, FetchPlan  # noqa: E402
from reports.ingest.snapshot import Snapshotter  # noqa: E402
from store.crypto import TokenCipher, generate_key  # noqa: E402
from store.db import make_engine  # noqa: E402
from store.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)


def big_body() -> tuple[bytes, str]:
    """Fetch one 24 h URL response from the sandbox's big profile."""
    box = ClaritySandbox(profile=BIG_URL_PROFILE, clock=lambda: NOW)
    with box, httpx.Client(timeout=60) as http:
        token = box.issue_token("bench")
        response = http.get(
            box.url + "/project-live-insights",
            params={"numOfDays": "1", "dimension1": "URL"},
            headers={"Authorization": f"Bearer {token}"},
        )
    return response.content, token


def bench_parse(body: bytes, runs: int) -> list[float]:
    dims = resolve_dimensions(["URL"])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        parse_insights(json.loads(body), dims)
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_store(url: str, body: bytes, token: str, runs: int) -> list[float]:
    engine = make_engine(url)
    upgrade(engine)
    cipher = TokenCipher(generate_key())
    source_id = sources.add_source(engine, cipher=cipher, label="bench", raw_token=token, now=NOW)
    transport = httpx.MockTransport(lambda _req: httpx.Response(200, content=body))
    plan = FetchPlan((DEFAULT_PLAN.group("pages"),))
    times = []
    with httpx.Client(transport=transport) as http:
        client = ClarityClient(http=http, base_url="https://clarity.test/api")
        snapper = Snapshotter(engine=engine, client=client, cipher=cipher, plan=plan)
        for day in range(runs):
            now = NOW + timedelta(days=day)  # a new day each run, so every run stores
            start = time.perf_counter()
            result = snapper.take_yesterday(source_id, now=now)
            times.append((time.perf_counter() - start) * 1000)
            assert result.complete and result.outcomes[0].rows >= 1000, result
    engine.dispose()
    return times


def bench_pg(url: str, body: bytes, token: str, runs: int) -> list[float]:
    """Bench in a throw-away schema, so the database is left as it was."""
    schema = f"bench_{os.getpid()}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in url else "?"
        return bench_store(f"{url}{sep}options=-csearch_path%3D{schema}", body, token, runs)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def report(name: str, times: list[float]) -> None:
    print(
        f"{name:<34} median {statistics.median(times):8.1f} ms/response   "
        f"min {min(times):8.1f}   max {max(times):8.1f}   (n={len(times)})"
    )


def main() -> None:
    logging.disable(logging.WARNING)  # the truncation warning is expected here
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pg", help="PostgreSQL URL to bench too")
    args = parser.parse_args()
    body, token = big_body()
    blocks = json.loads(body)
    rows = [len(b["information"]) for b in blocks]
    print(f"response: {len(body) / 1e6:.2f} MB, rows per block: {rows}")
    report("parse only", bench_parse(body, args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        report(
            "parse + store (SQLite file)",
            bench_store(f"sqlite:///{tmp}/bench.db", body, token, args.runs),
        )
    if args.pg:
        report("parse + store (PostgreSQL)", bench_pg(args.pg, body, token, args.runs))


if __name__ == "__main__":
    main()
