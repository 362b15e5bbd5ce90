"""The project each Slack channel picked last (`channel_choice`), kept across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store.models import ChannelChoice, Source
from store.vocab import SourceStatus


def remember_choice(
    *, session: Session, workspace_id: int, channel: str, source_id: int, now: datetime
) -> None:
    """Record (or replace) the project `channel` of this workspace picked."""
    found = _row(session, workspace_id, channel)
    if found is None:
        try:
            with session.begin_nested():
                session.add(
                    ChannelChoice(
                        workspace_id=workspace_id,
                        channel=channel,
                        source_id=source_id,
                        updated_at=now,
                    )
                )
            return
        except IntegrityError:
            # Two clicks in one channel at once: the other inserted first; ours replaces it.
            found = _row(session, workspace_id, channel)
            if found is None:
                raise
    found.source_id, found.updated_at = source_id, now
    session.add(found)


def chosen_source(*, session: Session, workspace_id: int, channel: str) -> int | None:
    """The project this channel picked, if it still is one of the workspace's (not removed)."""
    query = (
        select(ChannelChoice.source_id)
        .join(Source, Source.id == ChannelChoice.source_id)  # type: ignore[arg-type]
        .where(
            ChannelChoice.workspace_id == workspace_id,
            ChannelChoice.channel == channel,
            Source.workspace_id == workspace_id,
            Source.status != SourceStatus.REMOVED,
        )
    )
    return session.exec(query).first()


def _row(session: Session, workspace_id: int, channel: str) -> ChannelChoice | None:
    query = select(ChannelChoice).where(
        ChannelChoice.workspace_id == workspace_id, ChannelChoice.channel == channel
    )
    return session.exec(query).first()
