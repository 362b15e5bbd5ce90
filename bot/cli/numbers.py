"""Bounded number types for argparse: a bad number is exit 2 with the usage, never a crash.

`float("nan")`, `float("inf")` and a negative count all parse; none of them means anything
as a threshold, a cooldown, an interval or a number of days.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Final

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
