"""The Bolt app: `/clarity` acknowledged at once, the work done in lazy listeners."""

from __future__ import annotations

import logging
import shlex
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.slack import actions
from bot.slack.actions import Reply
from bot.slack.posting import Pacer
from bot.slack.services import SlackServices
from bot.slack.status import status_blocks, statuses
from bot.slack.text import HELP, usage
from reports.errors import InvalidTokenError
from reports.tokens import check_token

log = logging.getLogger(__name__)
COMMAND: Final = "/clarity"
CONNECT_VIEW: Final = "clarity_connect"
SUBCOMMANDS: Final = frozenset(
    {"help", "connect", "status", "sources", "metrics", "chart", "timezone", "disconnect"}
)


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
) -> App:
    """Build the Bolt app; single-workspace with `client`, multi-workspace with OAuth.

    `verify_requests=False` only for Socket Mode, where Slack's connection itself is the proof.
    """
    # process_before_response: the ack runs on the request's own thread and answers at once,
    # instead of queueing behind slow lazy work in Bolt's shared listener pool.
    app = App(signing_secret=signing_secret, client=client, oauth_settings=oauth_settings,
              request_verification_enabled=verify_requests, process_before_response=True,
              logger=log)  # fmt: skip
    pacer = Pacer()
    register_commands(app, services, pacer)
    register_views(app, services)
    register_home(app, services)
    return app


def _workspace(services: SlackServices, context: BoltContext) -> int:
    return services.workspace_id(context.team_id, context.enterprise_id)


def _reply(respond: Respond, reply: Reply) -> None:
    if reply.text or reply.blocks:
        respond(text=reply.text or " ", blocks=reply.blocks, response_type="ephemeral",
                replace_original=False)  # fmt: skip


def register_commands(app: App, services: SlackServices, pacer: Pacer) -> None:
    """Wire `/clarity`: a fast ack for every subcommand, the work in a lazy listener."""

    def ack_clarity(ack: Ack, command: dict[str, Any]) -> None:
        sub, args = split(command.get("text", ""))
        if sub == "help":
            ack(text=HELP)
        elif sub not in SUBCOMMANDS:
            ack(text=usage(f"I don't know `{sub[:40]}`."))
        elif sub == "metrics":
            ack(text=actions.metrics().text)
        elif sub == "connect" and not args:
            ack()  # the lazy listener opens the form at once (trigger ids last 3 s)
        else:
            ack(text={"chart": "Drawing the chart…", "connect": "Checking the token…"}.get(sub, ""))

    def work(
        command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        sub, args = split(command.get("text", ""))
        if sub in ("help", "metrics") or sub not in SUBCOMMANDS:
            return  # answered in the ack
        if sub == "connect" and not args:
            client.views_open(trigger_id=command["trigger_id"], view=connect_view())
            return
        workspace = _workspace(services, context)
        user = command.get("user_id", "")
        handlers = {
            "connect": lambda: actions.connect(services, workspace, user, args[0],
                                               " ".join(args[1:])),
            "status": lambda: actions.status(services, workspace),
            "sources": lambda: actions.status(services, workspace),
            "timezone": lambda: actions.timezone(services, workspace, " ".join(args)),
            "disconnect": lambda: actions.disconnect(services, workspace, " ".join(args)),
            "chart": lambda: actions.chart(services, client, workspace, command["channel_id"],
                                           args, pacer),
        }  # fmt: skip
        _reply(respond, actions.safely(sub, handlers[sub]))

    app.command(COMMAND)(ack=ack_clarity, lazy=[work])


def _input(block: str, label: str, *, hint: str = "", optional: bool = False,
           multiline: bool = False) -> dict[str, Any]:  # fmt: skip
    block_def: dict[str, Any] = {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline},
    }
    if hint:
        block_def["hint"] = {"type": "plain_text", "text": hint}
    return block_def


def connect_view() -> dict[str, Any]:
    """The connect form. Block Kit has no masked input; the token is never shown back."""
    return {
        "type": "modal",
        "callback_id": CONNECT_VIEW,
        "title": {"type": "plain_text", "text": "Connect Clarity"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "blocks": [
            _input("token", "API token", multiline=True,
                   hint="Clarity → Settings → Data Export → Generate new API token"),
            _input("label", "Name (e.g. Marketing site)", optional=True),
        ],
    }  # fmt: skip


def _field(view: dict[str, Any], block: str) -> str:
    value = view["state"]["values"].get(block, {}).get("value", {}).get("value")
    return str(value or "").strip()


def register_views(app: App, services: SlackServices) -> None:
    """Wire the connect form: shape errors shown in the form, the rest in a DM."""

    def ack_connect(ack: Ack, view: dict[str, Any]) -> None:
        try:
            check_token(_field(view, "token"))
        except InvalidTokenError as exc:
            ack(response_action="errors", errors={"token": str(exc)[:150]})
            return
        ack()

    def work(
        view: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        try:
            check_token(_field(view, "token"))
        except InvalidTokenError:
            return  # the form showed the error and stayed open
        user = body["user"]["id"]
        workspace = _workspace(services, context)
        reply = actions.safely("connect", lambda: actions.connect(
            services, workspace, user, _field(view, "token"), _field(view, "label")))  # fmt: skip
        client.chat_postMessage(channel=user, text=reply.text)

    app.view(CONNECT_VIEW)(ack=ack_connect, lazy=[work])


def register_home(app: App, services: SlackServices) -> None:
    """The App Home tab: the workspace's sources, quota and next runs."""

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") != "home":
            return
        items = statuses(services, _workspace(services, context))
        header = {"type": "header", "text": {"type": "plain_text", "text": "claritybot"}}
        view = {"type": "home", "blocks": [header, *status_blocks(items)]}
        client.views_publish(user_id=event["user"], view=view)
