"""PURE DATA: the metric catalogue — every metric claritybot can chart, and how to read it.

Rules (how a value over several days or slices is formed):
- "sum": a plain count; days and slices are added.
- "weighted": a per-session average; combined weighted by sessions, never averaged plainly.
- "users": distinct users; never summed across days (a window total is "sum of daily users").
- "rate": a count per 100 sessions; numerator and denominator are summed, then divided.
Units: count | percent (a share of 100, e.g. Clarity's "sessions with …") | seconds | ratio |
per100 (events per 100 sessions: not a share, so never printed with a % sign).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from reports.errors import COMMAND, UsageError

CATEGORIES: Final = ("traffic", "engagement", "frustration", "breakdown")


@dataclass(frozen=True, slots=True)
class Metric:
    """One chartable metric."""

    key: str
    label: str
    unit: str  # count | percent | seconds | ratio | per100
    category: str
    rule: str  # sum | weighted | users | rate
    field: str  # stored column: the value, or the numerator of a rate
    per: str | None = None  # denominator column of a rate
    higher_is_better: bool | None = None
    # Breakdowns only: where the slices come from.
    source: str | None = None  # "rows" (a fetch group's slices) or "ranked" (a top-10 list)
    group: str | None = None  # fetch group, or ranked list name
    dimension: str | None = None  # slice column for "rows"
    description: str = ""

    @property
    def is_breakdown(self) -> bool:
        """True for ranked breakdowns (bar charts), False for daily series (line charts)."""
        return self.source is not None


def _count(key: str, label: str, category: str, better: bool | None, what: str) -> Metric:
    return Metric(
        key, label, "count", category, "sum", key, higher_is_better=better, description=what
    )


def _rate(key: str, label: str, field: str, what: str) -> Metric:
    return Metric(
        key,
        label,
        "per100",
        "frustration",
        "rate",
        field,
        per="sessions",
        higher_is_better=False,
        description=what,
    )


def _rows(
    key: str,
    label: str,
    unit: str,
    rule: str,
    field: str,
    group: str,
    dim: str,
    what: str,
    per: str | None = None,
) -> Metric:
    return Metric(
        key,
        label,
        unit,
        "breakdown",
        rule,
        field,
        per=per,
        source="rows",
        group=group,
        dimension=dim,
        description=what,
    )


def _ranked(key: str, label: str, group: str, what: str) -> Metric:
    return Metric(
        key,
        label,
        "count",
        "breakdown",
        "sum",
        "count",
        source="ranked",
        group=group,
        description=what,
    )


FRUSTRATION_COUNTS: Final = (
    ("rage_clicks", "Rage clicks", "rapid repeated clicks on one spot"),
    ("dead_clicks", "Dead clicks", "clicks that did nothing"),
    ("excessive_scroll", "Excessive scrolling", "scrolling well beyond the usual"),
    ("quick_backs", "Quick backs", "pages left for the previous one within seconds"),
    ("script_errors", "Script errors", "JavaScript errors"),
    ("error_clicks", "Error clicks", "clicks that raised a JavaScript error"),
)


def _sessions_with(name: str, label: str, what: str) -> Metric:
    """Clarity's dashboard figure: the share of sessions with at least one such event."""
    return Metric(
        f"sessions_with_{name}",
        f"Sessions with {label[0].lower()}{label[1:]}",
        "percent",
        "frustration",
        "weighted",
        f"{name}_sessions_pct",
        higher_is_better=False,
        description=f"share of sessions with {what} (Clarity's dashboard figure)",
    )


CATALOGUE: Final[tuple[Metric, ...]] = (
    _count("sessions", "Sessions", "traffic", True, "visits by people (bots excluded)"),
    Metric(
        "distinct_users",
        "Distinct users",
        "count",
        "traffic",
        "users",
        "distinct_users",
        higher_is_better=True,
        description="different users per day; never summed",
    ),
    _count("bot_sessions", "Bot sessions", "traffic", None, "visits Clarity judged to be bots"),
    Metric(
        "pages_per_session",
        "Pages per session",
        "ratio",
        "engagement",
        "weighted",
        "pages_per_session",
        higher_is_better=True,
        description="pages viewed per session",
    ),
    Metric(
        "engagement_time",
        "Active time",
        "seconds",
        "engagement",
        "weighted",
        "engagement_time_ms",
        higher_is_better=True,
        description="active time per session (time actually interacting)",
    ),
    Metric(
        "scroll_depth",
        "Scroll depth",
        "percent",
        "engagement",
        "weighted",
        "scroll_depth",
        higher_is_better=True,
        description="how far down the page people scroll, on average",
    ),
    *(_count(k, label, "frustration", False, what) for k, label, what in FRUSTRATION_COUNTS),
    *(_sessions_with(k, label, what) for k, label, what in FRUSTRATION_COUNTS),
    _rate(
        "rage_click_rate",
        "Rage clicks per 100 sessions",
        "rage_clicks",
        "rage clicks per 100 sessions (not a share of sessions)",
    ),
    _rate(
        "dead_click_rate",
        "Dead clicks per 100 sessions",
        "dead_clicks",
        "dead clicks per 100 sessions (not a share of sessions)",
    ),
    _rate(
        "quick_back_rate",
        "Quick backs per 100 sessions",
        "quick_backs",
        "quick backs per 100 sessions (not a share of sessions)",
    ),
    _rows(
        "top_pages_by_sessions",
        "Top pages by sessions",
        "count",
        "sum",
        "sessions",
        "pages",
        "url",
        "sessions per page (query strings merged)",
    ),
    _rows(
        "top_pages_by_rage_clicks",
        "Top pages by rage clicks",
        "count",
        "sum",
        "rage_clicks",
        "pages",
        "url",
        "where people rage-click",
    ),
    _rows(
        "top_pages_by_scroll_depth",
        "Pages by scroll depth",
        "percent",
        "weighted",
        "scroll_depth",
        "pages",
        "url",
        "average scroll depth per page",
    ),
    _ranked("top_browsers", "Top browsers", "browser", "sessions per browser (Clarity's top 10)"),
    _rows(
        "top_devices",
        "Devices",
        "count",
        "sum",
        "sessions",
        "devices",
        "device",
        "sessions per device type",
    ),
    _ranked("top_countries", "Top countries", "country", "sessions per country (top 10)"),
    _ranked("top_oses", "Top operating systems", "os", "sessions per OS (Clarity's top 10)"),
    _rows(
        "top_sources",
        "Top traffic sources",
        "count",
        "sum",
        "sessions",
        "sources",
        "source",
        "sessions per source (a session can have several)",
    ),
    _rows(
        "top_channels",
        "Channels",
        "count",
        "sum",
        "sessions",
        "channels",
        "channel",
        "sessions per channel (a session can have several)",
    ),
    _rows(
        "frustration_by_device",
        "Rage clicks per 100 sessions by device",
        "per100",
        "rate",
        "rage_clicks",
        "devices",
        "device",
        "rage clicks per 100 sessions, per device",
        per="sessions",
    ),
)

_BY_KEY: Final = {m.key: m for m in CATALOGUE}


def get_metric(key: str) -> Metric:
    """Return a metric by key, or raise UsageError listing the keys that exist."""
    metric = _BY_KEY.get(key.strip().lower().replace("-", "_"))
    if metric is None:
        raise UsageError.naming(
            f"Unknown metric {key!r}. {COMMAND} lists them; for example: "
            "sessions, sessions_with_rage_clicks, scroll_depth, top_pages_by_sessions.",
            cli="claritybot metrics",
            slack="/clarity metrics",
        )
    return metric


def split_by(metric: Metric, group: str, dimension: str, what: str) -> Metric:
    """Return a daily metric split by a fetch group's dimension (device, page URL...)."""
    if metric.is_breakdown:
        raise UsageError(f"{metric.key} is a breakdown; only daily metrics split by {what}.")
    return replace(
        metric,
        key=f"{metric.key}_by_{what}",
        label=f"{metric.label} by {what}",
        category="breakdown",
        source="rows",
        group=group,
        dimension=dimension,
        description=f"{metric.description}, per {what}",
    )


def by_device(metric: Metric) -> Metric:
    """Return a daily metric split by device type (from the `devices` fetch group's slices)."""
    return split_by(metric, "devices", "device", "device")


def by_page(metric: Metric) -> Metric:
    """Return a daily metric split by page (from the `pages` fetch group's slices)."""
    return split_by(metric, "pages", "url", "page")


def by_category() -> dict[str, list[Metric]]:
    """Return the catalogue grouped by category, in catalogue order."""
    return {c: [m for m in CATALOGUE if m.category == c] for c in CATEGORIES}
