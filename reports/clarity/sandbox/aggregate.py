"""Group a window's visits into dimension slices and top-10 name lists. Pure functions."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reports.clarity.sandbox.visits import PageView, Visit

METRICS = 6  # frustration blocks, in block order

# Request spelling (lower-case) -> row key. The row key for URL is "Url", as in real bodies.
ROW_KEYS = {
    "browser": "Browser",
    "device": "Device",
    "country": "Country",
    "country/region": "Country",
    "countryregion": "Country",
    "os": "OS",
    "source": "Source",
    "medium": "Medium",
    "campaign": "Campaign",
    "channel": "Channel",
    "url": "Url",
}

SliceKey = tuple[str | None, ...]

_VALUES: dict[str, Callable[[Visit], tuple[str | None, ...]]] = {
    "Browser": lambda v: (v.browser,),
    "Device": lambda v: (v.device,),
    "Country": lambda v: (v.country,),
    "OS": lambda v: (v.os,),
    "Source": lambda v: (v.source,),
    "Medium": lambda v: (v.medium,),
    "Campaign": lambda v: v.campaigns,
    "Channel": lambda v: v.channels,
    "Url": lambda v: v.urls or (None,),
}


def row_key(dimension: str) -> str | None:
    """Return the row key for a requested dimension name (case-insensitive), or None."""
    return ROW_KEYS.get(dimension.strip().lower())


@dataclass(slots=True)
class SliceStats:
    """Running totals for one slice of one window (an accumulator, hence mutable)."""

    sessions: int = 0
    bots: int = 0
    page_views: int = 0  # humans and bots, for pages per session
    scroll_sum: float = 0.0
    total_time_sum: int = 0
    active_time_sum: int = 0
    with_metric: list[int] = field(default_factory=lambda: [0] * METRICS)
    pages_with: list[int] = field(default_factory=lambda: [0] * METRICS)
    events: list[int] = field(default_factory=lambda: [0] * METRICS)


@dataclass(frozen=True, slots=True)
class _Summary:
    scroll: float
    events: tuple[int, ...]
    pages_with: tuple[int, ...]


def _summarise(pages: Iterable[PageView]) -> _Summary:
    views = list(pages)
    events = [0] * METRICS
    pages_with = [0] * METRICS
    for view in views:
        for metric, count in enumerate(view.events):
            if count:
                events[metric] += count
                pages_with[metric] += 1
    scroll = sum(v.scroll for v in views) / len(views) if views else 0.0
    return _Summary(scroll, tuple(events), tuple(pages_with))


def aggregate(
    humans: list[Visit], bots: list[Visit], keys: tuple[str, ...]
) -> dict[SliceKey, SliceStats]:
    """Return stats per slice: human slices in order of first appearance, then bot-only ones."""
    slices: dict[SliceKey, SliceStats] = {}
    url_at = keys.index("Url") if "Url" in keys else -1
    getters = [_VALUES[key] for key in keys]
    for visit in humans:
        cache: dict[str | None, _Summary] = {}
        for slice_key in itertools.product(*(get(visit) for get in getters)):
            scope = slice_key[url_at] if url_at >= 0 else None
            summary = cache.get(scope)
            if summary is None:
                chosen = (p for p in visit.pages if url_at < 0 or p.url == scope)
                summary = cache[scope] = _summarise(chosen)
            _add_human(_stats(slices, slice_key), visit, summary)
    for visit in bots:
        for slice_key in itertools.product(*(get(visit) for get in getters)):
            stats = _stats(slices, slice_key)
            stats.bots += 1
            stats.page_views += len(visit.pages)
    return slices


def _stats(slices: dict[SliceKey, SliceStats], key: SliceKey) -> SliceStats:
    # Not setdefault: building a throw-away SliceStats per visit is the slow part of big calls.
    stats = slices.get(key)
    if stats is None:
        stats = slices[key] = SliceStats()
    return stats


def _add_human(stats: SliceStats, visit: Visit, summary: _Summary) -> None:
    stats.sessions += 1
    stats.page_views += len(visit.pages)
    stats.scroll_sum += summary.scroll
    stats.total_time_sum += visit.total_time
    stats.active_time_sum += visit.active_time
    for metric in range(METRICS):
        if summary.events[metric]:
            stats.with_metric[metric] += 1
            stats.pages_with[metric] += summary.pages_with[metric]
            stats.events[metric] += summary.events[metric]


def _referrers(visit: Visit) -> Iterable[str | None]:
    # The first page's referrer is external (or none: direct); later pages refer internally.
    yield visit.referrer
    for view in visit.pages[:-1]:
        yield view.url


def name_lists(humans: list[Visit]) -> dict[str, list[tuple[str | None, int]]]:
    """Return the no-dimension name lists: sessions per value, largest first, at most 10 rows."""
    pickers: dict[str, Callable[[Visit], Iterable[str | None]]] = {
        "Browser": lambda v: (v.browser,),
        "Device": lambda v: (v.device,),
        "OS": lambda v: (v.os,),
        "Country": lambda v: (v.country,),
        "PageTitle": lambda v: (p.title for p in v.pages),
        "ReferrerUrl": _referrers,
        "PopularPages": lambda v: (p.url for p in v.pages),
    }
    lists: dict[str, list[tuple[str | None, int]]] = {}
    for name, pick in pickers.items():
        counts: dict[str | None, int] = {}
        for visit in humans:
            # PopularPages counts visits (page views); the rest count sessions once per value.
            values = list(pick(visit))
            for value in values if name == "PopularPages" else dict.fromkeys(values):
                counts[value] = counts.get(value, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep order
        lists[name] = ranked[:10]
    return lists
