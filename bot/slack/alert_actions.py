"""The buttons under an alert in Slack: Mute 24 h (then Unmute), Edit (a small form) and Remove
(after Slack's own confirm dialog); the message is updated to say what was done.

A button's value is only a rule id, and untrusted: the rule must belong to the workspace the
request came from, and the person must be a member of it (not someone from another
organisation in a shared channel).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.alert_buttons import ACTIONS, EDIT, MUTE, REMOVE, UNMUTE, alert_buttons
from bot.slack.alert_form import EDIT_VIEW, edit_view, form_problem, read_form
from bot.slack.calls import Reply, safely
from bot.slack.forms import ack_problem, reply_with, workspace_of
from bot.slack.services import SlackServices
from bot.slack.text import escape, local_time
from reports.alerts import rules as alerts
from reports.errors import UsageError

log = logging.getLogger(__name__)
MUTE_HOURS: Final = 24
STATE_BLOCK: Final = "alert_state"
STALE: Final = "That button is from an older message: `/clarity alert list` shows the alerts here."
NOT_A_MEMBER: Final = "Only members of the workspace this alert belongs to can change it."
# What Slack adds to an image block it sends back, but refuses in chat.update: dropped.
IMAGE_KEYS: Final = ("type", "block_id", "slack_file", "image_url", "alt_text", "title")


@dataclass(frozen=True)
class Click:
    """One press of an alert button, checked: whose workspace, who, which rule."""

    services: SlackServices
    client: WebClient
    body: dict[str, Any]
    workspace: int
    user: str
    rule_id: int


def member_of(body: dict[str, Any], context: BoltContext) -> str:
    """The user id, when they belong to the workspace the request came from."""
    user = body.get("user") or {}
    team = user.get("team_id")
    if team is not None and team != context.team_id:
        raise UsageError(NOT_A_MEMBER)  # a guest from a shared channel's other organisation
    return str(user.get("id", ""))


def click_of(
    services: SlackServices, client: WebClient, body: dict[str, Any], context: BoltContext
) -> tuple[str, Click]:
    """The button pressed and what it acts on; a malformed value is a stale button."""
    try:
        action = body["actions"][0]
        action_id, value = str(action["action_id"]), str(action.get("value", ""))
    except (KeyError, IndexError, TypeError):
        raise UsageError(STALE) from None
    if not value.isdigit() or len(value) > 12:
        raise UsageError(STALE)
    user = member_of(body, context)
    return action_id, Click(
        services, client, body, workspace_of(services, context), user, int(value)
    )


def _mute(click: Click) -> Reply:
    until = click.services.clock() + timedelta(hours=MUTE_HOURS)
    alerts.mute_rule(
        click.services.engine, click.rule_id, workspace_id=click.workspace, until=until
    )
    when = local_time(until, click.services.timezone(click.workspace))
    state = f"Muted until {when} by <@{escape(click.user)}>: still checked, not told."
    return _update(click, state, alert_buttons(click.rule_id, muted=True))


def _unmute(click: Click) -> Reply:
    alerts.mute_rule(click.services.engine, click.rule_id, workspace_id=click.workspace, until=None)
    return _update(click, "", alert_buttons(click.rule_id))


def _remove(click: Click) -> Reply:
    gone = alerts.remove_rule(click.services.engine, click.rule_id, workspace_id=click.workspace)
    state = (
        f"Removed by <@{escape(click.user)}>: alert {gone.id} "
        f"({escape(alerts.describe(gone, labels=True))}) is no longer checked."
    )
    return _update(click, state, [])


def _edit(click: Click) -> Reply:
    rule = alerts.get_rule(click.services.engine, click.rule_id, workspace_id=click.workspace)
    trigger = str(click.body.get("trigger_id", ""))
    if not trigger:
        raise UsageError("Slack sent no trigger for a form: use `/clarity alert` instead.")
    click.client.views_open(trigger_id=trigger, view=edit_view(rule))
    return Reply("")


HANDLERS: Final[dict[str, Callable[[Click], Reply]]] = {
    MUTE: _mute,
    UNMUTE: _unmute,
    EDIT: _edit,
    REMOVE: _remove,
}


def _update(click: Click, state: str, buttons: list[dict[str, Any]]) -> Reply:
    """Rewrite the alert's message: its state line and buttons (or tell the person only)."""
    body = click.body
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    ts = str(container.get("message_ts") or message.get("ts") or "")
    blocks = message.get("blocks")
    if not (isinstance(blocks, list) and channel and ts):
        return Reply(state or "Done.")
    kept = [_clean(b) for b in blocks if isinstance(b, dict) and not _ours(b)]
    if state:
        kept.append(
            {
                "type": "context",
                "block_id": STATE_BLOCK,
                "elements": [{"type": "mrkdwn", "text": state}],
            }
        )
    if buttons:
        kept.append({"type": "actions", "block_id": "alert_buttons", "elements": buttons})
    try:
        click.client.chat_update(
            channel=channel, ts=ts, text=str(message.get("text") or state), blocks=kept
        )
    except SlackApiError as exc:  # the change is made; only the message could not show it
        log.warning("could not update an alert message: %s", exc.response.get("error"))
        return Reply(state or "Done.")
    return Reply("")


def _ours(block: dict[str, Any]) -> bool:
    """Our state line, or the actions block holding the alert's buttons."""
    if block.get("block_id") == STATE_BLOCK:
        return True
    elements = block.get("elements") or []
    return block.get("type") == "actions" and any(
        isinstance(e, dict) and ACTIONS.match(str(e.get("action_id", ""))) for e in elements
    )


def _clean(block: dict[str, Any]) -> dict[str, Any]:
    """A block as chat.update takes it back (image blocks lose what Slack added)."""
    if block.get("type") != "image":
        return block
    kept = {k: v for k, v in block.items() if k in IMAGE_KEYS}
    if isinstance(kept.get("slack_file"), dict):  # a file by id, as it was posted
        file = kept["slack_file"]
        kept["slack_file"] = {"id": file["id"]} if "id" in file else {"url": file.get("url")}
        kept.pop("image_url", None)
    return kept


def save_form(
    services: SlackServices, view: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> Reply:
    """Store what the edit form says, for a member of the rule's own workspace."""
    member_of(body, context)
    rule_id, threshold, days = read_form(view)
    rule = alerts.edit_rule(
        services.engine,
        rule_id,
        workspace_id=workspace_of(services, context),
        threshold=threshold,
        window_days=days,
    )
    return Reply(f"Alert {rule.id} now: {escape(alerts.describe(rule, labels=True))}.")


def register_alert_actions(app: App, services: SlackServices) -> None:
    """Wire the alert buttons and the edit form."""

    def ack_now(ack: Ack) -> None:
        ack()

    def work(
        body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        def run() -> Reply:
            action_id, click = click_of(services, client, body, context)
            return HANDLERS[action_id](click)

        reply_with(respond, safely("alert", run))

    app.action(ACTIONS)(ack=ack_now, lazy=[work])
    register_edit_form(app, services)


def register_edit_form(app: App, services: SlackServices) -> None:
    """Wire the edit form: checked in the ack (the form shows what is wrong), saved lazily."""

    def ack_form(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        ack_problem(ack, form_problem(view, _condition(services, view, context)))

    def work_form(
        view: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if form_problem(view, _condition(services, view, context)) is not None:
            return  # the form showed the problem and stayed open
        reply = safely("alert", lambda: save_form(services, view, body, context))
        user = str((body.get("user") or {}).get("id", ""))
        client.chat_postMessage(channel=user, text=reply.text)

    app.view(EDIT_VIEW)(ack=ack_form, lazy=[work_form])


def _condition(services: SlackServices, view: dict[str, Any], context: BoltContext) -> str | None:
    """The condition of the rule a form edits (what its threshold must be), or None when it
    is not this workspace's or not there: saving says so."""
    try:
        rule_id = read_form(view)[0]
        rule = alerts.get_rule(
            services.engine, rule_id, workspace_id=workspace_of(services, context)
        )
    except UsageError:
        return None
    return rule.condition
