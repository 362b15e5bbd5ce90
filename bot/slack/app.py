"""The Bolt app: `/clarity` acknowledged at once, the work done in lazy listeners."""

from __future__ import annotations

import json
import logging
import re
import shlex
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.slack import commands, scheduled
from bot.slack.alert_actions import register_alert_actions
from bot.slack.calls import (
    DATABASE_DOWN,
    PICK_ACTION,
    Call,
    Reply,
    database_down,
    find_source,
    safely,
)
from bot.slack.chartmsg import ACTION_PATTERN, STALE_BUTTON
from bot.slack.forms import (
    connect_view,
    open_subscribe_form,
    register_subscribe_form,
    register_views,
    reply_with,
    workspace_of,
)
from bot.slack.home import register_home
from bot.slack.oauth import register_lifecycle
from bot.slack.posting import Pacer, Poster
from bot.slack.services import SlackServices
from bot.slack.testsend import register_test_button
from bot.slack.text import HELP, usage
from reports.errors import UsageError

log = logging.getLogger(__name__)
COMMAND: Final = "/clarity"
LAZY_WORKERS: Final = 2  # threads doing lazy work; more only queue for the same GIL

# Answered by the ack itself: no lazy listener, no database.
ACK_ANSWERS: Final[dict[str, Callable[[], str]]] = {
    "help": lambda: HELP,
    "metrics": lambda: commands.metrics().text,
}
# What Bolt raises reading fields of the wrong type (`"team": "x"`, a timestamp of "abc").
MALFORMED: Final = (AttributeError, TypeError, KeyError, ValueError, IndexError)
ACKS: Final = {
    "chart": "Drawing the chart…",
    "connect": "Checking the token…",
    "refresh": "Asking Clarity about the last 24 hours…",
    "doctor": "Checking everything…",
}


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
    `listener_executor` runs the lazy listeners (LAZY_WORKERS threads of their own when None).
    """
    # process_before_response: the ack runs on the request's own thread and answers at once,
    # instead of queueing behind slow lazy work in Bolt's shared listener pool. The lazy work
    # (rendering, Clarity calls) queues for a few threads of its own: ten renderers fighting
    # the request threads for the GIL made `status` and `chart` ack three times slower than `help`.
    lazy = listener_executor or ThreadPoolExecutor(LAZY_WORKERS, thread_name_prefix="clarity-lazy")
    app = App(
        signing_secret=signing_secret,
        client=client,
        oauth_settings=oauth_settings,
        request_verification_enabled=verify_requests,
        process_before_response=True,
        listener_executor=lazy,
        logger=log,
    )
    app.error(on_error)
    pacer = Pacer()
    register_commands(app, services, pacer)
    register_views(app, services)
    register_subscribe_form(app, services)
    register_buttons(app, services, pacer)
    register_home(app, services)
    register_project_pick(app, services, pacer)
    register_test_button(app, services)
    register_alert_actions(app, services)
    if oauth_settings is not None:
        register_lifecycle(app, services)
    return app


def on_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's own reading of a shape it did not expect is a 400 and one line; ours a 500."""
    if response is None:
        return None  # already acknowledged: nothing left to answer
    if database_down(error):
        log.warning("a Slack request found the database unavailable")
        return BoltResponse(status=200, body=DATABASE_DOWN)
    if isinstance(error, MALFORMED) and _raised_in_slack_libraries(error):
        log.warning("refused a malformed Slack request (%s: %s)", type(error).__name__, error)
        return BoltResponse(status=400, body="malformed request")
    log.error("a Slack request failed", exc_info=error)
    return BoltResponse(status=500, body="")


def _raised_in_slack_libraries(error: Exception) -> bool:
    """True when the innermost frame is Bolt's or slack-sdk's (reading the request), not ours."""
    frames = traceback.extract_tb(error.__traceback__)
    where = frames[-1].filename.replace("\\", "/") if frames else ""
    return "/slack_bolt/" in where or "/slack_sdk/" in where


def _connect(call: Call) -> Reply:
    """Connect with a token, or open the form (trigger ids last 3 s, so at once)."""
    if not call.args:
        call.client.views_open(trigger_id=_trigger(call), view=connect_view())
        return Reply("")
    token, label = call.args[0], " ".join(call.args[1:])
    return commands.connect(call.services, call.workspace, call.user, token, label)


def _trigger(call: Call) -> str:
    """The trigger id a form needs; Slack always sends one with a command."""
    trigger = call.command.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        raise UsageError(
            "Slack sent no trigger for a form: type the words instead, see `/clarity help`."
        )
    return trigger


def _subscribe(call: Call) -> Reply:
    """Subscribe from the inline words, or open the form."""
    services, client, workspace = call.services, call.client, call.workspace
    if not call.args:
        trigger = _trigger(call)
        return open_subscribe_form(services, client, workspace, trigger, call.channel)
    return scheduled.subscribe(services, client, workspace, call.user, call.channel, call.args)


# `/clarity <subcommand>` → what does the work, once acknowledged, in a lazy listener.
SUBCOMMANDS: Final[dict[str, Callable[[Call], Reply]]] = {
    "connect": _connect,
    "status": lambda c: commands.status(c.services, c.workspace),
    "sources": lambda c: commands.status(c.services, c.workspace),
    "timezone": lambda c: commands.timezone(c.services, c.workspace, c.rest),
    "disconnect": lambda c: commands.disconnect(c.services, c.workspace, c.rest),
    "refresh": lambda c: commands.refresh(c.services, c.workspace, c.rest, c.channel),
    "doctor": lambda c: commands.doctor(c.services, c.client, c.workspace, c.channel),
    "chart": lambda c: commands.chart(c.services, c.poster, c.workspace, c.channel, c.args),
    "subscribe": _subscribe,
    "unsubscribe": lambda c: scheduled.unsubscribe(c.services, c.workspace, c.args),
    "alert": lambda c: scheduled.alert(c.services, c.workspace, c.user, c.channel, c.args),
}


def answered_in_ack(command: dict[str, Any]) -> bool:
    """True for what the ack answers: help, metrics and words that are no subcommand."""
    sub, _ = split(command.get("text", ""))
    return sub not in SUBCOMMANDS


def ack_only(ack: Ack, command: dict[str, Any]) -> None:
    """Answer help and metrics, or say the subcommand is unknown."""
    sub, _ = split(command.get("text", ""))
    answer = ACK_ANSWERS.get(sub)
    ack(text=answer() if answer else usage(f"I don't know `{sub[:40]}`."))


def ack_clarity(ack: Ack, command: dict[str, Any]) -> None:
    """Acknowledge at once, saying what is being done."""
    sub, args = split(command.get("text", ""))
    if sub in ("connect", "subscribe") and not args:
        ack()  # the lazy listener opens the form at once (trigger ids last 3 s)
    else:
        ack(text=ACKS.get(sub, ""))


def register_commands(app: App, services: SlackServices, pacer: Pacer) -> None:
    """Wire `/clarity`: a fast ack for every subcommand, the work in a lazy listener."""

    def work(
        command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        sub, args = split(command.get("text", ""))
        call = Call(services, client, Poster(client, pacer=pacer), context, command, args)
        text = str(command.get("text", ""))
        reply_with(respond, safely(sub, lambda: SUBCOMMANDS[sub](call), again=text))

    # Registered first: what the ack itself answers never starts a lazy listener (Bolt copies
    # the whole request for one, a third of the cost of a request).
    app.command(COMMAND, matchers=[answered_in_ack])(ack_only)
    app.command(COMMAND)(ack=ack_clarity, lazy=[work])


def register_buttons(app: App, services: SlackServices, pacer: Pacer) -> None:
    """Wire the buttons under chart messages: redraw in place from stored data."""

    def ack_button(ack: Ack) -> None:
        ack()

    def work(
        body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        reply = safely(
            "chart",
            lambda: commands.redraw(
                services, Poster(client, pacer=pacer), workspace_of(services, context), body
            ),
        )
        reply_with(respond, reply)

    app.action(ACTION_PATTERN)(ack=ack_button, lazy=[work])


def register_project_pick(app: App, services: SlackServices, pacer: Pacer) -> None:
    """A project button: remember the channel's pick, then run the command again for it."""

    def ack_pick(ack: Ack) -> None:
        ack()

    def work(
        body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        def run() -> Reply:
            sid, text = picked(body)
            channel = str((body.get("channel") or {}).get("id", ""))
            workspace = workspace_of(services, context)
            find_source(services, workspace, str(sid))  # still this workspace's project?
            if channel:
                services.remember(workspace, channel, sid)
            else:  # no channel to remember it in: name the project in the command itself
                text = f"{text} {sid}"
            sub, args = split(text)
            if sub not in SUBCOMMANDS:
                raise UsageError(STALE_BUTTON)
            user = str((body.get("user") or {}).get("id", ""))
            command = {"text": text, "user_id": user, "channel_id": channel}
            command["trigger_id"] = str(body.get("trigger_id", ""))
            call = Call(services, client, Poster(client, pacer=pacer), context, command, args)
            return SUBCOMMANDS[sub](call)

        reply_with(respond, safely("chart", run))

    app.action(re.compile(rf"^{PICK_ACTION}_\d+$"))(ack=ack_pick, lazy=[work])


def picked(body: dict[str, Any]) -> tuple[int, str]:
    """The project id and the command text a project button carries."""
    try:
        data = json.loads(body["actions"][0]["value"])
        # The command runs as typed: the remembered pick supplies the project, so an id of 7,
        # 30 or 90 appended to `chart sessions` can no longer be read as the number of days.
        return int(data["s"]), str(data["c"])
    except (ValueError, KeyError, TypeError, IndexError):
        raise UsageError(STALE_BUTTON) from None
