"""Bounded number types for argparse: a bad number is exit 2 with the usage, never a crash.

`float("nan")`, `float("inf")` and a negative count all parse; none of them means anything
as a threshold, a cooldown, an interval or a number of days. `--now` is checked here too.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, TextIO

from reports.errors import UsageError

MAX_ID: Final = 2**63 - 1  # the widest id a database column holds


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip()) if len(text) <= 20 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its own messages
    return parse


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from `low` to `high` (no nan, no inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip()) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a number from {low:g} to {high:g}")
        return value

    parse.__name__ = "number"
    return parse


ID: Final = bounded_int(1, MAX_ID)


NOW_RANGE: Final = (2000, 2199)


def parse_now(
    text: str | None, err: TextIO, clock: Callable[[], datetime] | None = None
) -> datetime:
    """Parse --now (default: the runtime's clock); an offset-less value is UTC, and we say so."""
    if text is None:
        return clock() if clock is not None else datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now must be an ISO 8601 time such as 2026-03-10T00:05:00Z, not {text!r}."
        ) from None
    if value.tzinfo is None:
        err.write(f"note: --now {text} has no UTC offset; taking it as UTC.\n")
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    # Dates near year 9999 overflow as soon as a day is added; no run is meant for them.
    if not NOW_RANGE[0] <= value.year <= NOW_RANGE[1]:
        raise UsageError(
            f"--now must be between the years {NOW_RANGE[0]} and {NOW_RANGE[1]}, not {text!r}."
        )
    return value
