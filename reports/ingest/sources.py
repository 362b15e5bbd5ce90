"""Connecting, re-keying and removing Clarity sources (shared by the CLI and, later, Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from reports.clarity.tokens import check_token, fingerprint, project_id_claim, project_key
from reports.errors import UsageError
from reports.textfmt import visible
from reports.urls import check_project_id
from store import repository
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import AlertRule, Snapshot, Source, Subscription, Workspace
from store.vocab import SourceStatus

MAX_LABEL: Final = 200  # the column's width (store.models.Source.label)


@dataclass(frozen=True)
class SourceView:
    """A source as shown to users: never the token, only its fingerprint."""

    id: int
    label: str
    status: str
    enabled: bool
    status_reason: str | None
    token_fingerprint: str
    timezone: str
    last_snapshot: date | None
    created_at: datetime
    clarity_project_id: str | None = None  # for "Open in Clarity" links


def check_label(label: str) -> str:
    """A label as stored: invisible characters removed, not empty, at most MAX_LABEL long."""
    label = visible(label).strip()
    if not label:
        raise UsageError("A source needs a label, e.g. --label 'Marketing site'.")
    if len(label) > MAX_LABEL:
        raise UsageError(f"A label is at most {MAX_LABEL} characters; this one has {len(label)}.")
    return label


def add_source(
    engine: Engine,
    *,
    cipher: TokenCipher,
    label: str,
    raw_token: str,
    now: datetime,
    workspace_id: int | None = None,
    owner_user_id: str | None = None,
    project_id: str | None = None,
) -> int:
    """Check the token's shape, encrypt it and store a new source; return its id.

    Without `workspace_id` the source goes to the CLI's default workspace; without
    `project_id`, Clarity's project id is taken from the token's claims when one carries it.
    """
    label = check_label(label)
    token = check_token(raw_token)
    project_id = check_project_id(project_id) if project_id else project_id_claim(token)
    with session_scope(engine) as session:
        if workspace_id is None:
            workspace_id = repository.default_workspace(session=session).id or 0
        _refuse_twin(session, fingerprint(token), workspace_id)
        source = Source(
            workspace_id=workspace_id,
            owner_user_id=owner_user_id,
            label=label,
            project_key=project_key(token),
            token_fingerprint=fingerprint(token),
            token_encrypted=cipher.encrypt(token),
            clarity_project_id=project_id,
            created_at=now,
            updated_at=now,
        )
        session.add(source)
        session.flush()
        return source.id or 0


def _refuse_twin(session: Session, token_fingerprint: str, workspace_id: int) -> None:
    """Refuse a token this workspace has connected already (and not removed)."""
    # Only this workspace's sources are compared: another workspace's are none of its business.
    twin = session.exec(
        select(Source).where(
            Source.token_fingerprint == token_fingerprint,
            Source.status != SourceStatus.REMOVED,
            Source.workspace_id == workspace_id,
        )
    ).first()
    if twin is not None:
        raise UsageError(f"This token is already connected as source {twin.id} ({twin.label}).")


def set_token(
    engine: Engine, *, cipher: TokenCipher, source_id: int, raw_token: str, now: datetime
) -> None:
    """Replace a source's token and enable it again (after a 401/403, say)."""
    token = check_token(raw_token)
    with session_scope(engine) as session:
        source = repository.get_source(session=session, source_id=source_id)
        repository.touch_source(
            session=session,
            source=source,
            now=now,
            # An id set by hand stays; the new token's claim only fills a missing one.
            clarity_project_id=source.clarity_project_id or project_id_claim(token),
            project_key=project_key(token),
            token_fingerprint=fingerprint(token),
            token_encrypted=cipher.encrypt(token),
            enabled=True,
            status=SourceStatus.CONNECTED,
            status_reason=None,
        )


def set_project_id(engine: Engine, *, source_id: int, project_id: str, now: datetime) -> str:
    """Set the Clarity project id of a source (for "Open in Clarity" links); return it."""
    checked = check_project_id(project_id)
    with session_scope(engine) as session:
        source = repository.get_source(session=session, source_id=source_id)
        repository.touch_source(session=session, source=source, now=now, clarity_project_id=checked)
    return checked


def remove_source(engine: Engine, *, source_id: int, purge: bool, now: datetime) -> None:
    """Wipe a source's token and stop it; with `purge`, delete its history too."""
    with session_scope(engine) as session:
        source = repository.get_source(session=session, source_id=source_id)
        if purge:
            repository.purge_source(session=session, source_id=source_id)
            return
        repository.touch_source(
            session=session,
            source=source,
            now=now,
            token_encrypted="",
            enabled=False,
            status=SourceStatus.REMOVED,
            status_reason="removed by a user; history kept",
        )
        # Its reports and alerts stop with it: they would only repeat stale numbers.
        for model in (Subscription, AlertRule):
            session.execute(
                update(model).where(col(model.source_id) == source_id).values(active=False)
            )


def list_sources(
    engine: Engine, *, include_removed: bool = False, workspace_id: int | None = None
) -> list[SourceView]:
    """Return every source with its workspace timezone and last stored day."""
    with session_scope(engine) as session:
        last_query = select(Snapshot.source_id, func.max(Snapshot.local_date)).group_by(
            col(Snapshot.source_id)
        )
        last: dict[int, date] = dict(session.exec(last_query).all())
        zones = {w.id: w.timezone for w in session.exec(select(Workspace)).all()}
        return [
            SourceView(
                id=s.id or 0,
                label=s.label,
                status=s.status,
                enabled=s.enabled,
                status_reason=s.status_reason,
                token_fingerprint=s.token_fingerprint,
                timezone=zones.get(s.workspace_id, "UTC"),
                last_snapshot=last.get(s.id or 0),
                created_at=s.created_at,
                clarity_project_id=s.clarity_project_id,
            )
            for s in repository.list_sources(
                session=session, include_removed=include_removed, workspace_id=workspace_id
            )
        ]
