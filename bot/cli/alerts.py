"""`claritybot alerts add|list|mute|remove`: alert rules from the command line."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cli.numbers import ID, bounded_float, bounded_int
from bot.cli.runtime import Runtime
from reports.errors import UsageError
from reports.history.catalogue import get_metric
from store.vocab import Condition, DestinationKind, Direction, values

if TYPE_CHECKING:
    from reports.alerts.rules import RuleSpec
    from store.models import AlertRule

THRESHOLD = bounded_float(-1e12, 1e12)  # a metric value or rate: finite


def register(commands: Any) -> None:
    """Add `alerts` and its actions."""
    group = commands.add_parser("alerts", help="alert rules: add, list, mute, remove")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    _register_add(sub)
    listing = sub.add_parser("list", help="rules and their last verdict")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    remove = sub.add_parser("remove", help="stop a rule")
    remove.add_argument("id", type=ID)
    remove.set_defaults(handler=remove_command)
    mute = sub.add_parser("mute", help="stop telling a rule for a while (it is still checked)")
    mute.add_argument("id", type=ID)
    mute.add_argument(
        "--hours", type=bounded_int(0, 24 * 366), default=24, help="how long (24); 0 unmutes"
    )
    mute.set_defaults(handler=mute_command)


def _register_add(sub: Any) -> None:
    """`alerts add`: what is watched, when it fires, where it is told."""
    add = sub.add_parser("add", help="a rule checked after each night's snapshot")
    add.add_argument("--source", type=ID, required=True)
    add.add_argument("--metric", required=True, metavar="KEY")
    _add_condition(add)
    add.add_argument("--direction", choices=values(Direction), default="up")
    add.add_argument("--days", type=bounded_int(1, 90), default=7, help="window in days (7)")
    add.add_argument(
        "--weeks", type=bounded_int(2, 12), default=4, help="--anomaly: weeks to compare (4)"
    )
    add.add_argument("--page", metavar="URL", help="one page instead of the whole site")
    add.add_argument(
        "--min-sessions",
        type=bounded_int(0, 10**9),
        default=200,
        help="no verdict on less traffic than this in the window (200)",
    )
    _add_telling(add)
    add.set_defaults(handler=add_command)


def _add_condition(add: argparse.ArgumentParser) -> None:
    """Exactly one condition: above, below, change or anomaly."""
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--above", type=THRESHOLD, metavar="X", help="fires above X (rates in %%)")
    when.add_argument("--below", type=THRESHOLD, metavar="X", help="fires below X")
    when.add_argument(
        "--change",
        type=bounded_float(-100_000, 100_000),
        metavar="PCT",
        help="fires when the window moves PCT %% on the one before",
    )
    when.add_argument(
        "--anomaly",
        type=bounded_float(0.01, 100_000),
        metavar="PCT",
        help="fires when a day is PCT %% off the same weekday's average",
    )


def _add_telling(add: argparse.ArgumentParser) -> None:
    """Where a verdict goes (one destination) and how often it is repeated."""
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--channel", metavar="C123")
    where.add_argument("--email", metavar="ADDR")
    where.add_argument("--outbox", metavar="DIR")
    tell = add.add_mutually_exclusive_group()
    tell.add_argument(
        "--cooldown",
        type=bounded_int(1, 24 * 366),
        default=24,
        metavar="HOURS",
        help="while it holds, tell again after this long (24)",
    )
    tell.add_argument("--once", action="store_true", help="tell only when it starts to hold")


def _spec(args: argparse.Namespace) -> RuleSpec:
    from reports.alerts import rules as alerts
    from reports.alerts.rules import RuleSpec

    metric = get_metric(args.metric).key
    if not 1 <= args.days <= 90 or not 2 <= args.weeks <= 12:
        raise UsageError("--days must be 1–90 and --weeks 2–12.")
    for kind in Condition:
        value = getattr(args, kind)
        if value is not None:
            if kind == Condition.ANOMALY and args.page:
                raise UsageError("--anomaly works on the whole site, not with --page.")
            page = alerts.normalise_page(args.page)
            return RuleSpec(
                metric,
                kind,
                abs(value) if kind in (Condition.CHANGE, Condition.ANOMALY) else value,
                args.direction,
                1 if kind == Condition.ANOMALY else args.days,
                args.weeks,
                page,
            )
    raise UsageError("Give one of --above, --below, --change, --anomaly.")


def add_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Store a rule and print its id."""
    from reports.alerts import rules as alerts
    from reports.alerts.rules import describe

    kind, where = next(
        (k, v)
        for k, v in (
            (DestinationKind.SLACK, args.channel),
            (DestinationKind.EMAIL, args.email),
            (DestinationKind.OUTBOX, args.outbox),
        )
        if v
    )
    rule = alerts.add_rule(
        rt.engine,
        _spec(args),
        source_id=args.source,
        workspace_id=None,
        kind=kind,
        destination=where,
        now=rt.clock(),
        min_sessions=args.min_sessions,
        cooldown_hours=None if args.once else args.cooldown,
        only_first=args.once,
        created_by="cli",
    )
    rt.out.write(f"{rule.id}\n")
    rt.err.write(f"Alert {rule.id}: {describe(rule)} → {where}.\n")
    return 0


def rule_dict(rule: AlertRule) -> dict[str, Any]:
    """The JSON shape of a rule (a stable output format)."""
    from reports.alerts.rules import describe

    return {
        "id": rule.id,
        "source_id": rule.source_id,
        "rule": describe(rule),
        "metric": rule.metric,
        "condition": rule.condition,
        "threshold": rule.threshold,
        "direction": rule.direction,
        "days": rule.window_days,
        "page": rule.page,
        "destination_kind": rule.destination_kind,
        "destination": rule.destination,
        "state": rule.state,
        "reason": rule.state_reason,
        "evaluated_day": rule.evaluated_day.isoformat() if rule.evaluated_day else None,
        "muted_until": rule.muted_until.isoformat() if rule.muted_until else None,
    }


def list_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Print the rules with their last verdict (unknown says why: no data is not zero)."""
    from reports.alerts import rules as alerts
    from reports.alerts.rules import describe

    rules = alerts.list_rules(rt.engine)
    if args.json:
        rt.out.write(json.dumps([rule_dict(r) for r in rules], indent=2) + "\n")
        return 0
    if not rules:
        rt.out.write(
            "No alerts yet: `claritybot alerts add --source ID --metric "
            "rage_click_rate --above 2 --channel C123`.\n"
        )
    now = rt.clock()
    for r in rules:
        when = f" ({r.evaluated_day})" if r.evaluated_day else ""
        muted = (
            f" · muted until {_utc(r.muted_until)}" if r.muted_until and r.muted_until > now else ""
        )
        rt.out.write(
            f"{r.id:>4}  {describe(r)} → {r.destination}{muted}\n      {r.state}{when}: "
            f"{r.state_reason or 'not evaluated yet'}\n"
        )
    return 0


def _utc(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def mute_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Stop telling a rule for `--hours` (0: tell again); it is still judged every day."""
    from reports.alerts import rules as alerts

    until = rt.clock() + timedelta(hours=args.hours) if args.hours else None
    rule = alerts.mute_rule(rt.engine, args.id, workspace_id=None, until=until)
    if until is None:
        rt.out.write(f"Alert {rule.id} unmuted: it is told again when it fires.\n")
    else:
        rt.out.write(f"Alert {rule.id} muted until {_utc(until)}: still checked, not told.\n")
    return 0


def remove_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Stop a rule."""
    from reports.alerts import rules as alerts

    alerts.remove_rule(rt.engine, args.id, workspace_id=None)
    rt.out.write(f"Alert {args.id} removed.\n")
    return 0
