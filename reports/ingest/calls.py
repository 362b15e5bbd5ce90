"""One quota-guarded Clarity call: reserve a slot, call, close the slot, keep the raw body."""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

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
from store.db import session_scope
from store.models import RawResponse, Source
from store.vocab import CallOutcome

log = logging.getLogger(__name__)


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
    """Sends Clarity calls only with a ledger slot in hand, and keeps every answer."""

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
        slot = quota.reserve(
            self.engine,
            project_key=source.project_key,
            now=now,
            source_id=source.id,
            fetch_group=group,
            purpose=purpose,
            policy=self.policy,
            owner=self.owner,
            limit=limit,
        )
        if slot is None:
            usage = quota.usage(
                self.engine, project_key=source.project_key, now=now, policy=self.policy
            )
            return CallResult(now, refused=refusal_message(usage))
        called_at = require_aware(self._clock()) if self._clock else now
        try:
            reply = self.client.fetch(call)
        except ClarityError as exc:
            return self._failed(source, group, slot, call, exc, called_at)
        quota.finish(
            self.engine, slot, now=called_at, outcome=CallOutcome.OK, status_code=reply.status
        )
        raw_id = self._keep_raw(source, group, slot, reply, called_at, call.token)
        return CallResult(called_at, reply=reply, raw_id=raw_id)

    def _failed(
        self,
        source: Source,
        group: str,
        slot: quota.Reservation,
        call: PreparedCall,
        exc: ClarityError,
        called_at: datetime,
    ) -> CallResult:
        """Close the slot with the error's kind, and keep the answer when there was one."""
        exc.group = group
        outcome = quota.QUOTA_EXCEEDED if isinstance(exc, ClarityQuotaExceeded) else exc.kind
        quota.finish(
            self.engine,
            slot,
            now=called_at,
            outcome=outcome,
            status_code=exc.status,
            error=str(exc),
        )
        failed = failed_reply(exc)
        raw_id = None
        if failed is not None and failed.status is not None:
            raw_id = self._keep_raw(source, group, slot, failed, called_at, call.token)
        log.warning("Clarity call for source %s, %s failed: %s", source.id, group, exc.kind)
        return CallResult(called_at, error=exc, raw_id=raw_id)

    def _keep_raw(
        self,
        source: Source,
        group: str,
        slot: quota.Reservation,
        reply: ClarityReply | FailedReply,
        at: datetime,
        token: str,
    ) -> int:
        # Defensive: should Clarity ever echo the token, it must not reach the database.
        body = reply.body.replace(token.encode(), b"[token removed]")
        raw = RawResponse(
            source_id=source.id or 0,
            quota_call_id=slot.id,
            fetch_group=group,
            params=dict(reply.params),
            status_code=reply.status,
            received_at=at,
            body_gz=gzip.compress(body, compresslevel=6),
            body_bytes=len(body),
            body_sha256=hashlib.sha256(body).hexdigest(),
        )
        with session_scope(self.engine) as session:
            repository.save_raw(session=session, raw=raw)
            return raw.id or 0


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
