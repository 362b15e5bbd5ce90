"""The "Send a test" button of a subscription (its confirmation, the App Home).

It delivers the report the schedule would send, as of now, to the subscription's destination
through the CLI's `subscriptions send` path: no ledger row, so the period's report still goes
out once.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack import subscribe as subscribe_ui
from bot.slack.calls import Reply, safely
from bot.slack.forms import reply_with, workspace_of
from bot.slack.services import SlackServices
from reports.delivery.sendnow import send_now
from reports.delivery.subscriptions import get_subscription
from reports.errors import DeliveryError, UsageError


def send_test(services: SlackServices, workspace_id: int, value: str) -> Reply:
    """Send a subscription's current report to its destination now, outside the ledger."""
    if not value.isdigit():
        raise UsageError("That button is from an older message: `/clarity unsubscribe` lists them.")
    sub = get_subscription(services.engine, int(value), workspace_id=workspace_id)
    try:
        send_now(services.delivery(), sub, services.clock())
    except DeliveryError as exc:
        return Reply(f"The test send of subscription {sub.id} failed: {exc.slack_text}")
    return Reply(
        f"Sent a test of subscription {sub.id} to {subscribe_ui.where(sub)}. "
        "The scheduled report still goes out as planned."
    )


def register_test_button(app: App, services: SlackServices) -> None:
    """Wire "Send a test": the answer goes where the click came from, or by DM."""

    def ack_test(ack: Ack) -> None:
        ack()

    def work(
        body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        value = str((body.get("actions") or [{}])[0].get("value", ""))
        reply = safely(
            "subscribe", lambda: send_test(services, workspace_of(services, context), value)
        )
        if respond.response_url:
            reply_with(respond, reply)
            return
        # The App Home has no response_url: the person who clicked hears back by DM.
        user = str((body.get("user") or {}).get("id", ""))
        if user:
            client.chat_postMessage(channel=user, text=reply.text)

    app.action(subscribe_ui.TEST_ACTION)(ack=ack_test, lazy=[work])
