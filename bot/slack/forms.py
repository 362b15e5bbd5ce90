"""The Slack forms: connect a project (token checked in the ack) and subscribe (checked too)."""

from __future__ import annotations

import logging
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack import commands, scheduled
from bot.slack import subscribe as subscribe_ui
from bot.slack.calls import Reply, safely
from bot.slack.services import SlackServices
from reports.clarity.tokens import check_token
from reports.delivery import subscriptions
from reports.errors import InvalidTokenError, UsageError
from store import repository
from store.db import session_scope
from store.vocab import DestinationKind

CONNECT_VIEW: Final = "clarity_connect"

log = logging.getLogger(__name__)


def workspace_of(services: SlackServices, context: BoltContext) -> int:
    """Our workspace id for the Slack team a request came from."""
    return services.workspace_id(context.team_id, context.enterprise_id)


def reply_with(respond: Respond, reply: Reply) -> None:
    """Answer the person privately (nothing when the reply is empty or cannot be sent)."""
    if not (reply.text or reply.blocks):
        return
    if not respond.response_url:  # a payload without one: there is nobody to answer
        log.info("no response_url to answer with")
        return
    try:
        respond(
            text=reply.text or " ",
            blocks=reply.blocks,
            response_type="ephemeral",
            replace_original=False,
        )
    except OSError as exc:  # Slack's response_url did not answer: nothing else to do
        log.warning("could not answer on the response_url (%s)", type(exc).__name__)


def _input(
    block: str, label: str, *, hint: str = "", optional: bool = False, multiline: bool = False
) -> dict[str, Any]:
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
            _input(
                "token",
                "API token",
                multiline=True,
                hint="Clarity → Settings → Data Export → Generate new API token",
            ),
            _input("label", "Name (e.g. Marketing site)", optional=True),
        ],
    }


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
        reply = safely(
            "connect",
            lambda: commands.connect(
                services,
                workspace_of(services, context),
                user,
                _field(view, "token"),
                _field(view, "label"),
            ),
        )
        client.chat_postMessage(channel=user, text=reply.text)

    app.view(CONNECT_VIEW)(ack=ack_connect, lazy=[work])


def open_subscribe_form(
    services: SlackServices, client: WebClient, workspace: int, trigger_id: str, channel: str
) -> Reply:
    """Open the subscribe form, or say that a project must be connected first."""
    with session_scope(services.engine) as session:
        mine = list(repository.list_sources(session=session, workspace_id=workspace))
    if not mine:
        return Reply("Connect a Clarity project first: `/clarity connect`.")
    client.views_open(trigger_id=trigger_id, view=subscribe_ui.subscribe_view(mine, channel))
    return Reply("")


def form_problem(view: dict[str, Any], user: str, email_ready: bool) -> tuple[str, str] | None:
    """Return (block, message) for what is wrong with a subscribe form, or None."""
    try:
        request = subscribe_ui.from_view(view, user)
        subscriptions.check_metrics(request.metrics)
    except UsageError as exc:
        return "metrics", exc.slack_text
    try:
        subscriptions.require_email(request.kind, configured=email_ready)
        subscriptions.check_destination(request.kind, request.destination)
    except UsageError as exc:
        return ("email" if request.kind == DestinationKind.EMAIL else "channel"), exc.slack_text
    return None


def ack_problem(ack: Ack, problem: tuple[str, str] | None) -> None:
    """Close the form, or keep it open with the problem under its field (Slack takes 150)."""
    if problem is None:
        ack()
    else:
        ack(response_action="errors", errors={problem[0]: problem[1][:150]})


def register_subscribe_form(app: App, services: SlackServices) -> None:
    """Wire the subscribe form (checked in the ack) and the Stop buttons of the list."""

    def ack_form(ack: Ack, view: dict[str, Any], body: dict[str, Any]) -> None:
        ack_problem(ack, form_problem(view, body["user"]["id"], scheduled.email_ready(services)))

    def work_form(
        view: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        user = body["user"]["id"]
        if form_problem(view, user, scheduled.email_ready(services)) is not None:
            return  # the form showed the error and stayed open
        reply = safely(
            "subscribe",
            lambda: scheduled.subscribe_form(
                services, workspace_of(services, context), subscribe_ui.from_view(view, user)
            ),
        )
        client.chat_postMessage(channel=user, text=reply.text, blocks=reply.blocks)

    def ack_stop(ack: Ack) -> None:
        ack()

    def work_stop(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        value = body["actions"][0].get("value", "")
        reply = safely(
            "unsubscribe",
            lambda: scheduled.unsubscribe(services, workspace_of(services, context), [value]),
        )
        reply_with(respond, reply)

    app.view(subscribe_ui.SUBSCRIBE_VIEW)(ack=ack_form, lazy=[work_form])
    app.action(subscribe_ui.STOP_ACTION)(ack=ack_stop, lazy=[work_stop])
