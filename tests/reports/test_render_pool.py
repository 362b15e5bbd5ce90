"""Charts drawn in worker processes: the same bytes, a dead worker replaced, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from reports.history.catalogue import get_metric
from reports.history.query import Breakdown, BreakdownRow, Point, Series
from reports.render.charts import ChartMaker
from reports.render.pool import RenderPool

ROOT = Path(__file__).resolve().parents[2]


def a_series(key: str = "sessions") -> Series:
    end = date(2026, 3, 19)
    points = tuple(
        Point(end - timedelta(days=36 - i), 40.0 + (i * 7) % 11, num=1.0, den=1.0)
        for i in range(37)
    )
    return Series(get_metric(key), 1, "Europe/London", points)


def a_breakdown() -> Breakdown:
    rows = tuple(
        BreakdownRow(f"/p/{i}", f"https://x/p/{i}", 90.0 - i, 9.0, 80.0, 12.5) for i in range(8)
    )
    return Breakdown(
        get_metric("top_pages_by_sessions"), date(2026, 2, 18), date(2026, 3, 19), rows, 900.0
    )


def spawned_workers(pid: int) -> set[int]:
    """The spawned worker processes under `pid` (not multiprocessing's resource tracker)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread may end between the listing and this read
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        found |= {int(kid) for kid in kids if b"spawn_main" in _cmdline(int(kid))}
    return found


@pytest.fixture(scope="module")
def pooled():
    maker = ChartMaker(RenderPool(1))
    yield maker
    maker.close()


def test_a_worker_draws_the_same_bytes_as_this_process(pooled):
    here = ChartMaker()
    series, digest = a_series(), [a_series(k) for k in ("sessions", "scroll_depth")]
    options = {"visible": 30, "source_label": "Shop", "first_day": date(2026, 2, 1)}
    assert pooled.draw("line", series, **options) == here.draw("line", series, **options)
    assert pooled.draw("bar", a_breakdown()) == here.draw("bar", a_breakdown())
    assert pooled.draw("digest", digest, title="Shop") == here.draw("digest", digest, title="Shop")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_killed_worker_is_replaced_and_the_chart_still_drawn(pooled):
    pooled.draw("line", a_series())
    (worker,) = spawned_workers(os.getpid())
    os.kill(worker, signal.SIGKILL)
    chart = pooled.draw("line", a_series())
    assert chart.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert spawned_workers(os.getpid()) - {worker}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_worker_draws_without_loading_the_database_layer(pooled):
    """Values in, PNG out: a worker needs no SQLAlchemy, SQLModel or pydantic (~35 MB each)."""
    pooled.draw("bar", a_breakdown())
    pooled.draw("line", a_series())
    (worker,) = spawned_workers(os.getpid())
    mapped = Path(f"/proc/{worker}/maps").read_text()
    assert "matplotlib" in mapped  # the drawing library's own compiled parts are there
    for library in ("sqlalchemy", "pydantic_core"):
        assert f"/{library}/" not in mapped, library


SERVER = """
import os, sys
from datetime import date, timedelta
from reports.render.charts import ChartMaker
from reports.render.pool import RenderPool
from tests.reports.test_render_pool import a_series
if __name__ == "__main__":
    ChartMaker(RenderPool(1)).draw("line", a_series())
    print(os.getpid(), flush=True)
    sys.stdin.read()
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_workers_exit_when_their_server_is_killed_outright(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    ) as server:
        try:
            pid = int(server.stdout.readline())
            (worker,) = spawned_workers(pid)
        finally:
            server.kill()  # SIGKILL: no clean-up runs in the server
    deadline = time.monotonic() + 60  # only bounds a hang: it checks every 2 s
    while Path(f"/proc/{worker}").exists() and b"spawn_main" in _cmdline(worker):
        assert time.monotonic() < deadline, "the orphaned worker kept running"
        time.sleep(0.1)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
