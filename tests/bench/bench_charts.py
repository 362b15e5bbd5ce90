"""Benchmark: our chart renderers against a naive pyplot baseline, in one run.

Not part of the test suite. Run: python3 tests/bench/bench_charts.py [--renders N] [--leak N]
Prints medians over N renders at 1600×900, then the CPU of one on-demand `/clarity chart
sessions 7` end to end (the history read from SQLite, the drawing, the upload and post to a
loopback Slack fake: `commands.chart` as a lazy listener runs it, timed on its own thread so
the fake's threads do not count) and, last, exactly one line:
    charts: line_ms=<n> bar_ms=<n> baseline_line_ms=<n> speedup=<n> chart_cpu_ms=<n>
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reports.history.catalogue import get_metric  # noqa: E402
from reports.history.load import History, load  # noqa: E402
from reports.history.query import Breakdown, BreakdownRow, Point, Series  # noqa: E402
from reports.render.charts import ChartMaker, chart_days  # noqa: E402
from reports.render.charts.bar import BarRenderer  # noqa: E402
from reports.render.charts.line import LineRenderer  # noqa: E402

END = date(2026, 3, 10)


def sample_series(days: int = 37) -> Series:
    points = []
    for i in range(days):
        value = 700 + 150 * ((i * 7919) % 13) / 13 if i % 11 != 5 else None
        day = END - timedelta(days=days - 1 - i)
        den = 1.0 if value else None
        points.append(Point(day, value, late=i == 20, estimated=i == 25, num=value, den=den))
    return Series(get_metric("sessions"), 1, "Europe/London", tuple(points))


def sample_breakdown() -> Breakdown:
    rows = tuple(
        BreakdownRow(
            f"/collections/page-number-{i}/with-a-long-path",
            f"https://x/{i}",
            1000.0 / (i + 1),
            30.0 / (i + 1),
            900.0 / (i + 1),
            5.0 * i,
        )
        for i in range(10)
    )
    return Breakdown(
        get_metric("top_pages_by_sessions"), END - timedelta(days=29), END, rows, 3000.0
    )


def baseline_line(series: Series) -> bytes:
    """What a first attempt looks like: pyplot, defaults, a new figure every time."""
    fig, ax = plt.subplots(figsize=(16, 9), dpi=100)
    days = [p.day for p in series.points[-30:]]
    ax.plot(days, [p.value for p in series.points[-30:]])
    ax.set_title("Sessions")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def interleaved_medians(
    renders: dict[str, Callable[[], object]], n: int, rounds: int = 5
) -> dict[str, float]:
    """Time each render n times in all, in short blocks taking turns.

    Blocks rather than single renders: mixing pyplot's 100-dpi figures with our 200-dpi ones
    render by render would make both re-rasterise the shared font glyphs each time, which no
    real run does; taking turns still spreads a busy machine's noise over all of them.
    """
    times: dict[str, list[float]] = {name: [] for name in renders}
    block = max(1, n // rounds)
    for _ in range(rounds):
        for name, render in renders.items():
            for _ in range(block):
                start = time.perf_counter()
                render()
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def thread_cpu_ms(run: Callable[[], object], n: int) -> float:
    """Median CPU of `run` on this thread (ms): other threads' work is not counted."""
    times = []
    for _ in range(n):
        start = time.thread_time()
        run()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


NOW = datetime(2026, 3, 11, 9, tzinfo=UTC)


@contextmanager
def slack_app_parts() -> Iterator[tuple[Any, Any, int]]:
    """What a chart command's lazy listener has: services over a SQLite file with one
    project of 120 nights, a Poster to a loopback Slack fake, and the workspace id."""
    import httpx

    from bot.slack.posting import Pacer, Poster, web_client
    from bot.slack.services import SlackServices
    from reports.clarity.client import ClarityClient
    from store import repository
    from store.crypto import TokenCipher, generate_key
    from store.db import make_engine, session_scope
    from store.migrate import ensure_schema
    from tests.bench.bench_history import fill
    from tests.fakes.slack_api import FakeSlack

    with tempfile.TemporaryDirectory() as tmp, httpx.Client() as http:
        engine = make_engine(f"sqlite:///{tmp}/charts.db")
        ensure_schema(engine)
        fill(engine, 1, 120)
        with session_scope(engine) as session:
            workspace = repository.default_workspace(session=session).id or 0
        fake = FakeSlack().start()
        services = SlackServices(
            engine=engine,
            cipher=TokenCipher(generate_key()),
            clarity=ClarityClient(http=http, base_url=fake.base),  # never called: no quota
            clock=lambda: NOW,
            charts=ChartMaker(),
        )
        try:
            yield services, Poster(web_client("xoxb-bench", fake.url), pacer=Pacer(0)), workspace
        finally:
            fake.stop()
            engine.dispose()


def end_to_end(n: int) -> dict[str, float]:
    """CPU ms of an on-demand chart command, and of its history read and drawing alone."""
    from bot.slack import commands

    metric, channels = get_metric("sessions"), iter(range(10**6))
    with slack_app_parts() as (services, poster, workspace):

        def chart() -> None:
            channel = f"C{next(channels)}"  # a channel each: no per-channel pause
            reply = commands.chart(services, poster, workspace, channel, ["sessions", "7"])
            assert reply.text == "", reply.text

        def read() -> History:
            return load(services.engine, 1, [metric], days=chart_days(metric, 7), now=NOW)

        def draw() -> object:
            return services.charts.metric_chart(history, metric=metric, days=7)

        history = read()
        for run in (chart, read, draw):  # warm-up
            run()
        return {
            "total": thread_cpu_ms(chart, n),
            "read": thread_cpu_ms(read, n),
            "draw": thread_cpu_ms(draw, n),
        }


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--leak", type=int, default=1000, help="renders for the memory check")
    args = parser.parse_args()
    series, result = sample_series(), sample_breakdown()
    line, bar = LineRenderer(), BarRenderer()
    for _ in range(3):  # warm-up: fonts, caches
        line.render(series, visible=30), bar.render(result), baseline_line(series)
    png = line.render(series, visible=30).png
    print(f"line chart: {len(png) / 1024:.0f} KiB PNG, {png[16:24].hex()} (IHDR 1600x900)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    medians = interleaved_medians(
        {
            "baseline": lambda: baseline_line(series),
            "line": lambda: line.render(series, visible=30),
            "bar": lambda: bar.render(result),
        },
        args.renders,
    )
    base, line_ms, bar_ms = medians["baseline"], medians["line"], medians["bar"]
    print(
        f"medians over {args.renders} renders: baseline {base:.1f} ms, line {line_ms:.1f} ms, "
        f"bar {bar_ms:.1f} ms"
    )
    rss = [rss_mib()]
    for i in range(args.leak):
        line.render(series, visible=30) if i % 2 else bar.render(result)
        if (i + 1) % (args.leak // 4) == 0:
            rss.append(rss_mib())
    print(
        "peak RSS (MiB) at 0/25/50/75/100 % of",
        args.leak,
        "renders:",
        " ".join(f"{r:.0f}" for r in rss),
    )
    cpu = end_to_end(args.renders)
    print(
        f"on-demand `/clarity chart sessions 7`, CPU per chart (median of {args.renders}): "
        f"{cpu['total']:.1f} ms end to end; of which history read {cpu['read']:.1f} ms, "
        f"drawing {cpu['draw']:.1f} ms, the rest (lookups, upload and post) "
        f"{cpu['total'] - cpu['read'] - cpu['draw']:.1f} ms"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"charts: line_ms={line_ms:.1f} bar_ms={bar_ms:.1f} baseline_line_ms={base:.1f} "
        f"speedup={base / line_ms:.2f} chart_cpu_ms={cpu['total']:.1f}"
    )


if __name__ == "__main__":
    main()
