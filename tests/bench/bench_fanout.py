"""Benchmark: one nightly tick for many projects, end to end, in real `claritybot` processes.

Not part of the test suite. Run:
    python3 tests/bench/bench_fanout.py --sources 1000 --latency-ms 150 [--postgres URL]
    python3 tests/bench/bench_fanout.py --sources 1000 --workers 2 --database postgresql://…
Projects are added with `claritybot sources import`; each has a daily Slack chart at 00:01 UTC
posted to a loopback Slack imitation; the Clarity sandbox answers each call after the latency.
One `tick` runs a minute after midnight UTC. Prints
    fanout: sources=<n> wall_s=<s> calls=<n> peak_rss_mb=<mb> charts=<n> workers=<n> cpu_s=<s>
        render_workers_rss_mb=<mb> calls_s=<s> bench_cpu_s=<s> imitation=<how> rendered_live=<n>
(peak_rss_mb: the largest ticking process; render_workers_rss_mb: its chart workers together;
cpu_s: the ticking processes' CPU, their chart workers' included; calls_s: until the last
Clarity call was answered; bench_cpu_s: this process's CPU meanwhile, i.e. the sandbox's and
the Slack imitation's). By default (--imitation prepared) the sandbox renders the night's
answers before the clock starts, so during the run it spends, like the real API, none of the
CPU the tick needs; --imitation live renders each answer when asked (~13 ms of CPU a call on
the same cores). With --postgres the same with 1 and 2 processes ticking at once on
PostgreSQL, and the speed-up of 2 over 1. --database runs on that server only (dropping and
making again its database `bench_fanout`; `sqlite` for a temporary file) with --workers
processes, after a 1-process run when there are more, and prints the speed-up.
BENCH_PY_ARGS="-m cProfile -o FILE" profiles the processes; BENCH_STDERR=1 shows their logs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from reports.clarity.client import build_params  # noqa: E402
from reports.clarity.dimensions import resolve_dimensions  # noqa: E402
from reports.clarity.sandbox import ClaritySandbox  # noqa: E402
from reports.clarity.sandbox.handler import Reply  # noqa: E402
from reports.delivery import subscriptions as subs  # noqa: E402
from reports.ingest.fetch_plan import DEFAULT_PLAN  # noqa: E402
from store.crypto import generate_key  # noqa: E402
from store.db import make_engine, normalize_database_url  # noqa: E402
from tests.bench.procstat import children, hwm_mb  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402


class PreparedSandbox(ClaritySandbox):
    """The sandbox with the night's answers rendered before the run, so that during it the
    imitation spends (like the real API) no CPU of these 2 cores; the rendering is the same."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bodies: dict[tuple[str, str | None, tuple[str, ...] | None], Reply] = {}
        self.live = 0  # answers rendered during the run (none, when prepared as the tick asks)

    def prepare(self, projects: list[str], now: datetime) -> None:
        """Render each project's answers to the default fetch plan's calls at `now`."""
        for project in projects:
            for group in DEFAULT_PLAN.groups:
                params = build_params(group.num_days, resolve_dimensions(group.dimensions))
                dims = tuple(v for k, v in sorted(params.items()) if k.startswith("dimension"))
                key = (project, params["numOfDays"], dims)
                self.bodies[key] = super()._payload(*key, now, fallback=False)

    def _payload(
        self,
        project: str,
        num_days: str | None,
        dimensions: tuple[str, ...] | None,
        now: datetime,
        *,
        fallback: bool,
    ) -> Reply:
        reply = self.bodies.pop((project, num_days, dimensions), None)
        if reply is None or fallback:
            self.live += 1
            return super()._payload(project, num_days, dimensions, now, fallback=fallback)
        return reply


def fresh_postgres(url: str, name: str) -> str:
    """Drop and create database `name` on the server of `url`; return its URL."""
    admin = create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """Start `claritybot ARGS` from this worktree."""
    return subprocess.Popen(
        [sys.executable, *os.environ.get("BENCH_PY_ARGS", "").split(), "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


CPU_S: list[float] = []  # CPU seconds of each process waited for


def wait_rss(proc: subprocess.Popen[bytes]) -> float:
    """Wait for a process; return its peak RSS in MB (and note its CPU time)."""
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1) or os.environ.get("BENCH_STDERR"):
        sys.stderr.write(errors.decode()[-2000:])
    CPU_S.append(usage.ru_utime + usage.ru_stime)
    return usage.ru_maxrss / 1024


def prepare(env: dict[str, str], sandbox: ClaritySandbox, n: int, folder: Path) -> None:
    """Add n projects with `sources import` and a daily Slack chart for each."""
    lines = ["label,token"] + [f"Shop {i},{sandbox.issue_token(f'p{i}')}" for i in range(n)]
    path = folder / "projects.csv"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    proc = cli(env, "sources", "import", str(path))
    wait_rss(proc)
    print(f"import: sources={n} wall_s={time.perf_counter() - started:.1f}")
    engine = make_engine(env["DATABASE_URL"])
    now = datetime.now(UTC)
    for source_id in range(1, n + 1):
        request = subs.NewSubscription(
            source_id=source_id,
            metrics=["sessions"],
            kind="slack",
            destination=f"CB{source_id}",
            frequency="daily",
            send_at="00:01",
            created_by="bench",
        )  # noqa: E501
        subs.subscribe(engine, request, workspace_id=None, now=now)
    engine.dispose()


class PeakWatch:
    """Polls the peak memory (VmHWM) of processes and of their descendants while they run.

    The kernel's ru_maxrss of a child starts at its parent's size when it was forked (before
    its exec), so with this process holding the prepared answers it would report ours."""

    def __init__(self, pids: list[int]) -> None:
        self.own: dict[int, float] = {}
        self.kids: dict[int, float] = {}
        self._pids, self._done = pids, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            for pid in self._pids:
                self._note(self.own, pid)
                for kid in children(pid):
                    self._note(self.kids, kid)

    @staticmethod
    def _note(peaks: dict[int, float], pid: int) -> None:
        peak = hwm_mb(pid)
        if peak is not None:
            peaks[pid] = max(peaks.get(pid, 0.0), peak)

    def stop(self) -> tuple[float, float]:
        """(The largest ticking process's peak, the sum of its helpers' peaks) in MB."""
        self._done.set()
        self._thread.join()
        return max(self.own.values(), default=0.0), sum(self.kids.values())


def when_calls(sandbox: ClaritySandbox, expected: int, started: float) -> list[float]:
    """Note (in the returned list) the seconds until the sandbox has answered `expected` calls."""
    seen = [float("nan")]

    def watch() -> None:
        while len(sandbox.calls) < expected:
            time.sleep(0.05)
        seen[0] = time.perf_counter() - started

    threading.Thread(target=watch, daemon=True).start()
    return seen


def run(args: argparse.Namespace, database_url: str, workers: int, label: str) -> float:
    """Prepare a database, tick once with `workers` processes; print and return the wall time."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    now = midnight + timedelta(minutes=1, seconds=5)
    # One channel per project: Slack paces posts per channel, so one channel would take 1000 s.
    slack = FakeSlack(members={f"CB{i}" for i in range(1, args.sources + 1)}).start()
    with (
        tempfile.TemporaryDirectory() as tmp,
        PreparedSandbox(latency=args.latency_ms / 1000) as sandbox,
    ):
        sandbox.clock = lambda: now
        if args.imitation == "prepared":
            sandbox.prepare([f"p{i}" for i in range(args.sources)], now)
        url = database_url or f"sqlite:///{tmp}/fanout.db"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "CLARITYBOT_SECRET_KEY": generate_key(),
            "CLARITY_API_URL": sandbox.url,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": slack.url,
            "CLARITY_CONCURRENCY": str(args.concurrency),
        }  # noqa: E501
        prepare(env, sandbox, args.sources, Path(tmp))
        started = time.perf_counter()
        bench_cpu = resource.getrusage(resource.RUSAGE_SELF)
        CPU_S.clear()
        calls_s = when_calls(sandbox, args.sources * 5, started)
        procs = [cli(env, "tick", "--now", now.isoformat()) for _ in range(workers)]
        peaks = PeakWatch([p.pid for p in procs])
        for proc in procs:
            wait_rss(proc)
        rss, helpers_rss = peaks.stop()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        bench_cpu_s = after.ru_utime + after.ru_stime - bench_cpu.ru_utime - bench_cpu.ru_stime
        charts = len(slack.called("files.completeUploadExternal"))
        print(
            f"{label}: sources={args.sources} wall_s={wall:.1f} calls={len(sandbox.calls)} "
            f"peak_rss_mb={rss:.0f} charts={charts} workers={workers} cpu_s={sum(CPU_S):.1f} "
            f"render_workers_rss_mb={helpers_rss:.0f} "
            f"calls_s={calls_s[0]:.1f} bench_cpu_s={bench_cpu_s:.1f} "
            f"imitation={args.imitation} rendered_live={sandbox.live}"
        )  # noqa: E501
    slack.stop()
    return wall


def main() -> None:
    """Parse flags and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--imitation",
        choices=("prepared", "live"),
        default="prepared",
        help="render Clarity's answers before the run (default) or during it, on these cores",
    )
    parser.add_argument("--postgres", help="also run 1 and 2 ticking processes on this server")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--database", help="postgresql://… (or sqlite): run on this one only")
    parser.add_argument("--workers", type=int, default=1, help="ticking processes (--database)")
    args = parser.parse_args()
    if args.database:
        compare(args, args.database, args.workers)
        return
    if not args.skip_sqlite:
        run(args, "", 1, "fanout")
    if args.postgres:
        compare(args, args.postgres, 2)


def compare(args: argparse.Namespace, url: str, workers: int) -> None:
    """Tick with 1 process, then (when more) with `workers` at once; print the speed-up."""
    label = "fanout-pg" if url.startswith("postgres") else "fanout"
    one = run(args, fresh_database(url), 1, label)
    if workers > 1:
        many = run(args, fresh_database(url), workers, label)
        print(f"{label}: speedup={one / many:.2f} ({workers} processes over 1)")


def fresh_database(url: str) -> str:
    """A new empty `bench_fanout` database on a PostgreSQL server; "" (a temporary SQLite file)
    for anything else."""
    return fresh_postgres(url, "bench_fanout") if url.startswith("postgres") else ""


if __name__ == "__main__":
    main()
