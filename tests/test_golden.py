"""Golden tests: today's user-visible CLI output, pinned byte for byte at fixed clocks.

They prove a behaviour-preserving restructure changes nothing a user sees:
- `claritybot demo` (default 14 days) at 2026-03-10T09:30:00Z: its stdout and stderr;
- the `--json` output of the read-only commands on that demo's database (every metric);
- a small sandbox scenario (add a source, subscribe, alert, snapshot, tick through a server
  error and a revoked token, remove) pinning `snapshot --json`, `tick --json` and the listings.
test_every_json_command_is_pinned fails when a command gains `--json` without a golden file.

Each golden file in tests/golden/ is one command's stdout (`*.stderr.txt` beside it when the
command wrote to stderr); exit statuses are asserted here. Regenerate them, after a deliberate
output change, with

    CLARITYBOT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and review the diff. The variable is read at import: the autouse `clean_environ` fixture
removes every CLARITY* variable before a test runs.

Normalisation, the only one: the test's temporary directory becomes `<TMP>` (the demo's out
folder, its database URL, outbox destinations). Everything else is deterministic: every
command gets a fixed `clock` (and `--now` where it has one), the sandbox serves seeded data at
a frozen time, its tokens are deterministic JWTs, and its port never reaches the output.
"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from reports.clarity.sandbox import ClaritySandbox
from reports.history.catalogue import CATALOGUE
from store.crypto import generate_key

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CLARITYBOT_UPDATE_GOLDEN", "").strip() == "1"
TMP = "<TMP>"

DEMO_NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
AT_DEMO = ("--now", "2026-03-10T09:30:00Z", "--json")


@dataclass(frozen=True)
class Output:
    """One command's exit status and normalised stdout and stderr."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Shell:
    """Runs `claritybot` in-process with its own environment at a fixed clock."""

    environ: dict[str, str]
    tmp: Path

    def __call__(self, *argv: str, at: datetime) -> Output:
        """Run one command at `at`; return its normalised output."""
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), environ=self.environ, out=out, err=err, clock=lambda: at)
        return Output(code, self.normalise(out.getvalue()), self.normalise(err.getvalue()))

    def normalise(self, text: str) -> str:
        """Replace the temporary directory (different every run) with a placeholder."""
        return text.replace(str(self.tmp), TMP)


def check(name: str, text: str) -> None:
    """Compare `text` with the golden file `name`, or write it in update mode."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with CLARITYBOT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def check_stderr(name: str, text: str) -> None:
    """Like check, for stderr: no file stands for an empty stderr."""
    path = GOLDEN / f"{name}.stderr.txt"
    if UPDATE:
        if text:
            check(path.relative_to(GOLDEN).as_posix(), text)
        else:
            path.unlink(missing_ok=True)
        return
    assert text == (path.read_text(encoding="utf-8") if path.is_file() else "")


def check_output(name: str, result: Output, code: int) -> None:
    """Check the exit status, then stdout against `name` and stderr beside it."""
    assert result.code == code, (result.code, result.out, result.err)
    check(name, result.out)
    check_stderr(name.rsplit(".", 1)[0], result.err)


# -- claritybot demo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Output, Shell]:
    """One `claritybot demo` run, and a shell on its database for the read-only commands."""
    tmp = tmp_path_factory.mktemp("golden-demo")
    out_dir = tmp / "demo"
    result = Shell({}, tmp)("demo", "--out", str(out_dir), at=DEMO_NOW)
    key = (out_dir / "secret.key").read_text().strip()
    environ = {
        "DATABASE_URL": f"sqlite:///{out_dir / 'claritybot.db'}",
        "CLARITYBOT_SECRET_KEY": key,
    }
    return result, Shell(environ, tmp)


def test_demo_output(demo: tuple[Output, Shell]) -> None:
    """`claritybot demo` prints today's summary and warnings, byte for byte."""
    result, _ = demo
    assert result.code == 0, result.err
    check("demo/stdout.txt", result.out)
    check("demo/stderr.txt", result.err)


# Read-only commands on the demo's database: (golden file, argv).
DEMO_CASES: list[tuple[str, tuple[str, ...]]] = [
    ("demo/sources-list.json", ("sources", "list", "--json")),
    ("demo/sources-list-all.json", ("sources", "list", "--all", "--json")),
    ("demo/quota.json", ("quota", "--source", "1", *AT_DEMO)),
    ("demo/runs.json", ("runs", "--limit", "500", "--json")),
    ("demo/runs-default-limit.json", ("runs", "--source", "1", "--json")),
    ("demo/metrics.json", ("metrics", "--json")),
    ("demo/subscriptions.json", ("subscriptions", "--json")),
    ("demo/subscriptions-all.json", ("subscriptions", "--all", "--json")),
    ("demo/deliveries.json", ("deliveries", "--json")),
    ("demo/alerts-list.json", ("alerts", "list", "--json")),
    *[
        (f"demo/metric/{m.key}.json", ("metric", "--source", "1", "--metric", m.key, *AT_DEMO))
        for m in CATALOGUE
    ],
    (
        "demo/metric/sessions-7-days.json",
        ("metric", "--source", "1", "--metric", "sessions", "--days", "7", *AT_DEMO),
    ),
]


@pytest.mark.parametrize(("name", "argv"), DEMO_CASES, ids=[name for name, _ in DEMO_CASES])
def test_demo_json(demo: tuple[Output, Shell], name: str, argv: tuple[str, ...]) -> None:
    """A read-only `--json` command on the demo's database prints what it printed before."""
    _, shell = demo
    check_output(name, shell(*argv, at=DEMO_NOW), code=0)


# -- a small sandbox scenario: snapshot, tick, failures -----------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Step:
    """One command of the scenario; `name` is its golden file (None: setup, not compared)."""

    name: str | None
    command: str  # split on spaces, after <TMP> is replaced
    at: str
    code: int = 0
    cue: Callable[[ClaritySandbox], None] | None = None


def _fail_once(box: ClaritySandbox) -> None:
    box.fail_next(500)


def _revoke(box: ClaritySandbox) -> None:
    box.revoke("shop")


# Each step runs at `at` (the sandbox is frozen there too); `<TMP>` is the scenario's folder.
SCENARIO: list[Step] = [
    Step(None, "sources add --label Shop --token-file <TMP>/token.txt", "2026-03-08T12:00:00Z"),
    Step(
        None,
        "subscribe --source 1 --metric digest --metric sessions --outbox <TMP>/outbox --summary",
        "2026-03-08T12:00:00Z",
    ),
    Step(
        None,
        "alerts add --source 1 --metric rage_click_rate --above 1 --outbox <TMP>/outbox "
        "--min-sessions 100",
        "2026-03-08T12:00:00Z",
    ),
    Step(
        None,
        "alerts add --source 1 --metric sessions --change 10 --direction down --days 1 "
        "--outbox <TMP>/outbox --once",
        "2026-03-08T12:00:00Z",
    ),
    Step(
        "sandbox/01-snapshot.json",
        "snapshot --source 1 --now 2026-03-08T12:00:00Z --json",
        "2026-03-08T12:00:00Z",
    ),
    Step(
        "sandbox/02-tick-night.json",
        "tick --now 2026-03-09T00:05:00Z --json",
        "2026-03-09T00:05:00Z",
    ),
    Step(
        "sandbox/03-tick-morning.json",
        "tick --now 2026-03-09T09:05:00Z --json",
        "2026-03-09T09:05:00Z",
    ),
    Step(
        "sandbox/04-tick-server-error.json",
        "tick --now 2026-03-10T00:05:00Z --json",
        "2026-03-10T00:05:00Z",
        code=1,
        cue=_fail_once,
    ),
    Step(
        "sandbox/05-snapshot-again.json",
        "snapshot --source 1 --now 2026-03-10T00:10:00Z --json",
        "2026-03-10T00:10:00Z",
    ),
    Step(
        "sandbox/06-quota.json",
        "quota --source 1 --now 2026-03-10T00:10:00Z --json",
        "2026-03-10T00:10:00Z",
    ),
    Step(
        "sandbox/07-tick-revoked.json",
        "tick --now 2026-03-11T00:05:00Z --json",
        "2026-03-11T00:05:00Z",
        code=1,
        cue=_revoke,
    ),
    Step("sandbox/08-runs.json", "runs --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/09-sources-list.json", "sources list --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/10-subscriptions.json", "subscriptions --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/11-deliveries.json", "deliveries --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/12-alerts-list.json", "alerts list --json", "2026-03-11T09:00:00Z"),
    Step(
        "sandbox/13-metric-sessions.json",
        "metric --source 1 --metric sessions --days 7 --now 2026-03-11T09:00:00Z --json",
        "2026-03-11T09:00:00Z",
    ),
    Step(
        "sandbox/14-metric-top-pages.json",
        "metric --source 1 --metric top_pages_by_sessions "
        "--days 7 --now 2026-03-11T09:00:00Z --json",
        "2026-03-11T09:00:00Z",
    ),
    Step(None, "unsubscribe 1", "2026-03-11T09:00:00Z"),
    Step(None, "sources remove 1", "2026-03-11T09:00:00Z"),
    Step("sandbox/15-sources-list-all.json", "sources list --all --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/16-subscriptions-all.json", "subscriptions --all --json", "2026-03-11T09:00:00Z"),
    Step("sandbox/17-alerts-list-removed.json", "alerts list --json", "2026-03-11T09:00:00Z"),
    Step(
        "sandbox/18-sources-import.json",
        "sources import <TMP>/clients.jsonl --json",
        "2026-03-11T09:00:00Z",
        code=2,
    ),
]
COMPARED = [step for step in SCENARIO if step.name]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Output]]:
    """Run every step in order against a fresh database and sandbox; outputs by golden name."""
    tmp = tmp_path_factory.mktemp("golden-sandbox")
    (tmp / "token.txt").write_text(ClaritySandbox().issue_token("shop") + "\n")
    (tmp / "clients.jsonl").write_text(
        '{"label": "Client", "token_file": "token.txt", "timezone": "Europe/Paris"}\n'
        '{"label": "Broken", "token": "not-a-token"}\n'
    )
    outputs: dict[str, Output] = {}
    with ClaritySandbox() as box:
        shell = Shell(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'golden.db'}",
                "CLARITYBOT_SECRET_KEY": generate_key(),
                "CLARITY_API_URL": box.url,
                "CLARITY_TIMEOUT_SECONDS": "60",  # a busy machine never turns a call into a failure
            },
            tmp,
        )
        for step in SCENARIO:
            box.set_now(_at(step.at))
            if step.cue:
                step.cue(box)
            result = shell(*step.command.replace(TMP, str(tmp)).split(), at=_at(step.at))
            if step.name:
                outputs[step.name] = result
            else:
                assert result.code == step.code, (step.command, result.err)
    yield outputs


@pytest.mark.parametrize("step", COMPARED, ids=[str(step.name) for step in COMPARED])
def test_scenario_json(scenario: dict[str, Output], step: Step) -> None:
    """Each `--json` output of the sandbox scenario is what it was."""
    assert step.name
    check_output(step.name, scenario[step.name], code=step.code)


# -- nothing left out ----------------------------------------------------------------------------


def json_commands() -> set[str]:
    """Every subcommand (as its words, e.g. `sources list`) that accepts `--json`."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*words, name))
            elif "--json" in action.option_strings:
                found.add(" ".join(words))

    walk(build_parser(), ())
    return found


def test_every_json_command_is_pinned() -> None:
    """A command that gains `--json` needs a golden file here too."""
    argvs = [argv for _, argv in DEMO_CASES] + [tuple(step.command.split()) for step in COMPARED]
    covered = {
        c
        for c in json_commands()
        for argv in argvs
        if "--json" in argv and " ".join(argv).startswith(c + " ")
    }
    assert covered == json_commands()
    assert json_commands() >= {
        "sources list",
        "snapshot",
        "quota",
        "tick",
        "runs",
        "metrics",
        "metric",
        "subscriptions",
        "deliveries",
        "alerts list",
    }
