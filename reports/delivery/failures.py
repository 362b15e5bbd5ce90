"""A report that cannot go out: its ledger row says so, and whoever asked for it is told."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Engine

from reports.delivery.subscriptions import where
from reports.notify import Notifier
from store import ledger
from store.models import Delivery, Source, Subscription
from store.vocab import DeliveryStatus, DestinationKind

MISSING: Final[dict[str, str]] = {
    DestinationKind.SLACK: (
        "Slack is not set up for the worker (SLACK_BOT_TOKEN): nothing can be posted."
    ),
    DestinationKind.EMAIL: "Email is not set up (SMTP_URL, MAIL_FROM): nothing can be mailed.",
    DestinationKind.OUTBOX: "The outbox is not available.",
}


def give_up(
    engine: Engine,
    notifier: Notifier,
    row: Delivery,
    sub: Subscription,
    source: Source,
    reason: str,
    now: datetime,
) -> str:
    """Fail the period for good (no retry) and tell the subscriber why."""
    ledger.failed(engine, row, now=now, error=reason, transient=False)
    tell(notifier, sub, source, row.period, reason)
    return DeliveryStatus.FAILED


def tell(notifier: Notifier, sub: Subscription, source: Source, period: str, reason: str) -> None:
    """Tell the subscription's creator (or the source's owner) that a period failed."""
    user = sub.created_by if sub.created_by and sub.created_by != "cli" else None
    notifier.delivery_failed(
        sub.id or 0,
        source.id or 0,
        source.label,
        period,
        where(sub),
        reason,
        user or source.owner_user_id,
    )
