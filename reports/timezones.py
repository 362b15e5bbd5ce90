"""Local days in a workspace's IANA timezone, computed with zoneinfo (never with `schedule`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return (in UTC) the first instant of `day` in `tz`.

    Where local midnight does not exist (America/Santiago, America/Havana jump 00:00 → 01:00),
    fold=0 resolves it with the offset before the jump, which is exactly the first instant that
    does exist; where midnight happens twice, fold=0 is the first of the two.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def yesterday(now: datetime, tz: ZoneInfo) -> date:
    """Return the local date before the one `now` falls in."""
    return local_date(now, tz) - timedelta(days=1)
