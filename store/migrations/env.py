"""Alembic environment: run by `claritybot migrate` (connection passed in) or the alembic CLI."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.db import DEFAULT_DATABASE_URL, make_engine
from store.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _render_item(type_: str, obj: object, _autogen_context: object) -> str | bool:
    # Render our UTCDateTime as a plain DateTime so migrations never import application code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# slack-sdk's installation and OAuth state tables (migration 0004) are not SQLModel models;
# without this, autogenerate would offer to drop them.
SLACK_SDK_TABLES = frozenset({"slack_installations", "slack_bots", "slack_oauth_states"})


def _include_object(
    obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in SLACK_SDK_TABLES


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
