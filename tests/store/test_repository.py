from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from store import repository
from store.errors import NotFoundError
from store.models import Workspace


def test_datetimes_come_back_aware_utc_on_every_backend(engine):
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as session:
        session.add(Workspace(name="w", created_at=berlin))
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(Workspace).where(Workspace.name == "w")).one().created_at
    assert stored.utcoffset() == timedelta(0)
    assert stored == berlin


def test_naive_datetimes_are_refused(engine):
    with Session(engine) as session:
        session.add(Workspace(name="n", created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive"):
            session.commit()


def test_default_workspace_is_created_once(engine):
    with Session(engine) as session:
        first = repository.default_workspace(session=session)
        session.commit()
        again = repository.default_workspace(session=session)
    assert first.id == again.id
    assert first.timezone == "UTC"


def test_unknown_source_says_how_to_find_ids(engine):
    with Session(engine) as session, pytest.raises(NotFoundError, match="sources list"):
        repository.get_source(session=session, source_id=99)
