from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import make_engine
from store.migrate import current_revision, ensure_schema, head_revision, upgrade

# slack-sdk's installation and OAuth state tables (migration 0004) are not SQLModel models;
# tests/bot/slack/test_oauth.py compares them with slack-sdk's own definitions.
SLACK_SDK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def ours(obj, name, type_, _reflected, _compare_to):
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SLACK_SDK_TABLES


def test_migrations_build_exactly_the_models(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_ensure_schema_upgrades_an_empty_database_once(db_url):
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == head_revision()
    ensure_schema(engine)  # a second call is a cheap no-op
    assert current_revision(engine) == head_revision()
    engine.dispose()
