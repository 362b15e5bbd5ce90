"""A fresh `claritybot` process loads only what its command needs (`python -X importtime`).

`--help` builds the whole parser and must not pay for the database, HTTP, Slack, AI or chart
libraries; text output and a tick with nothing due must not load matplotlib.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "matplotlib",
    "httpx",
    "openai",
    "slack_bolt",
    "slack_sdk",
    "jinja2",
}
NOW = "2026-03-10T00:05:00Z"


def imported(*argv: str, environ: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Run `python -X importtime -m bot ARGV`; return the top-level packages it imported, stdout."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **(environ or {})}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "bot" in names  # the import log was read: an empty set would pass anything
    return names, done.stdout


def test_help_imports_no_heavy_library():
    names, out = imported("--help")
    assert out.startswith("usage: claritybot")
    assert names & HEAVY == set()


def test_subcommand_help_imports_no_heavy_library():
    names, out = imported("alerts", "add", "--help")
    assert "--min-sessions" in out
    assert names & HEAVY == set()


def test_text_metric_imports_no_matplotlib(cli, source):
    assert cli("snapshot", "--source", source, "--now", NOW)[0] == 0
    argv = ("metric", "--source", source, "--metric", "sessions", "--days", "7", "--now", NOW)
    names, out = imported(*argv, environ=dict(cli.environ))
    assert out.startswith("Sessions (count)")
    assert "sqlalchemy" in names  # it did read the database
    assert "matplotlib" not in names


def test_sources_list_json_imports_no_matplotlib_nor_http(cli, source):
    names, out = imported("sources", "list", "--json", environ=dict(cli.environ))
    assert '"label": "Shop"' in out
    assert names & {"matplotlib", "httpx", "openai", "slack_bolt", "slack_sdk"} == set()


def test_tick_with_nothing_due_imports_no_matplotlib(cli):
    names, out = imported("tick", "--now", NOW, environ=dict(cli.environ))
    assert out == "2026-03-10 00:05 UTC: nothing due.\n"
    assert "matplotlib" not in names


def test_tick_with_slack_set_up_starts(cli):
    # The worker loads the Slack sender alone (no app): its imports must not go round in a
    # circle through the app's listeners (they did: every tick with Slack raised ImportError).
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    names, out = imported("tick", "--now", NOW, environ=dict(cli.environ) | slack)
    assert out == "2026-03-10 00:05 UTC: nothing due.\n"
    assert "slack_sdk" in names  # the Slack destination was built
