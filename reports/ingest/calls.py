"""One quota-guarded Clarity call: reserve a slot; call; close the slot and keep the raw body."""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine

from reports.clarity.client import (
    ClarityClient,
    ClarityReply,
    FailedReply,
    PreparedCall,
    failed_reply,
)
from reports.errors import ClarityError, ClarityQuotaExceeded
from reports.timezones import require_aware
from store import quota, repository
from store.models import Source
from store.vocab import CallOutcome

log = logging.getLogger(__name__)


T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One call to make: for which source and group, why, and under which claim (`guard`)."""

    source: Source
    call: PreparedCall
    group: str
    purpose: str
    now: datetime
    limit: int | None = None  # the highest slot it may take, below its purpose's own limit
    # Our claim's renewal, run in the reservation's transaction: the call goes only if True.
    guard: Callable[[Connection], bool] | None = None


@dataclass(frozen=True)
class CallResult:
    """How one guarded call ended: a reply, a Clarity error, or a refusal by our ledger."""

    called_at: datetime
    reply: ClarityReply | None = None
    error: ClarityError | None = None
    refused: str | None = None
    raw_id: int | None = None

    @property
    def called(self) -> bool:
        """True when a request went out (and may have cost quota)."""
        return self.refused is None


class GuardedCaller:
    """Sends Clarity calls only with a ledger slot in hand, and keeps every answer.

    Two transactions per call: the reservation before it (its own, so quota is never spent
    twice), and after it one that closes the slot, keeps the raw body and runs `keep`.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        client: ClarityClient,
        policy: quota.QuotaPolicy,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        self.engine, self.client, self.policy = engine, client, policy
        self._clock, self.owner = clock, owner

    def call(
        self,
        *,
        source: Source,
        call: PreparedCall,
        group: str,
        purpose: str,
        now: datetime,
        limit: int | None = None,
    ) -> CallResult:
        """Reserve (up to slot `limit`, if given), send, record; Clarity's errors are returned."""
        request = Request(source, call, group, purpose, now, limit)
        return self.call_keeping(request, keep=_keep_nothing)[0]

    def call_keeping(
        self, request: Request, *, keep: Callable[[Connection, CallResult], T]
    ) -> tuple[CallResult, T]:
        """`call`, then `keep(conn, result)` in the transaction that records the call's end.

        A refused call runs `keep` in a transaction of its own. Raises quota.GuardLost, with
        nothing reserved or sent, when `request.guard` (our claim's renewal) changes no row.
        """
        source = request.source
        slot = quota.reserve(
            self.engine,
            project_key=source.project_key,
            now=request.now,
            source_id=source.id,
            fetch_group=request.group,
            purpose=request.purpose,
            policy=self.policy,
            owner=self.owner,
            limit=request.limit,
            guard=request.guard,
        )
        if slot is None:
            result = self._refused(source, request.now)
            with self.engine.begin() as conn:
                return result, keep(conn, result)
        called_at = require_aware(self._clock()) if self._clock else request.now
        try:
            reply: ClarityReply | FailedReply | None = self.client.fetch(request.call)
            error = None
        except ClarityError as exc:
            reply, error = failed_reply(exc), exc
            exc.group = request.group
        try:
            with self.engine.begin() as conn:
                result = self._record(conn, request, slot, called_at, reply, error)
                return result, keep(conn, result)
        except Exception:
            # `keep` failed and took the whole transaction with it: the slot is closed and the
            # body kept all the same (no savepoint: each costs a round trip on every call).
            with self.engine.begin() as conn:
                self._record(conn, request, slot, called_at, reply, error)
            raise

    def _refused(self, source: Source, now: datetime) -> CallResult:
        policy = self.policy
        usage = quota.usage(self.engine, project_key=source.project_key, now=now, policy=policy)
        return CallResult(now, refused=refusal_message(usage))

    def _record(
        self,
        conn: Connection,
        request: Request,
        slot: quota.Reservation,
        called_at: datetime,
        reply: ClarityReply | FailedReply | None,
        error: ClarityError | None,
    ) -> CallResult:
        """Close the slot with how the call ended, and keep the answer when there was one."""
        _close(conn, request, slot, called_at, reply, error)
        raw_id = None
        if reply is not None and reply.status is not None:
            raw_id = _keep_raw(conn, request, slot, reply, called_at)
        if error is not None:
            return CallResult(called_at, error=error, raw_id=raw_id)
        assert isinstance(reply, ClarityReply)
        return CallResult(called_at, reply=reply, raw_id=raw_id)


def _close(
    conn: Connection,
    request: Request,
    slot: quota.Reservation,
    at: datetime,
    reply: ClarityReply | FailedReply | None,
    error: ClarityError | None,
) -> None:
    """Close the slot: ok, or the error's kind (Clarity's own 429 marked as such)."""
    if error is None:
        assert isinstance(reply, ClarityReply)
        quota.close(conn, slot, now=at, outcome=CallOutcome.OK, status_code=reply.status)
        return
    outcome = quota.QUOTA_EXCEEDED if isinstance(error, ClarityQuotaExceeded) else error.kind
    quota.close(conn, slot, now=at, outcome=outcome, status_code=error.status, error=str(error))
    source_id, group = request.source.id, request.group
    log.warning("Clarity call for source %s, %s failed: %s", source_id, group, error.kind)


def _keep_nothing(_conn: Connection, _result: CallResult) -> None:
    """The `keep` of a call whose caller stores nothing beside the ledger and the raw body."""


def _keep_raw(
    conn: Connection,
    request: Request,
    slot: quota.Reservation,
    reply: ClarityReply | FailedReply,
    at: datetime,
) -> int:
    # Defensive: should Clarity ever echo the token, it must not reach the database.
    body = reply.body.replace(request.call.token.encode(), b"[token removed]")
    return repository.insert_raw(
        conn,
        source_id=request.source.id or 0,
        quota_call_id=slot.id,
        fetch_group=request.group,
        params=dict(reply.params),
        status_code=reply.status,
        received_at=at,
        body_gz=gzip.compress(body, compresslevel=6),
        body_bytes=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def refusal_message(usage: quota.QuotaUsage) -> str:
    """Explain why the ledger refused a call, with the numbers."""
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
