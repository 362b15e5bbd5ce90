"""Turn a parsed response into table rows: dimension columns, normalised URLs, dimension hash."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from reports.clarity.parser import ParsedResponse
from reports.urls import normalize_url

_URL_LISTS = frozenset({"referrer", "popular_page"})


def dimension_hash(columns: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    """Return a stable id of a dimension tuple; null and "" hash differently on purpose."""
    encoded = json.dumps([[c, v] for c, v in zip(columns, values, strict=True)], sort_keys=False)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def metric_rows(
    parsed: ParsedResponse, *, source_id: int, local_date: date, fetch_group: str
) -> list[dict[str, Any]]:
    """Return one row dict per slice, keyed by the column names of store.models.MetricRow."""
    rows: list[dict[str, Any]] = []
    for row in parsed.rows:
        record: dict[str, Any] = {
            "source_id": source_id,
            "local_date": local_date,
            "fetch_group": fetch_group,
            # The hash is over the raw values: two query strings of one page stay two rows.
            "dimension_hash": dimension_hash(parsed.dimensions, row.dimensions),
        }
        for column, value in zip(parsed.dimensions, row.dimensions, strict=True):
            if column == "url":
                record["url_raw"] = value
                record["url"] = normalize_url(value)
            else:
                record[column] = value
        record.update(row.metrics)
        rows.append(record)
    return rows


def ranked_rows(
    parsed: ParsedResponse, *, source_id: int, local_date: date, fetch_group: str
) -> list[dict[str, Any]]:
    """Return one row dict per top-10 list entry, keyed like store.models.RankedRow."""
    return [
        {
            "source_id": source_id,
            "local_date": local_date,
            "fetch_group": fetch_group,
            "list_name": item.list_name,
            "rank": item.rank,
            "name": item.name,
            "url": normalize_url(item.name) if item.list_name in _URL_LISTS else None,
            "count": item.count,
        }
        for item in parsed.ranked
    ]
