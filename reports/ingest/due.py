"""PURE: which local days of a source are due, late, recoverable or lost at an instant.

Clarity keeps no history, so the rules err towards taking a day (late, and marked so) over
losing it, and towards recording a loss (a gap with its reason) over leaving a day silently absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from reports.timezones import day_start, due_at, exists, local_date

ON_TIME: Final = timedelta(hours=1)  # later than this after midnight, a snapshot is "late"
# Until this long after midnight a day is still taken directly (late). After it the 24 h window
# would mostly cover the next day, so the day waits for recovery by subtraction or is lost.
LATE_LIMIT: Final = timedelta(hours=12)
# Sources due at the same midnight start over this many seconds: a short stagger, so a tick a
# minute after midnight finds everything due, and the bounded pool keeps calls from bursting.
SPREAD_SECONDS: Final = 60
RECOVERY_GROUP: Final = "overall"  # only totals can be rebuilt by subtraction
MAX_RECOVERY_DAYS: Final = 2  # numOfDays is at most 3: the day before and the one before that
_BACKOFF: Final = (5, 15, 45, 120)  # minutes before retry n after a failure


def spread(source_id: int) -> timedelta:
    """Return a stable delay for a source, so one busy midnight does not fire all at once."""
    return timedelta(seconds=(source_id * 7) % SPREAD_SECONDS)


def backoff(failures: int) -> timedelta:
    """Return how long to wait after the n-th consecutive failure before trying again."""
    return timedelta(minutes=_BACKOFF[min(max(failures, 1), len(_BACKOFF)) - 1])


def recovery_deadline(day: date, tz: ZoneInfo) -> datetime:
    """Return the last moment a missed day can still be rebuilt (during the run two days on)."""
    return due_at(day + timedelta(days=MAX_RECOVERY_DAYS), tz) + ON_TIME


@dataclass(frozen=True)
class DayState:
    """What is known about one day of a source."""

    stored: frozenset[str] = frozenset()
    gaps: frozenset[str] = frozenset()
    failures: int = 0  # consecutive failed attempts since the last success
    last_failure: datetime | None = None
    problem: str | None = None  # what the last unsuccessful attempt ran into, in words
    claimed: bool = False  # a claim is still held on it


EMPTY: Final = DayState()


@dataclass(frozen=True)
class Take:
    """Call Clarity now for these groups of this day."""

    day: date
    groups: tuple[str, ...]
    late: bool


@dataclass(frozen=True)
class Lose:
    """These groups of this day can no longer be taken: record a gap with the reason."""

    day: date
    groups: tuple[str, ...]
    reason: str


def plan_days(
    *,
    now: datetime,
    tz: ZoneInfo,
    open_from: date,
    days: Mapping[date, DayState],
    groups: tuple[str, ...],
    offset: timedelta = timedelta(0),
    late_limit: timedelta = LATE_LIMIT,
) -> list[Take | Lose]:
    """Return what to do now for every unsettled day from `open_from` up to yesterday."""
    today = local_date(now, tz)
    actions: list[Take | Lose] = []
    day = open_from
    while day < today:
        due = due_at(day, tz)
        if now < due + offset:
            break  # later days are not due either
        if due == day_start(day, tz):
            day += timedelta(days=1)
            continue  # a date the zone skipped (Apia, 2011-12-30): there is nothing to take
        state = days.get(day, EMPTY)
        missing = tuple(g for g in groups if g not in state.stored and g not in state.gaps)
        if missing:
            action = _decide(now, tz, day, due, missing, state, late_limit)
            if action is not None:
                actions.append(action)
        day += timedelta(days=1)
    return actions


def _decide(
    now: datetime,
    tz: ZoneInfo,
    day: date,
    due: datetime,
    missing: tuple[str, ...],
    state: DayState,
    late_limit: timedelta,
) -> Take | Lose | None:
    if now <= due + late_limit:
        if state.last_failure is not None and now < state.last_failure + backoff(state.failures):
            return None  # backing off after a failure
        return Take(day, missing, late=now - due > ON_TIME)
    waiting = now <= recovery_deadline(day, tz)
    lost = tuple(g for g in missing if g != RECOVERY_GROUP or not waiting)
    if not lost:
        return None  # totals may still be rebuilt by subtraction; breakdowns cannot
    why = why_lost(state)
    if RECOVERY_GROUP in lost:
        why += ", and it could not be rebuilt from the next days' data"
    return Lose(day, lost, f"{why} (the window closed {(due + late_limit):%Y-%m-%d %H:%M} UTC)")


def why_lost(state: DayState) -> str:
    """Say what really kept a day from being taken: a 429, failures, a stuck claim, or no run."""
    if state.problem and not state.failures:
        return f"{state.problem} was reached each time it was tried"
    if state.failures:
        return "Clarity kept failing" + (f" (last: {state.problem})" if state.problem else "")
    if state.claimed:
        return "a claim on it was never released (its process hung or kept dying)"
    return "no run happened while it could be taken"


def recovery_targets(
    taken: date, *, tz: ZoneInfo, first_day: date, days: Mapping[date, DayState]
) -> tuple[date, ...]:
    """Return the days before `taken` whose totals can be rebuilt now, nearest first.

    Valid right after `taken`'s totals were stored on time: a numOfDays=n call made at the same
    moment, minus the (n-1)-day one, is exactly the day n-1 before `taken`.
    """
    targets = []
    for back in range(1, MAX_RECOVERY_DAYS + 1):
        day = taken - timedelta(days=back)
        state = days.get(day, EMPTY)
        if day < first_day or not exists(day, tz):
            break  # 24 h blocks no longer line up with local days across a skipped date
        if RECOVERY_GROUP not in state.stored and RECOVERY_GROUP not in state.gaps:
            targets.append(day)
    return tuple(targets)
