"""`claritybot subscribe`, `subscriptions` and `unsubscribe`: scheduled reports from the CLI."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.numbers import ID, bounded_int
from bot.cli.runtime import Runtime
from reports.delivery.cadence import FREQUENCIES, parse_weekday
from reports.errors import DeliveryError, UsageError
from store.vocab import DestinationKind, Frequency

if TYPE_CHECKING:
    from store.models import Delivery, Subscription


def register(commands: Any) -> None:
    """Add the subscription subcommands."""
    _register_subscribe(commands)
    listing = commands.add_parser("subscriptions", help="list scheduled reports")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--all", action="store_true", help="include stopped ones")
    listing.set_defaults(handler=list_subscriptions)
    actions = listing.add_subparsers(dest="action", metavar="ACTION")
    send = actions.add_parser(
        "send", help="send a subscription's current report now (the schedule is unchanged)"
    )
    send.add_argument("id", type=int)
    send.add_argument("--to", help="another address, channel or folder of the same kind")
    send.set_defaults(handler=send_command)

    stop = commands.add_parser("unsubscribe", help="stop a scheduled report (history is kept)")
    stop.add_argument("id", type=ID)
    stop.set_defaults(handler=unsubscribe)

    sent = commands.add_parser("deliveries", help="the delivery ledger: sent, retrying, failed")
    sent.add_argument("--json", action="store_true", help="machine-readable output")
    sent.add_argument("--limit", type=bounded_int(1, 100_000), default=50)
    sent.add_argument(
        "action", nargs="?", choices=["retry"], help="retry ID: send a failed one again"
    )
    sent.add_argument("id", nargs="?", type=ID, help="the delivery to retry (from the list)")
    sent.set_defaults(handler=deliveries)


def _register_subscribe(commands: Any) -> None:
    """`subscribe`: what, where to, and when."""
    add = commands.add_parser("subscribe", help="send a report on a schedule; prints its id")
    add.add_argument("--source", type=ID, required=True, help="source id")
    add.add_argument(
        "--metric",
        action="append",
        required=True,
        metavar="KEY",
        help="a metric key (repeat for several), or `digest`",
    )
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--email", metavar="ADDR", help="send an email digest to this address")
    where.add_argument("--channel", metavar="C123", help="post to this Slack channel id")
    where.add_argument("--outbox", metavar="DIR", help="write .eml and PNG files to this folder")
    add.add_argument("--frequency", choices=FREQUENCIES, default=Frequency.DAILY.value)
    add.add_argument("--at", default="09:00", metavar="HH:MM", help="local send time (09:00)")
    add.add_argument("--timezone", metavar="IANA", help="default: the workspace's timezone")
    add.add_argument("--weekday", default="monday", help="weekly: the day it goes out (monday)")
    add.add_argument(
        "--day",
        type=bounded_int(1, 31),
        default=1,
        metavar="N",
        help="monthly: the day of the month (31: the last day)",
    )
    add.add_argument("--summary", action="store_true", help="add a written summary")
    add.add_argument(
        "--skip-when-empty",
        action="store_true",
        help="send nothing for a period without data (default: say so)",
    )
    add.set_defaults(handler=subscribe)


def subscribe(args: argparse.Namespace, rt: Runtime) -> int:
    """Store a subscription and print its id (alone on stdout, for scripts)."""
    from reports.delivery import subscriptions as subs

    kind, destination = next(
        (k, v)
        for k, v in (
            (DestinationKind.EMAIL, args.email),
            (DestinationKind.SLACK, args.channel),
            (DestinationKind.OUTBOX, args.outbox),
        )
        if v
    )
    subs.require_email(kind, configured=rt.settings.smtp is not None)
    request = subs.NewSubscription(
        source_id=args.source,
        metrics=args.metric,
        kind=kind,
        destination=destination,
        frequency=args.frequency,
        weekday=parse_weekday(args.weekday),
        month_day=args.day,
        send_at=args.at,
        timezone=args.timezone,
        summary=args.summary,
        skip_when_empty=args.skip_when_empty,
        created_by="cli",
    )
    now = rt.clock()
    sub = subs.subscribe(rt.engine, request, workspace_id=None, now=now)
    rt.out.write(f"{sub.id}\n")
    rt.err.write(
        f"Subscription {sub.id}: {', '.join(sub.metrics)} to {subs.where(sub)}, "
        f"{subs.schedule_text(rt.engine, sub, now)}.\n"
    )
    return 0


def send_command(args: argparse.Namespace, rt: Runtime) -> int:
    """Deliver a subscription's current report at once, without touching its ledger."""
    from reports.delivery import subscriptions as subs
    from reports.delivery.sendnow import send_now

    sub = subs.get_subscription(rt.engine, args.id)
    try:
        sent = send_now(rt.dispatcher(), sub, rt.clock(), args.to)
    except DeliveryError as exc:
        rt.err.write(f"claritybot: the test send of subscription {args.id} failed: {exc}\n")
        return 1
    where = subs.where(sub.model_copy(update={"destination": args.to})) if args.to else None
    rt.out.write(f"Sent subscription {args.id}'s report to {where or subs.where(sub)} ({sent}).\n")
    return 0


def as_dict(sub: Subscription, schedule: str) -> dict[str, Any]:
    """The JSON shape of a subscription (a stable output format)."""
    return {
        "id": sub.id,
        "source_id": sub.source_id,
        "metrics": sub.metrics,
        "destination_kind": sub.destination_kind,
        "destination": sub.destination,
        "frequency": sub.frequency,
        "weekday": sub.weekday,
        "month_day": sub.month_day,
        "at": sub.send_at,
        "timezone": sub.timezone,
        "summary": sub.summary,
        "skip_when_empty": sub.skip_when_empty,
        "active": sub.active,
        "schedule": schedule,
    }


def list_subscriptions(args: argparse.Namespace, rt: Runtime) -> int:
    """Print subscriptions as a table or JSON."""
    from reports.delivery import subscriptions as subs

    now = rt.clock()
    found = subs.list_subscriptions(rt.engine, active_only=not args.all)
    rows = [(s, subs.schedule_text(rt.engine, s, now) if s.active else "stopped") for s in found]
    if args.json:
        rt.out.write(json.dumps([as_dict(s, when) for s, when in rows], indent=2) + "\n")
        return 0
    if not rows:
        rt.out.write(
            "No subscriptions yet: `claritybot subscribe --source ID --metric sessions "
            "--email you@example.com`.\n"
        )
        return 0
    for sub, when in rows:
        rt.out.write(
            f"{sub.id:>4}  source {sub.source_id}  {', '.join(sub.metrics)} → "
            f"{subs.where(sub)}  ({when})\n"
        )
    return 0


def unsubscribe(args: argparse.Namespace, rt: Runtime) -> int:
    """Stop a subscription."""
    from reports.delivery import subscriptions as subs

    subs.unsubscribe(rt.engine, args.id, workspace_id=None, now=rt.clock())
    rt.out.write(f"Subscription {args.id} stopped; its delivery history is kept.\n")
    return 0


def delivery_dict(row: Delivery) -> dict[str, Any]:
    """The JSON shape of a ledger row (a stable output format)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": row.id,
        "subscription": row.subscription_id,
        "period": row.period,
        "status": row.status,
        "due_at": iso(row.due_at),
        "sent_at": iso(row.sent_at),
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at),
        "message_id": row.message_id,
        "error": row.error,
        "note": row.note,
    }


def deliveries(args: argparse.Namespace, rt: Runtime) -> int:
    """Print the ledger, newest first; or, with `retry ID`, queue a failed report again."""
    from store import ledger_rows

    if args.action == "retry":
        return _retry(args, rt)
    rows = ledger_rows.recent(rt.engine, limit=args.limit)
    if args.json:
        rt.out.write(json.dumps([delivery_dict(r) for r in rows], indent=2) + "\n")
        return 0
    if not rows:
        rt.out.write("No deliveries yet.\n")
    for r in rows:
        why = r.error or r.note or r.message_id or ""
        rt.out.write(
            f"{r.id:>5}  sub {r.subscription_id:<4} {r.period:<10}  {r.status:<9} "
            f"{r.due_at:%Y-%m-%d %H:%M} UTC  {why}\n"
        )
    return 0


def _retry(args: argparse.Namespace, rt: Runtime) -> int:
    """Queue a failed delivery for the next tick; refuse anything not failed."""
    from store import ledger_rows

    if args.id is None:
        raise UsageError("Say which delivery: claritybot deliveries retry ID.")
    row = ledger_rows.retry(rt.engine, args.id, now=rt.clock())
    if row is None:
        raise UsageError(f"Delivery {args.id} has not failed: only failed reports are retried.")
    rt.out.write(
        f"Delivery {row.id} ({row.period}) is queued again: the next tick or worker sends it.\n"
    )
    return 0
