"""The named vocabularies are exactly the strings stored and printed, on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from reports.delivery.cadence import FREQUENCIES
from reports.delivery.subscriptions import KINDS
from reports.errors import (
    ClarityForbidden,
    ClarityQuotaExceeded,
    ClarityServerError,
    ClarityUnauthorized,
    rejects_token,
)
from reports.render.ai import SummarySource
from store import quota, repository
from store.models import Source
from store.vocab import (
    AlertState,
    CallOutcome,
    Condition,
    DeliveryStatus,
    DestinationKind,
    Direction,
    Frequency,
    Outcome,
    Purpose,
    SourceStatus,
    values,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_each_vocabulary_holds_the_strings_already_stored():
    assert values(Outcome) == (
        "stored",
        "already_stored",
        "failed",
        "refused",
        "not_attempted",
        "recovered",
        "quota_exhausted",
        "gap",
    )
    assert values(CallOutcome) == ("ok", "quota_exceeded", "abandoned")
    assert CallOutcome.QUOTA_EXCEEDED == ClarityQuotaExceeded.kind  # a 429 blocks the day
    assert values(Purpose) == quota.PURPOSES == ("scheduled", "recovery", "connect", "manual")
    assert values(SourceStatus) == (
        "connected",
        "token_rejected",
        "quota_exhausted",
        "failing",
        "removed",
    )
    assert set(DeliveryStatus) == {
        "claimed",
        "sending",
        "sent",
        "retrying",
        "failed",
        "skipped",
        "unknown",
    }
    assert values(DestinationKind) == KINDS == ("slack", "email", "outbox")
    assert values(Frequency) == FREQUENCIES == ("daily", "weekly", "monthly")
    assert values(Condition) == ("above", "below", "change", "anomaly")
    assert values(Direction) == ("up", "down", "both")
    assert values(AlertState) == ("fired", "clear", "unknown")
    assert values(SummarySource) == ("ai", "template")


def test_members_print_and_serialise_as_their_values():
    member = DeliveryStatus.SENT
    assert (str(member), f"{member}", f"{member:<6}|") == ("sent", "sent", "sent  |")
    assert json.dumps({member: Outcome.GAP}) == '{"sent": "gap"}'


def test_a_member_is_stored_as_its_plain_value(engine):
    with Session(engine) as session:
        ws = repository.default_workspace(session=session)
        source = Source(workspace_id=ws.id, label="s", project_key="p", token_fingerprint="f")
        session.add(source)
        session.commit()
        repository.touch_source(
            session=session, source=source, now=NOW, status=SourceStatus.TOKEN_REJECTED
        )
        session.commit()
        raw = session.execute(text("SELECT status FROM source")).scalar_one()
    assert type(raw) is str and raw == "token_rejected"


def test_the_one_definition_of_a_rejected_token():
    assert rejects_token(ClarityUnauthorized.kind) and rejects_token(ClarityForbidden.kind)
    assert not rejects_token(ClarityServerError.kind) and not rejects_token(None)
