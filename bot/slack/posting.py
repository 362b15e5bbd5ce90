"""EDGE: chart messages in Slack — `files_upload_v2`, an image block, buttons, `chat.update`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.slack.text import escape
from reports.render.charts import Chart
from store.errors import ClaritybotError

PER_CHANNEL_GAP: Final = 1.0  # Slack allows about one message per second per channel
FILE_WAITS: Final = (0.5, 1.0, 2.0)  # a fresh upload can take a moment before blocks may show it

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
    "ratelimited": "Slack asked me to slow down and the wait ran out. Try again in a minute.",
}
DEAD_TOKEN: Final = frozenset({"invalid_auth", "account_inactive", "token_revoked"})


def web_client(token: str | None, base_url: str) -> WebClient:
    """A WebClient that waits out Slack's `Retry-After` on a 429 (twice at most) before failing."""
    client = WebClient(token=token, base_url=base_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


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
    """Where a chart landed; `ts` is set when it is a message we can redraw."""

    channel: str
    file_id: str | None
    ts: str | None = None


@dataclass(frozen=True)
class Figure:
    """One chart in a message, with an optional line of text above it.

    `title` and the chart's alt text are raw (escaped here, where they are sent); `caption` is
    mrkdwn its maker built with `escape`.
    """

    chart: Chart
    title: str
    caption: str = ""


@dataclass(frozen=True)
class ChartPost:
    """One message: its text, its charts, and (optionally) buttons under them."""

    figures: tuple[Figure, ...]
    comment: str
    buttons: list[dict[str, Any]] = field(default_factory=list)


class Poster:
    """Posts and redraws chart messages: paced, rate limits honoured, errors turned into fixes.

    A message's charts are uploaded unshared, then shown by image blocks of one message: one
    `chat.postMessage` puts the whole report in the channel, or nothing does.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.pacer, self._sleep = client, pacer or Pacer(), sleep

    def post(self, channel: str, post: ChartPost, *, thread_ts: str | None = None) -> Posted:
        """Post a chart message (in a thread, if given); join a public channel once if needed."""
        for attempt in (1, 2):
            try:
                return self._post(channel, post, thread_ts)
            except SlackApiError as exc:
                kind = _error(exc)
                if kind == "not_in_channel" and attempt == 1 and _join(self.client, channel):
                    continue
                raise SlackPostError(kind) from None
        raise SlackPostError("not_in_channel")

    def redraw(self, channel: str, ts: str, post: ChartPost) -> None:
        """Replace a chart message in place with `chat.update` (no new message)."""
        try:
            ids = self._upload(post)
            self._with_file(
                lambda: self.client.chat_update(
                    channel=channel, ts=ts, text=_fallback(post), blocks=chart_blocks(post, ids)
                )
            )
        except SlackApiError as exc:
            raise SlackPostError(_error(exc)) from None

    def _post(self, channel: str, post: ChartPost, thread_ts: str | None) -> Posted:
        self.pacer.wait(channel)
        ids = self._upload(post)
        try:
            response = self._with_file(
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    text=_fallback(post),
                    blocks=chart_blocks(post, ids),
                    thread_ts=thread_ts,
                )
            )
        except SlackApiError as exc:
            if _error(exc) != "invalid_blocks":
                raise
            return self._plain_upload(channel, post)  # the images never became usable
        return Posted(channel, ids[0] if ids else None, str(response.get("ts") or "") or None)

    def _upload(self, post: ChartPost) -> list[str]:
        """Upload the PNGs without sharing them: the message's image blocks show them."""
        ids = []
        for figure in post.figures:
            response = self.client.files_upload_v2(
                file=figure.chart.png,
                filename=_filename(figure),
                title=escape(figure.title)[:250],
                alt_txt=escape(figure.chart.alt_text)[:1000],
                request_file_info=False,  # files.info would need the files:read scope
            )
            ids.append(str((response.get("files") or [{}])[0].get("id", "")))
        return ids

    def _with_file(self, send: Callable[[], SlackResponse]) -> SlackResponse:
        """Send; while Slack is still processing a new file it answers invalid_blocks, so wait."""
        for delay in (*FILE_WAITS, None):
            try:
                return send()
            except SlackApiError as exc:
                if _error(exc) != "invalid_blocks" or delay is None:
                    raise
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _plain_upload(self, channel: str, post: ChartPost) -> Posted:
        """Fallback: share the files into the channel with the comment (no buttons)."""
        uploads = [
            {
                "file": f.chart.png,
                "filename": _filename(f),
                "title": escape(f.title)[:250],
                "alt_txt": escape(f.chart.alt_text)[:1000],
            }
            for f in post.figures
        ]
        response = self.client.files_upload_v2(
            channel=channel,
            file_uploads=uploads,
            initial_comment=_fallback(post, alt=False),
            request_file_info=False,
        )
        return Posted(channel, (response.get("files") or [{}])[0].get("id"))


def _filename(figure: Figure) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", figure.title.lower()).strip("-")[:60]
    return f"{stem or 'chart'}.png"


def chart_blocks(post: ChartPost, file_ids: list[str]) -> list[dict[str, Any]]:
    """The message: the text, each image (by Slack file id) and the buttons."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": post.comment[:3000]}},
    ]
    for figure, file_id in zip(post.figures, file_ids, strict=True):
        if figure.caption:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": figure.caption[:3000]}}
            )
        blocks.append(
            {
                "type": "image",
                "slack_file": {"id": file_id},
                "alt_text": escape(figure.chart.alt_text)[:2000],
                "title": {"type": "plain_text", "text": escape(figure.title)[:2000]},
            }
        )
    if post.buttons:
        blocks.append({"type": "actions", "block_id": "chart_buttons", "elements": post.buttons})
    return blocks[:50]


def _fallback(post: ChartPost, *, alt: bool = True) -> str:
    """Notification and screen-reader text: the comment, the captions, the charts' alt text."""
    parts = [post.comment, *(f.caption for f in post.figures if f.caption)]
    if alt:
        parts += [escape(f.chart.alt_text) for f in post.figures]
    return "\n".join(parts)[:3000]


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


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
