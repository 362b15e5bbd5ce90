"""SQLModel tables. No `from __future__ import annotations`: SQLModel reads annotations at runtime.

Status columns hold the words of store/vocab.py. A change here needs a migration in
store/migrations/versions (tests compare the two).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime, utcnow
from store.vocab import AlertState, DeliveryStatus, Direction, SourceStatus


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _fk(target: str, **kwargs: Any) -> Any:
    return Field(
        sa_column=Column(
            Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=True, **kwargs
        )
    )


class Workspace(SQLModel, table=True):
    """A team using claritybot: a Slack workspace, or "default" for the CLI."""

    __tablename__ = "workspace"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = _utc(default_factory=utcnow)


class Source(SQLModel, table=True):
    """A connected Clarity project: its encrypted token and its health."""

    __tablename__ = "source"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    label: str = Field(max_length=200)
    project_key: str = Field(index=True, max_length=64)
    token_fingerprint: str = Field(max_length=32)
    # Fernet ciphertext; "" once the source is removed and the token wiped.
    token_encrypted: str = Field(default="")
    enabled: bool = True
    status: str = Field(default=SourceStatus.CONNECTED, max_length=32)  # a SourceStatus
    status_reason: str | None = None
    # Every local day up to this one is settled (stored or recorded as a gap): the scheduler
    # looks only at later days, so a tick stays cheap however old the source is.
    complete_through: date | None = None
    # Who connected it (a Slack user id): told when its token is rejected.
    owner_user_id: str | None = Field(default=None, max_length=64)
    # Clarity's own project id, for "Open in Clarity" links; from the token's claims or set.
    clarity_project_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)


class QuotaCall(SQLModel, table=True):
    """One slot of a project's daily Clarity calls, reserved before the call is sent.

    The unique (project, UTC day, slot) key is what keeps concurrent callers under the cap: slots
    only go from 1 to the cap, and two callers cannot hold the same one.
    """

    __tablename__ = "quota_call"
    __table_args__ = (UniqueConstraint("project_key", "utc_day", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    project_key: str = Field(max_length=64)
    utc_day: date
    slot: int
    source_id: int | None = None  # no FK: the ledger outlives a removed source
    fetch_group: str = Field(max_length=64)
    purpose: str = Field(max_length=32)  # a Purpose
    reserved_at: datetime = _utc()
    finished_at: datetime | None = _utc(default=None)
    # A CallOutcome or a ClarityError kind; None while in flight.
    outcome: str | None = Field(default=None, max_length=32)
    status_code: int | None = None
    error: str | None = None
    owner: str | None = Field(default=None, max_length=128)  # the process that reserved it


class RawResponse(SQLModel, table=True):
    """The body of one Clarity call as received (gzip), kept for audit and re-parsing.

    The token is never stored: only the query parameters and the body.
    """

    __tablename__ = "raw_response"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    quota_call_id: int | None = Field(default=None, index=True)
    fetch_group: str = Field(max_length=64)
    params: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status_code: int | None = None
    received_at: datetime = _utc()
    body_gz: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    body_bytes: int = 0
    body_sha256: str = Field(max_length=64)


class Snapshot(SQLModel, table=True):
    """One fetch group of one local day of one source: the unit that is taken exactly once."""

    __tablename__ = "snapshot"
    __table_args__ = (UniqueConstraint("source_id", "local_date", "fetch_group"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    local_date: date
    fetch_group: str = Field(max_length=64)
    # Dimension columns of this group's rows, in request order ([] for the overall call).
    dimensions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    num_days: int = 1
    # The real UTC window the call covered: Clarity's "last N*24 h" ends at the call.
    window_start: datetime = _utc()
    window_end: datetime = _utc()
    due_at: datetime = _utc()
    late: bool = False
    estimated: bool = False
    raw_response_id: int | None = None
    row_count: int = 0
    ranked_count: int = 0
    truncated_blocks: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    unknown_blocks: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    warnings: int = 0
    created_at: datetime = _utc(default_factory=utcnow)


class MetricRow(SQLModel, table=True):
    """The metrics of one slice (dimension tuple) of a snapshot. Never summed across groups."""

    __tablename__ = "metric_row"
    __table_args__ = (
        UniqueConstraint("source_id", "local_date", "fetch_group", "dimension_hash"),
        # The history read (one group of one source over a date range): without it the unique
        # key above made PostgreSQL read ~13,000 index entries for a 90-row series.
        Index("ix_metric_row_series", "source_id", "fetch_group", "local_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = _fk("snapshot.id")
    source_id: int
    local_date: date
    fetch_group: str = Field(max_length=64)
    dimension_hash: str = Field(max_length=32)
    url: str | None = None  # normalised; `url_raw` keeps what Clarity sent
    url_raw: str | None = None
    device: str | None = None
    country: str | None = None
    browser: str | None = None
    os: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    channel: str | None = None
    sessions: int | None = None
    bot_sessions: int | None = None
    distinct_users: int | None = None
    pages_per_session: float | None = None
    scroll_depth: float | None = None
    engagement_time_ms: int | None = None
    total_time_ms: int | None = None
    dead_clicks: int | None = None
    dead_clicks_sessions_pct: float | None = None
    dead_clicks_pages: int | None = None
    excessive_scroll: int | None = None
    excessive_scroll_sessions_pct: float | None = None
    excessive_scroll_pages: int | None = None
    rage_clicks: int | None = None
    rage_clicks_sessions_pct: float | None = None
    rage_clicks_pages: int | None = None
    quick_backs: int | None = None
    quick_backs_sessions_pct: float | None = None
    quick_backs_pages: int | None = None
    script_errors: int | None = None
    script_errors_sessions_pct: float | None = None
    script_errors_pages: int | None = None
    error_clicks: int | None = None
    error_clicks_sessions_pct: float | None = None
    error_clicks_pages: int | None = None


class RankedRow(SQLModel, table=True):
    """One entry of a top-10 list from the no-dimension call (browsers, page titles...)."""

    __tablename__ = "ranked_row"
    __table_args__ = (UniqueConstraint("snapshot_id", "list_name", "rank"),)

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = _fk("snapshot.id")
    source_id: int
    local_date: date
    fetch_group: str = Field(max_length=64)
    list_name: str = Field(max_length=32)
    rank: int
    name: str | None = None  # as Clarity sent it: a title, a browser, a full URL...
    url: str | None = None  # normalised, for referrers and popular pages
    count: int | None = None  # sessions, or visits for popular pages


class SnapshotClaim(SQLModel, table=True):
    """A process's claim on taking one (source, local day); others leave it alone until it expires.

    The unique key makes the claim atomic on every backend; a claim whose owner died is taken
    over once `expires_at` passes (or at once, when the owner is a dead process on this host).
    """

    __tablename__ = "snapshot_claim"
    __table_args__ = (UniqueConstraint("source_id", "local_date"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    local_date: date
    owner: str = Field(max_length=128)
    claimed_at: datetime = _utc()
    expires_at: datetime = _utc()


class RunLog(SQLModel, table=True):
    """One attempt at one fetch group of one day: what happened, when, and what it cost."""

    __tablename__ = "run_log"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    local_date: date
    fetch_group: str = Field(max_length=64)
    started_at: datetime = _utc()
    finished_at: datetime = _utc()
    outcome: str = Field(max_length=32)  # an Outcome
    calls: int = 0
    late: bool = False
    estimated: bool = False
    error: str | None = None
    owner: str | None = Field(default=None, max_length=128)


class DayGap(SQLModel, table=True):
    """A fetch group of a day that could not be taken at all, and why. Never silently absent."""

    __tablename__ = "day_gap"
    __table_args__ = (UniqueConstraint("source_id", "local_date", "fetch_group"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    local_date: date
    fetch_group: str = Field(max_length=64)
    reason: str
    recorded_at: datetime = _utc()


class Subscription(SQLModel, table=True):
    """A scheduled report: which metrics of which source go where, how often and when."""

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspace.id")
    source_id: int = _fk("source.id")
    metrics: list[str] = Field(sa_column=Column(JSON, nullable=False))  # keys, or ["digest"]
    destination_kind: str = Field(max_length=16)  # a DestinationKind
    destination: str = Field(max_length=500)  # channel id, address, or directory
    frequency: str = Field(max_length=16)  # a Frequency
    weekday: int | None = None  # weekly: 0 = Monday
    month_day: int | None = None  # monthly: 1..31 (the last day of shorter months)
    send_at: str = Field(default="09:00", max_length=5)  # local HH:MM
    timezone: str | None = Field(default=None, max_length=64)  # None: the workspace's
    summary: bool = False
    skip_when_empty: bool = False
    created_by: str | None = Field(default=None, max_length=64)  # Slack user id, or "cli"
    active: bool = True
    # Periods due before this moment are never sent: a new subscription does not replay history.
    starts_at: datetime = _utc(default_factory=utcnow)
    created_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """The delivery ledger: one row per (subscription, period), written *before* anything is sent.

    The unique key is what makes a second send of a period impossible, whoever tries.
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = _fk("subscription.id")
    period: str = Field(max_length=16)  # 2026-03-10, 2026-W11, 2026-03
    due_at: datetime = _utc()
    status: str = Field(default=DeliveryStatus.CLAIMED, max_length=16, index=True)
    attempts: int = 0
    owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = _utc(default=None, nullable=True)
    next_attempt_at: datetime | None = _utc(default=None, nullable=True)
    sending_at: datetime | None = _utc(default=None, nullable=True)
    sent_at: datetime | None = _utc(default=None, nullable=True)
    message_id: str | None = Field(default=None, max_length=300)  # Slack ts, Message-ID, file
    error: str | None = None
    note: str | None = None  # e.g. "sent without that day's snapshot (waited 3 h)"
    created_at: datetime = _utc(default_factory=utcnow)
    updated_at: datetime = _utc(default_factory=utcnow)


class AlertRule(SQLModel, table=True):
    """A condition on a metric, checked after each night's snapshot, and who to tell."""

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspace.id")
    source_id: int = _fk("source.id")
    metric: str = Field(max_length=64)
    page: str | None = Field(default=None, max_length=500)  # a URL path; None: the whole site
    condition: str = Field(max_length=16)  # a Condition
    threshold: float  # a value (above/below) or a percentage (change/anomaly)
    direction: str = Field(default=Direction.UP, max_length=8)  # change/anomaly
    window_days: int = 7
    weeks: int = 4  # anomaly: the same weekday over this many weeks before
    min_sessions: int = 200  # less traffic than this in the window: no verdict
    destination_kind: str = Field(max_length=16)  # a DestinationKind
    destination: str = Field(max_length=500)
    cooldown_hours: int | None = 24  # None: tell every day it holds
    only_first: bool = False  # tell only when it starts to hold
    active: bool = True
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc(default_factory=utcnow)
    state: str = Field(default=AlertState.UNKNOWN, max_length=16)  # an AlertState
    state_reason: str | None = None
    evaluated_day: date | None = None
    last_told_at: datetime | None = _utc(default=None, nullable=True)
    thread: str | None = Field(default=None, max_length=100)  # Slack channel:ts of the first post
    muted_until: datetime | None = _utc(default=None, nullable=True)  # "Mute 24 h" in Slack


class AlertEvent(SQLModel, table=True):
    """One evaluation of a rule for one day: written before anyone is told, so once per day."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("rule_id", "local_date"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = _fk("alert_rule.id")
    local_date: date
    state: str = Field(max_length=16)  # an AlertState
    value: float | None = None
    baseline: float | None = None
    message: str
    told: str | None = None  # where it was sent (Slack ts, Message-ID, file), or why not
    created_at: datetime = _utc(default_factory=utcnow)


class QualityNotice(SQLModel, table=True):
    """A data problem of a source the owner was told about; removed when it clears."""

    __tablename__ = "quality_notice"
    __table_args__ = (UniqueConstraint("source_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = _fk("source.id")
    kind: str = Field(max_length=32)
    text: str
    told_at: datetime = _utc(default_factory=utcnow)


class ChannelChoice(SQLModel, table=True):
    """The project a Slack channel picked last, so commands there need no project id."""

    __tablename__ = "channel_choice"
    __table_args__ = (UniqueConstraint("workspace_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = _fk("workspace.id")
    channel: str = Field(max_length=64)
    source_id: int = _fk("source.id")
    updated_at: datetime = _utc(default_factory=utcnow)
