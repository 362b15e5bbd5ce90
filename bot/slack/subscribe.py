"""`/clarity subscribe` and `unsubscribe`: scheduled reports managed from Slack."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.services import SlackServices
from bot.slack.text import escape
from reports.delivery import subscriptions as subs
from reports.delivery.cadence import FREQUENCIES, parse_send_at, parse_weekday
from reports.errors import UsageError
from reports.history.catalogue import get_metric
from store.models import Source, Subscription
from store.vocab import DestinationKind, Frequency

SUBSCRIBE_VIEW: Final = "clarity_subscribe"
DIGEST_NAME: Final = "Digest (six key metrics)"
STOP_ACTION: Final = "unsubscribe"
TEST_ACTION: Final = "send_test"
_CHANNEL_REF: Final = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_MAILTO: Final = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_TIME: Final = re.compile(r"^\d{1,2}:\d{2}$")
USAGE: Final = (
    "Usage: `/clarity subscribe <metric>[,<metric>…] [daily|weekly|monthly] "
    "[#channel | email] [HH:MM] [project]`, e.g. `/clarity subscribe "
    "rage_click_rate weekly #ux 09:00`. `/clarity subscribe` alone opens a form."
)


@dataclass
class Parsed:
    """What the inline form said; the channel defaults to where the command was typed."""

    metrics: list[str]
    frequency: str = Frequency.DAILY
    kind: str = DestinationKind.SLACK
    destination: str = ""
    channel_name: str = ""
    send_at: str = "09:00"
    project: list[str] = field(default_factory=list)


def parse_inline(args: list[str], channel: str) -> Parsed:
    """Read `<metrics> [frequency] [#channel|email] [HH:MM] [project]`."""
    if not args:
        raise UsageError(USAGE)
    parsed = Parsed([m for m in args[0].split(",") if m], destination=channel)
    for word in args[1:]:
        if word.lower() in FREQUENCIES:
            parsed.frequency = word.lower()
        elif match := _CHANNEL_REF.match(word):
            parsed.destination = match.group(1)
        elif word.startswith("#") and len(word) > 1:
            parsed.channel_name = word[1:].lower()
        elif (mail := _MAILTO.match(word)) or "@" in word and not word.startswith("<@"):
            parsed.kind, parsed.destination = DestinationKind.EMAIL, mail.group(1) if mail else word
        elif _TIME.match(word):
            parsed.send_at = word
        else:
            parsed.project.append(word)
    return parsed


def channel_id(client: WebClient, name: str) -> str:
    """Find a channel id by name (`#ux` as typed when Slack did not turn it into a link)."""
    cursor = None
    for _ in range(20):  # 20 pages of 200: enough for any workspace that names channels
        try:
            page = client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
        except SlackApiError:
            break
        for found in page.get("channels") or []:
            if found.get("name") == name:
                return str(found["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    raise UsageError(
        f"I can't find a channel named #{escape(name)}. If it is private, "
        "`/invite @claritybot` there first."
    )


def metric_names(keys: list[str]) -> str:
    """The metrics of a subscription as the catalogue names them for people."""
    return ", ".join(DIGEST_NAME if k == subs.DIGEST else get_metric(k).label for k in keys)


def confirm(services: SlackServices, sub: Subscription, source: Source) -> str:
    """Say what was set up, when it goes out next, and how to stop it."""
    when = subs.schedule_text(services.engine, sub, services.clock())
    return (
        f"Subscribed: {metric_names(sub.metrics)} of *{escape(source.label)}* "
        f"to {where(sub)}, {when}. Stop with `/clarity unsubscribe {sub.id}`."
    )


def subscription_lines(services: SlackServices, items: list[Subscription]) -> list[str]:
    """One line per subscription, for the list and the App Home."""
    now = services.clock()
    return [
        f"`{s.id}` {metric_names(s.metrics)} → {where(s)} · "
        f"{subs.schedule_text(services.engine, s, now)}"
        for s in items
    ]


def where(sub: Subscription) -> str:
    """A channel as Slack's own link (its id is Slack's); an address or path escaped."""
    if sub.destination_kind == DestinationKind.SLACK:
        return f"<#{escape(sub.destination)}>"
    return escape(subs.where(sub))


def stop_button(sub: Subscription) -> dict[str, Any]:
    """The Stop button of one subscription."""
    return {
        "type": "button",
        "action_id": STOP_ACTION,
        "value": str(sub.id),
        "style": "danger",
        "text": {"type": "plain_text", "text": "Stop"},
    }


def list_blocks(
    services: SlackServices,
    items: list[Subscription],
    button: Callable[[Subscription], dict[str, Any]] = stop_button,
) -> list[dict[str, Any]]:
    """The subscriptions with a button each, Stop by default (at most 45: Slack allows 50)."""
    if not items:
        return [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "No subscriptions here yet. `/clarity subscribe` sets one up.",
                },
            }
        ]
    lines = subscription_lines(services, items)
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": line[:3000]},
            "accessory": button(s),
        }
        for s, line in zip(items[:45], lines, strict=False)
    ]


def test_button(subscription_id: int | None) -> dict[str, Any]:
    """The "Send a test" button of one subscription (bot/slack/testsend.py answers it)."""
    return {
        "type": "button",
        "action_id": TEST_ACTION,
        "value": str(subscription_id),
        "text": {"type": "plain_text", "text": "Send a test"},
    }


def confirm_blocks(text: str, subscription_id: int | None) -> list[dict[str, Any]]:
    """A subscription's confirmation, with a button to see its report now."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {"type": "actions", "elements": [test_button(subscription_id)]},
    ]


def request_from(parsed: Parsed, source: Source, user: str) -> subs.NewSubscription:
    """Turn the parsed words into a subscription request (weekly: Mondays; monthly: the 1st)."""
    parse_send_at(parsed.send_at)
    return subs.NewSubscription(
        source_id=source.id or 0,
        metrics=parsed.metrics,
        kind=parsed.kind,
        destination=parsed.destination,
        frequency=parsed.frequency,
        weekday=parse_weekday("mon"),
        month_day=1,
        send_at=parsed.send_at,
        created_by=user,
    )


def subscribe_view(sources: list[Source], channel: str) -> dict[str, Any]:
    """The subscribe form: project, metrics, frequency, channel or email, time."""
    return {
        "type": "modal",
        "callback_id": SUBSCRIBE_VIEW,
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": "Subscribe"},
        "submit": {"type": "plain_text", "text": "Subscribe"},
        "blocks": [
            _select("project", "Project", [_option(s.label, str(s.id)) for s in sources]),
            _metrics_block(),
            _select("frequency", "How often", [_option(f.capitalize(), f) for f in FREQUENCIES]),
            *_destination_blocks(),
            _block(
                "time",
                "Send at (local time)",
                {"type": "timepicker", "action_id": "value", "initial_time": "09:00"},
            ),
        ],
    }


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": escape(text)[:75]}, "value": value}


def _metrics_block() -> dict[str, Any]:
    """Up to six metrics of the catalogue, the digest first."""
    from reports.history.catalogue import CATALOGUE

    options = [
        _option(DIGEST_NAME, subs.DIGEST),
        *(_option(m.label, m.key) for m in CATALOGUE),
    ][:100]
    element = {
        "type": "multi_static_select",
        "action_id": "value",
        "options": options,
        "max_selected_items": 6,
    }
    return _block("metrics", "Metrics", element)


def _destination_blocks() -> list[dict[str, Any]]:
    """A channel (the one the command was typed in, by default) or an email address."""
    channel = {
        "type": "conversations_select",
        "action_id": "value",
        "default_to_current_conversation": True,
        "filter": {"include": ["public", "private"]},
    }
    email = {"type": "plain_text_input", "action_id": "value"}
    return [
        _block("channel", "Channel", channel, optional=True),
        _block("email", "…or email address", email, optional=True),
    ]


def _select(block: str, label: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    element = {
        "type": "static_select",
        "action_id": "value",
        "options": options[:100],
        "initial_option": options[0],
    }
    return _block(block, label, element)


def _block(
    block: str, label: str, element: dict[str, Any], optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "element": element,
        "label": {"type": "plain_text", "text": label},
    }


def from_view(view: dict[str, Any], user: str) -> subs.NewSubscription:
    """Read a submitted subscribe form (values are Slack's, checked again by `subscribe`)."""
    values = view["state"]["values"]

    def get(block: str) -> Any:
        return values.get(block, {}).get("value", {})

    email = (get("email").get("value") or "").strip()
    channel = get("channel").get("selected_conversation") or view.get("private_metadata", "")
    try:
        source_id = int((get("project").get("selected_option") or {}).get("value", ""))
    except ValueError:
        raise UsageError("Pick a project.") from None
    return subs.NewSubscription(
        source_id=source_id,
        metrics=[o["value"] for o in get("metrics").get("selected_options") or []],
        kind=DestinationKind.EMAIL if email else DestinationKind.SLACK,
        destination=email or channel,
        frequency=(get("frequency").get("selected_option") or {}).get("value", Frequency.DAILY),
        send_at=get("time").get("selected_time") or "09:00",
        created_by=user,
    )
