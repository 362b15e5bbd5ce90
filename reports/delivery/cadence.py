"""PURE: when a subscription's reports are due — daily, weekly or monthly at a local time.

Local times are built with zoneinfo, fold=0: a time that does not exist on a spring-forward day
(02:30 in New York) fires at the same distance after the jump (03:30), and a time that happens
twice on a fall-back day fires at its first occurrence only. Dates a zone skipped entirely
(Pacific/Apia had no 2011-12-30) have no report.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from reports.errors import UsageError
from reports.timezones import exists, local_date, require_aware
from store.vocab import Frequency, values

FREQUENCIES: Final = values(Frequency)
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# what a report's chart covers
WINDOW_DAYS: Final[dict[str, int]] = {
    Frequency.DAILY: 30,
    Frequency.WEEKLY: 30,
    Frequency.MONTHLY: 90,
}
_HHMM: Final = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_send_at(text: str) -> time:
    """Parse a local send time `HH:MM` (24-hour)."""
    match = _HHMM.match(text.strip())
    if match is None:
        raise UsageError(f"Send time {text!r} is not HH:MM (24-hour), e.g. 09:00.")
    return time(int(match.group(1)), int(match.group(2)))


def parse_weekday(text: str) -> int:
    """Parse a weekday name or prefix (`mon`, `Tuesday`) to 0 = Monday."""
    found = [i for i, name in enumerate(WEEKDAYS) if name.startswith(text.strip().lower()[:3])]
    if len(text.strip()) < 3 or not found:
        raise UsageError(f"Unknown weekday {text!r}: use monday … sunday.")
    return found[0]


@dataclass(frozen=True)
class Cadence:
    """How often, on which day and at what local time a report goes out."""

    frequency: str
    send_at: time
    tz: ZoneInfo
    weekday: int = 0  # weekly
    month_day: int = 1  # monthly; the last day of shorter months

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise UsageError(f"Frequency must be daily, weekly or monthly, not {self.frequency!r}.")
        if not 0 <= self.weekday <= 6 or not 1 <= self.month_day <= 31:
            raise UsageError("Weekday must be 0–6 and day of month 1–31.")

    def fires_on(self, day: date) -> bool:
        """True when a report goes out on this local date."""
        if not exists(day, self.tz):
            return False
        if self.frequency == Frequency.WEEKLY:
            return day.weekday() == self.weekday
        if self.frequency == Frequency.MONTHLY:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(self.month_day, last)
        return True

    def due_at(self, day: date) -> datetime:
        """Return (UTC) when the report of local date `day` is due."""
        return datetime.combine(day, self.send_at, tzinfo=self.tz).astimezone(UTC)

    def period(self, day: date) -> str:
        """The ledger key of the report sent on `day`: one per day, ISO week or month."""
        if self.frequency == Frequency.WEEKLY:
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.frequency == Frequency.MONTHLY:
            return f"{day:%Y-%m}"
        return day.isoformat()


@dataclass(frozen=True)
class Occurrence:
    """One report: its ledger period, the local date it is sent on, and when it is due."""

    period: str
    day: date
    due_at: datetime


def _occurrence(cadence: Cadence, day: date) -> Occurrence:
    return Occurrence(cadence.period(day), day, cadence.due_at(day))


def latest_due(cadence: Cadence, now: datetime, *, lookback_days: int = 62) -> Occurrence | None:
    """Return the most recent occurrence due at or before `now` (None if none in the lookback)."""
    now = require_aware(now)
    today = local_date(now, cadence.tz)
    for back in range(lookback_days + 1):
        day = today - timedelta(days=back)
        if cadence.fires_on(day) and cadence.due_at(day) <= now:
            return _occurrence(cadence, day)
    return None


def due_between(cadence: Cadence, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence due in (start, end], oldest first."""
    start, end = require_aware(start), require_aware(end)
    day, last = local_date(start, cadence.tz) - timedelta(days=1), local_date(end, cadence.tz)
    found = []
    while day <= last:
        if cadence.fires_on(day) and start < cadence.due_at(day) <= end:
            found.append(_occurrence(cadence, day))
        day += timedelta(days=1)
    return found


def next_due(cadence: Cadence, now: datetime, *, horizon_days: int = 62) -> Occurrence:
    """Return the first occurrence due after `now`."""
    now = require_aware(now)
    today = local_date(now, cadence.tz)
    for ahead in range(-1, horizon_days + 1):  # -1: a late send time may still be ahead
        day = today + timedelta(days=ahead)
        if cadence.fires_on(day) and cadence.due_at(day) > now:
            return _occurrence(cadence, day)
    raise AssertionError("every cadence fires within two months")


def describe(cadence: Cadence) -> str:
    """Say when it goes out, e.g. `weekly on Monday at 09:00 Europe/Paris`."""
    at = f"at {cadence.send_at:%H:%M} {cadence.tz}"
    if cadence.frequency == Frequency.WEEKLY:
        return f"weekly on {WEEKDAYS[cadence.weekday].capitalize()} {at}"
    if cadence.frequency == Frequency.MONTHLY:
        day = "the last day" if cadence.month_day >= 31 else f"day {cadence.month_day}"
        return f"monthly on {day} {at}"
    return f"daily {at}"
