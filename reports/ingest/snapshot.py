"""Take the snapshot of one local day of one source: one call per fetch group, each taken once.

Order per group: skip if stored → reserve a quota slot → call → close the slot → keep the raw
body → store the rows → log the attempt. A crash between any two steps loses at most the call
in flight; the next run stores what is missing and never stores anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from reports.clarity.client import ClarityClient, PreparedCall
from reports.clarity.parser import ParsedResponse
from reports.errors import ClaritybotError, UsageError
from reports.ingest import recovery
from reports.ingest.calls import CallResult, GuardedCaller
from reports.ingest.due import LATE_LIMIT, ON_TIME
from reports.ingest.fetch_plan import DEFAULT_PLAN, FetchGroup, FetchPlan
from reports.ingest.outcomes import STOPPING, GroupOutcome, SnapshotResult, health
from reports.ingest.reserve import Budget, budget, held_back
from reports.ingest.storing import DayContext, log_attempt, store_group
from reports.timezones import due_at, local_date, parse_timezone, require_aware, yesterday
from store import quota, repository, runs
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import Source
from store.vocab import Outcome, Purpose, SourceStatus

__all__ = ["GroupOutcome", "SnapshotResult", "Snapshotter"]

LEASE_LOST = "our claim's lease expired and another process took the day over"


def _context(source: Source, tz: ZoneInfo, day: date, now: datetime, purpose: str) -> DayContext:
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


class Snapshotter:
    """Takes snapshots for sources. Collaborators are passed in; nothing is global."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: ClarityClient,
        cipher: TokenCipher,
        plan: FetchPlan = DEFAULT_PLAN,
        policy: quota.QuotaPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        self._engine, self._client, self._cipher, self._plan = engine, client, cipher, plan
        self._caller = GuardedCaller(
            engine=engine,
            client=client,
            policy=policy or quota.QuotaPolicy(),
            clock=clock,
            owner=owner,
        )
        self._owner = owner

    @property
    def plan(self) -> FetchPlan:
        """The fetch plan this snapshotter takes."""
        return self._plan

    def take_yesterday(
        self, source_id: int, *, now: datetime, purpose: str = Purpose.SCHEDULED
    ) -> SnapshotResult:
        """Snapshot the day before `now` in the source's workspace timezone; asked for by
        hand, only within the 12-hour rule and the calls tonight's run leaves."""
        source, tz = self._load(source_id)
        now = require_aware(now)
        day = yesterday(now, tz)
        share = None
        if purpose in (Purpose.MANUAL, Purpose.CONNECT):
            refuse_when_too_late(day, tz, now)
            share = budget(self._engine, source, now, self._caller.policy, self._plan, taking=day)
        return self._take_day(source, tz, day, now=now, purpose=purpose, groups=None, share=share)

    def take_day(
        self,
        source_id: int,
        day: date,
        *,
        now: datetime,
        purpose: str = Purpose.SCHEDULED,
        groups: Sequence[str] | None = None,
        still_ours: Callable[[], bool] | None = None,
    ) -> SnapshotResult:
        """Take the missing fetch groups (all, or `groups`) of a day that has ended.

        `still_ours` is asked before each call: False (our claim's lease was taken over) stops.
        """
        source, tz = self._load(source_id)
        return self._take_day(
            source, tz, day, now=now, purpose=purpose, groups=groups, still_ours=still_ours
        )

    def _load(self, source_id: int) -> tuple[Source, ZoneInfo]:
        with session_scope(self._engine) as session:
            source = repository.get_source(session=session, source_id=source_id)
            workspace = repository.get_workspace(session=session, workspace_id=source.workspace_id)
            return source, parse_timezone(workspace.timezone)

    def _take_day(
        self,
        source: Source,
        tz: ZoneInfo,
        day: date,
        *,
        now: datetime,
        purpose: str,
        groups: Sequence[str] | None,
        still_ours: Callable[[], bool] | None = None,
        share: Budget | None = None,
    ) -> SnapshotResult:
        """Take the wanted groups of `day` not stored yet, then record the source's health."""
        ctx = replace(_context(source, tz, day, require_aware(now), purpose), budget=share)
        wanted = [g for g in self._plan.groups if groups is None or g.name in groups]
        token = self._cipher.decrypt(source.token_encrypted)
        # Every call is checked before the first is sent: a bad one must cost no quota.
        calls = {g.name: self._client.prepare(token, g.num_days, g.dimensions) for g in wanted}
        with session_scope(self._engine) as session:
            done = repository.stored_groups(
                session=session, source_id=source.id or 0, local_date=day
            )
        outcomes, rebuilt = self._take_groups(
            ctx, token, [(g, calls[g.name]) for g in wanted], done, still_ours, now
        )
        self._update_health(source, outcomes, now)
        return SnapshotResult(source.id or 0, day, ctx.due_at, outcomes, rebuilt)

    def _take_groups(
        self,
        ctx: DayContext,
        token: str,
        wanted: list[tuple[FetchGroup, PreparedCall]],
        done: set[str],
        still_ours: Callable[[], bool] | None,
        now: datetime,
    ) -> tuple[tuple[GroupOutcome, ...], tuple[recovery.Rebuilt, ...]]:
        """Take each group in plan order until one stops the run; the rest are not attempted."""
        outcomes: list[GroupOutcome] = []
        rebuilt: list[recovery.Rebuilt] = []
        stop: GroupOutcome | None = None
        for group, call in wanted:
            if group.name in done:
                outcomes.append(GroupOutcome(group.name, Outcome.ALREADY_STORED))
            elif stop is not None:
                outcomes.append(GroupOutcome(group.name, Outcome.NOT_ATTEMPTED, stop.message))
            elif still_ours is not None and not still_ours():
                # A hung owner woke up after another process took the day over: calling now
                # would spend quota on a group the new owner calls too.
                stop = GroupOutcome(group.name, Outcome.NOT_ATTEMPTED, LEASE_LOST)
                outcomes.append(stop)
            else:
                outcome, parsed, result = self._take_group(ctx, group, call, now)
                outcomes.append(outcome)
                if outcome.status in STOPPING:
                    # One failure usually means the next call fails too, and each costs quota.
                    stop = outcome
                elif parsed is not None and group.name == recovery.GROUP:
                    rebuilt += self._recover(ctx, token, parsed, result, now)
        return tuple(outcomes), tuple(rebuilt)

    def _take_group(
        self, ctx: DayContext, group: FetchGroup, call: PreparedCall, now: datetime
    ) -> tuple[GroupOutcome, ParsedResponse | None, CallResult]:
        share = ctx.budget
        result = self._caller.call(
            source=ctx.source,
            call=call,
            group=group.name,
            purpose=ctx.purpose,
            now=now,
            limit=share.manual_limit if share else None,
        )
        late = result.called_at - ctx.due_at > ON_TIME
        parsed = result.reply.parsed if result.reply is not None else None
        if result.refused is not None:
            why = self._held_back(ctx, now) if share and share.needed else result.refused
            outcome = GroupOutcome(group.name, Outcome.REFUSED, why, error_kind="quota_refused")
        elif result.error is not None:
            exc = result.error
            outcome = GroupOutcome(
                group.name, Outcome.FAILED, str(exc), called=True, error_kind=exc.kind
            )
        else:
            assert parsed is not None
            outcome = store_group(self._engine, ctx, group, parsed, result, late)
        log_attempt(self._engine, self._owner, ctx, group.name, result, outcome, late)
        stored = outcome.status == Outcome.STORED
        return outcome, parsed if stored and not late else None, result

    def _held_back(self, ctx: DayContext, now: datetime) -> str:
        """Why a manual call was refused, with the numbers as they stand after it."""
        policy, day = self._caller.policy, ctx.local_date
        return held_back(budget(self._engine, ctx.source, now, policy, self._plan, taking=day))

    def _recover(
        self, ctx: DayContext, token: str, parsed: ParsedResponse, result: CallResult, now: datetime
    ) -> list[recovery.Rebuilt]:
        source_id = ctx.source.id or 0
        since = ctx.local_date - timedelta(days=recovery.MAX_BACK)
        records = runs.day_records(self._engine, source_id=source_id, since=since)
        tz = ctx.tz
        targets = recovery.targets(ctx.local_date, tz=tz, first_day=ctx.first_day, records=records)
        if not targets:
            return []
        return recovery.rebuild(
            self._caller,
            client=self._client,
            source=ctx.source,
            token=token,
            taken=recovery.Taken(ctx.local_date, parsed, result.called_at),
            targets=targets,
            due=lambda day: due_at(day, tz),
            now=now,
        )

    def _update_health(
        self, source: Source, outcomes: tuple[GroupOutcome, ...], now: datetime
    ) -> None:
        status, reason = health(outcomes)
        if status is None:
            return  # nothing was attempted: what we knew before still holds
        with session_scope(self._engine) as session:
            fresh = repository.get_source(session=session, source_id=source.id or 0)
            repository.touch_source(
                session=session,
                source=fresh,
                now=now,
                status=status,
                status_reason=reason,
                # A rejected token would fail every call; no more calls until it is replaced.
                enabled=status != SourceStatus.TOKEN_REJECTED,
            )
