"""PURE: the deterministic summary — plain sentences from computed facts, no key, no network."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reports.render.charts.style import NEUTRAL_PCT, POINT_UNITS, format_value
from reports.render.facts import PERIOD_DAYS, Facts, mover_words, pct_change, points_words

LEVEL: Final = NEUTRAL_PCT  # a change under 2 % reads as "level"
SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“(])")
NOTE: Final = "Note: "


@dataclass(frozen=True)
class Bullet:
    """One short line of a summary, with the lines that belong under it."""

    text: str
    details: tuple[str, ...] = ()


def bullets(text: str, labels: Sequence[str], *, note: bool = True) -> tuple[Bullet, ...]:
    """A summary as short bulleted lines: a metric's first sentence (`Sessions: …`) with its
    other sentences under it, a note's parts under `Note` (or no note: `note=False` where the
    report states its caveats already), any other sentence on its own."""
    heads = tuple(f"{label}: " for label in labels)
    found: list[Bullet] = []
    for sentence in (s for s in SENTENCE_END.split(text.strip()) if s):
        if sentence.startswith(NOTE) and not note:
            continue
        if sentence.startswith(NOTE):
            parts = sentence.removeprefix(NOTE).rstrip(".").split("; ")
            found.append(Bullet("Note", tuple(f"{p}." for p in parts)))
        elif found and found[-1].text.startswith(heads) and not sentence.startswith(heads):
            found[-1] = Bullet(found[-1].text, (*found[-1].details, sentence))
        else:
            found.append(Bullet(sentence))
    return tuple(found)


def change_words(pct: float | None, versus: str, diff: float | None = None, unit: str = "") -> str:
    """`up 12 % on Mon 2 Mar`, `up 2.6 points on …` for a percentage, `level with …`, or ""."""
    if pct is None and diff is None:
        return ""
    if pct is not None and abs(pct) < LEVEL or (pct is None and diff == 0):
        return f"level with {versus}"
    way = "up" if (diff if diff is not None else pct or 0) > 0 else "down"
    if unit in POINT_UNITS and diff is not None:
        return f"{way} {points_words(diff, unit)} on {versus}"
    return f"{way} {abs(pct or 0):.0f} % on {versus}"


def caveats(f: Facts) -> list[str]:
    """What undermines this metric's own numbers, over its own window."""
    parts = []
    name = f.metric.label.lower()
    if f.days_missing:
        parts.append(f"{f.days_missing} of the last {f.days} days have no {name} data")
    if f.estimated_days:
        parts.append(f"{f.estimated_days} day(s) of {name} are estimated (rebuilt from totals)")
    if f.late_days:
        parts.append(f"{f.late_days} day(s) of {name} were taken late")
    for day, hours in f.odd_days:
        kind = "short" if hours < 24 else "long"
        parts.append(f"{day:%a %-d %b} was a {kind} day ({hours} h, a clock change)")
    return parts


def _caveats(facts: Sequence[Facts]) -> str:
    parts = list(dict.fromkeys(part for f in facts for part in caveats(f)))
    return f" Note: {'; '.join(parts)}." if parts else ""


def _movers(f: Facts) -> str:
    if not f.movers:
        return ""
    return f" Biggest movers on the week: {', '.join(mover_words(m) for m in f.movers)}."


def deterministic_all(facts: Sequence[Facts]) -> str:
    """Several metrics: a few sentences each, each metric's caveats once at the end."""
    if not facts:
        return ""
    return " ".join(deterministic(f, caveats=False) for f in facts) + _caveats(facts)


def window_words(f: Facts) -> str:
    """`Over the last 7 days: 5.2k`, `… 4.4k over 6 of 7 days`, `… about 700 users a day`."""
    w, unit = f.period, f.metric.unit
    value = format_value(w.value, unit)
    if f.metric.rule == "users":
        value = f"about {value} users a day"
    if not w.complete:
        value += f" over {w.days_with_data} of {w.days} days"
    return f" Over the last {w.days} days: {value}"


def deterministic(f: Facts, *, caveats: bool = True) -> str:
    """A few sentences that read well for rising, falling, flat and sparse series."""
    label, unit = f.metric.label, f.metric.unit
    if f.latest is None or f.latest_day is None:
        return f"No {label.lower()} data yet: the first snapshot is taken after midnight."
    text = f"{label}: {format_value(f.latest, unit)} on {f.latest_day:%a %-d %b}"
    week = change_words(f.change_week_pct, f"the {f.latest_day:%A} before", f.change_week, unit)
    text += f", {week}." if week else "."
    if f.sparse:
        return (
            f"{text} Only {f.days_with_data} day(s) of history so far: too early to call a "
            f"trend.{_caveats([f]) if caveats else ''}"
        )
    if f.period.value is not None and f.period.days:
        text += window_words(f)
        period = change_words(
            f.change_period_pct, f"the {PERIOD_DAYS} days before", f.change_period, unit
        )
        text += f", {period}." if period else "."
    base = f.baseline_28
    if base.value is not None:
        where = change_words(
            pct_change(f.latest, base.value), "", _diff(f.latest, base.value), unit
        ).removesuffix(" on ")
        where = "level" if where.startswith("level") else where
        kind = "daily average" if base.per_day else "average"
        text += (
            f" Against the {kind} of {format_value(base.value, unit)} over the "
            f"{base.days_with_data} days with data: {where}."
        )
    return text + _movers(f) + (_caveats([f]) if caveats else "")


def _diff(now: float | None, before: float | None) -> float | None:
    return now - before if now is not None and before is not None else None
