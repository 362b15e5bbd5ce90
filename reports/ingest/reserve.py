"""Tonight's calls come first: what a manual call may take of today's (UTC) Clarity calls.

Clarity's calls reset at midnight UTC: west of UTC that is the afternoon before the local
midnight run (16:00 in Los Angeles), east of it the morning after (09:00 in Tokyo). A manual
call (a live look, `claritybot snapshot`, `/clarity connect`'s first snapshot) may only take
the slots that leave the scheduler every call it still needs before the next reset, counted
over every source of the Clarity project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import select

from reports.ingest.due import LATE_LIMIT, spread
from reports.ingest.fetch_plan import DEFAULT_PLAN, FetchPlan
from reports.timezones import due_at, local_date, parse_timezone, yesterday
from store import quota, repository
from store.db import session_scope
from store.models import Source
from store.vocab import Purpose


@dataclass(frozen=True)
class Budget:
    """Today's (UTC) calls and what the scheduler still needs of them."""

    usage: quota.QuotaUsage
    needed: int  # calls the scheduler will still make before the UTC reset
    automatic_limit: int  # the highest slot automatic calls may take
    zone: ZoneInfo = ZoneInfo("UTC")  # the asking source's workspace: says when calls free up

    @property
    def manual_limit(self) -> int:
        """The highest slot a manual call may take now: tonight's calls stay below the rest."""
        if not self.needed:
            return self.usage.cap
        return max(self.automatic_limit - self.needed, 0)

    @property
    def allows_one(self) -> bool:
        """True when one more call leaves the scheduler every call it still needs."""
        after = self.usage.used + self.usage.in_flight + 1
        return self.usage.left >= 1 and after <= self.manual_limit

    def local_reset(self, after: timedelta = timedelta(0)) -> str:
        """The UTC reset (plus `after`) in the workspace's time: `16:00 Tue 2 Dec in …`."""
        at = (self.usage.resets_at + after).astimezone(self.zone)
        return f"{at:%H:%M on %a %-d %b} in {self.zone.key}"


def pending_calls(
    engine: Engine,
    source: Source,
    now: datetime,
    reset: datetime,
    plan: FetchPlan,
    skip: date | None = None,
) -> int:
    """Count the plan calls the scheduler will still make for this source before `reset`
    (not for `skip`: the day a manual snapshot is taking itself)."""
    sid = source.id or 0
    with session_scope(engine) as session:
        workspace = repository.get_workspace(session=session, workspace_id=source.workspace_id)
        tz = parse_timezone(workspace.timezone)
        total = 0
        # Yesterday may still be pending (a late run); today is due at the coming midnight.
        for day in (yesterday(now, tz), local_date(now, tz)):
            if day == skip:
                continue
            if due_at(day, tz) + spread(sid) >= reset or now > due_at(day, tz) + LATE_LIMIT:
                continue
            done = repository.stored_groups(session=session, source_id=sid, local_date=day)
            total += sum(1 for g in plan.groups if g.name not in done)
    return total


def budget(
    engine: Engine,
    source: Source,
    now: datetime,
    policy: quota.QuotaPolicy,
    plan: FetchPlan = DEFAULT_PLAN,
    *,
    taking: date | None = None,
) -> Budget:
    """Where today's calls stand for a manual call, over every source of the project;
    `taking`: the day of `source` a manual snapshot takes (its calls replace the scheduler's)."""
    usage = quota.usage(engine, project_key=source.project_key, now=now, policy=policy)
    with session_scope(engine) as session:
        siblings = [
            s
            for s in session.exec(select(Source).where(Source.project_key == source.project_key))
            if s.enabled or s.id == source.id
        ]
        zone = repository.get_workspace(session=session, workspace_id=source.workspace_id)
        tz = parse_timezone(zone.timezone)
    needed = sum(
        pending_calls(
            engine, s, now, usage.resets_at, plan, skip=taking if s.id == source.id else None
        )
        for s in siblings
    )
    return Budget(usage, needed, policy.limit_for(Purpose.SCHEDULED), tz)


def held_back(plan: Budget) -> str:
    """Why a manual snapshot's call was not sent, and when calls free up."""
    u = plan.usage
    when = f"{u.resets_at:%H:%M} UTC ({plan.local_reset()})"
    if u.left < 1:
        return (
            f"Not called: all {u.cap} Clarity calls of today (UTC) are used. Calls free up at "
            f"{when}."
        )
    return (
        f"Not called: {u.used + u.in_flight} of {u.cap} Clarity calls are used today (UTC) and "
        f"tonight's run still needs {plan.needed} of the {plan.automatic_limit} it may use "
        f"before the reset; manual calls never take those. Calls free up at {when}."
    )
