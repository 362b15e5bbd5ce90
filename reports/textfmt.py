"""Plain-text tables and number formats for terminal output, and untrusted text made inert."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

# C0/C1 controls (but tab and newline), bidi overrides and isolates, zero-width characters and
# the soft hyphen: none carries meaning in a title, URL or label, and they hide or reorder text.
_INVISIBLE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def visible(text: str | None) -> str:
    """Untrusted text with every control, bidi and zero-width character removed."""
    return _INVISIBLE.sub("", text or "")


def num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    """Format a number with thousands separators; a missing value is a dash, never a zero."""
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


def seconds(ms: int | None) -> str:
    """Format milliseconds as whole seconds."""
    return "—" if ms is None else f"{ms / 1000:.0f} s"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align: str = "",
    indent: str = "  ",
) -> str:
    """Lay out rows under headers; `align` has an l or r per column (default: l, then r)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(cells: Sequence[str]) -> str:
        padded = (
            str(c).ljust(w) if a == "l" else str(c).rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        )
        return indent + "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
