"""Plain-text tables and number formats for terminal output."""

from __future__ import annotations

from collections.abc import Sequence


def num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    """Format a number with thousands separators; a missing value is a dash, never a zero."""
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


def seconds(ms: int | None) -> str:
    """Format milliseconds as whole seconds."""
    return "—" if ms is None else f"{ms / 1000:.0f} s"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "  ") -> str:
    """Lay out rows under headers: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = (str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return indent + "  ".join([first, *rest]).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
