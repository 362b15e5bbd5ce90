"""One look for every chart: size, type, colour-blind-safe colours, and number formats."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

# 5 × 2.8125 in at 320 dpi = 1600 × 900 px. The inches set how big type is next to the picture:
# shown 360 px wide (a Slack preview, a 390 px phone's mail), a point is 360 / (5 × 72) = 1 px,
# so the smallest type (11 pt) is 11 px there and larger everywhere else.
SIZE: Final = (5.0, 2.8125)
DPI: Final = 320
NARROWEST_PX: Final = 360  # the narrowest a chart is shown: every text is ≥ 11 px there
# PNG zlib level: 1 renders fastest; the files stay well under what Slack and mail accept.
PNG_LEVEL: Final = 1

# Okabe–Ito: readable with every common colour-vision deficiency.
BLUE: Final = "#0072B2"
ORANGE: Final = "#E69F00"
SKY: Final = "#56B4E9"
GREEN: Final = "#009E73"
VERMILLION: Final = "#D55E00"
PURPLE: Final = "#CC79A7"
INK: Final = "#1F2328"
MUTED: Final = "#59636E"
GRID: Final = "#D8DEE4"
UP_GOOD, DOWN_BAD = GREEN, VERMILLION

TITLE_SIZE: Final = 13
BIG_SIZE: Final = 16
TEXT_SIZE: Final = 11
SMALL_SIZE: Final = 11


def text_px(points: float, shown_px: float) -> float:
    """How tall `points` of chart type is, in CSS px, when the chart is shown `shown_px` wide."""
    return points / 72 * DPI * shown_px / (SIZE[0] * DPI)


NEUTRAL_PCT: Final = 2.0  # a change within ±2 % is noise: grey, never good or bad news
POINT_UNITS: Final = ("percent", "per100")  # these change in points, not in relative %


def format_value(value: float | None, unit: str, *, short: bool = True) -> str:
    """Format a value for people: 1.2k, 12.3 s, 45 %, 2.49; a missing value is a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in POINT_UNITS:
        number = f"{value:.1f}" if abs(value) < 10 else f"{value:.0f}"
        return number + (" %" if unit == "percent" else "")
    if unit == "seconds":
        return f"{value:.1f} s" if value < 60 else f"{int(value // 60)} min {int(value % 60):02d} s"
    if unit == "ratio":
        return f"{value:.2f}"
    if short and abs(value) >= 10_000:
        return f"{value / 1000:.0f}k" if abs(value) >= 100_000 else f"{value / 1000:.1f}k"
    if short and abs(value) >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:,.0f}"


def decimals(values: Sequence[float]) -> int:
    """The fewest decimals (up to 3) that print every value exactly: labels that round-trip."""
    for digits in range(4):
        if all(abs(round(v, digits) - v) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return digits
    return 3


def tick_formatter(ticks: Sequence[float], unit: str, top: float) -> Callable[[float], str]:
    """One number format per axis, with as many decimals as its ticks need (2.5 % is 2.5 %)."""
    thousands = unit == "count" and top >= 1000
    scaled = [t / 1000 for t in ticks] if thousands else list(ticks)
    digits = decimals(scaled)
    suffix = {"seconds": " s", "percent": " %"}.get(unit, "")

    def label(value: float) -> str:
        if thousands:
            return "0" if value == 0 else f"{value / 1000:.{digits}f}k"
        return f"{value:,.{digits}f}{suffix}"

    return label


def format_change(pct: float | None) -> str:
    """Format a relative change with an arrow; None when there is nothing to compare."""
    if pct is None:
        return ""
    if abs(pct) < 0.5:
        return "±0 %"
    return f"{'▲' if pct > 0 else '▼'} {abs(pct):.0f} %"


def format_points(diff: float | None, unit: str) -> str:
    """An absolute change of a percentage (in points, "pp") or of a rate per 100 sessions."""
    if diff is None:
        return ""
    size = f"{abs(diff):.1f}" if abs(diff) < 10 else f"{abs(diff):.0f}"
    if size in ("0.0", "0"):
        return "±0 pp" if unit == "percent" else "±0"
    return f"{'▲' if diff > 0 else '▼'} {size}" + (" pp" if unit == "percent" else " per 100")


def format_delta(unit: str, diff: float | None, pct: float | None) -> str:
    """A change as people read it: percentages in points, everything else relative."""
    return format_points(diff, unit) if unit in POINT_UNITS else format_change(pct)


def change_colour(pct: float | None, higher_is_better: bool | None) -> str:
    """Green when a change is good news, vermillion when bad, grey when neutral (within ±2 %)."""
    if pct is None or abs(pct) < NEUTRAL_PCT or higher_is_better is None:
        return MUTED
    return UP_GOOD if (pct > 0) == higher_is_better else DOWN_BAD


@dataclass(frozen=True)
class KeyNumber:
    """A chart's own figure when its report states another (a week's total, not the last
    day's): the picture then says what the words around it say."""

    value: str  # "5.8k"
    change: str  # "▲ 3 % vs the week before", or ""
    colour: str
    scope: str = ""  # what the value covers: "last 7 days"


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes and a text alternative stating its key numbers."""

    png: bytes
    alt_text: str
    width: int = int(SIZE[0] * DPI)
    height: int = int(SIZE[1] * DPI)


def shorten(label: str, limit: int, *, middle: bool = False) -> str:
    """Shorten a label to `limit` characters: paths lose their middle, names their end."""
    if len(label) <= limit:
        return label
    if middle:
        keep = limit - 1
        head = keep // 2
        return label[:head] + "…" + label[len(label) - (keep - head) :]
    return label[: limit - 1].rstrip() + "…"
