"""PURE-ish builders for `/clarity status` and the App Home: what a team sees about its sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlmodel import Session, col, func, select

from bot.slack.services import SlackServices
from bot.slack.text import escape
from reports.ingest.due import spread
from reports.timezones import due_at, local_date, parse_timezone
from store import quota, repository, vocab
from store.models import RunLog, Snapshot, Source

BADGES: Final[dict[str, str]] = {
    vocab.SourceStatus.CONNECTED: "✅ connected",
    vocab.SourceStatus.TOKEN_REJECTED: "⛔ token rejected",
    vocab.SourceStatus.QUOTA_EXHAUSTED: "⏳ quota exhausted",
    vocab.SourceStatus.FAILING: "⚠️ failing",
    vocab.SourceStatus.REMOVED: "removed",
}


@dataclass(frozen=True)
class SourceStatus:
    """Everything `/clarity status` says about one source."""

    source: Source
    timezone: str
    last_day: date | None
    usage: quota.QuotaUsage
    next_run: datetime
    last_failure: RunLog | None
    today: date  # in the workspace timezone


def statuses(services: SlackServices, workspace_id: int) -> list[SourceStatus]:
    """Return the status of every source of one workspace (and of no other)."""
    now = services.clock()
    with Session(services.engine) as session:
        workspace = repository.get_workspace(session=session, workspace_id=workspace_id)
        tz = parse_timezone(workspace.timezone)
        rows = repository.list_sources(session=session, workspace_id=workspace_id)
        out = []
        for source in rows:
            sid = source.id or 0
            last = session.exec(
                select(func.max(Snapshot.local_date)).where(Snapshot.source_id == sid)
            ).one()
            failure = session.exec(
                select(RunLog)
                .where(
                    RunLog.source_id == sid,
                    col(RunLog.outcome).in_((vocab.Outcome.FAILED, vocab.Outcome.GAP)),
                )
                .order_by(col(RunLog.id).desc())
            ).first()
            usage = quota.usage(
                services.engine, project_key=source.project_key, now=now, policy=services.policy
            )
            next_run = due_at(local_date(now, tz), tz) + spread(sid)
            out.append(
                SourceStatus(source, str(tz), last, usage, next_run, failure, local_date(now, tz))
            )
    return out


def when(moment: datetime, tz: str) -> str:
    local = moment.astimezone(parse_timezone(tz))
    return f"{local:%a %-d %b %H:%M} {tz} ({moment:%H:%M} UTC)"


def source_lines(item: SourceStatus) -> str:
    """Return the mrkdwn lines for one source (labels and reasons escaped)."""
    s, u = item.source, item.usage
    badge = BADGES.get(s.status, s.status)
    lines = [f"*{escape(s.label)}* (id {s.id}) — {badge}"]
    if s.status_reason:
        lines.append(f"> {escape(s.status_reason)}")
    last = f"{item.last_day:%a %-d %b}" if item.last_day else "nothing yet"
    lines.append(
        f"Last stored day: {last} · Clarity calls today: {u.used + u.in_flight} of {u.cap} "
        f"(resets {u.resets_at:%H:%M} UTC) · Next snapshot: {when(item.next_run, item.timezone)}"
    )
    if item.last_failure is not None:
        f = item.last_failure
        lines.append(
            f"Last problem: {f.local_date} {f.fetch_group} {f.outcome}: "
            f"{escape((f.error or '')[:200])}"
        )
    return "\n".join(lines)


def status_blocks(items: list[SourceStatus]) -> list[dict[str, Any]]:
    """Return Block Kit blocks listing the sources (at most 40 of them: Slack's limit is 50)."""
    if not items:
        return [_section("No Clarity project is connected here yet. Run `/clarity connect`.")]
    blocks: list[dict[str, Any]] = []
    for item in items[:40]:
        blocks.append(_section(source_lines(item)))
    if len(items) > 40:
        blocks.append(_section(f"…and {len(items) - 40} more."))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
