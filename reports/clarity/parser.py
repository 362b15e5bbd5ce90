"""Parse a Clarity live-insights body into normalised rows; never crash on what Clarity sends.

The wire format (API.md): a bare array of {metricName, information}; counts as strings or ints;
field and block names in several spellings; rows of one slice spread over up to nine blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from reports.clarity.dimensions import Dimension, norm_key
from reports.clarity.values import clean_text, to_count, to_number
from reports.errors import ClarityDimensionMissing, ClarityShapeError
from store.fields import METRIC_FIELDS

log = logging.getLogger(__name__)

# Clarity documents "1,000 rows" with no pagination and nothing in the body says a block was cut,
# so a block that reaches the cap is flagged as possibly truncated.
ROW_CAP: Final = 1000

FRUSTRATION_BLOCKS: Final = {
    "deadclickcount": "dead_clicks",
    "excessivescroll": "excessive_scroll",
    "rageclickcount": "rage_clicks",
    "quickbackclick": "quick_backs",
    "scripterrorcount": "script_errors",
    "errorclickcount": "error_clicks",
}
NAME_LISTS: Final = {
    "browser": "browser",
    "device": "device",
    "os": "os",
    "country": "country",
    "countryregion": "country",
    "pagetitle": "page_title",
    "referrerurl": "referrer",
    "popularpages": "popular_page",
}
METRIC_BLOCKS: Final = frozenset({"traffic", "scrolldepth", "engagementtime", *FRUSTRATION_BLOCKS})

Number = int | float
DimValues = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One slice (a dimension tuple) with every metric found for it across blocks."""

    dimensions: DimValues
    metrics: Mapping[str, Number | None]


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One entry of a top-10 name list (browsers, page titles, popular pages...)."""

    list_name: str
    rank: int
    name: str | None
    count: int | None


@dataclass(frozen=True)
class ParsedResponse:
    """Everything usable in one response, plus what was odd about it."""

    dimensions: tuple[str, ...]
    rows: tuple[ParsedRow, ...]
    ranked: tuple[RankedItem, ...]
    blocks: tuple[str, ...]
    unknown_blocks: tuple[str, ...] = ()
    truncated_blocks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass
class _Acc:
    """Mutable accumulator used while parsing one body."""

    dims: tuple[Dimension, ...]
    rows: dict[DimValues, dict[str, Number | None]] = field(default_factory=dict)
    fallback_sessions: dict[DimValues, int] = field(default_factory=dict)
    ranked: list[RankedItem] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    keyed_rows: int = 0
    metric_rows: int = 0

    def warn(self, message: str) -> None:
        if len(self.warnings) < 50:  # a hostile body must not grow the log without bound
            self.warnings.append(message)


def _dim_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def _row_dims(acc: _Acc, row: Mapping[str, Any]) -> DimValues:
    values: list[str | None] = []
    found = 0
    for dim in acc.dims:
        key = next((k for k in dim.row_keys if k in row), None)
        if key is not None:
            found += 1
        values.append(_dim_value(row.get(key)) if key is not None else None)
    if acc.dims and found == len(acc.dims):
        acc.keyed_rows += 1
    return tuple(values)


def _set(acc: _Acc, dims: DimValues, name: str, value: Number | None, raw: Any, block: str) -> None:
    if value is None and raw is not None:
        acc.warn(f"{block}: unusable value for {name}")
    metrics = acc.rows.setdefault(dims, {})
    if value is not None or name not in metrics:
        metrics[name] = value


def _parse_traffic(acc: _Acc, dims: DimValues, row: Mapping[str, Any]) -> None:
    users_key = "distinctusercount" if "distinctusercount" in row else "distantusercount"
    for name, key in (
        ("sessions", "totalsessioncount"),
        ("bot_sessions", "totalbotsessioncount"),
        ("distinct_users", users_key),
    ):
        if key in row:
            _set(acc, dims, name, to_count(row[key]), row[key], "Traffic")
    if "pagespersessionpercentage" in row:
        raw = row["pagespersessionpercentage"]
        _set(acc, dims, "pages_per_session", to_number(raw), raw, "Traffic")


def _parse_metric_row(acc: _Acc, block: str, dims: DimValues, row: Mapping[str, Any]) -> None:
    if block == "traffic":
        _parse_traffic(acc, dims, row)
    elif block == "scrolldepth" and "averagescrolldepth" in row:
        raw = row["averagescrolldepth"]
        _set(acc, dims, "scroll_depth", to_number(raw), raw, "ScrollDepth")
    elif block == "engagementtime":
        for name, key in (("total_time_ms", "totaltime"), ("engagement_time_ms", "activetime")):
            if key in row:
                seconds = to_count(row[key])  # per-session averages in whole seconds
                ms = None if seconds is None else seconds * 1000
                _set(acc, dims, name, ms, row[key], "EngagementTime")
    elif block in FRUSTRATION_BLOCKS:
        name = FRUSTRATION_BLOCKS[block]
        for suffix, key, conv in (
            ("", "subtotal", to_count),
            ("_sessions_pct", "sessionswithmetricpercentage", to_number),
            ("_pages", "pagesviews", to_count),
        ):
            if key in row:
                _set(acc, dims, name + suffix, conv(row[key]), row[key], block)
        sessions = to_count(row.get("sessionscount"))
        if sessions is not None:
            acc.fallback_sessions.setdefault(dims, sessions)
        acc.rows.setdefault(dims, {})


def _parse_name_list(acc: _Acc, list_name: str, rows: Iterable[Mapping[str, Any]]) -> None:
    items: list[tuple[int, str | None, int | None]] = []
    for position, row in enumerate(rows):
        if list_name == "popular_page":
            name, count = _dim_value(row.get("url")), to_count(row.get("visitscount"))
        else:
            name, count = _dim_value(row.get("name")), to_count(row.get("sessionscount"))
        items.append((position, name, count))
    # Rank by count, not by arrival order (API.md: do not rely on row order); ties keep order.
    items.sort(key=lambda item: (-(item[2] if item[2] is not None else -1), item[0]))
    acc.ranked.extend(
        RankedItem(list_name, rank, name, count) for rank, (_, name, count) in enumerate(items, 1)
    )


def _block_rows(acc: _Acc, label: str, information: Any) -> list[dict[str, Any]]:
    if not isinstance(information, list):
        acc.warn(f"{label}: 'information' is not a list")
        return []
    if len(information) >= ROW_CAP:
        acc.truncated.append(label)
    rows = [
        {norm_key(str(k)): v for k, v in row.items()}
        for row in information
        if isinstance(row, dict)
    ]
    if len(rows) != len(information):
        acc.warn(f"{label}: {len(information) - len(rows)} row(s) are not objects")
    return rows


def _parse_block(acc: _Acc, block: Mapping[str, Any]) -> None:
    raw_name = block.get("metricName", block.get("metricname"))
    label = clean_text(str(raw_name), 80)
    key = norm_key(label) if isinstance(raw_name, str) else ""
    if key not in METRIC_BLOCKS and key not in NAME_LISTS:
        acc.unknown.append(label)
        log.info("ignoring unknown Clarity block %r", label)
        return
    acc.blocks.append(label)
    rows = _block_rows(acc, label, block.get("information"))
    if key in NAME_LISTS:
        if any(item.list_name == NAME_LISTS[key] for item in acc.ranked):
            acc.warn(f"{label}: list given twice; the first copy is kept")
            return
        _parse_name_list(acc, NAME_LISTS[key], rows)
        return
    for row in rows:
        acc.metric_rows += 1
        _parse_metric_row(acc, key, _row_dims(acc, row), row)


def parse_insights(payload: Any, dimensions: Sequence[Dimension] = ()) -> ParsedResponse:
    """Parse a decoded body; raise ClarityShapeError or ClarityDimensionMissing, nothing else."""
    if not isinstance(payload, list):
        raise ClarityShapeError(
            f"Clarity answered with a JSON {type(payload).__name__}, not a list of metric blocks."
        )
    acc = _Acc(dims=tuple(dimensions))
    blocks = [b for b in payload if isinstance(b, dict)]
    if payload and not any("metricName" in b or "metricname" in b for b in blocks):
        raise ClarityShapeError("Clarity answered with JSON that holds no metric blocks.")
    if len(blocks) != len(payload):
        acc.warn(f"{len(payload) - len(blocks)} top-level item(s) are not objects")
    for block in blocks:
        _parse_block(acc, block)
    if acc.dims and acc.metric_rows and not acc.keyed_rows:
        names = ", ".join(d.api_name for d in acc.dims)
        raise ClarityDimensionMissing(
            f"Clarity ignored the requested dimension(s) {names}: no row carries them. "
            "The data was not stored under this breakdown; nothing else is affected."
        )
    for warning in acc.warnings:
        log.warning("Clarity response: %s", warning)
    if acc.truncated:
        log.warning(
            "Clarity blocks at the %d-row cap, possibly truncated: %s",
            ROW_CAP,
            ", ".join(acc.truncated),
        )
    return ParsedResponse(
        dimensions=tuple(d.column for d in acc.dims),
        rows=tuple(_finish_rows(acc)),
        ranked=tuple(acc.ranked),
        blocks=tuple(acc.blocks),
        unknown_blocks=tuple(acc.unknown),
        truncated_blocks=tuple(acc.truncated),
        warnings=tuple(acc.warnings),
    )


def _finish_rows(acc: _Acc) -> Iterable[ParsedRow]:
    for dims, metrics in acc.rows.items():
        if metrics.get("sessions") is None and dims in acc.fallback_sessions:
            # A slice missing from Traffic still has its session count in the frustration blocks.
            metrics["sessions"] = acc.fallback_sessions[dims]
        full = {name: metrics.get(name) for name in METRIC_FIELDS}
        yield ParsedRow(dimensions=dims, metrics=full)
