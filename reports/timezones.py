"""Local days in a workspace's IANA timezone, computed with zoneinfo (never with `schedule`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reports.errors import UsageError


def parse_timezone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name, or raise UsageError saying what is accepted."""
    cleaned = name.strip()
    try:
        if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
            raise ValueError(cleaned)
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(
            f"Unknown timezone {name!r}. Use an IANA name such as Europe/London, "
            "America/New_York or UTC (see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)."
        ) from None


def require_aware(now: datetime) -> datetime:
    """Return `now` in UTC; a naive datetime is refused rather than guessed."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(UTC)


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """Return the calendar date in `tz` at the instant `now`."""
    return require_aware(now).astimezone(tz).date()


@lru_cache(maxsize=8192)  # pure, and asked for the same few days on every tick
def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return (in UTC) the first instant of `day` in `tz`.

    Where local midnight does not exist (America/Santiago, America/Havana jump 00:00 → 01:00),
    fold=0 resolves it with the offset before the jump, which is exactly the first instant that
    does exist; where midnight happens twice, fold=0 is the first of the two.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def exists(day: date, tz: ZoneInfo) -> bool:
    """False for a date a zone skipped entirely (Pacific/Apia had no 2011-12-30)."""
    return day_start(day, tz) < day_start(day + timedelta(days=1), tz)


def yesterday(now: datetime, tz: ZoneInfo) -> date:
    """Return the last local date before the one `now` falls in (skipping dates that never were)."""
    day = local_date(now, tz) - timedelta(days=1)
    while not exists(day, tz):
        day -= timedelta(days=1)
    return day


def due_at(day: date, tz: ZoneInfo) -> datetime:
    """Return when the snapshot of `day` becomes due: the first instant of the next day."""
    return day_start(day + timedelta(days=1), tz)
