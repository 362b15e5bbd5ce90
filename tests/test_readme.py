"""The README is a contract: its commands and settings must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import build_parser
from reports.settings import ENV_VARS, SLACK_ENV_VARS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    table = {m.group(1) for m in re.finditer(r"^\| `([A-Z_]+)` \|", README, re.M)}
    assert set(ENV_VARS) | set(SLACK_ENV_VARS) <= table


def test_every_command_is_documented():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    for name in commands:
        assert f"claritybot {name}" in README, name


def test_quick_start_is_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert [b.strip() for b in blocks] == [
        "python3 -m venv .venv && . .venv/bin/activate && python3 -m pip install . "
        "&& claritybot demo",
        "python3 -m venv .venv && . .venv/bin/activate && python3 -m pip install '.[test]' "
        "&& python3 -m pytest",
    ]


def test_ci_runs_the_readme_test_command_verbatim():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    test_command = re.findall(r"```sh\n(.*?)```", quick, re.S)[1].strip()
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
