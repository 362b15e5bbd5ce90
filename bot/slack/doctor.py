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
from store import repository, vocab
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
    """Check one Clarity project: token, quota, freshness and the next run."""
    s, u, name = item.source, item.usage, escape(item.source.label)
    yield _token_check(s, name)
    used = u.used + u.in_flight
    yield Check(
        f"{name} quota",
        not u.exhausted and used < u.cap,
        f"{used} of {u.cap} Clarity calls used today; they reset at {u.resets_at:%H:%M} UTC.",
        "Wait for the reset; nothing is lost, the next run catches up.",
    )
    if item.last_day is None:
        yield Check(
            f"{name} history",
            s.status == vocab.SourceStatus.CONNECTED,
            "no day stored yet.",
            "The first day is stored after the next midnight.",
        )
    else:
        behind = (item.today - item.last_day).days - 1
        yield Check(
            f"{name} history",
            behind <= STALE_DAYS - 1,
            f"last stored day {item.last_day:%a %-d %b} ({behind} day(s) behind).",
            "Check that `claritybot worker` is running (README: Operations).",
        )
    yield Check(
        f"{name} next snapshot",
        s.status == vocab.SourceStatus.CONNECTED,
        when(item.next_run, item.timezone),
        "Fix the token first.",
    )


def _token_check(source: Source, name: str) -> Check:
    if source.status == vocab.SourceStatus.TOKEN_REJECTED:
        return Check(
            f"{name} token",
            False,
            escape(source.status_reason or "rejected by Clarity."),
            "Generate a new token (Clarity → Settings → Data Export) and run "
            "`/clarity connect` with it.",
        )
    if source.status == vocab.SourceStatus.FAILING:
        why = escape(source.status_reason or "recent calls failed.")
        fix = (
            "Clarity is often down for a while: the next run retries by itself. If it goes "
            "on, `/clarity refresh` shows the error."
        )
        return Check(f"{name} token", False, why, fix)
    return Check(f"{name} token", True, "accepted by Clarity on the last call.")


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
