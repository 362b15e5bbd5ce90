"""PURE: Clarity's values made usable — counts as strings or ints, numbers, website text."""

from __future__ import annotations

import math
import re
from typing import Any, Final

MAX_TEXT: Final = 2048  # longest page title/URL kept; Clarity's own are far shorter
# C0/C1 controls, bidi overrides and isolates, zero-width characters: none carries meaning in a
# title or URL, and they can hide or reorder text where we show it.
_CONTROL: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def to_count(value: Any) -> int | None:
    """Coerce a count that may be a JSON string, int or whole float; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            value = float(text) if "." in text or "e" in text.lower() else int(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and math.isfinite(value) and value >= 0 and value.is_integer():
        return int(value)
    return None


def to_number(value: Any) -> float | None:
    """Coerce a percentage or average (a JSON number, sometimes a string) to float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Website text as it can be stored anywhere: no NUL or other control characters, bounded.

    PostgreSQL refuses NUL in text, so one such page title used to stop a source's whole history.
    The raw body is kept as received; only the parsed values are cleaned.
    """
    return _CONTROL.sub("", text)[:limit]
