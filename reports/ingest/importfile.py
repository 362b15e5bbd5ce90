"""Reading a file of projects to connect (CSV with a header, or JSON Lines): text in, lines out.

Apart from `bulk` (which checks and stores them) so the CLI's parser can name the formats
without loading the database layer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from reports.errors import UsageError

FORMATS: Final = ("csv", "jsonl")
MAX_LINES: Final = 10_000  # a file this long is a mistake, not an agency


@dataclass(frozen=True)
class ImportLine:
    """One line of an import file, as read (before any check)."""

    number: int
    fields: Mapping[str, str]


def read_lines(text: str, fmt: str) -> list[ImportLine]:
    """Parse CSV (with a header) or JSON Lines into numbered lines; blank lines are skipped."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown import format {fmt!r}: use csv or jsonl.")
    lines = list(_csv_lines(text) if fmt == "csv" else _jsonl_lines(text))
    if not lines:
        raise UsageError("The import file has no projects in it.")
    if len(lines) > MAX_LINES:
        raise UsageError(f"The import file has {len(lines)} lines; at most {MAX_LINES} at once.")
    return lines


def format_of(name: str, given: str | None) -> str:
    """The file's format: as given, else from its ending (.csv, else JSON Lines)."""
    if given:
        return given
    return "csv" if name.lower().endswith(".csv") else "jsonl"


def _csv_lines(text: str) -> Iterator[ImportLine]:
    reader = csv.DictReader(io.StringIO(text))
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        fields = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if any(fields.values()):
            yield ImportLine(number, fields)


def _jsonl_lines(text: str) -> Iterator[ImportLine]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            yield ImportLine(number, {"_error": "not a JSON object"})
            continue
        yield ImportLine(number, {str(k).lower(): _text(v) for k, v in value.items()})


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
