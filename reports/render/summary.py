"""PURE: the deterministic summary — plain sentences from computed facts, no key, no network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from reports.render.charts.style import format_value
from reports.render.facts import PERIOD_DAYS, Facts, mover_words, pct_change

LEVEL: Final = 2.0  # a change under 2 % reads as "level"


def change_words(pct: float | None, versus: str) -> str:
    """`up 12 % on Mon 2 Mar`, `level with …`, or "" when there is nothing to compare."""
    if pct is None:
        return ""
    if abs(pct) < LEVEL:
        return f"level with {versus}"
    return f"{'up' if pct > 0 else 'down'} {abs(pct):.0f} % on {versus}"


def _caveats(f: Facts) -> str:
    parts = []
    if f.days_missing:
        parts.append(f"{f.days_missing} of the last 28 days have no data")
    if f.estimated_days:
        parts.append(f"{f.estimated_days} day(s) are estimated (rebuilt from totals)")
    if f.late_days:
        parts.append(f"{f.late_days} snapshot(s) were taken late")
    return f" Note: {'; '.join(parts)}." if parts else ""


def _movers(f: Facts) -> str:
    if not f.movers:
        return ""
    return f" Biggest movers on the week: {', '.join(mover_words(m) for m in f.movers)}."


def deterministic_all(facts: Sequence[Facts]) -> str:
    """Several metrics: a few sentences each, the data caveats once at the end."""
    if not facts:
        return ""
    return " ".join(deterministic(f, caveats=False) for f in facts) + _caveats(facts[0])


def deterministic(f: Facts, *, caveats: bool = True) -> str:
    """A few sentences that read well for rising, falling, flat and sparse series."""
    label, unit = f.metric.label, f.metric.unit
    if f.latest is None or f.latest_day is None:
        return f"No {label.lower()} data yet: the first snapshot is taken after midnight."
    text = f"{label}: {format_value(f.latest, unit)} on {f.latest_day:%a %-d %b}"
    week = change_words(f.change_week_pct, f"the {f.latest_day:%A} before")
    text += f", {week}." if week else "."
    if f.sparse:
        return (
            f"{text} Only {f.days_with_data} day(s) of history so far: too early to call a "
            f"trend.{_caveats(f) if caveats else ''}"
        )
    if f.period is not None:
        text += f" Over the last {PERIOD_DAYS} days: {format_value(f.period, unit)}"
        period = change_words(f.change_period_pct, f"the {PERIOD_DAYS} days before")
        text += f", {period}." if period else "."
    if f.baseline_28 is not None:
        pct = pct_change(f.latest, f.baseline_28)
        where = (
            "level"
            if pct is None or abs(pct) < LEVEL
            else (f"{'up' if pct > 0 else 'down'} {abs(pct):.0f} %")
        )
        text += f" Against the 28-day average of {format_value(f.baseline_28, unit)}: {where}."
    return text + _movers(f) + (_caveats(f) if caveats else "")
