"""Connecting many Clarity projects at once (`claritybot sources import FILE`).

Agencies connect dozens of client projects; one process and one transaction for all of them
instead of one process each. Every line is checked (label, token shape, duplicates) before
anything is stored, and each line's fate is reported on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reports.clarity.tokens import check_token, fingerprint, project_id_claim, project_key
from reports.clarity.values import clean_text
from reports.errors import ClaritybotError, UsageError
from reports.ingest.importfile import ImportLine
from reports.ingest.sources import check_label
from reports.timezones import parse_timezone
from reports.urls import check_project_id
from store import repository
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import Source, Workspace
from store.vocab import SourceStatus

COLUMNS: Final = frozenset({"label", "token", "token_file", "timezone", "workspace", "project_id"})
_TEAM_ID: Final = re.compile(r"[TE][A-Z0-9]{2,}")


@dataclass(frozen=True)
class ImportResult:
    """What became of one line: the new source id, or why it was not stored."""

    number: int
    label: str
    source_id: int | None = None
    error: str | None = None


def _token_of(fields: Mapping[str, str], base: Path) -> str:
    """The line's token, inline or from `token_file` (relative to the import file)."""
    if fields.get("token"):
        return fields["token"]
    name = fields.get("token_file", "")
    if not name:
        raise UsageError("needs a token or a token_file")
    path = Path(name) if Path(name).is_absolute() else base / name
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"cannot read the token file {name}") from None


def workspace_name(value: str | None) -> str:
    """The stored workspace name: a Slack team id (T0123…) is `slack:T0123…`; empty is the CLI's."""
    value = (value or "").strip()
    if not value:
        return repository.DEFAULT_WORKSPACE
    if _TEAM_ID.fullmatch(value):
        return f"slack:{value}"
    return value


@dataclass
class _Workspaces:
    """Workspaces by name, with the fingerprints already connected in each (read once)."""

    session: Session
    by_name: dict[str, Workspace] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # timezones this file set
    taken: dict[int, set[str]] = field(default_factory=dict)

    def get(self, value: str | None, timezone: str | None) -> Workspace:
        """The named (or default) workspace; created when new, its timezone set when given."""
        name = workspace_name(value)
        if name not in self.by_name:
            self.by_name[name] = repository.ensure_workspace(session=self.session, name=name)
        workspace = self.by_name[name]
        if timezone:
            zone = str(parse_timezone(timezone))
            if self.zones.setdefault(name, zone) != zone:
                raise UsageError(f"workspace {name} was given {self.zones[name]} on another line")
            workspace.timezone = zone
            self.session.add(workspace)
        return workspace

    def fingerprints(self, workspace_id: int) -> set[str]:
        """Fingerprints of the live sources of a workspace (loaded on first use)."""
        if workspace_id not in self.taken:
            rows = self.session.exec(
                select(Source.token_fingerprint).where(
                    Source.workspace_id == workspace_id, col(Source.status) != SourceStatus.REMOVED
                )
            )
            self.taken[workspace_id] = set(rows)
        return self.taken[workspace_id]


def import_sources(
    engine: Engine,
    *,
    cipher: TokenCipher,
    lines: Iterable[ImportLine],
    base: Path,
    now: datetime,
) -> list[ImportResult]:
    """Store every good line in one transaction; report each line, good or not."""
    results: list[ImportResult] = []
    with session_scope(engine) as session:
        spaces = _Workspaces(session)
        for line in lines:
            results.append(_import_one(spaces, cipher, line, base, now))
    return results


def _import_one(
    spaces: _Workspaces, cipher: TokenCipher, line: ImportLine, base: Path, now: datetime
) -> ImportResult:
    """Check one line fully, then add it; a bad line is reported and leaves the others intact."""
    fields = line.fields
    label = clean_text(fields.get("label", ""), 200)
    try:
        if "_error" in fields:
            raise UsageError(fields["_error"])
        unknown = sorted(set(fields) - COLUMNS)
        if unknown:
            raise UsageError(f"unknown column(s) {', '.join(unknown)}")
        if not label:
            raise UsageError("needs a label")
        label = check_label(label)
        token = check_token(_token_of(fields, base))
        given = fields.get("project_id", "").strip()
        project_id = check_project_id(given) if given else project_id_claim(token)
        workspace = spaces.get(fields.get("workspace"), fields.get("timezone"))
        taken = spaces.fingerprints(workspace.id or 0)
        if fingerprint(token) in taken:
            raise UsageError("this token is already connected in that workspace")
        source = Source(
            workspace_id=workspace.id or 0,
            label=label,
            project_key=project_key(token),
            token_fingerprint=fingerprint(token),
            token_encrypted=cipher.encrypt(token),
            clarity_project_id=project_id,
            created_at=now,
            updated_at=now,
        )
        spaces.session.add(source)
        spaces.session.flush()  # every check ran before: nothing here can fail for one line
        taken.add(fingerprint(token))
        return ImportResult(line.number, label, source_id=source.id)
    except ClaritybotError as exc:
        return ImportResult(line.number, label, error=str(exc).rstrip("."))
