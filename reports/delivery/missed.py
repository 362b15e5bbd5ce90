"""Periods whose send time passed while no worker ran: recorded as skipped, never silent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine

from reports.delivery.cadence import Cadence, Occurrence, due_between
from store import ledger
from store.models import Subscription

MISSED_LOOKBACK: Final = timedelta(days=35)  # how far back missed periods are recorded


def record_missed(
    engine: Engine,
    owner: str,
    sub: Subscription,
    cadence: Cadence,
    latest: Occurrence,
    now: datetime,
) -> None:
    """Give each period before `latest` that has no ledger row a row saying it was missed.

    Only the latest period is sent: a stack of stale reports helps nobody.
    """
    since = max(sub.starts_at, now - MISSED_LOOKBACK)
    for missed in due_between(cadence, since, latest.due_at - timedelta(seconds=1)):
        row = ledger.claim_new(
            engine,
            subscription_id=sub.id or 0,
            period=missed.period,
            due_at=missed.due_at,
            owner=owner,
            now=now,
        )
        if row is not None:
            ledger.skipped(
                engine,
                row,
                now=now,
                reason=(
                    f"missed: no worker ran between {missed.due_at:%Y-%m-%d %H:%M} UTC and the "
                    "next report, which was sent instead"
                ),
            )
