"""`claritybot tick`, `worker` and `runs`: the scheduler from the command line."""

from __future__ import annotations

import argparse
import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from bot.cli.numbers import bounded_float, bounded_int, parse_now
from bot.cli.outage import Outage, describe
from bot.cli.runtime import Runtime
from reports.errors import UsageError
from store.vocab import DeliveryStatus

if TYPE_CHECKING:  # imported where used: `--help` and most commands need none of them
    import schedule

    from reports.alerts.evaluate import AlertEvaluator
    from reports.delivery.dispatch import Dispatcher
    from reports.ingest.scheduler import Scheduler, TickReport


def register(commands: Any) -> None:
    """Add the tick, worker and runs subcommands."""
    tick = commands.add_parser("tick", help="run everything due now, once, and exit")
    tick.add_argument("--now", help="pretend it is this ISO 8601 time (default: now)")
    tick.add_argument("--json", action="store_true", help="machine-readable output")
    tick.set_defaults(handler=tick_command)

    worker = commands.add_parser("worker", help="tick about once a minute until stopped")
    worker.add_argument(
        "--interval", type=bounded_float(0.001, 86_400), default=60.0, help="seconds between ticks"
    )
    worker.add_argument("--now", help="simulation: start the clock at this ISO 8601 time")
    worker.add_argument(
        "--speed",
        type=bounded_float(0.001, 1_000_000),
        default=1.0,
        help="simulation: clock seconds per real second",
    )
    worker.add_argument(
        "--wall-start",
        type=bounded_float(0, 1e11),
        help="simulation: the Unix time at which the clock read --now",
    )
    worker.add_argument(
        "--max-ticks", type=bounded_int(1, 10**9), help="stop after this many ticks"
    )
    worker.set_defaults(handler=worker_command)

    log = commands.add_parser("runs", help="recent snapshot attempts, gaps and recoveries")
    log.add_argument("--source", type=int, help="only this source")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true", help="machine-readable output")
    log.set_defaults(handler=runs_command)


TICK_FAILURES: Final = (DeliveryStatus.FAILED, DeliveryStatus.RETRYING, "error")


def tick_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Run one tick and report it; exit 1 with one sentence when the database is away."""
    from sqlalchemy.exc import DBAPIError

    now = parse_now(args.now, rt.err, rt.clock)
    try:
        scheduler = rt.scheduler(now if args.now else None)
        report, sent = snapshots_and_reports(scheduler, rt.dispatcher(), now)
        fired = rt.alerts().tick(now)
    except DBAPIError as exc:
        rt.err.write(f"claritybot: {describe(exc)}: nothing more was done; try again later.\n")
        return 1
    _print_report(report, rt, as_json=args.json, deliveries=sent, alerts=fired)
    failed = any(not r.complete for r in report.results)
    # A report that did not go out is a failure cron should see, as a missed snapshot is.
    failed = failed or any(sent.get(state) for state in TICK_FAILURES)
    return 1 if failed else 0


def _report_json(
    report: TickReport, deliveries: Mapping[str, int], alerts: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "deliveries": dict(sorted(deliveries.items())),
        "alerts": dict(sorted(alerts.items())),
        "now": report.now.isoformat(),
        "calls": report.calls,
        "snapshots": [
            {
                "source": r.source_id,
                "date": r.local_date.isoformat(),
                "complete": r.complete,
                "groups": {o.group: o.status for o in r.outcomes},
                "recovered": [{"date": x.day.isoformat(), "status": x.status} for x in r.recovered],
            }
            for r in report.results
        ],
        "lost": [
            {"source": s, "date": d.isoformat(), "groups": list(g), "reason": why}
            for s, d, g, why in report.lost
        ],
        "skipped": [{"source": s, "reason": why} for s, why in report.skipped],
    }


def _print_report(
    report: TickReport,
    rt: Runtime,
    *,
    as_json: bool,
    deliveries: Mapping[str, int],
    alerts: Mapping[str, int],
) -> None:
    if as_json:
        rt.out.write(json.dumps(_report_json(report, deliveries, alerts), indent=2) + "\n")
        return
    if not (report.results or report.lost or deliveries or alerts):
        rt.out.write(f"{report.now:%Y-%m-%d %H:%M} UTC: nothing due.\n")
    if deliveries:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(deliveries.items()))
        rt.out.write(f"{report.now:%Y-%m-%d %H:%M} UTC: deliveries: {counts}\n")
    if alerts:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(alerts.items()))
        rt.out.write(f"{report.now:%Y-%m-%d %H:%M} UTC: alerts: {counts}\n")
    for r in report.results:
        groups = ", ".join(f"{o.group} {o.status}" for o in r.outcomes)
        rt.out.write(f"source {r.source_id} {r.local_date}: {groups}\n")
        for x in r.recovered:
            rt.out.write(f"source {r.source_id} {x.day}: {x.status} — {x.message}\n")
    for source, day, lost, why in report.lost:
        rt.out.write(f"source {source} {day}: GAP ({', '.join(lost)}): {why}\n")
    for source, why in report.skipped:
        rt.out.write(f"source {source}: skipped ({why})\n")


def simulated_clock(
    start: datetime, speed: float, wall_start: float | None = None
) -> Callable[[], datetime]:
    """Return a clock that read `start` at Unix time `wall_start` and runs `speed` times fast.

    Anchored to the wall clock, so several processes given the same values share one timeline.
    """
    origin = time.time() if wall_start is None else wall_start
    return lambda: start + timedelta(seconds=(time.time() - origin) * speed)


def worker_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Tick on a `schedule` loop until SIGTERM/SIGINT or --max-ticks."""
    if args.interval <= 0 or args.speed <= 0:
        raise UsageError("--interval and --speed must be positive.")
    if args.now:
        rt.clock = simulated_clock(parse_now(args.now, rt.err), args.speed, args.wall_start)
    outage = Outage(rt.err, args.interval)
    stopping: list[bool] = []
    ticks: list[int] = [0]
    job = _tick_job(rt, args.speed, outage, ticks)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.append(True)  # finish the current tick, then leave

    def done() -> bool:
        return bool(stopping) or (args.max_ticks is not None and ticks[0] >= args.max_ticks)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    loop = _start_loop(rt, args.interval, job)
    try:
        job()
        _run_until(done, loop, job, outage, args.interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    rt.err.write("claritybot worker: stopped.\n")
    return 0


def _tick_job(rt: Runtime, speed: float, outage: Outage, ticks: list[int]) -> Callable[[], None]:
    """One tick, counted in `ticks`; a database outage is reported, not raised."""
    from sqlalchemy.exc import DBAPIError

    parts: list[tuple[Scheduler, Dispatcher, AlertEvaluator]] = []

    def job() -> None:
        try:
            if not parts:  # built here: the database may be away when the worker starts
                parts.append(_worker_parts(rt, speed))
            _one_tick(rt, *parts[0])
        except DBAPIError as exc:
            outage.failed(exc)  # a claim left behind expires with its lease; nothing is lost
            return
        outage.recovered()
        ticks[0] += 1

    return job


def _start_loop(rt: Runtime, interval: float, job: Callable[[], None]) -> schedule.Scheduler:
    """The `schedule` loop running `job` every `interval` seconds, announced on stderr."""
    import schedule

    # Only `every(n).seconds` is used: schedule's own timezone handling repeats or skips jobs
    # around DST (see DEPS.md); when a day is due is decided by reports.ingest.due with zoneinfo.
    loop = schedule.Scheduler()
    # schedule takes float seconds (timedelta); only its stubs say int. --interval 0.05 is real.
    loop.every(interval).seconds.do(job)  # type: ignore[arg-type]
    rt.err.write(f"claritybot worker: started, a tick every {interval:g} s.\n")
    rt.err.flush()
    return loop


def _run_until(
    done: Callable[[], bool],
    loop: schedule.Scheduler,
    job: Callable[[], None],
    outage: Outage,
    interval: float,
) -> None:
    """Run due ticks until `done`; during an outage, retry on the outage's own backoff."""
    while not done():
        if not outage.active:
            loop.run_pending()
        elif outage.due():
            job()
        time.sleep(min(1.0, interval / 5))


def _worker_parts(rt: Runtime, speed: float) -> tuple[Scheduler, Dispatcher, AlertEvaluator]:
    """The worker's scheduler, dispatcher and alerts, under one owner id for all its claims."""
    scheduler = rt.scheduler(speed=speed)
    dispatcher = rt.dispatcher(scheduler.owner, clock=rt.clock, speed=speed)
    return scheduler, dispatcher, rt.alerts()


def _one_tick(
    rt: Runtime, scheduler: Scheduler, dispatcher: Dispatcher, alerts: AlertEvaluator
) -> None:
    """One worker tick: snapshots, then deliveries, then alerts, all at one clock reading."""
    now = rt.clock()
    report, sent = snapshots_and_reports(scheduler, dispatcher, now)
    fired = alerts.tick(now)
    if report.results or report.lost or sent or fired:
        _print_report(report, rt, as_json=False, deliveries=sent, alerts=fired)
        rt.out.flush()


def snapshots_and_reports(
    scheduler: Scheduler, dispatcher: Dispatcher, now: datetime
) -> tuple[TickReport, Counter[str]]:
    """The tick's snapshots, each project's reports sent once its day is stored, then the
    dispatcher's pass over everything else due (and over sends a dead process left)."""
    from reports.delivery.early import EarlyDelivery

    early = EarlyDelivery(dispatcher, now)
    try:
        report = scheduler.tick(now, on_project=early)
    finally:
        sent = early.finish()
    sent.update(dispatcher.tick(now))
    return report, sent


def runs_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Show the run log, newest first."""
    from store import runs

    entries = runs.recent_runs(rt.engine, source_id=args.source, limit=args.limit)
    if args.json:
        rows = [
            {
                "source": e.source_id,
                "date": e.local_date.isoformat(),
                "group": e.fetch_group,
                "started_at": e.started_at.isoformat(),
                "finished_at": e.finished_at.isoformat(),
                "outcome": e.outcome,
                "calls": e.calls,
                "late": e.late,
                "estimated": e.estimated,
                "error": e.error,
            }
            for e in entries
        ]
        rt.out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not entries:
        rt.out.write("No runs yet.\n")
    for e in entries:
        flags = " ".join(f for f, on in (("late", e.late), ("estimated", e.estimated)) if on)
        rt.out.write(
            f"{e.started_at:%Y-%m-%d %H:%M} UTC  source {e.source_id}  {e.local_date}  "
            f"{e.fetch_group:<9} {e.outcome:<15} calls {e.calls}  {flags}"
            f"{'  — ' + e.error if e.error else ''}\n"
        )
    return 0
