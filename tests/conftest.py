"""Shared fixtures: a clean environment, and real databases (SQLite always, PostgreSQL on ask)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text

from store.db import make_engine
from store.migrate import upgrade

if TYPE_CHECKING:
    from bot.cli.demo import DemoRun

# The suite runs the same examples every time (CI must not fail by luck of the draw), 50 per
# property: a fixed corpus gains nothing from being run again, and the parser fuzz tests spent
# ~25 s drawing 700. HYPOTHESIS_PROFILE=explore searches fresh ones, twenty times as many.
settings.register_profile("repeatable", derandomize=True, max_examples=50, print_blob=True)
settings.register_profile("explore", max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Read before clean_environ runs: .ci/run sets it to run the store tests on PostgreSQL too.
PG_URL = os.environ.get("CLARITYBOT_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
FIXTURES = Path(__file__).parent / "fixtures"
_OUR_PREFIXES = ("SLACK_", "CLARITY", "OPENAI_", "SMTP_", "MAIL_", "DATABASE_URL", "LOG_LEVEL")
DEMO_NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # 10:00 in London: the 09:00 report is due


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own settings out of every test."""
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; tests get copies (Alembic takes ~0.5 s a run)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.connect() as conn:  # fold the WAL into the main file so a plain copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"cbtest_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str, migrated_sqlite: Path) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(migrated_sqlite, db_url.removeprefix("sqlite:///"))
    eng = make_engine(db_url)
    if not db_url.startswith("sqlite:///"):
        upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_history(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """Nine simulated nights of demo data to DEMO_NOW (London), made once per run: read only."""
    from bot.cli.demo import run_demo  # the sandbox and charts load only for tests that use it

    out = tmp_path_factory.mktemp("demo")
    return run_demo(out_dir=out, days=9, now=DEMO_NOW, timezone="Europe/London")
