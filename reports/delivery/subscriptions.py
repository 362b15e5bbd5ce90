"""Subscriptions: create, list and stop scheduled reports (shared by the CLI and Slack)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from reports.delivery.cadence import Cadence, describe, next_due, parse_send_at
from reports.errors import COMMAND, UsageError
from reports.history.catalogue import get_metric
from reports.timezones import parse_timezone
from store import repository
from store.db import session_scope
from store.models import Source, Subscription
from store.vocab import DestinationKind, Frequency, SourceStatus, values

DIGEST: Final = "digest"  # the six-metric digest instead of single metrics
KINDS: Final = values(DestinationKind)
MAX_METRICS: Final = 6
_CHANNEL: Final = re.compile(r"^[CG][A-Z0-9]{1,20}$")
# Deliberately plain: one @, a dot in the domain, no spaces or angle brackets (header safety).
_EMAIL: Final = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")


@dataclass(frozen=True)
class NewSubscription:
    """What a person asked for, before it is checked."""

    source_id: int
    metrics: Sequence[str]
    kind: str
    destination: str
    frequency: str = Frequency.DAILY
    weekday: int = 0
    month_day: int = 1
    send_at: str = "09:00"
    timezone: str | None = None
    summary: bool = False
    skip_when_empty: bool = False
    created_by: str | None = None


def check_metrics(keys: Sequence[str]) -> list[str]:
    """Return the metric keys (or `digest`) in canonical form; unknown keys are a UsageError."""
    if not keys:
        raise UsageError.naming(
            f"Name at least one metric (or `digest`). {COMMAND} lists them.",
            cli="claritybot metrics",
            slack="/clarity metrics",
        )
    out = [DIGEST if k.strip().lower() == DIGEST else get_metric(k).key for k in keys]
    if len(set(out)) > MAX_METRICS:
        raise UsageError(f"At most {MAX_METRICS} metrics per subscription (or `digest`).")
    return list(dict.fromkeys(out))


def check_destination(kind: str, destination: str) -> str:
    """Return a cleaned destination, or raise UsageError saying what is expected."""
    value = destination.strip()
    if kind == DestinationKind.SLACK and not _CHANNEL.match(value):
        raise UsageError(f"{value!r} is not a Slack channel id (like C0123ABCD).")
    if kind == DestinationKind.EMAIL and (not _EMAIL.match(value) or len(value) > 254):
        raise UsageError(f"{value!r} is not an email address.")
    if kind == DestinationKind.OUTBOX:
        if not value:
            raise UsageError("--outbox needs a directory.")
        value = str(Path(value).expanduser())
    if kind not in KINDS:
        raise UsageError(f"Unknown destination kind {kind!r}.")
    return value


EMAIL_SETTINGS: Final = (
    "SMTP_URL (e.g. smtp://mail.example.com:587), MAIL_FROM and, if your server needs them, "
    "SMTP_USERNAME and SMTP_PASSWORD"
)


def require_email(kind: str, *, configured: bool) -> None:
    """Refuse an email destination when no mail server is set up, saying what to set."""
    if kind != DestinationKind.EMAIL or configured:
        return
    raise UsageError(
        "Email is not set up, so this report could not be sent: set "
        f"{EMAIL_SETTINGS}, then subscribe again.",
        # Short enough for a form's field error: the settings, and what to do meanwhile.
        in_slack=(
            "Email is not set up on the claritybot server: whoever runs it sets SMTP_URL and "
            "MAIL_FROM (README: Configuration). Until then, pick a channel."
        ),
    )


def cadence_of(sub: Subscription, workspace_tz: str) -> Cadence:
    """The subscription's schedule, in its own timezone or its workspace's."""
    return Cadence(
        sub.frequency,
        parse_send_at(sub.send_at),
        parse_timezone(sub.timezone or workspace_tz),
        sub.weekday or 0,
        sub.month_day or 1,
    )


def subscribe(
    engine: Engine, request: NewSubscription, *, workspace_id: int | None, now: datetime
) -> Subscription:
    """Check and store a subscription; with `workspace_id`, only that workspace's sources."""
    metrics = check_metrics(request.metrics)
    destination = check_destination(request.kind, request.destination)
    send_at = parse_send_at(request.send_at)
    if request.timezone:
        parse_timezone(request.timezone)
    Cadence(request.frequency, send_at, parse_timezone("UTC"), request.weekday, request.month_day)
    with session_scope(engine) as session:
        source = _source(session, request.source_id, workspace_id)
        sub = Subscription(
            workspace_id=source.workspace_id,
            source_id=source.id or 0,
            metrics=metrics,
            destination_kind=request.kind,
            destination=destination,
            frequency=request.frequency,
            weekday=request.weekday if request.frequency == Frequency.WEEKLY else None,
            month_day=request.month_day if request.frequency == Frequency.MONTHLY else None,
            send_at=f"{send_at:%H:%M}",
            timezone=request.timezone or None,
            summary=request.summary,
            skip_when_empty=request.skip_when_empty,
            created_by=request.created_by,
            starts_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(sub)
        session.flush()
        session.refresh(sub)
        session.expunge(sub)
        return sub


def _source(session: Session, source_id: int, workspace_id: int | None) -> Source:
    source = session.get(Source, source_id)
    if source is None or (workspace_id is not None and source.workspace_id != workspace_id):
        raise UsageError(f"There is no source {source_id} here.")
    if source.status == SourceStatus.REMOVED:
        raise UsageError(f"Source {source_id} ({source.label}) was removed.")
    return source


def list_subscriptions(
    engine: Engine,
    *,
    workspace_id: int | None = None,
    active_only: bool = True,
    source_ids: Collection[int] | None = None,
) -> list[Subscription]:
    """Return subscriptions, oldest first (one workspace's, or these sources', when given)."""
    with session_scope(engine) as session:
        query = select(Subscription).order_by(col(Subscription.id))
        if workspace_id is not None:
            query = query.where(Subscription.workspace_id == workspace_id)
        if source_ids is not None:
            query = query.where(col(Subscription.source_id).in_(list(source_ids)))
        if active_only:
            query = query.where(col(Subscription.active).is_(True))
        subs = list(session.exec(query).all())
        for sub in subs:
            session.expunge(sub)
        return subs


def count_subscriptions(engine: Engine) -> int:
    """How many subscriptions are active."""
    with Session(engine) as session:
        query = select(func.count()).select_from(Subscription)
        return session.exec(query.where(col(Subscription.active).is_(True))).one()


def get_subscription(
    engine: Engine, subscription_id: int, *, workspace_id: int | None = None
) -> Subscription:
    """Return an active subscription (of this workspace, when given) or raise UsageError."""
    with session_scope(engine) as session:
        sub = session.get(Subscription, subscription_id)
        if (
            sub is None
            or not sub.active
            or (workspace_id is not None and sub.workspace_id != workspace_id)
        ):
            raise UsageError(
                f"There is no active subscription {subscription_id} here (see the list of them)."
            )
        session.expunge(sub)
        return sub


def unsubscribe(
    engine: Engine, subscription_id: int, *, workspace_id: int | None, now: datetime
) -> Subscription:
    """Stop a subscription; its delivery history stays. Idempotent."""
    with session_scope(engine) as session:
        sub = session.get(Subscription, subscription_id)
        if sub is None or (workspace_id is not None and sub.workspace_id != workspace_id):
            raise UsageError(f"There is no subscription {subscription_id} here.")
        sub.active, sub.updated_at = False, now
        session.add(sub)
        session.flush()
        session.expunge(sub)
        return sub


def where(sub: Subscription) -> str:
    """Say where it goes, e.g. `#C0123 (Slack)` or `ann@example.com`."""
    if sub.destination_kind == DestinationKind.SLACK:
        return f"<#{sub.destination}>"
    if sub.destination_kind == DestinationKind.OUTBOX:
        return f"outbox {sub.destination}"
    return sub.destination


def schedule_text(engine: Engine, sub: Subscription, now: datetime) -> str:
    """Say when it goes out and when next, e.g. `daily at 09:00 UTC; next Tue 10 Mar 09:00`."""
    with session_scope(engine) as session:
        zone = repository.get_workspace(session=session, workspace_id=sub.workspace_id).timezone
    cadence = cadence_of(sub, zone)
    upcoming = next_due(cadence, max(now, sub.starts_at))
    local = upcoming.due_at.astimezone(cadence.tz)
    return f"{describe(cadence)}; next {local:%a %-d %b %H:%M}"
