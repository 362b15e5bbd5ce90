"""A source's days that cannot be taken any more: recorded as lost, and the watermark moved."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from reports.ingest.due import Lose
from reports.ingest.outcomes import TickReport
from reports.notify import Notifier
from reports.timezones import exists, local_date
from store import runs
from store.models import RunLog, Source
from store.vocab import Outcome


def open_from(source: Source, tz: ZoneInfo) -> date:
    """The first local day of a source not yet settled."""
    first = local_date(source.created_at, tz)
    if source.complete_through is None:
        return first
    return max(first, source.complete_through + timedelta(days=1))


def record_lost(
    engine: Engine,
    owner: str,
    notifier: Notifier,
    source: Source,
    action: Lose,
    now: datetime,
    report: TickReport,
) -> None:
    """Record a day's groups as a gap (once, whichever process gets there first) and tell."""
    source_id, day, reason = source.id or 0, action.day, action.reason
    recorded = [
        g
        for g in action.groups
        if runs.record_gap(
            engine, source_id=source_id, local_date=day, group=g, reason=reason, now=now
        )
    ]
    if not recorded:
        return  # another process recorded it first
    for group in recorded:
        runs.record_run(
            engine,
            RunLog(
                source_id=source_id,
                local_date=action.day,
                fetch_group=group,
                started_at=now,
                finished_at=now,
                outcome=Outcome.GAP,
                error=action.reason,
                owner=owner,
            ),
        )
    report.lost.append((source_id, action.day, tuple(recorded), action.reason))
    notifier.day_lost(source_id, source.label, action.day, tuple(recorded), action.reason)


def settle(
    engine: Engine,
    groups: tuple[str, ...],
    source_id: int,
    first_open: date,
    today: date,
    tz: ZoneInfo,
    records: dict[date, runs.DayRecord],
) -> None:
    """Advance the watermark over days whose every group is stored or lost."""
    settled, day = None, first_open
    while day < today:
        record = records.get(day, runs.DayRecord())
        done = set(groups) <= record.stored | record.gaps
        if exists(day, tz) and not done:
            break
        settled, day = day, day + timedelta(days=1)
    if settled is not None:
        runs.set_complete_through(engine, source_id=source_id, day=settled)
