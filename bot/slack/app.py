"""The Bolt app: `/clarity` acknowledged at once, the work done in lazy listeners."""

from __future__ import annotations

import logging
import shlex
from concurrent.futures import Executor
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.slack import actions
from bot.slack import subscribe as subscribe_ui
from bot.slack.chartmsg import ACTION_PATTERN
from bot.slack.forms import (
    connect_view,
    open_subscribe_form,
    register_subscribe_form,
    register_views,
    reply_with,
    workspace_of,
)
from bot.slack.oauth import register_lifecycle
from bot.slack.posting import Pacer, Poster
from bot.slack.services import SlackServices
from bot.slack.status import status_blocks, statuses
from bot.slack.text import HELP, usage
from reports import subscriptions

log = logging.getLogger(__name__)
COMMAND: Final = "/clarity"
SUBCOMMANDS: Final = frozenset(
    "help connect status sources metrics chart timezone disconnect refresh doctor subscribe "
    "unsubscribe alert".split()
)
ACKS: Final = {"chart": "Drawing the chart…", "connect": "Checking the token…",
               "refresh": "Asking Clarity about the last 24 hours…",
               "doctor": "Checking everything…"}  # fmt: skip


def split(text: str) -> tuple[str, list[str]]:
    """Split `/clarity` text into a subcommand and its arguments (quotes allowed)."""
    try:
        words = shlex.split(text or "")
    except ValueError:
        words = (text or "").split()
    return (words[0].lower(), words[1:]) if words else ("help", [])


def create_app(
    services: SlackServices,
    *,
    signing_secret: str,
    client: WebClient | None = None,
    oauth_settings: OAuthSettings | None = None,
    verify_requests: bool = True,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app; single-workspace with `client`, multi-workspace with OAuth.

    `verify_requests=False` only for Socket Mode, where Slack's connection itself is the proof.
    `listener_executor` runs the lazy listeners (Bolt's own thread pool when None).
    """
    # process_before_response: the ack runs on the request's own thread and answers at once,
    # instead of queueing behind slow lazy work in Bolt's shared listener pool.
    app = App(signing_secret=signing_secret, client=client, oauth_settings=oauth_settings,
              request_verification_enabled=verify_requests, process_before_response=True,
              logger=log, listener_executor=listener_executor)  # fmt: skip
    pacer = Pacer()
    register_commands(app, services, pacer)
    register_views(app, services)
    register_subscribe_form(app, services)
    register_buttons(app, services, pacer)
    register_home(app, services)
    if oauth_settings is not None:
        register_lifecycle(app, services)
    return app


def register_commands(app: App, services: SlackServices, pacer: Pacer) -> None:
    """Wire `/clarity`: a fast ack for every subcommand, the work in a lazy listener."""

    def answered_in_ack(command: dict[str, Any]) -> bool:
        sub, _ = split(command.get("text", ""))
        return sub in ("help", "metrics") or sub not in SUBCOMMANDS

    def ack_only(ack: Ack, command: dict[str, Any]) -> None:
        sub, _ = split(command.get("text", ""))
        if sub == "help":
            ack(text=HELP)
        elif sub == "metrics":
            ack(text=actions.metrics().text)
        else:
            ack(text=usage(f"I don't know `{sub[:40]}`."))

    def ack_clarity(ack: Ack, command: dict[str, Any]) -> None:
        sub, args = split(command.get("text", ""))
        if sub in ("connect", "subscribe") and not args:
            ack()  # the lazy listener opens the form at once (trigger ids last 3 s)
        else:
            ack(text=ACKS.get(sub, ""))

    def work(
        command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        sub, args = split(command.get("text", ""))
        if sub == "connect" and not args:
            client.views_open(trigger_id=command["trigger_id"], view=connect_view())
            return
        workspace = workspace_of(services, context)
        user, channel = command.get("user_id", ""), command.get("channel_id", "")
        if sub == "subscribe" and not args:
            reply_with(respond, actions.safely(sub, lambda: open_subscribe_form(
                services, client, workspace, command["trigger_id"], channel)))  # fmt: skip
            return
        handlers = {
            "connect": lambda: actions.connect(services, workspace, user, args[0],
                                               " ".join(args[1:])),
            "status": lambda: actions.status(services, workspace),
            "sources": lambda: actions.status(services, workspace),
            "timezone": lambda: actions.timezone(services, workspace, " ".join(args)),
            "disconnect": lambda: actions.disconnect(services, workspace, " ".join(args)),
            "refresh": lambda: actions.refresh(services, workspace, " ".join(args)),
            "doctor": lambda: actions.doctor(services, client, workspace, channel),
            "chart": lambda: actions.chart(services, Poster(client, pacer=pacer), workspace,
                                           channel, args),
            "subscribe": lambda: actions.subscribe(services, client, workspace, user, channel,
                                                   args),
            "unsubscribe": lambda: actions.unsubscribe(services, workspace, args),
            "alert": lambda: actions.alert(services, workspace, user, channel, args),
        }  # fmt: skip
        reply_with(respond, actions.safely(sub, handlers[sub]))

    # Registered first: what the ack itself answers never starts a lazy listener (Bolt copies
    # the whole request for one, a third of the cost of a request).
    app.command(COMMAND, matchers=[answered_in_ack])(ack_only)
    app.command(COMMAND)(ack=ack_clarity, lazy=[work])


def register_buttons(app: App, services: SlackServices, pacer: Pacer) -> None:
    """Wire the buttons under chart messages: redraw in place from stored data."""

    def ack_button(ack: Ack) -> None:
        ack()

    def work(body: dict[str, Any], respond: Respond, client: WebClient,
             context: BoltContext) -> None:  # fmt: skip
        reply = actions.safely(
            "chart",
            lambda: actions.redraw(
                services, Poster(client, pacer=pacer), workspace_of(services, context), body
            ),
        )
        reply_with(respond, reply)

    app.action(ACTION_PATTERN)(ack=ack_button, lazy=[work])


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def register_home(app: App, services: SlackServices) -> None:
    """The App Home tab: the workspace's sources, quota and next runs."""

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") != "home":
            return
        workspace = workspace_of(services, context)
        items = statuses(services, workspace)
        subs = subscriptions.list_subscriptions(services.engine, workspace_id=workspace)
        lines = subscribe_ui.subscription_lines(services, subs) or [
            "None yet: `/clarity subscribe`."
        ]
        view = {"type": "home", "blocks": [
            _header("claritybot"), *status_blocks(items)[:40], _header("Subscriptions"),
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}},
        ]}  # fmt: skip
        client.views_publish(user_id=event["user"], view=view)
