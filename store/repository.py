"""Keyword-only persistence functions for workspaces, sources and snapshots."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.errors import NotFoundError
from store.models import (
    AlertRule,
    ChannelChoice,
    MetricRow,
    RankedRow,
    RawResponse,
    Snapshot,
    Source,
    Subscription,
    Workspace,
)
from store.vocab import SourceStatus

DEFAULT_WORKSPACE = "default"


def default_workspace(*, session: Session) -> Workspace:
    """Return the CLI's workspace, creating it on first use."""
    return ensure_workspace(session=session, name=DEFAULT_WORKSPACE)


def ensure_workspace(*, session: Session, name: str) -> Workspace:
    """Return the workspace called `name` (a Slack team is "slack:T…"), creating it once."""
    workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
    if workspace is not None:
        return workspace
    try:
        with session.begin_nested():
            workspace = Workspace(name=name)
            session.add(workspace)
    except IntegrityError:
        # Another process created it between our read and write.
        workspace = session.exec(select(Workspace).where(Workspace.name == name)).one()
    return workspace


def adopt_cli_workspace(*, session: Session, name: str) -> Workspace:
    """The one Slack workspace of a single-workspace `serve`: the CLI's, unless it has its own.

    A Slack workspace that already has projects of its own (connected before it shared the
    CLI's) keeps them; otherwise Slack and the CLI see the same projects.
    """
    own = session.exec(select(Workspace).where(Workspace.name == name)).first()
    if (
        own is not None
        and session.exec(select(Source.id).where(Source.workspace_id == own.id).limit(1)).first()
        is not None
    ):
        return own
    return default_workspace(session=session)


def link_workspace(*, session: Session, name: str) -> tuple[Workspace, int]:
    """Move the CLI's projects (with their reports and alerts) into workspace `name`."""
    cli = default_workspace(session=session)
    target = ensure_workspace(session=session, name=name)
    moved = 0
    for model in (Source, Subscription, AlertRule):
        rows = session.exec(select(model).where(model.workspace_id == cli.id)).all()
        for row in rows:
            row.workspace_id = target.id or 0
            session.add(row)
        moved += len(rows) if model is Source else 0
    return target, moved


def get_workspace(*, session: Session, workspace_id: int) -> Workspace:
    """Return a workspace or raise NotFoundError."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFoundError(f"There is no workspace {workspace_id}.")
    return workspace


def get_source(*, session: Session, source_id: int) -> Source:
    """Return a source or raise NotFoundError with the way to list them."""
    source = session.get(Source, source_id)
    if source is None:
        raise NotFoundError(
            f"There is no source {source_id}. `claritybot sources list` shows the ids.",
            in_slack=f"There is no project {source_id}. `/clarity status` lists them.",
        )
    return source


def get_workspace_source(*, session: Session, workspace_id: int, source_id: int) -> Source:
    """Return a source of this workspace; another workspace's source is "not found" too."""
    source = session.get(Source, source_id)
    if (
        source is None
        or source.workspace_id != workspace_id
        or source.status == SourceStatus.REMOVED
    ):
        raise NotFoundError(f"There is no source {source_id} here. `/clarity status` lists yours.")
    return source


def list_sources(
    *, session: Session, include_removed: bool = False, workspace_id: int | None = None
) -> Sequence[Source]:
    """Return sources by id; removed ones (token wiped, history kept) only when asked."""
    query = select(Source).order_by(col(Source.id))
    if workspace_id is not None:
        query = query.where(Source.workspace_id == workspace_id)
    if not include_removed:
        query = query.where(Source.status != SourceStatus.REMOVED)
    return session.exec(query).all()


def stored_groups(*, session: Session, source_id: int, local_date: date) -> set[str]:
    """Return the fetch groups already stored for a source and day."""
    query = select(Snapshot.fetch_group).where(
        Snapshot.source_id == source_id, Snapshot.local_date == local_date
    )
    return set(session.exec(query).all())


def purge_source(*, session: Session, source_id: int) -> None:
    """Delete a source with all its snapshots, rows and raw responses."""
    session.execute(delete(MetricRow).where(col(MetricRow.source_id) == source_id))
    session.execute(delete(RankedRow).where(col(RankedRow.source_id) == source_id))
    session.execute(delete(Snapshot).where(col(Snapshot.source_id) == source_id))
    session.execute(delete(RawResponse).where(col(RawResponse.source_id) == source_id))
    session.execute(delete(ChannelChoice).where(col(ChannelChoice.source_id) == source_id))
    session.execute(delete(Source).where(col(Source.id) == source_id))


def save_snapshot(
    *,
    session: Session,
    snapshot: Snapshot,
    metric_rows: list[dict[str, Any]],
    ranked_rows: list[dict[str, Any]],
) -> Snapshot:
    """Store a snapshot and its rows in the caller's transaction; return it with its id.

    Raises IntegrityError when the (source, date, group) was stored by someone else meanwhile.
    """
    values = snapshot.model_dump(exclude={"id"})
    snapshot.id = insert_snapshot(session.connection(), values, metric_rows, ranked_rows)
    snapshot.row_count, snapshot.ranked_count = len(metric_rows), len(ranked_rows)
    return snapshot


def insert_raw(conn: Connection, **fields: Any) -> int:
    """Store a raw response (RawResponse's fields) in the caller's transaction; return its id."""
    return _new_id(conn.execute(insert(RawResponse), fields))


def insert_snapshot(
    conn: Connection,
    snapshot: dict[str, Any],
    metric_rows: list[dict[str, Any]],
    ranked_rows: list[dict[str, Any]],
) -> int:
    """`save_snapshot` without ORM objects: one insert per table, in the caller's transaction.

    Raises IntegrityError when the (source, date, group) was stored by someone else meanwhile.
    """
    snapshot_id = _new_id(
        conn.execute(insert(Snapshot), _counted(snapshot, metric_rows, ranked_rows))
    )
    _insert_rows(conn, snapshot_id, metric_rows, ranked_rows)
    return snapshot_id


def insert_snapshot_once(
    conn: Connection,
    snapshot: dict[str, Any],
    metric_rows: list[dict[str, Any]],
    ranked_rows: list[dict[str, Any]],
) -> int | None:
    """`insert_snapshot`, or None when the (source, date, group) was stored meanwhile by
    someone else: then nothing is written and the transaction goes on (no savepoint needed)."""
    values = _counted(snapshot, metric_rows, ranked_rows)
    row = conn.execute(_insert_once(conn.dialect.name), values).first()
    if row is None:
        return None
    _insert_rows(conn, row.id, metric_rows, ranked_rows)
    return int(row.id)


@functools.cache
def _insert_once(dialect: str) -> Executable:
    """INSERT a snapshot unless its (source, date, group) is there, RETURNING its id."""
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = ["source_id", "local_date", "fetch_group"]
    snapshot_id = Snapshot.__table__.c.id  # type: ignore[attr-defined]
    return insert_of(Snapshot).on_conflict_do_nothing(index_elements=keys).returning(snapshot_id)


def _counted(
    snapshot: dict[str, Any], metric_rows: list[dict[str, Any]], ranked_rows: list[dict[str, Any]]
) -> dict[str, Any]:
    return {**snapshot, "row_count": len(metric_rows), "ranked_count": len(ranked_rows)}


def _insert_rows(
    conn: Connection,
    snapshot_id: int,
    metric_rows: list[dict[str, Any]],
    ranked_rows: list[dict[str, Any]],
) -> None:
    if metric_rows:
        conn.execute(insert(MetricRow), [{**r, "snapshot_id": snapshot_id} for r in metric_rows])
    if ranked_rows:
        conn.execute(insert(RankedRow), [{**r, "snapshot_id": snapshot_id} for r in ranked_rows])


def _new_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_health(
    conn: Connection,
    *,
    source_id: int,
    token: str,
    now: datetime,
    status: str,
    reason: str | None,
) -> None:
    """Record a source's health after a run with `token` (encrypted); a rejected token disables
    it until replaced. Nothing changes when the token was replaced or wiped meanwhile: what the
    run found out was about the old one."""
    conn.execute(
        update(Source)
        .where(col(Source.id) == source_id, col(Source.token_encrypted) == token)
        .values(
            status=status,
            status_reason=reason,
            enabled=status != SourceStatus.TOKEN_REJECTED,
            updated_at=now,
        )
    )


def touch_source(*, session: Session, source: Source, now: datetime, **changes: Any) -> None:
    """Update a source's fields and its updated_at."""
    for name, value in changes.items():
        setattr(source, name, value)
    source.updated_at = now
    session.add(source)
