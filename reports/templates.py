"""Where the Jinja templates are, both in a source checkout and after `pip install .`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.errors import ConfigError

_PACKAGED = Path(__file__).with_name("_templates")  # put there by the wheel build (pyproject)
_CHECKOUT = Path(__file__).resolve().parent.parent / "templates"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def templates_dir() -> Path:
    """Return the templates folder; ConfigError when the installation lacks it."""
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_dir():
            return candidate
    raise ConfigError("claritybot's templates are missing from this installation; reinstall it.")


def _finalize(value: Any) -> Any:
    # Page titles and URLs come from websites: strip control characters so a hostile title
    # cannot rewrite the terminal (ANSI escapes) in text output. HTML is autoescaped anyway.
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def _num(value: Any, digits: int = 0) -> str:
    """Format a number with thousands separators; a missing value is a dash, never a zero."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _seconds(ms: Any) -> str:
    return "—" if ms is None else f"{ms / 1000:.0f} s"


def template_env() -> Environment:
    """Return the one Jinja environment: autoescaped HTML, strict about missing variables."""
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["num"] = _num
    env.filters["seconds"] = _seconds
    return env
