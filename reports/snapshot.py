"""Take the snapshot of one local day of one source: one call per fetch group, each taken once.

Order per group: skip if stored → reserve a quota slot → call → close the slot → keep the raw
body → store the rows. A crash between any two steps loses at most the call in flight; the
next run stores what is missing and never stores anything twice.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from reports.clarity import ClarityClient, ClarityReply, FailedReply, PreparedCall, failed_reply
from reports.errors import (
    ClaritybotError,
    ClarityError,
    ClarityQuotaExceeded,
)
from reports.fetch_plan import DEFAULT_PLAN, FetchGroup, FetchPlan
from reports.parser import ParsedResponse
from reports.rows import metric_rows, ranked_rows
from reports.timezones import day_start, parse_timezone, require_aware, yesterday
from store import quota, repository
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import RawResponse, Snapshot, Source

log = logging.getLogger(__name__)

# A snapshot taken later than this after local midnight is marked late: its 24 h window then
# covers noticeably less of the day it is filed under.
LATE_AFTER: Final = timedelta(hours=1)


@dataclass(frozen=True)
class GroupOutcome:
    """What happened to one fetch group."""

    group: str
    status: str  # stored | already_stored | failed | refused | not_attempted
    message: str = ""
    rows: int = 0
    called: bool = False
    error_kind: str | None = None


@dataclass(frozen=True)
class SnapshotResult:
    """What happened to one (source, local date)."""

    source_id: int
    local_date: date
    due_at: datetime
    outcomes: tuple[GroupOutcome, ...] = field(default_factory=tuple)

    @property
    def calls_spent(self) -> int:
        """Calls sent to Clarity (each may have cost quota)."""
        return sum(1 for o in self.outcomes if o.called)

    @property
    def complete(self) -> bool:
        """True when every group of the plan is stored."""
        return all(o.status in ("stored", "already_stored") for o in self.outcomes)


class _RowKeys(NamedTuple):
    source_id: int
    local_date: date
    fetch_group: str


@dataclass(frozen=True)
class _Context:
    source: Source
    local_date: date
    due_at: datetime
    purpose: str


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
    ) -> None:
        self._engine, self._client, self._cipher = engine, client, cipher
        self._plan, self._policy = plan, policy or quota.QuotaPolicy()
        self._clock = clock

    def take_yesterday(
        self, source_id: int, *, now: datetime, purpose: str = "scheduled"
    ) -> SnapshotResult:
        """Snapshot the day before `now` in the source's workspace timezone."""
        now = require_aware(now)
        with session_scope(self._engine) as session:
            source = repository.get_source(session=session, source_id=source_id)
            workspace = repository.get_workspace(session=session, workspace_id=source.workspace_id)
            tz = parse_timezone(workspace.timezone)
        day = yesterday(now, tz)
        ctx = _Context(source, day, day_start(day + timedelta(days=1), tz), purpose)
        return self._take(ctx, now)

    def _take(self, ctx: _Context, now: datetime) -> SnapshotResult:
        source = ctx.source
        if not source.enabled:
            why = source.status_reason or source.status
            raise ClaritybotError(
                f"Source {source.id} ({source.label}) is disabled: {why} Give it a new token with "
                f"`claritybot sources set-token {source.id} --token-file FILE`."
            )
        token = self._cipher.decrypt(source.token_encrypted)
        calls = {
            g.name: self._client.prepare(token, g.num_days, g.dimensions) for g in self._plan.groups
        }
        with session_scope(self._engine) as session:
            done = repository.stored_groups(
                session=session, source_id=source.id or 0, local_date=ctx.local_date
            )
        outcomes: list[GroupOutcome] = []
        stop: GroupOutcome | None = None
        for group in self._plan.groups:
            if group.name in done:
                outcomes.append(GroupOutcome(group.name, "already_stored"))
            elif stop is not None:
                outcomes.append(GroupOutcome(group.name, "not_attempted", stop.message))
            else:
                outcome = self._take_group(ctx, group, calls[group.name], now)
                outcomes.append(outcome)
                if outcome.status in ("failed", "refused"):
                    # One failure usually means the next call fails too, and each costs quota.
                    stop = outcome
        self._update_health(ctx.source, outcomes, now)
        return SnapshotResult(source.id or 0, ctx.local_date, ctx.due_at, tuple(outcomes))

    def _take_group(
        self, ctx: _Context, group: FetchGroup, call: PreparedCall, now: datetime
    ) -> GroupOutcome:
        slot = quota.reserve(
            self._engine,
            project_key=ctx.source.project_key,
            now=now,
            source_id=ctx.source.id,
            fetch_group=group.name,
            purpose=ctx.purpose,
            policy=self._policy,
        )
        if slot is None:
            usage = quota.usage(
                self._engine, project_key=ctx.source.project_key, now=now, policy=self._policy
            )
            return GroupOutcome(group.name, "refused", _refusal(usage), error_kind="quota_refused")
        called_at = require_aware(self._clock()) if self._clock else now
        try:
            reply = self._client.fetch(call)
        except ClarityError as exc:
            exc.group = group.name
            outcome = quota.QUOTA_EXCEEDED if isinstance(exc, ClarityQuotaExceeded) else exc.kind
            quota.finish(
                self._engine, slot, now=called_at, outcome=outcome, status_code=exc.status,
                error=str(exc),
            )  # fmt: skip
            failed = failed_reply(exc)
            if failed is not None and failed.status is not None:
                self._keep_raw(ctx, group, slot, failed, called_at, call.token)
            log.warning("snapshot of source %s, %s failed: %s", ctx.source.id, group.name, exc.kind)
            return GroupOutcome(group.name, "failed", str(exc), called=True, error_kind=exc.kind)
        quota.finish(self._engine, slot, now=called_at, outcome="ok", status_code=reply.status)
        raw_id = self._keep_raw(ctx, group, slot, reply, called_at, call.token)
        return self._store(ctx, group, reply.parsed, raw_id, called_at)

    def _store(
        self,
        ctx: _Context,
        group: FetchGroup,
        parsed: ParsedResponse,
        raw_id: int,
        called_at: datetime,
    ) -> GroupOutcome:
        source_id = ctx.source.id or 0
        snapshot = Snapshot(
            source_id=source_id,
            local_date=ctx.local_date,
            fetch_group=group.name,
            dimensions=list(parsed.dimensions),
            num_days=group.num_days,
            window_start=called_at - timedelta(days=group.num_days),
            window_end=called_at,
            due_at=ctx.due_at,
            late=called_at - ctx.due_at > LATE_AFTER,
            raw_response_id=raw_id,
            truncated_blocks=list(parsed.truncated_blocks),
            unknown_blocks=list(parsed.unknown_blocks),
            warnings=len(parsed.warnings),
        )
        keys = _RowKeys(source_id, ctx.local_date, group.name)
        rows = metric_rows(parsed, **keys._asdict())
        ranked = ranked_rows(parsed, **keys._asdict())
        try:
            with session_scope(self._engine) as session:
                repository.save_snapshot(
                    session=session, snapshot=snapshot, metric_rows=rows, ranked_rows=ranked
                )
        except IntegrityError:
            message = "stored meanwhile by another run"
            return GroupOutcome(group.name, "already_stored", message, called=True)
        message = f"{len(rows)} rows, {len(ranked)} ranked"
        if parsed.truncated_blocks:
            message += f"; possibly truncated: {', '.join(parsed.truncated_blocks)}"
        return GroupOutcome(group.name, "stored", message, len(rows), called=True)

    def _keep_raw(
        self,
        ctx: _Context,
        group: FetchGroup,
        slot: quota.Reservation,
        reply: ClarityReply | FailedReply,
        at: datetime,
        token: str,
    ) -> int:
        # Defensive: should Clarity ever echo the token, it must not reach the database.
        body = reply.body.replace(token.encode(), b"[token removed]")
        raw = RawResponse(
            source_id=ctx.source.id or 0,
            quota_call_id=slot.id,
            fetch_group=group.name,
            params=dict(reply.params),
            status_code=reply.status,
            received_at=at,
            body_gz=gzip.compress(body, compresslevel=6),
            body_bytes=len(body),
            body_sha256=hashlib.sha256(body).hexdigest(),
        )
        with session_scope(self._engine) as session:
            repository.save_raw(session=session, raw=raw)
            return raw.id or 0

    def _update_health(self, source: Source, outcomes: list[GroupOutcome], now: datetime) -> None:
        status, reason = _health(outcomes)
        with session_scope(self._engine) as session:
            fresh = repository.get_source(session=session, source_id=source.id or 0)
            repository.touch_source(
                session=session,
                source=fresh,
                now=now,
                status=status,
                status_reason=reason,
                # A rejected token would fail every call; no more calls until it is replaced.
                enabled=status != "token_rejected",
            )


_AUTH_KINDS: Final = frozenset({"unauthorized", "forbidden", "auth"})


def _health(outcomes: list[GroupOutcome]) -> tuple[str, str | None]:
    """Return the source status a run leaves behind, and why."""
    for outcome in outcomes:
        if outcome.status == "failed" and outcome.error_kind in _AUTH_KINDS:
            return "token_rejected", outcome.message
    for outcome in outcomes:
        if outcome.status == "refused" or outcome.error_kind == ClarityQuotaExceeded.kind:
            return "quota_exhausted", outcome.message
    for outcome in outcomes:
        if outcome.status == "failed":
            return "failing", outcome.message
    return "connected", None


def _refusal(usage: quota.QuotaUsage) -> str:
    if usage.exhausted:
        return (
            "Clarity answered 429 earlier today, so no more calls are sent before the reset at "
            f"{usage.resets_at:%Y-%m-%d %H:%M} UTC."
        )
    return (
        f"No Clarity call was sent: {usage.used + usage.in_flight} of {usage.cap} calls are used "
        f"today and {usage.manual_reserve} stay reserved for manual refreshes. The limit resets "
        f"at {usage.resets_at:%Y-%m-%d %H:%M} UTC."
    )
