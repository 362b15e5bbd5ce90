"""Property: over every IANA zone and two simulated years of ticks, each local date is taken once.

The rules depend on a zone only through the instants its local days start, so zones with the
same day starts over the simulated span behave identically: each such class (which covers every
name in zoneinfo.available_timezones()) is simulated with its own random tick sequences.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from reports.ingest.due import (
    ON_TIME,
    RECOVERY_GROUP,
    DayState,
    Lose,
    due_at,
    plan_days,
    recovery_targets,
    spread,
)
from reports.ingest.fetch_plan import DEFAULT_PLAN
from reports.timezones import day_start, exists, local_date
from store.quota import QuotaPolicy

GROUPS = tuple(g.name for g in DEFAULT_PLAN.groups)
BUDGET = QuotaPolicy().limit_for("scheduled")  # calls per UTC day the scheduler may spend
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
SEED = int(os.environ.get("CLARITYBOT_PROPERTY_SEED", "20261122"))


def zone_classes() -> dict[tuple[datetime, ...], list[str]]:
    """Group every zone by the instants its local days start over the simulated span."""
    first, last = START.date() - timedelta(days=3), END.date() + timedelta(days=3)
    span = [first + timedelta(days=i) for i in range((last - first).days)]
    classes: dict[tuple[datetime, ...], list[str]] = {}
    for name in sorted(available_timezones()):
        try:
            tz = ZoneInfo(name)
        except (ValueError, OSError):
            continue  # a name the system database lists but cannot load
        classes.setdefault(tuple(day_start(d, tz) for d in span), []).append(name)
    return classes


@dataclass
class Sim:
    """The scheduler's decisions, with every call succeeding unless the budget is spent."""

    tz: ZoneInfo
    created: datetime
    source_id: int = 1
    stored: dict[tuple[date, str], datetime] = field(default_factory=dict)
    gaps: set[tuple[date, str]] = field(default_factory=set)
    calls: Counter[date] = field(default_factory=Counter)
    watermark: date | None = None
    first: date = date.min
    open_days: dict[date, tuple[set[str], set[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.first = local_date(self.created, self.tz)

    def states(self) -> dict[date, DayState]:
        return {d: DayState(frozenset(s), frozenset(g)) for d, (s, g) in self.open_days.items()}

    def call(self, now: datetime) -> bool:
        if self.calls[now.date()] >= BUDGET:
            return False
        self.calls[now.date()] += 1
        return True

    def store(self, day: date, group: str, now: datetime) -> None:
        assert (day, group) not in self.stored, f"{day} {group} taken twice"
        assert self.first <= day < local_date(now, self.tz), f"{day} is not takeable at {now}"
        self.stored[(day, group)] = now
        self.open_days.setdefault(day, (set(), set()))[0].add(group)

    def tick(self, now: datetime) -> None:
        open_from = self.first if self.watermark is None else self.watermark + timedelta(days=1)
        if now < due_at(open_from, self.tz) + spread(self.source_id):
            return
        for action in plan_days(now=now, tz=self.tz, open_from=open_from, days=self.states(),
                                groups=GROUPS, offset=spread(self.source_id)):  # fmt: skip
            if isinstance(action, Lose):
                self.gaps |= {(action.day, g) for g in action.groups}
                self.open_days.setdefault(action.day, (set(), set()))[1].update(action.groups)
                continue
            for group in action.groups:
                if not self.call(now):
                    return  # refused: the rest waits for the UTC reset
                self.store(action.day, group, now)
                if group == RECOVERY_GROUP and now - due_at(action.day, self.tz) <= ON_TIME:
                    self.recover(action.day, now)
        self.settle(open_from, now)

    def recover(self, taken: date, now: datetime) -> None:
        days = self.states()
        for back in (1, 2):  # days at or below the watermark are settled: never targets
            day = taken - timedelta(days=back)
            if self.watermark is not None and day <= self.watermark:
                days[day] = DayState(stored=frozenset(GROUPS))
        targets = recovery_targets(taken, tz=self.tz, first_day=self.first, days=days)
        for back, day in enumerate(targets, 1):
            if (taken - day).days != back or not self.call(now):
                return
            self.store(day, RECOVERY_GROUP, now)

    def settle(self, open_from: date, now: datetime) -> None:
        day, today = open_from, local_date(now, self.tz)
        while day < today:
            done = all((day, g) in self.stored or (day, g) in self.gaps for g in GROUPS)
            if exists(day, self.tz) and not done:
                return
            self.open_days.pop(day, None)
            self.watermark, day = day, day + timedelta(days=1)


def run(zone: str, rng: random.Random, longest: timedelta) -> Sim:
    tz = ZoneInfo(zone)
    sim = Sim(tz, created=START + timedelta(minutes=rng.randrange(3 * 24 * 60)))
    now = sim.created
    while now < END:
        sim.tick(now)
        now += timedelta(seconds=rng.randrange(60, int(longest.total_seconds()) + 1))
    return sim


CLASSES = zone_classes()


def test_every_zone_is_in_a_class():
    names = {n for members in CLASSES.values() for n in members}
    assert {"America/Santiago", "America/Havana", "Pacific/Apia", "Asia/Kathmandu"} <= names
    assert len(names) > 400 and len(CLASSES) < len(names)


@pytest.mark.parametrize("members", list(CLASSES.values()), ids=lambda m: m[0])
def test_one_snapshot_per_local_date_in_every_zone(members):
    zone = members[0]
    rng = random.Random(f"{SEED}:{zone}")
    # Ticks at most three hours apart: every date from the source's first one is taken, once.
    sim = run(zone, rng, longest=timedelta(hours=3))
    last = local_date(END, sim.tz) - timedelta(days=2)
    days = [sim.first + timedelta(days=i) for i in range((last - sim.first).days)]
    missing = [
        (d, g) for d in days if exists(d, sim.tz) for g in GROUPS if (d, g) not in sim.stored
    ]
    assert missing == [] and not sim.gaps
    assert max(sim.calls.values()) <= BUDGET
    # Ticks from a minute to a day apart: days may be lost (as gaps), never doubled or overspent.
    wide = run(zone, rng, longest=timedelta(days=1))
    assert max(wide.calls.values()) <= BUDGET
    settled = set(wide.stored) | wide.gaps
    assert len(settled) == len(wide.stored) + len(wide.gaps)  # nothing both stored and lost
