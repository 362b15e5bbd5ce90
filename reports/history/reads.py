"""The read side's own queries: a source's place, and its stored daily totals over a range.

Column (Core) queries built once and run with new values: a chart or an alert reads history on
every request, and building ORM objects (or even the same SELECT again) cost more than the
database took to answer. The totals are read through the (source, group, day) index.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Connection, Select, Table, bindparam, select
from sqlmodel import Session

from reports.history.catalogue import Metric
from store import repository
from store.models import MetricRow, Snapshot, Source, Workspace

TOTALS_GROUP: Final = "overall"  # slices do not add up: totals only ever come from this group

_ROWS: Final[Table] = MetricRow.__table__  # type: ignore[attr-defined]
_SNAPSHOTS: Final[Table] = Snapshot.__table__  # type: ignore[attr-defined]
_SOURCES: Final[Table] = Source.__table__  # type: ignore[attr-defined]
_WORKSPACES: Final[Table] = Workspace.__table__  # type: ignore[attr-defined]

# The columns of a stored row that are not metrics: left out of what a History holds.
_NOT_METRICS: Final = frozenset(
    {"snapshot_id", "source_id", "fetch_group", "dimension_hash", "url_raw"}
    | {"url", "device", "country", "browser", "os", "source", "medium", "campaign", "channel"}
)
ALL_TOTALS: Final = tuple(c.name for c in _ROWS.columns if c.name not in _NOT_METRICS)

_PLACE: Final = (
    select(_SOURCES.c.label, _WORKSPACES.c.timezone, _SOURCES.c.clarity_project_id)
    .join_from(_SOURCES, _WORKSPACES, _WORKSPACES.c.id == _SOURCES.c.workspace_id)
    .where(_SOURCES.c.id == bindparam("source_id"))
)


def connection_of(db: Session | Connection) -> Connection:
    """The connection a session reads on (a connection is its own)."""
    return db.connection() if isinstance(db, Session) else db


def read_place(db: Session | Connection, source_id: int) -> tuple[str, str, str | None]:
    """Return a source's label, its workspace's IANA timezone and its Clarity project id."""
    found = connection_of(db).execute(_PLACE, {"source_id": source_id}).first()
    if found is not None:
        return found[0], found[1], found[2]
    # Not found: the usual lookups raise the usual messages.
    with Session(bind=connection_of(db)) as session:
        source = repository.get_source(session=session, source_id=source_id)
        zone = repository.get_workspace(session=session, workspace_id=source.workspace_id)
        return source.label, zone.timezone, source.clarity_project_id


def metric_columns(metric: Metric) -> tuple[str, ...]:
    """The stored columns a metric's daily value is computed from (and the row id)."""
    wanted = ("id", "local_date", metric.field, "sessions", metric.per or "sessions")
    return tuple(name for name in dict.fromkeys(wanted) if name in ALL_TOTALS)


def read_totals(
    db: Session | Connection,
    source_id: int,
    start: date,
    end: date,
    columns: tuple[str, ...] = ALL_TOTALS,
) -> dict[date, Any]:
    """Return the no-dimension row of each stored day in start..end with its snapshot's late
    and estimated flags (one query; read-only tuples with named `columns`, and local_date)."""
    query = totals_query(columns)
    values = {"source_id": source_id, "start": start, "end": end}
    return {row.local_date: row for row in connection_of(db).execute(query, values)}


@lru_cache(maxsize=128)
def totals_query(columns: tuple[str, ...]) -> Select[Any]:
    """The SELECT of read_totals for these columns, built once."""
    rows, snapshots = _ROWS.c, _SNAPSHOTS.c
    wanted = dict.fromkeys(("local_date", *columns))
    return (
        select(snapshots.late, snapshots.estimated, *(rows[name] for name in wanted))
        .join_from(_ROWS, _SNAPSHOTS, snapshots.id == rows.snapshot_id)
        .where(
            rows.source_id == bindparam("source_id"),
            rows.fetch_group == TOTALS_GROUP,
            rows.local_date >= bindparam("start"),
            rows.local_date <= bindparam("end"),
        )
        .order_by(rows.local_date)
    )
