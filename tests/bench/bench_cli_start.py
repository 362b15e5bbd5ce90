"""Benchmark: how long a fresh `claritybot` process takes for `--help` and a text `metric`.

Not part of the test suite. Run:
    python3 tests/bench/bench_cli_start.py [--runs 5]
Times `python -m bot --help` and `python -m bot metric --source 1 --metric sessions --days 30`
(a SQLite file with one sandbox project and one night stored), each `--runs` times in fresh
processes, and the `claritybot` console script's `--help` when it is on PATH. Prints
    cli_start: help_median_s=<s> metric_median_s=<s> [script_help_median_s=<s>]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.cli import main  # noqa: E402
from reports.clarity.sandbox import ClaritySandbox  # noqa: E402
from store.crypto import generate_key  # noqa: E402

NOW = "2026-03-10T00:05:00Z"
AT = datetime.fromisoformat(NOW)


def median_wall(command: list[str], environ: dict[str, str], runs: int) -> float:
    """The median wall time of `runs` fresh processes of `command` (each must exit 0)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=environ, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_project(folder: Path) -> dict[str, str]:
    """An environment naming a SQLite file with one sandbox project and its night of 9 March."""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "CLARITYBOT_SECRET_KEY": generate_key(),
    }
    token = folder / "token.txt"
    with ClaritySandbox() as sandbox:
        token.write_text(sandbox.issue_token("shop"))
        env = environ | {"CLARITY_API_URL": sandbox.url}
        for argv in (
            ["sources", "add", "--label", "Shop", "--token-file", str(token)],
            ["snapshot", "--source", "1", "--now", NOW],
        ):
            quiet = {"out": io.StringIO(), "err": io.StringIO()}
            code = main(argv, environ=env, clock=lambda: AT, **quiet)  # --now is the time
            assert code == 0, argv
    return environ


def run(runs: int) -> str:
    """Measure and return the result line."""
    with tempfile.TemporaryDirectory() as tmp:
        environ = one_project(Path(tmp))
        python = [sys.executable, "-m", "bot"]
        help_s = median_wall([*python, "--help"], environ, runs)
        metric = ["metric", "--source", "1", "--metric", "sessions", "--days", "30", "--now", NOW]
        metric_s = median_wall([*python, *metric], environ, runs)
        line = f"cli_start: help_median_s={help_s:.3f} metric_median_s={metric_s:.3f}"
        script = shutil.which("claritybot", path=str(Path(sys.executable).parent))
        if script:
            line += f" script_help_median_s={median_wall([script, '--help'], environ, runs):.3f}"
    return line


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    print(run(parser.parse_args().runs))
