"""`/clarity subscribe`, `unsubscribe` and `alert`: what runs on a schedule, managed from Slack.

Every function takes the calling workspace's id and touches only that workspace's data.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.slack import subscribe as subscribe_ui
from bot.slack.calls import Reply, find_source
from bot.slack.services import SlackServices
from bot.slack.text import escape, local_time
from reports.alerts import rules as alerts
from reports.delivery import subscriptions
from reports.errors import UsageError
from store.models import AlertRule
from store.vocab import DestinationKind


def subscribe(
    services: SlackServices,
    client: WebClient,
    workspace_id: int,
    user: str,
    channel: str,
    args: list[str],
) -> Reply:
    """Set up a scheduled report from the inline form."""
    parsed = subscribe_ui.parse_inline(args, channel)
    if parsed.channel_name:
        parsed.destination = subscribe_ui.channel_id(client, parsed.channel_name)
    source = find_source(services, workspace_id, " ".join(parsed.project), channel)
    request = subscribe_ui.request_from(parsed, source, user)
    return subscribe_form(services, workspace_id, request)


def subscribe_form(
    services: SlackServices, workspace_id: int, request: subscriptions.NewSubscription
) -> Reply:
    """Set up a scheduled report from the form (or the inline form, parsed)."""
    subscriptions.require_email(request.kind, configured=email_ready(services))
    sub = subscriptions.subscribe(
        services.engine, request, workspace_id=workspace_id, now=services.clock()
    )
    source = find_source(services, workspace_id, str(sub.source_id))
    text = subscribe_ui.confirm(services, sub, source)
    return Reply(text, subscribe_ui.confirm_blocks(text, sub.id))


def email_ready(services: SlackServices) -> bool:
    """Whether this process can send email (SMTP is set up), as the CLI asks it."""
    return DestinationKind.EMAIL in services.delivery().senders


def unsubscribe(services: SlackServices, workspace_id: int, args: list[str]) -> Reply:
    """List this workspace's subscriptions with Stop buttons, or stop the one named."""
    if args:
        if not args[0].isdigit():
            raise UsageError("Usage: `/clarity unsubscribe [id]` (without an id: a list).")
        stopped = subscriptions.unsubscribe(
            services.engine, int(args[0]), workspace_id=workspace_id, now=services.clock()
        )
        return Reply(
            f"Stopped subscription {stopped.id}: {subscribe_ui.metric_names(stopped.metrics)} → "
            f"{subscribe_ui.where(stopped)}. Its delivery history is kept."
        )
    items = subscriptions.list_subscriptions(services.engine, workspace_id=workspace_id)
    return Reply(f"{len(items)} subscription(s) here.", subscribe_ui.list_blocks(services, items))


def alert(
    services: SlackServices, workspace_id: int, user: str, channel: str, args: list[str]
) -> Reply:
    """`/clarity alert add <rule> [in <project>]`, `alert list`, `alert remove <id>`."""
    action, words = (args[0].lower(), args[1:]) if args else ("list", [])
    if action == "list":
        return _alert_list(services, workspace_id)
    if action == "remove" and words and words[0].isdigit():
        gone = alerts.remove_rule(services.engine, int(words[0]), workspace_id=workspace_id)
        return Reply(f"Alert {gone.id} removed: {escape(alerts.describe(gone, labels=True))}.")
    if action != "add":
        raise UsageError(
            f"`/clarity alert add <rule>`, `alert list`, `alert remove <id>`. {alerts.USAGE}"
        )
    return _alert_add(services, workspace_id, user, channel, words)


def _alert_list(services: SlackServices, workspace_id: int) -> Reply:
    rules = alerts.list_rules(services.engine, workspace_id=workspace_id)
    now, timezone = services.clock(), services.timezone(workspace_id)
    lines = [
        f"`{r.id}` {escape(alerts.describe(r, labels=True))} → <#{r.destination}>"
        + _muted(r, now, timezone)
        + f" · *{r.state}*"
        + (f": {escape(r.state_reason)}" if r.state_reason else "")
        for r in rules
    ]
    return Reply("\n".join(lines) or f"No alerts here yet. {alerts.USAGE}")


def _muted(rule: AlertRule, now: datetime, timezone: str) -> str:
    """` · muted until <time>` while a mute lasts (as `claritybot alerts list` says), or ""."""
    until = rule.muted_until
    return f" · muted until {local_time(until, timezone)}" if until and until > now else ""


def _alert_add(
    services: SlackServices, workspace_id: int, user: str, channel: str, words: list[str]
) -> Reply:
    """Add a rule posting to this channel; `in <project>` at the end names the project."""
    ref = ""
    if "in" in [w.lower() for w in words]:
        at = [w.lower() for w in words].index("in")
        words, ref = words[:at], " ".join(words[at + 1 :])
    source = find_source(services, workspace_id, ref)
    rule = alerts.add_rule(
        services.engine,
        alerts.parse_rule(words),
        source_id=source.id or 0,
        workspace_id=workspace_id,
        kind=DestinationKind.SLACK,
        destination=channel,
        now=services.clock(),
        created_by=user,
    )
    return Reply(
        f"Alert {rule.id} set: {escape(alerts.describe(rule, labels=True))} on "
        f"*{escape(source.label)}*, checked after each night's snapshot; it posts here "
        "when it fires (repeats go to the same thread, at most once a day)."
    )
