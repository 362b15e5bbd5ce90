"""Take the snapshot of one local day of one source: one call per fetch group, each taken once.

Order per group: skip if stored → reserve a quota slot (renewing our claim, in one short
transaction) → call → close the slot, keep the raw body, store the rows and log the attempt (in
one transaction). A crash between any two steps loses at most the call in flight; the next run
stores what is missing and never stores anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from reports.clarity.client import ClarityClient, PreparedCall
from reports.clarity.parser import ParsedResponse
from reports.ingest import recovery
from reports.ingest.calls import CallResult, GuardedCaller, Request
from reports.ingest.daycheck import TooLateForDay, day_context, refuse_when_too_late
from reports.ingest.due import ON_TIME
from reports.ingest.fetch_plan import DEFAULT_PLAN, FetchGroup, FetchPlan
from reports.ingest.outcomes import STOPPING, GroupOutcome, SnapshotResult, health
from reports.ingest.reserve import Budget, budget, held_back
from reports.ingest.storing import DayContext, log_attempt, store_group
from reports.timezones import due_at, parse_timezone, require_aware, yesterday
from store import quota, repository, runs
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import Source
from store.vocab import Outcome, Purpose

__all__ = ["GroupOutcome", "SnapshotResult", "Snapshotter", "TooLateForDay"]

LEASE_LOST = "our claim's lease expired and another process took the day over"
SOURCE_CHANGED = "the source was paused, removed or given a new token meanwhile"


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
        return self.take_loaded(source, tz, day, now=now, purpose=purpose, share=share)

    def take_day(
        self,
        source_id: int,
        day: date,
        *,
        now: datetime,
        purpose: str = Purpose.SCHEDULED,
        groups: Sequence[str] | None = None,
        renewal: Callable[[Connection], bool] | None = None,
    ) -> SnapshotResult:
        """Take the missing fetch groups (all, or `groups`) of a day that has ended.

        `renewal` (our claim's renewal) runs in each call's reservation: when it answers False,
        our claim's lease was taken over and the day stops before that call.
        """
        source, tz = self._load(source_id)
        return self.take_loaded(
            source, tz, day, now=now, purpose=purpose, groups=groups, renewal=renewal
        )

    def _load(self, source_id: int) -> tuple[Source, ZoneInfo]:
        with session_scope(self._engine) as session:
            source = repository.get_source(session=session, source_id=source_id)
            workspace = repository.get_workspace(session=session, workspace_id=source.workspace_id)
            return source, parse_timezone(workspace.timezone)

    def take_loaded(
        self,
        source: Source,
        tz: ZoneInfo,
        day: date,
        *,
        now: datetime,
        purpose: str = Purpose.SCHEDULED,
        groups: Sequence[str] | None = None,
        renewal: Callable[[Connection], bool] | None = None,
        share: Budget | None = None,
    ) -> SnapshotResult:
        """`take_day` for a source already loaded (the scheduler loads each once per tick);
        `share` caps a manual snapshot's calls at what tonight's run leaves."""
        ctx = replace(day_context(source, tz, day, require_aware(now), purpose), budget=share)
        wanted = [g for g in self._plan.groups if groups is None or g.name in groups]
        token = self._cipher.decrypt(source.token_encrypted)
        # Every call is checked before the first is sent: a bad one must cost no quota.
        calls = {g.name: self._client.prepare(token, g.num_days, g.dimensions) for g in wanted}
        with Session(self._engine) as session:  # a read: nothing to commit
            done = repository.stored_groups(
                session=session, source_id=source.id or 0, local_date=day
            )
        outcomes, rebuilt = self._take_groups(
            ctx, token, [(g, calls[g.name]) for g in wanted], done, renewal, now
        )
        self._update_health(source, outcomes, now)
        return SnapshotResult(source.id or 0, day, ctx.due_at, outcomes, rebuilt)

    def _take_groups(
        self,
        ctx: DayContext,
        token: str,
        wanted: list[tuple[FetchGroup, PreparedCall]],
        done: set[str],
        renewal: Callable[[Connection], bool] | None,
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
            else:
                limit = ctx.budget.manual_limit if ctx.budget else None
                request = Request(ctx.source, call, group.name, ctx.purpose, now, limit)
                outcome, parsed, result = self._take_group(ctx, group, request, renewal)
                outcomes.append(outcome)
                if outcome.status in STOPPING or outcome.status == Outcome.NOT_ATTEMPTED:
                    # A failure usually repeats and each call costs quota; a lost claim is
                    # another process's to finish.
                    stop = outcome
                elif parsed is not None and group.name == recovery.GROUP:
                    rebuilt += self._recover(ctx, token, parsed, result, now)
        return tuple(outcomes), tuple(rebuilt)

    def _take_group(
        self,
        ctx: DayContext,
        group: FetchGroup,
        request: Request,
        renewal: Callable[[Connection], bool] | None,
    ) -> tuple[GroupOutcome, ParsedResponse | None, CallResult | None]:
        """One call, and in the transaction that records it: its rows and its run log entry."""
        request = replace(request, guard=renewal)
        try:
            result, outcome = self._caller.call_keeping(
                request, keep=partial(self._keep, ctx, group)
            )
        except quota.GuardLost:
            # A hung owner woke up after another process took the day over (calling now would
            # spend quota on a group the new owner calls too), or the source changed meanwhile.
            why = LEASE_LOST if self._unchanged(ctx.source) else SOURCE_CHANGED
            return GroupOutcome(group.name, Outcome.NOT_ATTEMPTED, why), None, None
        stored = outcome.status == Outcome.STORED
        late = result.called_at - ctx.due_at > ON_TIME
        parsed = result.reply.parsed if result.reply is not None else None
        return outcome, parsed if stored and not late else None, result

    def _unchanged(self, source: Source) -> bool:
        """True when the source is still enabled with the token we hold."""
        with Session(self._engine) as session:
            fresh = session.get(Source, source.id)
            return bool(fresh and fresh.enabled and fresh.token_encrypted == source.token_encrypted)

    def _keep(
        self, ctx: DayContext, group: FetchGroup, conn: Connection, result: CallResult
    ) -> GroupOutcome:
        """What one call brought: its rows stored, and its attempt logged, in `conn`."""
        late = result.called_at - ctx.due_at > ON_TIME
        if result.refused is not None:
            held = ctx.budget is not None and ctx.budget.needed > 0
            why = self._held_back(ctx, result.called_at) if held else result.refused
            outcome = GroupOutcome(group.name, Outcome.REFUSED, why, error_kind="quota_refused")
        elif result.error is not None:
            exc = result.error
            outcome = GroupOutcome(
                group.name, Outcome.FAILED, str(exc), called=True, error_kind=exc.kind
            )
        else:
            assert result.reply is not None
            outcome = store_group(conn, ctx, group, result.reply.parsed, result, late)
        log_attempt(conn, self._owner, ctx, group.name, result, outcome, late)
        return outcome

    def _held_back(self, ctx: DayContext, now: datetime) -> str:
        """Why a manual call was refused, with the numbers as they stand after it."""
        policy, day = self._caller.policy, ctx.local_date
        return held_back(budget(self._engine, ctx.source, now, policy, self._plan, taking=day))

    def _recover(
        self,
        ctx: DayContext,
        token: str,
        parsed: ParsedResponse,
        result: CallResult | None,
        now: datetime,
    ) -> list[recovery.Rebuilt]:
        if result is None or ctx.first_day >= ctx.local_date:
            return []  # nothing before the source's first day to rebuild: no query
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
            limit=ctx.budget.manual_limit if ctx.budget else None,  # a manual one's share only
        )

    def _update_health(
        self, source: Source, outcomes: tuple[GroupOutcome, ...], now: datetime
    ) -> None:
        status, reason = health(outcomes)
        if status is None:
            return  # nothing was attempted: what we knew before still holds
        with self._engine.begin() as conn:
            # A rejected token would fail every call; no more calls until it is replaced.
            repository.set_health(
                conn,
                source_id=source.id or 0,
                token=source.token_encrypted,
                now=now,
                status=status,
                reason=reason,
            )
