"""What the project `/clarity` subcommands do once acknowledged: connect, status, chart, refresh…

Every function takes the calling workspace's id and touches only that workspace's data.
Subscriptions and alerts are in bot/slack/scheduled.py; the table of subcommands in app.py.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.calls import Reply, find_source
from bot.slack.chartmsg import CHART_DAYS, ChartRequest, render
from bot.slack.digest import digest
from bot.slack.doctor import diagnose, report_blocks
from bot.slack.posting import Poster, SlackPostError
from bot.slack.services import SlackServices
from bot.slack.status import status_blocks, statuses
from bot.slack.text import escape
from reports.delivery.subscriptions import DIGEST
from reports.errors import UsageError
from reports.history.catalogue import by_category, get_metric
from reports.ingest import sources
from reports.ingest.live import SHOWN, live_look
from reports.ingest.outcomes import STOPPING
from reports.ingest.snapshot import Snapshotter, TooLateForDay
from reports.timezones import parse_timezone
from store import repository
from store.db import session_scope
from store.vocab import Outcome, Purpose


def connect(
    services: SlackServices, workspace_id: int, user_id: str, token: str, label: str
) -> Reply:
    """Store a source, then take yesterday's snapshot at once; its first call tests the token."""
    now = services.clock()
    source_id = sources.add_source(
        services.engine,
        cipher=services.cipher,
        label=label or "Clarity project",
        raw_token=token,
        now=now,
        workspace_id=workspace_id,
        owner_user_id=user_id,
    )
    snapshotter = Snapshotter(
        engine=services.engine,
        client=services.clarity,
        cipher=services.cipher,
        policy=services.policy,
    )
    try:
        result = snapshotter.take_yesterday(source_id, now=now, purpose=Purpose.CONNECT)
    except TooLateForDay as late:  # connected all the same; yesterday comes with tonight's run
        return Reply(f"Connected *{escape(label or 'Clarity project')}*. {late}")
    rejected = result.rejected
    if rejected is not None:
        sources.remove_source(services.engine, source_id=source_id, purge=True, now=now)
        return Reply(f"Clarity rejected that token, so nothing was saved. {rejected.message}")
    stored = sum(1 for o in result.outcomes if o.status == Outcome.STORED)
    problem = next((o for o in result.outcomes if o.status in STOPPING), None)
    day = f"{result.local_date:%a %-d %b}"
    text = (
        f"Connected *{escape(label)}* (id {source_id}). Yesterday ({day}): {stored} of "
        f"{len(result.outcomes)} parts stored."
    )
    if problem is not None:
        text += f" {problem.message}"
    text += " From tonight a snapshot is taken after every midnight. Try `/clarity chart sessions`."
    return Reply(text)


def status(services: SlackServices, workspace_id: int) -> Reply:
    """List this workspace's sources with their health, quota and next run."""
    items = statuses(services, workspace_id)
    return Reply(f"{len(items)} Clarity project(s) connected.", status_blocks(items))


def metrics() -> Reply:
    """List the catalogue."""
    lines = []
    for category, items in by_category().items():
        keys = ", ".join(f"`{m.key}`" for m in items)
        lines.append(f"*{category.capitalize()}*: {keys}")
    return Reply("\n".join(lines) + "\nChart one with `/clarity chart <metric> [7|30|90]`.")


def timezone(services: SlackServices, workspace_id: int, name: str) -> Reply:
    """Show or set the workspace timezone."""
    with session_scope(services.engine) as session:
        workspace = repository.get_workspace(session=session, workspace_id=workspace_id)
        if not name:
            return Reply(
                f"This workspace uses *{workspace.timezone}*. Change it with "
                "`/clarity timezone Area/City`."
            )
        zone = parse_timezone(name)
        workspace.timezone = str(zone)
        session.add(workspace)
    return Reply(f"Timezone set to *{zone}*: each day's snapshot follows its midnight there.")


def disconnect(services: SlackServices, workspace_id: int, ref: str) -> Reply:
    """Forget a project's token and stop it; its history stays."""
    source = find_source(services, workspace_id, ref)
    sources.remove_source(
        services.engine, source_id=source.id or 0, purge=False, now=services.clock()
    )
    return Reply(
        f"Disconnected *{escape(source.label)}*: its token is deleted, no more "
        "snapshots are taken and its scheduled reports and alerts stop. Its history "
        "is kept."
    )


def parse_chart_args(args: list[str]) -> tuple[str, int, str]:
    """Return (metric key, days, project ref) from `<metric> [7|30|90] [project]`."""
    if not args:
        raise UsageError(
            "Which metric? For example `/clarity chart rage_click_rate 30`. "
            "`/clarity metrics` lists them."
        )
    metric, rest, days = get_metric(args[0]).key, args[1:], 30
    if rest and rest[0].isdigit():
        days = int(rest.pop(0))
        if days not in CHART_DAYS:
            raise UsageError("Charts cover 7, 30 or 90 days.")
    return metric, days, " ".join(rest)


def chart(
    services: SlackServices, poster: Poster, workspace_id: int, channel: str, args: list[str]
) -> Reply:
    """Draw a chart from stored history (no Clarity call) and post it with its buttons."""
    if args and args[0].lower() == DIGEST:
        return digest(services, poster, workspace_id, channel, args)
    key, days, ref = parse_chart_args(args)
    source = find_source(services, workspace_id, ref, channel)
    request = ChartRequest(source.id or 0, key, days)
    try:
        poster.post(channel, render(services, source, request))
    except SlackPostError as exc:
        return Reply(str(exc))
    return Reply("")


def redraw(
    services: SlackServices, poster: Poster, workspace_id: int, body: dict[str, Any]
) -> Reply:
    """Redraw a chart message in place for the button pressed (stored data only, no quota)."""
    action = body["actions"][0]
    request = ChartRequest.parse(action.get("value", "")).with_action(action.get("action_id", ""))
    # The source id comes from the button: it must still belong to the clicking workspace.
    source = find_source(services, workspace_id, str(request.source_id))
    channel, ts = body["container"]["channel_id"], body["container"]["message_ts"]
    try:
        poster.redraw(channel, ts, render(services, source, request))
    except SlackPostError as exc:
        return Reply(str(exc))
    return Reply("")


def refresh(services: SlackServices, workspace_id: int, ref: str, channel: str = "") -> Reply:
    """A live look at the last 24 h (one manual call), refused when tonight needs the calls."""
    source = find_source(services, workspace_id, ref, channel)
    look = live_look(
        services.engine,
        client=services.clarity,
        cipher=services.cipher,
        policy=services.policy,
        source=source,
        now=services.clock(),
    )
    lines = [f"*{escape(source.label)}* · last 24 hours, live from Clarity ({look.at:%H:%M} UTC):"]
    for key, label in SHOWN:
        value = look.values.get(key)
        if key == "engagement_time_ms" and value is not None:
            lines.append(f"• {label}: {value / 1000:.0f} s")
        elif value is not None:
            lines.append(f"• {label}: {value:,.2f}".rstrip("0").rstrip("."))
    lines.append(
        f"_A rolling window, not a calendar day: not added to the history. Clarity calls "
        f"today: {look.calls_used} of {look.cap}._"
    )
    return Reply("\n".join(lines))


def doctor(services: SlackServices, client: WebClient, workspace_id: int, channel: str) -> Reply:
    """Check everything that can stop a report here, with a fix for each problem."""
    head, blocks = report_blocks(diagnose(services, client, workspace_id, channel))
    return Reply(head, blocks)
