"""The project a Slack channel picked: replaced by a new pick, ignored once removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from store import repository
from store.choices import chosen_source, remember_choice
from store.models import ChannelChoice, Source, Workspace

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def add(session: Session, workspace: Workspace, label: str) -> int:
    source = Source(
        workspace_id=workspace.id or 0, label=label, project_key=label, token_fingerprint="f"
    )
    session.add(source)
    session.flush()
    return source.id or 0


def test_a_pick_is_kept_per_channel_and_a_new_one_replaces_it(engine):
    with Session(engine) as session:
        team = repository.ensure_workspace(session=session, name="slack:T1")
        team_id, shop, blog = team.id, add(session, team, "shop"), add(session, team, "blog")
        remember_choice(
            session=session, workspace_id=team_id, channel="C1", source_id=shop, now=NOW
        )
        remember_choice(
            session=session,
            workspace_id=team_id,
            channel="C1",
            source_id=blog,
            now=NOW + timedelta(hours=1),
        )
        session.commit()
    with Session(engine) as session:
        assert chosen_source(session=session, workspace_id=team_id, channel="C1") == blog
        assert chosen_source(session=session, workspace_id=team_id, channel="C2") is None
        (row,) = session.exec(select(ChannelChoice)).all()
        assert row.updated_at == NOW + timedelta(hours=1)


def test_a_removed_or_foreign_project_is_no_pick(engine):
    with Session(engine) as session:
        team = repository.ensure_workspace(session=session, name="slack:T1")
        other = repository.ensure_workspace(session=session, name="slack:T2")
        shop, theirs = add(session, team, "shop"), add(session, other, "theirs")
        for channel, sid in (("C1", shop), ("C2", theirs)):
            remember_choice(
                session=session, workspace_id=team.id, channel=channel, source_id=sid, now=NOW
            )
        session.commit()
        assert chosen_source(session=session, workspace_id=team.id, channel="C2") is None
        session.get(Source, shop).status = "removed"
        session.commit()
        assert chosen_source(session=session, workspace_id=team.id, channel="C1") is None
        repository.purge_source(session=session, source_id=shop)
        session.commit()
        assert [c.channel for c in session.exec(select(ChannelChoice))] == ["C2"]
