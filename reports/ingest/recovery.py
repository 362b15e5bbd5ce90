"""Rebuild the totals of missed days by subtraction (no competitor does this).

Right after day T's totals are stored on time from a 24 h call made at t, a numOfDays=2 call
made a moment later covers [t-48h, t]: minus the 24 h call it is the day before T, and a
numOfDays=3 call minus the 2-day one is the day before that. Only plain counts survive the
subtraction; averages, percentages and distinct users are never rebuilt this way, and every
rebuilt value is marked estimated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from reports.clarity.client import ClarityClient
from reports.clarity.parser import ParsedResponse
from reports.clarity.rows import dimension_hash
from reports.ingest.calls import GuardedCaller
from reports.ingest.due import MAX_RECOVERY_DAYS, RECOVERY_GROUP, DayState, recovery_targets
from store import repository, runs
from store.db import session_scope
from store.fields import ADDITIVE_METRICS
from store.models import RunLog, Snapshot, Source
from store.vocab import Outcome, Purpose

GROUP: Final = RECOVERY_GROUP
MAX_BACK: Final = MAX_RECOVERY_DAYS


@dataclass(frozen=True)
class Taken:
    """The day whose totals were just stored on time, and when its call was made."""

    day: date
    parsed: ParsedResponse
    called_at: datetime


@dataclass(frozen=True)
class Rebuilt:
    """What happened to one missed day."""

    day: date
    status: Outcome  # recovered | failed | refused | already_stored
    calls: int
    message: str


def targets(
    taken: date, *, tz: ZoneInfo, first_day: date, records: Mapping[date, runs.DayRecord]
) -> tuple[date, ...]:
    """Return the missed days before `taken` whose totals can be rebuilt now."""
    states = {
        day: DayState(stored=frozenset(r.stored), gaps=frozenset(r.gaps))
        for day, r in records.items()
    }
    return recovery_targets(taken, tz=tz, first_day=first_day, days=states)


def totals(parsed: ParsedResponse) -> dict[str, Any] | None:
    """Return the additive counts of a no-dimension response, or None when it has none."""
    rows = [r for r in parsed.rows if r.dimensions == ()]
    if len(rows) != 1:
        return None
    return {name: rows[0].metrics.get(name) for name in ADDITIVE_METRICS}


def subtract(longer: Mapping[str, Any], shorter: Mapping[str, Any]) -> dict[str, Any]:
    """Return longer − shorter per count; unknown or negative results stay unknown (None)."""
    out: dict[str, Any] = {}
    for name in ADDITIVE_METRICS:
        a, b = longer.get(name), shorter.get(name)
        out[name] = a - b if a is not None and b is not None and a >= b else None
    return out


def rebuild(
    caller: GuardedCaller,
    *,
    client: ClarityClient,
    source: Source,
    token: str,
    taken: Taken,
    targets: tuple[date, ...],
    due: Callable[[date], datetime],
    now: datetime,
    limit: int | None = None,
) -> list[Rebuilt]:
    """Make the n-day calls the targets need (up to slot `limit`, if given: a manual
    snapshot's share) and store their estimated totals."""
    windows: dict[int, tuple[dict[str, Any] | None, datetime, int | None]] = {
        1: (totals(taken.parsed), taken.called_at, None)
    }
    deepest = max((taken.day - t).days for t in targets) + 1
    problem = ""
    for n in range(2, deepest + 1):
        result = caller.call(
            source=source,
            call=client.prepare(token, n, ()),
            group=GROUP,
            purpose=Purpose.RECOVERY,
            now=now,
            limit=limit,
        )
        if result.reply is None:
            problem = result.refused or str(result.error)
            break
        windows[n] = (totals(result.reply.parsed), result.called_at, result.raw_id)
    out = []
    for day in targets:
        back = (taken.day - day).days
        if back + 1 not in windows:
            refused = problem and problem.startswith("No Clarity")
            status = Outcome.REFUSED if refused else Outcome.FAILED
            out.append(Rebuilt(day, status, 0, problem))
            _log(caller, source, day, status, 0, taken.called_at, problem)
            continue
        out.append(_store(caller, source, day, back, windows, due(day)))
    return out


def _store(
    caller: GuardedCaller,
    source: Source,
    day: date,
    back: int,
    windows: Mapping[int, tuple[dict[str, Any] | None, datetime, int | None]],
    due_at: datetime,
) -> Rebuilt:
    longer, longer_at, raw_id = windows[back + 1]
    shorter, shorter_at, _ = windows[back]
    if longer is None or shorter is None:
        message = "the responses held no totals to subtract"
        _log(caller, source, day, Outcome.FAILED, 1, longer_at, message)
        return Rebuilt(day, Outcome.FAILED, 1, message)
    snapshot = Snapshot(
        source_id=source.id or 0,
        local_date=day,
        fetch_group=GROUP,
        dimensions=[],
        num_days=back + 1,
        window_start=longer_at - timedelta(days=back + 1),
        window_end=shorter_at - timedelta(days=back),
        due_at=due_at,
        estimated=True,
        raw_response_id=raw_id,
    )
    if not _save(caller, snapshot, subtract(longer, shorter)):
        _log(caller, source, day, Outcome.ALREADY_STORED, 1, longer_at, None)
        return Rebuilt(day, Outcome.ALREADY_STORED, 1, "stored meanwhile by another run")
    _log(caller, source, day, Outcome.RECOVERED, 1, longer_at, None)
    message = f"totals rebuilt from a {back + 1}-day call (estimated)"
    return Rebuilt(day, Outcome.RECOVERED, 1, message)


def _save(caller: GuardedCaller, snapshot: Snapshot, estimate: Mapping[str, Any]) -> bool:
    """Store an estimated day's one totals row; False when another run stored the day first."""
    row = {
        "source_id": snapshot.source_id,
        "local_date": snapshot.local_date,
        "fetch_group": snapshot.fetch_group,
        "dimension_hash": dimension_hash((), ()),
        **estimate,
    }
    try:
        with session_scope(caller.engine) as session:
            repository.save_snapshot(
                session=session, snapshot=snapshot, metric_rows=[row], ranked_rows=[]
            )
    except IntegrityError:
        return False
    return True


def _log(
    caller: GuardedCaller,
    source: Source,
    day: date,
    outcome: str,
    calls: int,
    at: datetime,
    error: str | None,
) -> None:
    runs.record_run(
        caller.engine,
        RunLog(
            source_id=source.id or 0,
            local_date=day,
            fetch_group=GROUP,
            started_at=at,
            finished_at=at,
            outcome=outcome,
            calls=calls,
            estimated=outcome == Outcome.RECOVERED,
            error=error or None,
            owner=caller.owner,
        ),
    )
