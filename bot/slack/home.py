"""The App Home tab: the workspace's sources, quota and next runs, or an error view."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack import subscribe as subscribe_ui
from bot.slack.calls import DATABASE_DOWN, database_down
from bot.slack.forms import workspace_of
from bot.slack.services import SlackServices
from bot.slack.status import status_blocks, statuses
from reports.delivery import subscriptions

# The name logs print (`%(name)s`): the App Home kept the app's when it moved out of app.py.
log = logging.getLogger("bot.slack.app")


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def register_home(app: App, services: SlackServices) -> None:
    """The App Home tab: the workspace's sources, quota and next runs (an error view if down)."""

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") != "home":
            return
        try:
            blocks = home_blocks(services, workspace_of(services, context))
        except Exception as exc:
            if not database_down(exc):
                log.exception("App Home failed")
            blocks = [_header("claritybot"), _section(home_error(exc))]
        client.views_publish(
            user_id=str(event.get("user", "")), view={"type": "home", "blocks": blocks}
        )


def home_blocks(services: SlackServices, workspace: int) -> list[dict[str, Any]]:
    """The App Home's blocks: statuses, then subscriptions, each with "Send a test"."""
    items = statuses(services, workspace)
    subs = subscriptions.list_subscriptions(services.engine, workspace_id=workspace)
    listed = subscribe_ui.list_blocks(services, subs, lambda s: subscribe_ui.test_button(s.id))
    return [
        _header("claritybot"),
        *status_blocks(items)[:40],
        _header("Subscriptions"),
        *listed,
    ]


def home_error(exc: Exception) -> str:
    """What the App Home says when it cannot be drawn."""
    if database_down(exc):
        return DATABASE_DOWN
    return "Something went wrong drawing this page. It was logged; try again in a minute."


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
