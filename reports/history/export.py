"""Export every stored row of a source as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from typing import Any, Final, TextIO

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from store.fields import DIMENSION_COLUMNS, METRIC_FIELDS
from store.models import MetricRow, RankedRow, Snapshot

# How a top-10 list's entries appear as a dimension in exports.
_LIST_DIMENSION: Final = {
    "browser": "browser",
    "device": "device",
    "os": "os",
    "country": "country",
    "page_title": "page_title",
    "referrer": "referrer",
    "popular_page": "url",
}
CSV_COLUMNS: Final = (
    ("date", "group", "kind", "list", "rank", "late", "estimated", "window_start", "window_end")
    + DIMENSION_COLUMNS
    + ("url_raw", "page_title", "referrer", "referrer_url")
    + METRIC_FIELDS
    + ("visits",)
)


def _head(snapshot: Snapshot, kind: str) -> dict[str, Any]:
    return {
        "date": snapshot.local_date.isoformat(),
        "group": snapshot.fetch_group,
        "kind": kind,
        "late": snapshot.late,
        "estimated": snapshot.estimated,
        "window_start": snapshot.window_start.isoformat(),
        "window_end": snapshot.window_end.isoformat(),
    }


def _metric_record(snapshot: Snapshot, row: MetricRow) -> dict[str, Any]:
    dims: dict[str, Any] = {}
    for column in snapshot.dimensions:
        dims[column] = getattr(row, column)
        if column == "url":
            dims["url_raw"] = row.url_raw
    metrics = {name: getattr(row, name) for name in METRIC_FIELDS}
    return {**_head(snapshot, "metrics"), "dimensions": dims, "metrics": metrics}


def _ranked_record(snapshot: Snapshot, row: RankedRow) -> dict[str, Any]:
    column = _LIST_DIMENSION.get(row.list_name, row.list_name)
    dims: dict[str, Any] = {column: row.url if column == "url" else row.name}
    if row.list_name == "popular_page":
        dims["url_raw"] = row.name
    elif row.list_name == "referrer":
        dims["referrer_url"] = row.url
    metric = "visits" if row.list_name == "popular_page" else "sessions"
    head = _head(snapshot, "ranked") | {"list": row.list_name, "rank": row.rank}
    return {**head, "dimensions": dims, "metrics": {metric: row.count}}


def export_records(
    engine: Engine, *, source_id: int, since: date | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every stored row of a source, oldest day first, in the documented jsonl shape."""
    with Session(engine) as session:
        query = select(Snapshot).where(Snapshot.source_id == source_id)
        if since is not None:
            query = query.where(Snapshot.local_date >= since)
        snapshots = session.exec(
            query.order_by(col(Snapshot.local_date), col(Snapshot.fetch_group))
        ).all()
        for snapshot in snapshots:
            rows = session.exec(
                select(MetricRow)
                .where(MetricRow.snapshot_id == snapshot.id)
                .order_by(col(MetricRow.id))
            )
            for row in rows:
                yield _metric_record(snapshot, row)
            ranked = session.exec(
                select(RankedRow)
                .where(RankedRow.snapshot_id == snapshot.id)
                .order_by(col(RankedRow.list_name), col(RankedRow.rank))
            )
            for item in ranked:
                yield _ranked_record(snapshot, item)


def write_jsonl(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """Write records as JSON lines; return how many."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def write_csv(records: Iterator[dict[str, Any]], out: TextIO) -> int:
    """Write records as CSV with one fixed header; null and "" both become empty cells."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        flat = {k: v for k, v in record.items() if k not in ("dimensions", "metrics")}
        row = flat | record["dimensions"] | record["metrics"]
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        count += 1
    return count


def _csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas: page titles and URLs come from websites, not from us."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
