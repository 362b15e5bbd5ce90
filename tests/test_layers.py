"""The import direction: bot → reports → store, and inside reports one way per capability.

    alerts → delivery → render → history → store
    ingest → clarity → store

Every subpackage may use the kernel (`reports/*.py`); the kernel imports no subpackage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = ("clarity", "ingest", "history", "render", "delivery", "alerts")
# the other reports subpackages each room may import (besides itself, the kernel and store)
ALLOWED_INSIDE_REPORTS = {
    "clarity": set(),
    "ingest": {"clarity"},
    "history": set(),
    "render": {"history"},
    "delivery": {"render", "history"},
    "alerts": {"delivery", "render", "history"},
    "kernel": set(),
}
FORBIDDEN = {"store": {"bot", "reports"}, "reports": {"bot"}}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports (`from a.b import c` gives `a.b` and `a.b.c`)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a file imports."""
    return {name.split(".")[0] for name in imported_modules(path)}


def room_of(path: Path) -> str:
    """The reports subpackage a file lives in, or `kernel` for files at the top of reports/."""
    parts = path.relative_to(ROOT / "reports").parts
    return parts[0] if len(parts) > 1 else "kernel"


def reports_rooms_imported(path: Path) -> set[str]:
    """The reports subpackages a file imports."""
    return {
        name.split(".")[1]
        for name in imported_modules(path)
        if name.startswith("reports.") and name.split(".")[1] in SUBPACKAGES
    }


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(package):
    offenders = {
        str(path.relative_to(ROOT)): imported_packages(path) & FORBIDDEN[package]
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("room", sorted(ALLOWED_INSIDE_REPORTS))
def test_reports_subpackages_import_in_one_direction(room):
    offenders = {}
    for path in (ROOT / "reports").rglob("*.py"):
        if room_of(path) != room:
            continue
        wrong = reports_rooms_imported(path) - ALLOWED_INSIDE_REPORTS[room] - {room}
        if wrong:
            offenders[str(path.relative_to(ROOT))] = wrong
    assert offenders == {}


def test_every_subpackage_says_what_it_owns_and_may_import():
    for room in SUBPACKAGES:
        doc = ast.get_docstring(ast.parse((ROOT / "reports" / room / "__init__.py").read_text()))
        assert doc and "Owns:" in doc and "May import:" in doc, room


def test_the_direction_check_catches_a_wrong_import(tmp_path):
    fake = ROOT / "reports" / "history" / "x.py"
    bad = tmp_path / "x.py"
    bad.write_text("from reports.delivery.compose import Report\nimport reports.ingest.due\n")
    assert reports_rooms_imported(bad) == {"delivery", "ingest"}
    assert room_of(fake) == "history"
    assert reports_rooms_imported(bad) - ALLOWED_INSIDE_REPORTS["history"] == {"delivery", "ingest"}


def test_reports_has_at_most_ten_top_level_modules():
    assert len(list((ROOT / "reports").glob("*.py"))) <= 10


def test_only_bot_may_import_slack_bolt():
    for package in ("reports", "store"):
        for path in (ROOT / package).rglob("*.py"):
            assert "slack_bolt" not in imported_packages(path), path


def test_no_fmt_skip_in_product_code():
    for package in ("bot", "reports", "store"):
        for path in (ROOT / package).rglob("*.py"):
            assert "fmt: skip" not in path.read_text(), path
