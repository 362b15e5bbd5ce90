"""The store step of a snapshot: keep one fetch group's reply as rows, and log the attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from reports.clarity.parser import ParsedResponse
from reports.clarity.rows import metric_rows, ranked_rows
from reports.errors import ClarityQuotaExceeded
from reports.ingest.calls import CallResult
from reports.ingest.fetch_plan import FetchGroup
from reports.ingest.outcomes import STOPPING, GroupOutcome
from reports.ingest.reserve import Budget
from store import repository, runs
from store.models import Source
from store.vocab import Outcome


@dataclass(frozen=True)
class DayContext:
    """What taking one (source, local day) needs to know."""

    source: Source
    tz: ZoneInfo
    local_date: date
    due_at: datetime
    first_day: date
    purpose: str
    budget: Budget | None = None  # a manual snapshot's share: tonight's calls stay untouched


def store_group(
    conn: Connection,
    ctx: DayContext,
    group: FetchGroup,
    parsed: ParsedResponse,
    result: CallResult,
    late: bool,
) -> GroupOutcome:
    """Store one group's parsed reply; a row stored meanwhile by another run is not stored twice."""
    source_id, day = ctx.source.id or 0, ctx.local_date
    rows = metric_rows(parsed, source_id=source_id, local_date=day, fetch_group=group.name)
    ranked = ranked_rows(parsed, source_id=source_id, local_date=day, fetch_group=group.name)
    snapshot = snapshot_values(ctx, group, parsed, result, late)
    if repository.insert_snapshot_once(conn, snapshot, rows, ranked) is None:
        message = "stored meanwhile by another run"
        return GroupOutcome(group.name, Outcome.ALREADY_STORED, message, called=True)
    message = f"{len(rows)} rows, {len(ranked)} ranked"
    if parsed.truncated_blocks:
        message += f"; possibly truncated: {', '.join(parsed.truncated_blocks)}"
    if late:
        message += "; late"
    return GroupOutcome(group.name, Outcome.STORED, message, len(rows), called=True)


def log_attempt(
    conn: Connection,
    owner: str | None,
    ctx: DayContext,
    group: str,
    result: CallResult,
    outcome: GroupOutcome,
    late: bool,
) -> None:
    """Record one group's attempt in the run log, in the transaction that recorded the call."""
    runs.add_run(
        conn,
        source_id=ctx.source.id or 0,
        local_date=ctx.local_date,
        fetch_group=group,
        started_at=result.called_at,
        finished_at=result.called_at,
        # A 429 marks the day "quota exhausted": it is not a failure to back off from.
        outcome=Outcome.QUOTA_EXHAUSTED
        if outcome.error_kind == ClarityQuotaExceeded.kind
        else outcome.status,
        calls=1 if outcome.called else 0,
        late=late,
        estimated=False,
        error=outcome.message if outcome.status in STOPPING else None,
        owner=owner,
    )


def snapshot_values(
    ctx: DayContext, group: FetchGroup, parsed: ParsedResponse, result: CallResult, late: bool
) -> dict[str, Any]:
    """The snapshot row of one group's reply, with the real window its call covered."""
    return {
        "source_id": ctx.source.id or 0,
        "local_date": ctx.local_date,
        "fetch_group": group.name,
        "dimensions": list(parsed.dimensions),
        "num_days": group.num_days,
        "window_start": result.called_at - timedelta(days=group.num_days),
        "window_end": result.called_at,
        "due_at": ctx.due_at,
        "late": late,
        "estimated": False,
        "raw_response_id": result.raw_id,
        "truncated_blocks": list(parsed.truncated_blocks),
        "unknown_blocks": list(parsed.unknown_blocks),
        "warnings": len(parsed.warnings),
    }
