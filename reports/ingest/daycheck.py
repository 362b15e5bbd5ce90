"""Whether a day of a source may be taken: it has ended, the source is enabled, and (asked for
by hand) Clarity's 24 h window still mostly covers it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reports.errors import ClaritybotError, UsageError
from reports.ingest.due import LATE_LIMIT
from reports.ingest.storing import DayContext
from reports.timezones import due_at, local_date
from store.models import Source


def day_context(source: Source, tz: ZoneInfo, day: date, now: datetime, purpose: str) -> DayContext:
    """What taking `day` needs to know; refuses a day not over yet and a disabled source."""
    ctx = DayContext(source, tz, day, due_at(day, tz), local_date(source.created_at, tz), purpose)
    if now < ctx.due_at:
        raise UsageError(f"{day} has not ended yet in the workspace timezone ({tz}).")
    if not source.enabled:
        why = source.status_reason or source.status
        disabled = f"Source {source.id} ({source.label}) is disabled: {why}"
        raise ClaritybotError(
            f"{disabled} Give it a new token with "
            f"`claritybot sources set-token {source.id} --token-file FILE`.",
            in_slack=f"{disabled} Connect it again with a new token: `/clarity connect`.",
        )
    return ctx


class TooLateForDay(UsageError):
    """A manual snapshot asked for a day its 24 h window would no longer mostly cover."""


def refuse_when_too_late(day: date, tz: ZoneInfo, now: datetime) -> None:
    """The scheduler's 12-hour rule, for manual snapshots too: Clarity's window is the last 24 h
    before the call, so later than 12 h after midnight it holds more of today than of `day`."""
    limit = due_at(day, tz) + LATE_LIMIT
    if now <= limit:
        return
    local = now.astimezone(tz)
    raise TooLateForDay(
        f"It is {local:%H:%M} on {local:%a %-d %b} ({tz.key}): Clarity only answers for the last "
        f"24 hours, which now hold more of today than of {day:%a %-d %b}, so {day:%a %-d %b} "
        f"can no longer be taken directly (the limit was {limit.astimezone(tz):%H:%M} local). "
        "Nothing was stored and no call was spent. Tonight's run will rebuild it from a "
        "longer window where it can (its totals, marked estimated); `/clarity refresh` gives a "
        "live look at the last 24 hours now (not stored)."
    )
