"""Turn aggregated slices into the real wire format: a bare JSON array of metric blocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from reports.clarity.sandbox.aggregate import SliceKey, SliceStats, aggregate, name_lists
from reports.clarity.sandbox.data import window_visits
from reports.clarity.sandbox.site import SiteProfile
from reports.clarity.sandbox.visits import unit

FRUSTRATION_BLOCKS = (
    "DeadClickCount",
    "ExcessiveScroll",
    "RageClickCount",
    "QuickbackClick",
    "ScriptErrorCount",
    "ErrorClickCount",
)
DIMENSION_BLOCKS = (*FRUSTRATION_BLOCKS, "ScrollDepth", "Traffic", "EngagementTime")
NAME_BLOCKS = ("Browser", "Device", "OS", "Country", "PageTitle", "ReferrerUrl", "PopularPages")
ALL_BLOCKS = (*DIMENSION_BLOCKS, *NAME_BLOCKS)
ROW_CAP = 1000  # per block; Clarity keeps no more and says nothing about it

Row = dict[str, object]
Count = str | int


@dataclass(frozen=True, slots=True)
class Query:
    """Everything one response body depends on."""

    profile: SiteProfile
    project: str
    seed: int
    end: datetime
    num_days: int
    dimensions: tuple[str, ...]  # row keys ("Device", "Url", ...), in request order
    docs_spelling: bool = False


# Clients ask for the same windows again and again (every group of a night, the demo, the
# tests); a body is at most ~1.5 MB (1000 URL rows per block).
@lru_cache(maxsize=32)
def render_body(query: Query) -> bytes:
    """Return the 200 body for a query, byte-identical for identical queries."""
    return json.dumps(build_body(query), separators=(",", ":")).encode()


def build_body(query: Query) -> list[Row]:
    """Return the block list: 16 blocks without dimensions, the first 9 with any."""
    humans, bots = window_visits(
        query.profile, query.project, query.seed, query.end, query.num_days
    )
    slices = aggregate(humans, bots, query.dimensions)
    if not query.dimensions:
        slices.setdefault((), SliceStats())  # an empty window still reports zeros
    stringy = _string_blocks(query)
    blocks = _dimension_blocks(query, list(slices.items()), stringy)
    if not query.dimensions:
        for name, rows in name_lists(humans).items():
            blocks.append(_name_block(name, rows, stringy[name]))
    return blocks


def _string_blocks(query: Query) -> dict[str, bool]:
    """Choose per block whether counts are JSON strings (mostly) or ints, as real bodies mix."""
    names = [n for n in ALL_BLOCKS if n != "ScrollDepth"]
    if query.dimensions:
        names = [n for n in names if n in DIMENSION_BLOCKS]
    draws = {
        n: unit("types", query.seed, query.project, query.end.isoformat(), query.dimensions, n)
        for n in names
    }
    stringy = {n: u < 0.75 for n, u in draws.items()}
    if len(set(stringy.values())) == 1:
        # Guarantee a mix in every body, so a client that only coerces one type fails fast.
        flip = (
            max(draws, key=draws.__getitem__)
            if stringy[names[0]]
            else min(draws, key=draws.__getitem__)
        )
        stringy[flip] = not stringy[flip]
    return stringy


def _count(value: int, as_string: bool) -> Count:
    return str(value) if as_string else value


def _number(value: float) -> int | float:
    """Return a whole number as a JSON int (0, 100, 20), anything else as a float."""
    return int(value) if float(value).is_integer() else value


def _percentages(part: int, whole: int) -> tuple[int | float, int | float]:
    if whole == 0:
        return 0, 100
    share = round(100 * part / whole, 2)
    # 100 - share is not re-rounded: that is where 81.03999999999999 comes from.
    return _number(share), _number(100 - share)


def _capped(
    items: list[tuple[SliceKey, SliceStats]], rank: Callable[[SliceStats], tuple[int, int]]
) -> list[tuple[SliceKey, SliceStats]]:
    """Keep the ROW_CAP largest slices, in their original (unsorted) order."""
    if len(items) <= ROW_CAP:
        return items
    order = sorted(range(len(items)), key=lambda i: (rank(items[i][1]), -i), reverse=True)
    return [items[i] for i in sorted(order[:ROW_CAP])]


def _dimension_blocks(
    query: Query, items: list[tuple[SliceKey, SliceStats]], stringy: dict[str, bool]
) -> list[Row]:
    human = _capped([it for it in items if it[1].sessions], lambda s: (s.sessions, 0))
    traffic = _capped(items, lambda s: (s.sessions, s.bots))
    blocks: list[Row] = []
    for name in DIMENSION_BLOCKS:
        chosen = traffic if name == "Traffic" else human
        rows = []
        for key, stats in chosen:
            row = _metric_row(query, name, key, stats, stringy.get(name, True))
            row.update(zip(query.dimensions, key, strict=True))
            rows.append(row)
        blocks.append({"metricName": name, "information": rows})
    return blocks


def _metric_row(query: Query, name: str, key: SliceKey, stats: SliceStats, as_str: bool) -> Row:
    sessions = stats.sessions
    if name in FRUSTRATION_BLOCKS:
        metric = FRUSTRATION_BLOCKS.index(name)
        with_pct, without_pct = _percentages(stats.with_metric[metric], sessions)
        return {
            "sessionsCount": _count(sessions, as_str),
            "sessionsWithMetricPercentage": with_pct,
            "sessionsWithoutMetricPercentage": without_pct,
            "pagesViews": _count(stats.pages_with[metric], as_str),
            "subTotal": _count(stats.events[metric], as_str),
        }
    if name == "ScrollDepth":
        depth = round(stats.scroll_sum / sessions, 2) if sessions else 0
        return {"averageScrollDepth": _number(depth)}
    if name == "EngagementTime":
        total = round(stats.total_time_sum / sessions) if sessions else 0
        active = round(stats.active_time_sum / sessions) if sessions else 0
        return {"totalTime": _count(total, as_str), "activeTime": _count(active, as_str)}
    return _traffic_row(query, key, stats, as_str)


def _traffic_row(query: Query, key: SliceKey, stats: SliceStats, as_str: bool) -> Row:
    everyone = stats.sessions + stats.bots
    # Distinct users are not additive: a per-window share of everyone, sometimes above sessions.
    share = 0.72 + 0.18 * unit("users", query.seed, query.project, query.end, query.num_days, key)
    users = max(1, round(everyone * share)) if everyone else 0
    per_session = stats.page_views / everyone if everyone else 0
    users_key, pages_key = (
        ("distantUserCount", "PagesPerSessionPercentage")
        if query.docs_spelling
        else ("distinctUserCount", "pagesPerSessionPercentage")
    )
    return {
        "totalSessionCount": _count(stats.sessions, as_str),
        "totalBotSessionCount": _count(stats.bots, as_str),
        users_key: _count(users, as_str),
        pages_key: _number(per_session),
    }


def _name_block(name: str, rows: list[tuple[str | None, int]], as_str: bool) -> Row:
    label, count = ("url", "visitsCount") if name == "PopularPages" else ("name", "sessionsCount")
    information = [{label: value, count: _count(n, as_str)} for value, n in rows]
    return {"metricName": name, "information": information}
