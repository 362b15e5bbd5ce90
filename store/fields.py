"""Stable field names of stored Clarity data, shared by the parser, the tables and exports."""

from __future__ import annotations

from typing import Final

# Clarity's six frustration blocks, by the field name we store them under (= the block's subTotal).
FRUSTRATIONS: Final = (
    "dead_clicks",
    "excessive_scroll",
    "rage_clicks",
    "quick_backs",
    "script_errors",
    "error_clicks",
)

BASE_METRICS: Final = (
    "sessions",
    "bot_sessions",
    "distinct_users",
    "pages_per_session",
    "scroll_depth",
    "engagement_time_ms",
    "total_time_ms",
)

METRIC_FIELDS: Final[tuple[str, ...]] = BASE_METRICS + tuple(
    f"{name}{suffix}" for name in FRUSTRATIONS for suffix in ("", "_sessions_pct", "_pages")
)

# Metrics that are plain counts, so a longer window is the sum of its parts. Averages,
# percentages and distinct users are not (distinct users are never summed).
ADDITIVE_METRICS: Final[tuple[str, ...]] = ("sessions", "bot_sessions") + tuple(
    f"{name}{suffix}" for name in FRUSTRATIONS for suffix in ("", "_pages")
)

FLOAT_METRICS: Final = frozenset(
    {"pages_per_session", "scroll_depth"} | {f"{name}_sessions_pct" for name in FRUSTRATIONS}
)

DIMENSION_COLUMNS: Final = (
    "url",
    "device",
    "country",
    "browser",
    "os",
    "source",
    "medium",
    "campaign",
    "channel",
)

# Top-10 name lists that only the no-dimension call returns, by stored list name.
RANKED_LISTS: Final = (
    "browser",
    "device",
    "os",
    "country",
    "page_title",
    "referrer",
    "popular_page",
)
