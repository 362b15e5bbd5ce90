"""`claritybot snapshot`, `export` and `quota`."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from bot.cli.numbers import ID, bounded_int, parse_now
from bot.cli.runtime import Runtime
from reports.errors import UsageError
from reports.timezones import local_date, parse_timezone
from store.vocab import Outcome, Purpose

if TYPE_CHECKING:
    from reports.ingest.snapshot import SnapshotResult

FORMATS: Final = ("jsonl", "csv")  # export: write_jsonl or write_csv
_STATUS_TEXT = {
    Outcome.STORED: "stored",
    Outcome.ALREADY_STORED: "already stored",
    Outcome.FAILED: "FAILED",
    Outcome.REFUSED: "refused",
    Outcome.NOT_ATTEMPTED: "not attempted",
}


def register(commands: Any) -> None:
    """Add the snapshot, export and quota subcommands."""
    snap = commands.add_parser("snapshot", help="snapshot yesterday for a source, now")
    snap.add_argument("--source", type=ID, required=True, help="source id")
    snap.add_argument("--now", help="pretend it is this ISO 8601 time (default: now)")
    snap.add_argument("--json", action="store_true", help="machine-readable output")
    snap.set_defaults(handler=snapshot)

    export = commands.add_parser("export", help="print every stored row of a source")
    export.add_argument("--source", type=ID, required=True, help="source id")
    export.add_argument("--days", type=bounded_int(1, 36_600), help="only the last N local days")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.set_defaults(handler=export_rows)

    usage = commands.add_parser("quota", help="Clarity calls used and left today")
    usage.add_argument("--source", type=ID, required=True, help="source id")
    usage.add_argument("--now", help="pretend it is this ISO 8601 time (default: now)")
    usage.add_argument("--json", action="store_true", help="machine-readable output")
    usage.set_defaults(handler=show_quota)


NOW_TOLERANCE: Final = timedelta(minutes=5)  # --now may only restate the current time


def snapshot(args: argparse.Namespace, rt: Runtime) -> int:
    """Take yesterday's snapshot; exit 1 unless every fetch group is stored."""
    now = parse_now(args.now, rt.err, rt.clock)
    if args.now and abs(now - rt.clock()) > NOW_TOLERANCE:
        # Clarity answers only for the 24 h before the call: a past --now would store today's
        # numbers under a past date and book the calls to the wrong UTC day.
        raise UsageError(
            f"--now {args.now} is not the current time ({rt.clock():%Y-%m-%d %H:%M} UTC): a "
            "snapshot cannot fetch the past, since Clarity only answers for the last 24 hours. "
            "Leave --now out; missed days are rebuilt by the scheduler's run where possible."
        )
    result = rt.snapshotter(now if args.now else None).take_yesterday(
        args.source, now=now, purpose=Purpose.MANUAL
    )
    if args.json:
        rt.out.write(json.dumps(_result_json(result), indent=2) + "\n")
    else:
        _print_result(result, rt)
    return 0 if result.complete else 1


def _result_json(result: SnapshotResult) -> dict[str, Any]:
    return {
        "source": result.source_id,
        "date": result.local_date.isoformat(),
        "due_at": result.due_at.isoformat(),
        "complete": result.complete,
        "calls_spent": result.calls_spent,
        "groups": [
            {"group": o.group, "status": o.status, "rows": o.rows, "message": o.message}
            for o in result.outcomes
        ],
    }


def _print_result(result: SnapshotResult, rt: Runtime) -> None:
    rt.out.write(f"Snapshot of {result.local_date} for source {result.source_id}:\n")
    for o in result.outcomes:
        rt.out.write(f"  {o.group:<10} {_STATUS_TEXT.get(o.status, o.status):<15} {o.message}\n")
    rt.out.write(f"Clarity calls spent: {result.calls_spent}.\n")


def export_rows(args: argparse.Namespace, rt: Runtime) -> int:
    """Write every stored row of a source to stdout."""
    from reports.history.export import export_records, write_csv, write_jsonl
    from store import repository
    from store.db import session_scope

    if args.days is not None and args.days < 1:
        raise UsageError("--days must be 1 or more.")
    with session_scope(rt.engine) as session:
        source = repository.get_source(session=session, source_id=args.source)
        workspace = repository.get_workspace(session=session, workspace_id=source.workspace_id)
        tz = parse_timezone(workspace.timezone)
    since = None
    if args.days is not None:
        since = local_date(rt.clock(), tz) - timedelta(days=args.days)
    records = export_records(rt.engine, source_id=args.source, since=since)
    writer = write_csv if args.format == "csv" else write_jsonl
    count = writer(records, rt.out)
    rt.err.write(f"{count} row(s) exported.\n")
    return 0


def show_quota(args: argparse.Namespace, rt: Runtime) -> int:
    """Show today's Clarity calls for the source's project."""
    from store import quota, repository
    from store.db import session_scope

    now = parse_now(args.now, rt.err, rt.clock)
    with session_scope(rt.engine) as session:
        source = repository.get_source(session=session, source_id=args.source)
    policy = rt.settings.quota
    use = quota.usage(rt.engine, project_key=source.project_key, now=now, policy=policy)
    if args.json:
        payload = {
            "source": args.source,
            "utc_day": use.utc_day.isoformat(),
            "used": use.used,
            "reserved": use.in_flight,
            "left": use.left,
            "left_for_automatic": use.left_for_automatic,
            "cap": use.cap,
            "manual_reserve": use.manual_reserve,
            "exhausted": use.exhausted,
            "resets_at": use.resets_at.isoformat(),
        }
        rt.out.write(json.dumps(payload, indent=2) + "\n")
        return 0
    until = use.resets_at - now
    hours, minutes = divmod(int(until.total_seconds()) // 60, 60)
    rt.out.write(
        f"Source {args.source} ({source.label}), Clarity quota for UTC day {use.utc_day}:\n"
        f"  used      {use.used}\n"
        f"  reserved  {use.in_flight}  (calls in flight)\n"
        f"  left      {use.left} of {use.cap}  ({use.manual_reserve} kept for manual use)\n"
        f"  resets    {use.resets_at:%Y-%m-%d %H:%M} UTC (in {hours} h {minutes:02d} min)\n"
    )
    if use.exhausted:
        rt.out.write("  Clarity answered 429 today: no more calls until the reset.\n")
    return 0
