"""The command line run in-process, with its own environment and a Clarity sandbox."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime

import pytest

from bot.cli import main
from reports.clarity.sandbox import ClaritySandbox
from store.crypto import generate_key


class Cli:
    """Runs `claritybot` in-process with its own environment, like a user's shell."""

    def __init__(self, environ):
        self.environ = environ

    def __call__(self, *argv, stdin=None):
        out, err = io.StringIO(), io.StringIO()
        # A simulated clock: `--now` is what the machine's clock says for this command.
        at = _now_of(argv)
        clock = {"clock": lambda: at} if at is not None else {}
        code = main(list(argv), environ=self.environ, out=out, err=err, **clock)
        return code, out.getvalue(), err.getvalue()


def _now_of(argv):
    if "--now" not in argv:
        return None
    try:
        value = datetime.fromisoformat(argv[argv.index("--now") + 1].replace("Z", "+00:00"))
    except (IndexError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def sandbox():
    with ClaritySandbox() as box:
        yield box


@pytest.fixture
def cli(tmp_path, sandbox, migrated_sqlite):
    # A copy of the migrated template: the first command need not run Alembic (~0.3 s a test).
    shutil.copyfile(migrated_sqlite, tmp_path / "cli.db")
    return Cli(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "CLARITYBOT_SECRET_KEY": generate_key(),
            "CLARITY_API_URL": sandbox.url,
            "CLARITY_TIMEOUT_SECONDS": "60",  # a busy machine never turns a call into a failure
        }
    )


@pytest.fixture
def token(sandbox):
    return sandbox.issue_token("shop")


@pytest.fixture
def token_file(tmp_path, token):
    path = tmp_path / "token.txt"
    path.write_text(token + "\n")
    return path


@pytest.fixture
def source(cli, token_file):
    code, out, _ = cli("sources", "add", "--label", "Shop", "--token-file", str(token_file))
    assert code == 0
    return out.strip()
