"""Where the Jinja templates are, both in a source checkout and after `pip install .`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.errors import ConfigError
from reports.textfmt import visible

_PACKAGED = Path(__file__).with_name("_templates")  # put there by the wheel build (pyproject)
_CHECKOUT = Path(__file__).resolve().parent.parent / "templates"


def templates_dir() -> Path:
    """Return the templates folder; ConfigError when the installation lacks it."""
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_dir():
            return candidate
    raise ConfigError("claritybot's templates are missing from this installation; reinstall it.")


def _finalize(value: Any) -> Any:
    # The one sink function for templates (HTML is then autoescaped): page titles and URLs come
    # from websites, so control, bidi and zero-width characters go; an ANSI escape cannot
    # rewrite the terminal, nor U+202E reverse a line.
    return visible(value) if isinstance(value, str) else value


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
