"""PURE DATA: which Clarity calls make up one day's snapshot.

Clarity allows 10 calls per project per day. The default plan spends 5, and what the
no-dimension call already returns (its top-10 lists of browsers, devices, OSes, countries,
page titles, referrers and popular pages) is used instead of spending a call on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reports.clarity.dimensions import MAX_DIMENSIONS, resolve_dimensions

CLARITY_DAILY_LIMIT: Final = 10  # Clarity's documented cap per project per (UTC) day.
MAX_PLAN_CALLS: Final = 5  # our budget for the nightly snapshot, leaving half for the rest.

# Everything the metric catalogue charts; each must be covered by some group of the plan.
CATALOGUE_NEEDS: Final = frozenset(
    {
        "totals",
        "traffic",
        "engagement",
        "scroll_depth",
        "frustration",
        "top_pages_by_sessions",
        "top_pages_by_rage_clicks",
        "top_pages_by_scroll_depth",
        "top_browsers",
        "top_devices",
        "top_countries",
        "top_oses",
        "top_sources",
        "top_channels",
        "frustration_by_device",
        "top_page_titles",
        "top_referrers",
        "popular_pages",
    }
)


@dataclass(frozen=True, slots=True)
class FetchGroup:
    """One call of the nightly snapshot; its name is stored with every row it produced."""

    name: str
    dimensions: tuple[str, ...]
    covers: frozenset[str]
    num_days: int = 1


@dataclass(frozen=True)
class FetchPlan:
    """An ordered set of fetch groups; the first is the one totals come from."""

    groups: tuple[FetchGroup, ...]

    def __len__(self) -> int:
        return len(self.groups)

    def group(self, name: str) -> FetchGroup:
        """Return the group called `name`; KeyError when there is none."""
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(name)

    def covers(self) -> frozenset[str]:
        """Return everything the plan's groups provide."""
        return frozenset().union(*(g.covers for g in self.groups))


def validate_plan(plan: FetchPlan, *, daily_cap: int = CLARITY_DAILY_LIMIT) -> None:
    """Raise ValueError when a plan breaks an API rule or leaves no room in the quota."""
    names = [g.name for g in plan.groups]
    if len(set(names)) != len(names):
        raise ValueError(f"fetch group names repeat: {names}")
    if len(plan) > min(MAX_PLAN_CALLS, daily_cap):
        raise ValueError(f"the plan needs {len(plan)} calls, more than {MAX_PLAN_CALLS}")
    for group in plan.groups:
        if len(group.dimensions) > MAX_DIMENSIONS or group.num_days not in (1, 2, 3):
            raise ValueError(f"fetch group {group.name} breaks an API limit")
        resolve_dimensions(group.dimensions)


# "overall" must stay first and dimensionless: totals come only from it, because slices do not
# add up (a session can count under several channels or campaigns).
DEFAULT_PLAN: Final = FetchPlan(
    groups=(
        FetchGroup(
            "overall",
            (),
            frozenset(
                {
                    "totals",
                    "traffic",
                    "engagement",
                    "scroll_depth",
                    "frustration",
                    "top_browsers",
                    "top_devices",
                    "top_countries",
                    "top_oses",
                    "top_page_titles",
                    "top_referrers",
                    "popular_pages",
                }
            ),
        ),
        FetchGroup(
            "pages",
            ("URL",),
            frozenset(
                {"top_pages_by_sessions", "top_pages_by_rage_clicks", "top_pages_by_scroll_depth"}
            ),
        ),
        FetchGroup("devices", ("Device",), frozenset({"frustration_by_device", "top_devices"})),
        FetchGroup("channels", ("Channel",), frozenset({"top_channels"})),
        FetchGroup("sources", ("Source",), frozenset({"top_sources"})),
    )
)
