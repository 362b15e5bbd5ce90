"""Benchmark: our chart renderers against a naive pyplot baseline, in one run.

Not part of the test suite. Run: python3 tests/bench/bench_charts.py [--renders N] [--leak N]
Prints medians over N renders at 1600×900 and, last, exactly one line:
    charts: line_ms=<n> bar_ms=<n> baseline_line_ms=<n> speedup=<n>
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reports.history.catalogue import get_metric  # noqa: E402
from reports.history.query import Breakdown, BreakdownRow, Point, Series  # noqa: E402
from reports.render.charts.bar import BarRenderer  # noqa: E402
from reports.render.charts.line import LineRenderer  # noqa: E402

END = date(2026, 3, 10)


def sample_series(days: int = 37) -> Series:
    points = []
    for i in range(days):
        value = 700 + 150 * ((i * 7919) % 13) / 13 if i % 11 != 5 else None
        points.append(Point(END - timedelta(days=days - 1 - i), value, late=i == 20,
                            estimated=i == 25, num=value, den=1.0 if value else None))  # fmt: skip
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
        )  # fmt: skip
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
    medians = interleaved_medians(
        {
            "baseline": lambda: baseline_line(series),
            "line": lambda: line.render(series, visible=30),
            "bar": lambda: bar.render(result),
        },
        args.renders,
    )
    base, line_ms, bar_ms = medians["baseline"], medians["line"], medians["bar"]
    print(f"medians over {args.renders} renders: baseline {base:.1f} ms, line {line_ms:.1f} ms, "
          f"bar {bar_ms:.1f} ms")  # fmt: skip
    rss = [rss_mib()]
    for i in range(args.leak):
        line.render(series, visible=30) if i % 2 else bar.render(result)
        if (i + 1) % (args.leak // 4) == 0:
            rss.append(rss_mib())
    print("peak RSS (MiB) at 0/25/50/75/100 % of", args.leak, "renders:",
          " ".join(f"{r:.0f}" for r in rss))  # fmt: skip
    print(f"charts: line_ms={line_ms:.1f} bar_ms={bar_ms:.1f} baseline_line_ms={base:.1f} "
          f"speedup={base / line_ms:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
