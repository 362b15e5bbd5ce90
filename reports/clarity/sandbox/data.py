"""A deterministic synthetic session log: every UTC hour holds a fixed list of visits.

Visit j (0-based) of an hour holding h visits happens at fraction (j+1)/h of that hour, so the
visits in a window up to fraction f of an hour are the first floor(h*f). Every count the sandbox
reports is a count over the visits of a window, which makes counts exactly additive over
adjacent windows and makes partition slices (Device, Browser, OS, Country) sum to the total.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from reports.clarity.sandbox.site import SiteProfile
from reports.clarity.sandbox.visits import HourBuilder, Visit, tables, unit

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GROWTH_ORIGIN = 20454  # 2026-01-01 as days since the epoch: growth is relative to it


@dataclass(frozen=True, slots=True)
class Hour:
    """The visits of one UTC hour, in time order."""

    humans: tuple[Visit, ...]
    bots: tuple[Visit, ...]


def micros(moment: datetime) -> int:
    """Return microseconds since the epoch of an aware datetime, exactly."""
    return (moment - _EPOCH) // datetime.resolution


def _is_incident(profile: SiteProfile, seed: int, day: int) -> bool:
    return (day + seed) % profile.incident_every_days == 0


def is_incident_day(profile: SiteProfile, seed: int, day: date) -> bool:
    """Tell whether `day` (UTC) has the rage-click spike on the profile's incident path."""
    return _is_incident(profile, seed, (day - _EPOCH.date()).days)


def expected_sessions(profile: SiteProfile, project: str, seed: int, hour: int) -> float:
    """Return the mean number of human sessions in a UTC hour (seasonality, growth, day noise)."""
    day = hour // 24
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    growth = max(0.2, 1.0 + profile.growth_per_year * (day - _GROWTH_ORIGIN) / 365)
    noise = 0.88 + 0.24 * unit("day", seed, project, profile.name, day)
    share = profile.hourly[hour % 24] / tables(profile).hourly_total
    return profile.daily_sessions * profile.weekly[weekday] * growth * noise * share


def _draw_count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0


# Two workers snapshotting 16 projects each (CLARITY_CONCURRENCY) touch 25 hours a project just
# after midnight: at 240 they evicted each other and every call rebuilt its hours (20 ms of CPU,
# not 5). A demo hour holds ~42 KB (2048: ~86 MB at most), a big-profile hour ~0.5 MB.
@lru_cache(maxsize=2048)
def hour_visits(profile: SiteProfile, project: str, seed: int, hour: int) -> Hour:
    """Return the fixed visits of one UTC hour (hours since the epoch)."""
    # A str seed goes through SHA-512 inside random: stable across processes, unlike hash().
    rng = random.Random(f"clarity-sandbox|{seed}|{project}|{profile.name}|{hour}")
    mean = expected_sessions(profile, project, seed, hour)
    day = hour // 24
    builder = HourBuilder(
        profile, rng, project=project, day=day, incident=_is_incident(profile, seed, day)
    )
    humans = tuple(builder.human() for _ in range(_draw_count(rng, mean)))
    bots = tuple(builder.bot() for _ in range(_draw_count(rng, mean * profile.bot_share)))
    return Hour(humans, bots)


def window_visits(
    profile: SiteProfile, project: str, seed: int, end: datetime, num_days: int
) -> tuple[list[Visit], list[Visit]]:
    """Return the (human, bot) visits of the trailing num_days*24h window ending at `end`."""
    end_us = micros(end)
    start_us = end_us - num_days * DAY_US
    humans: list[Visit] = []
    bots: list[Visit] = []
    for hour in range(start_us // HOUR_US, (end_us - 1) // HOUR_US + 1):
        base = hour * HOUR_US
        lo = max(start_us, base) - base
        hi = min(end_us, base + HOUR_US) - base
        visits = hour_visits(profile, project, seed, hour)
        humans.extend(_between(visits.humans, lo, hi))
        bots.extend(_between(visits.bots, lo, hi))
    return humans, bots


def _between(visits: tuple[Visit, ...], lo: int, hi: int) -> tuple[Visit, ...]:
    # Cumulative count at fraction f is floor(h*f): integer maths keeps it exact.
    count = len(visits)
    return visits[count * lo // HOUR_US : count * hi // HOUR_US]
