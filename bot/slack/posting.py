"""EDGE: putting charts into Slack with `files_upload_v2`, paced, with errors turned into fixes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from reports.charts import Chart
from store.errors import ClaritybotError

PER_CHANNEL_GAP: Final = 1.0  # Slack allows about one message per second per channel

# Slack error → what the person should do about it.
FIXES: Final = {
    "not_in_channel": "I'm not in this channel. Invite me with `/invite @claritybot`, then retry.",
    "channel_not_found": (
        "I can't see this channel: it may be private or a conversation I'm not part of. "
        "Invite me with `/invite @claritybot`, or use a channel I'm in."
    ),
    "is_archived": "This channel is archived. Pick another channel.",
    "invalid_auth": "Slack no longer accepts my token here: reinstall claritybot here.",
    "account_inactive": "My Slack account here was deactivated: reinstall claritybot.",
    "token_revoked": "My token was revoked: reinstall claritybot to this workspace.",
    "missing_scope": "I'm missing a Slack permission for this: reinstall claritybot to grant it.",
}
DEAD_TOKEN: Final = frozenset({"invalid_auth", "account_inactive", "token_revoked"})


class SlackPostError(ClaritybotError):
    """A post failed; `kind` is Slack's error code and the message says what to do."""

    def __init__(self, kind: str) -> None:
        super().__init__(FIXES.get(kind, f"Slack refused the post ({kind}). Try again later."))
        self.kind = kind


class Pacer:
    """Spaces posts to one channel at least PER_CHANNEL_GAP apart, across threads."""

    def __init__(self, gap: float = PER_CHANNEL_GAP) -> None:
        self._gap, self._lock, self._last = gap, threading.Lock(), dict[str, float]()

    def wait(self, channel: str) -> None:
        """Block until a post to `channel` is allowed, then claim the slot."""
        with self._lock:
            now = time.monotonic()
            ready = self._last.get(channel, 0.0) + self._gap
            self._last[channel] = max(now, ready)
        if ready > now:
            time.sleep(ready - now)


@dataclass(frozen=True)
class Posted:
    """Where a chart landed."""

    channel: str
    file_id: str | None


def post_chart(
    client: WebClient, *, channel: str, chart: Chart, title: str, comment: str, pacer: Pacer
) -> Posted:
    """Upload a chart PNG with its text; join a public channel once if we are not in it."""
    for attempt in (1, 2):
        pacer.wait(channel)
        try:
            response = client.files_upload_v2(
                channel=channel,
                file=chart.png,
                filename=f"{title.lower().replace(' ', '-')}.png",
                title=title,
                alt_txt=chart.alt_text[:1000],
                initial_comment=comment,
                request_file_info=False,  # files.info would need the files:read scope
            )
        except SlackApiError as exc:
            kind = str(exc.response.get("error", "unknown_error"))
            if kind == "not_in_channel" and attempt == 1 and _join(client, channel):
                continue
            raise SlackPostError(kind) from None
        files = response.get("files") or [{}]
        return Posted(channel, files[0].get("id"))
    raise SlackPostError("not_in_channel")


def _join(client: WebClient, channel: str) -> bool:
    """Join a public channel (needs channels:join); private ones need an /invite."""
    try:
        info = client.conversations_info(channel=channel)
        if info["channel"].get("is_private"):
            return False
        client.conversations_join(channel=channel)
    except SlackApiError:
        return False
    return True
