"""A live look at the last 24 hours: one Clarity call, only when tonight's snapshot keeps its calls.

Never stored as a daily point: a rolling 24 h window is not a calendar day. The raw answer is
kept like every other (the call cost quota), but no snapshot or metric row is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine

from reports.clarity.client import ClarityClient
from reports.clarity.parser import parse_insights
from reports.errors import ClarityError
from reports.ingest.calls import GuardedCaller
from reports.ingest.reserve import Budget, budget
from reports.timezones import require_aware
from store import quota
from store.crypto import TokenCipher
from store.errors import ClaritybotError
from store.models import Source
from store.vocab import Purpose

GROUP: Final = "live"
SHOWN: Final = (
    ("sessions", "Sessions"),
    ("distinct_users", "Users"),
    ("pages_per_session", "Pages/session"),
    ("scroll_depth", "Scroll depth %"),
    ("engagement_time_ms", "Active time per session"),
    ("rage_clicks", "Rage clicks"),
    ("dead_clicks", "Dead clicks"),
    ("quick_backs", "Quick backs"),
    ("script_errors", "Script errors"),
)


class RefreshRefused(ClaritybotError):
    """The call would eat into what tonight's snapshot needs; the message has the numbers."""


@dataclass(frozen=True)
class LiveLook:
    """The last 24 h, as Clarity answered just now."""

    at: datetime
    values: dict[str, float | int | None]
    calls_used: int
    cap: int


def live_look(
    engine: Engine,
    *,
    client: ClarityClient,
    cipher: TokenCipher,
    policy: quota.QuotaPolicy,
    source: Source,
    now: datetime,
) -> LiveLook:
    """Spend one manual call on the last 24 h, unless tonight's snapshot needs it."""
    now = require_aware(now)
    if not source.enabled:
        why = source.status_reason or source.status
        raise ClaritybotError(f"{source.label} is paused: {why}")
    plan = budget(engine, source, now, policy)
    if not plan.allows_one:
        raise RefreshRefused(refusal(plan))
    call = client.prepare(cipher.decrypt(source.token_encrypted), 1, ())
    caller = GuardedCaller(engine=engine, client=client, policy=policy)
    # The budget is checked again inside the reservation: concurrent refreshes cannot pass it.
    result = caller.call(
        source=source,
        call=call,
        group=GROUP,
        purpose=Purpose.MANUAL,
        now=now,
        limit=plan.manual_limit,
    )
    if result.refused and plan.needed:
        raise RefreshRefused(refusal(budget(engine, source, now, policy)))
    if result.refused:
        raise RefreshRefused(result.refused)
    if result.error is not None or result.reply is None:
        raise result.error or ClarityError("Clarity gave no answer.")
    parsed = parse_insights(json.loads(result.reply.body))
    row = next((r.metrics for r in parsed.rows if not any(r.dimensions)), {})
    after = quota.usage(engine, project_key=source.project_key, now=now, policy=policy)
    return LiveLook(now, {k: row.get(k) for k, _ in SHOWN}, after.used + after.in_flight, after.cap)


def refusal(plan: Budget) -> str:
    """Explain a refused live look with the numbers."""
    u = plan.usage
    if u.left < 1:
        return (
            f"No live look: all {u.cap} Clarity calls of today are used. They reset at "
            f"{u.resets_at:%H:%M} UTC ({plan.local_reset()})."
        )
    later = timedelta(minutes=1)
    return (
        f"No live look now: {u.used + u.in_flight} of {u.cap} Clarity calls are used today (UTC) "
        f"and tonight's snapshot still needs {plan.needed} of the {plan.automatic_limit} it may "
        f"use before the reset at {u.resets_at:%H:%M} UTC. Try again after the reset: "
        f"{u.resets_at + later:%H:%M} UTC ({plan.local_reset(later)})."
    )
