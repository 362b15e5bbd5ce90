"""`/clarity doctor`: one report of everything that can stop a report, each problem with its fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.slack.oauth import SCOPES
from bot.slack.posting import FIXES
from bot.slack.services import SlackServices
from bot.slack.status import SourceStatus, statuses, when
from bot.slack.text import escape
from reports.delivery.subscriptions import list_subscriptions
from store import quota, repository, vocab
from store.models import Source

REQUIRED_SCOPES: Final = frozenset(SCOPES)  # the manifest's (a test keeps them equal)
STALE_DAYS: Final = 2  # a last stored day older than this means nightly runs are not landing


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it is fine, and the fix if not."""

    subject: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The mrkdwn line (subject and detail are escaped by the caller where untrusted)."""
        mark = "✅" if self.ok else "⚠️"
        fix = f"\n      → {self.fix}" if self.fix and not self.ok else ""
        return f"{mark} *{self.subject}*: {self.detail}{fix}"


def slack_checks(client: WebClient, channel: str) -> list[Check]:
    """Check the bot token, its scopes, and this channel's membership."""
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        kind = str(exc.response.get("error", "unknown_error"))
        return [Check("Slack token", False, f"Slack says `{kind}`.", FIXES.get(kind, ""))]
    granted = {s.strip() for s in str(auth.headers.get("x-oauth-scopes", "")).split(",") if s}
    missing = sorted(REQUIRED_SCOPES - granted) if granted else []
    checks = [
        Check("Slack token", True, "accepted."),
        Check(
            "Slack permissions",
            not missing,
            "all granted." if not missing else f"missing {', '.join(missing)}.",
            "Reinstall claritybot from its app page (OAuth & Permissions) to grant them.",
        ),
    ]
    return [*checks, channel_check(client, channel)]


def channel_check(client: WebClient, channel: str) -> Check:
    """Can charts be posted in `channel`? Public channels are joined on the first post."""
    subject = f"Channel <#{channel}>"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        kind = str(exc.response.get("error", "unknown_error"))
        return Check(subject, False, f"I can't see it (`{kind}`).", FIXES["channel_not_found"])
    if info.get("is_archived"):
        return Check(subject, False, "archived.", FIXES["is_archived"])
    if info.get("is_member"):
        return Check(subject, True, "I'm a member: charts can be posted here.")
    if info.get("is_private"):
        return Check(
            subject, False, "private and I'm not in it.", "Invite me with `/invite @claritybot`."
        )
    return Check(subject, True, "public: I join it the first time I post here.")


def source_checks(item: SourceStatus) -> Iterable[Check]:
    """Check one Clarity project: what stops it (token, daily limit or Clarity), then freshness."""
    s, name = item.source, escape(item.source.label)
    limited = limit_reached(item.usage)
    yield _cause_check(s, name, limited)
    yield _quota_check(item, name, limited)
    if item.last_day is None:
        yield Check(
            f"{name} history",
            s.enabled,  # not a fault in itself: the cause, if any, is named above
            "no day stored yet.",
            "The first day is stored after the next midnight.",
        )
    else:
        behind = (item.today - item.last_day).days - 1
        yield Check(
            f"{name} history",
            behind <= STALE_DAYS - 1,
            f"last stored day {item.last_day:%a %-d %b} ({behind} day(s) behind).",
            "Check that the worker process is running (README: Operations).",
        )
    yield _next_check(item, name, limited)


def limit_reached(usage: quota.QuotaUsage) -> bool:
    """No snapshot call can be made before midnight UTC: Clarity said so (429), or our ledger."""
    return usage.exhausted or usage.left_for_automatic == 0


def _cause_check(source: Source, name: str, limited: bool) -> Check:
    """What the last calls ran into: a rejected token, Clarity's daily limit, or Clarity down."""
    why = escape(source.status_reason or "")
    if source.status == vocab.SourceStatus.TOKEN_REJECTED:
        return Check(
            f"{name} token",
            False,
            why or "rejected by Clarity.",
            "Generate a new token (Clarity → Settings → Data Export) and run "
            "`/clarity connect` with it.",
        )
    if source.status == vocab.SourceStatus.FAILING:
        return Check(
            f"{name} Clarity",
            False,
            f"the last calls failed, not because of the token: {why or 'no answer.'}",
            "Clarity or the network is often down for a while: the next run retries by itself. "
            "If it goes on, `/clarity refresh` shows the error.",
        )
    if source.status == vocab.SourceStatus.QUOTA_EXHAUSTED and not limited:
        detail = "not the cause: the last run stopped at Clarity's daily limit, now reset."
        return Check(f"{name} token", True, detail)
    if limited:
        return Check(f"{name} token", True, "not the cause: Clarity's daily limit stops the calls.")
    return Check(f"{name} token", True, "accepted by Clarity on the last call.")


def _quota_check(item: SourceStatus, name: str, limited: bool) -> Check:
    """Today's calls; when the limit is reached, when they free up in the team's own time."""
    u = item.usage
    used = u.used + u.in_flight
    free = when(u.resets_at, item.timezone)
    if not limited:
        detail = f"{used} of {u.cap} Clarity calls used today; they reset at midnight UTC ({free})."
        return Check(f"{name} quota", True, detail)
    if u.exhausted:
        reached = f"Clarity answered that its daily limit is reached ({used} call(s) made today)"
    elif u.left == 0:
        reached = f"Clarity's daily limit is reached: all {u.cap} of today's calls are used"
    else:
        reached = (
            f"Clarity's daily limit is reached for snapshots: {used} of {u.cap} calls used, "
            f"the last {u.left} kept for `/clarity refresh`"
        )
    return Check(
        f"{name} quota",
        False,
        f"{reached}. Calls free up at midnight UTC: {free}.",
        "Nothing to do: nothing is lost, the first run after that catches up.",
    )


def _next_check(item: SourceStatus, name: str, limited: bool) -> Check:
    """When the next snapshot runs; only a token Clarity refused stops it."""
    s = item.source
    stopped = s.status in (vocab.SourceStatus.TOKEN_REJECTED, vocab.SourceStatus.REMOVED)
    detail = when(item.next_run, item.timezone)
    if limited and item.next_run < item.usage.resets_at:
        detail += "; it waits for Clarity's calls to free up"
    return Check(f"{name} next snapshot", not stopped and s.enabled, detail, "Fix the token first.")


def timezone_check(zone: str) -> Check:
    """The workspace timezone decides when a day ends; UTC is only the default."""
    hint = " (the default: if your team is elsewhere, `/clarity timezone Europe/Paris`)"
    return Check("Timezone", True, f"days end at midnight {zone}{hint if zone == 'UTC' else ''}.")


def diagnose(
    services: SlackServices, client: WebClient, workspace_id: int, channel: str
) -> list[Check]:
    """Run every check for one workspace (and no other)."""
    items = statuses(services, workspace_id)
    checks = slack_checks(client, channel)
    subs = list_subscriptions(services.engine, workspace_id=workspace_id)
    # Every channel a subscription posts to, once each (the current one is already checked).
    for destination in dict.fromkeys(
        s.destination for s in subs if s.destination_kind == vocab.DestinationKind.SLACK
    ):
        if destination != channel and checks[0].ok:  # no token, no channel to check
            checks.append(channel_check(client, destination))
    if not items:
        checks.append(Check("Clarity", False, "no project connected.", "Run `/clarity connect`."))
    with Session(services.engine) as session:
        zone = repository.get_workspace(session=session, workspace_id=workspace_id).timezone
    checks.append(timezone_check(zone))
    for item in items:
        checks.extend(source_checks(item))
    return checks


def report_blocks(checks: list[Check]) -> tuple[str, list[dict[str, Any]]]:
    """The summary line and the blocks of the report."""
    problems = sum(1 for c in checks if not c.ok)
    head = (
        "All good: nothing stands in the way of your reports."
        if not problems
        else (f"{problems} thing(s) to fix:")
    )
    chunks: list[str] = []
    for check in checks:  # a section holds 3,000 characters: split between lines, not inside
        line = check.line()[:2900]
        if chunks and len(chunks[-1]) + len(line) < 2900:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": t}}
        for t in [f"*{head}*", *chunks][:50]
    ]
    return head, blocks
