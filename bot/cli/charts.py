"""`claritybot metrics`, `metric` and `chart`: the catalogue, numbers and PNGs from history."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.numbers import ID, bounded_int, parse_now
from bot.cli.runtime import Runtime
from reports.errors import UsageError
from reports.history.catalogue import CATALOGUE, by_category, get_metric

if TYPE_CHECKING:
    from reports.history.query import Aggregate, Breakdown, Series

DAYS = bounded_int(1, 3660)


def register(commands: Any) -> None:
    """Add the metrics, metric and chart subcommands."""
    listing = commands.add_parser("metrics", help="list the metric catalogue by category")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=metrics_command)

    metric = commands.add_parser("metric", help="print a metric's daily series or breakdown")
    metric.add_argument("--source", type=ID, required=True, help="source id")
    metric.add_argument("--metric", required=True, help="a key from `claritybot metrics`")
    metric.add_argument("--days", type=DAYS, default=30, help="days up to yesterday (default 30)")
    metric.add_argument("--json", action="store_true", help="machine-readable output")
    metric.add_argument("--now", help="pretend it is this ISO 8601 time (default: now)")
    metric.set_defaults(handler=metric_command)

    chart = commands.add_parser("chart", help="render a metric (or the digest) to a PNG")
    chart.add_argument("--source", type=ID, required=True, help="source id")
    which = chart.add_mutually_exclusive_group(required=True)
    which.add_argument("--metric", help="a key from `claritybot metrics`")
    which.add_argument("--digest", action="store_true", help="the key metrics on one figure")
    chart.add_argument("--days", type=DAYS, default=30, help="days up to yesterday (default 30)")
    chart.add_argument("--out", required=True, help="PNG file to write")
    chart.add_argument("--now", help="pretend it is this ISO 8601 time (default: now)")
    chart.set_defaults(handler=chart_command)


def metrics_command(args: argparse.Namespace, rt: Runtime) -> int:
    """List the catalogue."""
    if args.json:
        rows = [
            {
                "key": m.key,
                "label": m.label,
                "category": m.category,
                "unit": m.unit,
                "rule": m.rule,
                "description": m.description,
            }
            for m in CATALOGUE
        ]
        rt.out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    for category, metrics in by_category().items():
        rt.out.write(f"{category.capitalize()}\n")
        for m in metrics:
            rt.out.write(f"  {m.key:<26} {m.label} ({m.unit}): {m.description}\n")
    return 0


def _check_days(days: int) -> None:
    if not 1 <= days <= 400:
        raise UsageError("--days must be between 1 and 400 (7, 30 and 90 read best).")


def _label(rt: Runtime, source_id: int) -> str:
    from store import repository
    from store.db import session_scope

    with session_scope(rt.engine) as session:
        return repository.get_source(session=session, source_id=source_id).label


def metric_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Print a series or a breakdown as text or JSON."""
    from reports.history.load import load  # kept out of `tick` start-up

    _check_days(args.days)
    metric = get_metric(args.metric)
    _label(rt, args.source)  # a clear error for an unknown source
    now = parse_now(args.now, rt.err, rt.clock)
    history = load(rt.engine, args.source, [metric], days=args.days, now=now)
    if metric.is_breakdown:
        _print_breakdown(history.breakdown(metric, args.days, top_n=10), rt, as_json=args.json)
    else:
        whole = history.aggregate(metric, history.start, history.end)
        _print_series(history.series(metric, args.days), rt, as_json=args.json, whole=whole)
    return 0


def _print_series(data: Series, rt: Runtime, *, as_json: bool, whole: Aggregate) -> None:
    from reports.render.charts.style import format_value

    metric = data.metric
    if as_json:
        payload = {
            "metric": metric.key,
            "unit": metric.unit,
            "timezone": data.timezone,
            "days": [
                {
                    "date": p.day.isoformat(),
                    "value": p.value,
                    "late": p.late,
                    "estimated": p.estimated,
                    "rows": list(p.refs),
                }
                for p in data.points
            ],
            # The days combined by the catalogue's rule (session-weighted, rate of sums...).
            "window": {
                "value": whole.value,
                "rule": metric.rule,
                "days_with_data": whole.days_with_data,
                "days": whole.days,
            },
        }
        rt.out.write(json.dumps(payload, indent=2) + "\n")
        return
    rt.out.write(f"{metric.label} ({metric.unit}), {data.timezone}\n")
    for p in data.points:
        flags = " ".join(f for f, on in (("late", p.late), ("estimated", p.estimated)) if on)
        value = format_value(p.value, metric.unit, short=False) if p.value is not None else "gap"
        rt.out.write(f"  {p.day} {p.day:%a}  {value:>12}  {flags}\n")
    total = format_value(whole.value, metric.unit, short=False)
    what = "sum of daily users" if metric.rule == "users" else f"combined ({metric.rule})"
    rt.out.write(f"  {what}: {total} over {whole.days_with_data} of {whole.days} days\n")


def _print_breakdown(result: Breakdown, rt: Runtime, *, as_json: bool) -> None:
    from reports.render.charts.style import format_delta, format_value

    metric = result.metric
    if as_json:
        payload = {
            "metric": metric.key,
            "unit": metric.unit,
            "start": result.start.isoformat(),
            "end": result.end.isoformat(),
            "total": result.total,
            "rows": [
                {
                    "label": r.label,
                    "key": r.key,
                    "value": r.value,
                    "share": r.share,
                    "previous": r.previous,
                    "change_pct": r.change_pct,
                }
                for r in result.rows
            ],
        }
        rt.out.write(json.dumps(payload, indent=2) + "\n")
        return
    rt.out.write(f"{metric.label}, {result.start} to {result.end}\n")
    for i, r in enumerate(result.rows, 1):
        share = f"{r.share:5.1f} %" if r.share is not None else ""
        value = format_value(r.value, metric.unit, short=False)
        diff = None if r.previous is None else r.value - r.previous
        change = format_delta(metric.unit, diff, r.change_pct)  # points for a percentage
        rt.out.write(f"  {i:>2}. {r.label:<40} {value:>10} {share:>8}  {change}\n")
    if not result.rows:
        rt.out.write("  no data for this period yet\n")


def chart_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Render one chart to a PNG file and print its text alternative."""
    from reports.history.load import load
    from reports.render.charts import ChartMaker, chart_days

    _check_days(args.days)
    label = _label(rt, args.source)
    maker, now = ChartMaker(), parse_now(args.now, rt.err, rt.clock)
    metric = None if args.digest else get_metric(args.metric)
    days = chart_days(metric, args.days) if metric else args.days
    history = load(rt.engine, args.source, [metric] if metric else [], days=days, now=now)
    if metric is None:
        title = f"{label} — last {args.days} days"
        chart = maker.digest_chart(history, days=args.days, title=title)
    else:
        chart = maker.metric_chart(history, metric=metric, days=args.days, source_label=label)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(chart.png)
    except OSError as exc:
        raise UsageError(f"Cannot write {out}: {exc.strerror or exc}.") from None
    rt.out.write(f"{chart.alt_text}\n")
    rt.err.write(f"Wrote {out} ({chart.width}×{chart.height}, {len(chart.png) // 1024} KiB).\n")
    return 0
