"""Keyword-only persistence functions for workspaces, sources and snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.errors import NotFoundError
from store.models import MetricRow, RankedRow, RawResponse, Snapshot, Source, Workspace
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
            f"There is no source {source_id}. `claritybot sources list` shows the ids."
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
    session.execute(delete(Source).where(col(Source.id) == source_id))


def save_raw(*, session: Session, raw: RawResponse) -> RawResponse:
    """Store a raw response and return it with its id."""
    session.add(raw)
    session.flush()
    return raw


def save_snapshot(
    *,
    session: Session,
    snapshot: Snapshot,
    metric_rows: list[dict[str, Any]],
    ranked_rows: list[dict[str, Any]],
) -> Snapshot:
    """Store a snapshot and its rows in the caller's transaction.

    Raises IntegrityError when the (source, date, group) was stored by someone else meanwhile.
    """
    snapshot.row_count, snapshot.ranked_count = len(metric_rows), len(ranked_rows)
    session.add(snapshot)
    session.flush()
    if metric_rows:
        session.execute(insert(MetricRow), [{**r, "snapshot_id": snapshot.id} for r in metric_rows])
    if ranked_rows:
        session.execute(insert(RankedRow), [{**r, "snapshot_id": snapshot.id} for r in ranked_rows])
    return snapshot


def touch_source(*, session: Session, source: Source, now: datetime, **changes: Any) -> None:
    """Update a source's fields and its updated_at."""
    for name, value in changes.items():
        setattr(source, name, value)
    source.updated_at = now
    session.add(source)
