"""Fuzzing the HTTP edge: ≥1,000 seeded random signed bodies, no 5xx and no traceback logged.

A seeded generator, not hypothesis: the same bodies every run (CI is derandomized by design),
and each shape Slack could send is covered on purpose rather than by luck.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from bot.slack.serve import make_server, shutdown
from bot.slack.unsubscribe import Unsubscribe
from reports.delivery.email import Links
from tests.bot.slack.conftest import NOW, signed_headers

SEED = 13
ROUNDS = 1000
ODD = [
    None,
    "",
    0,
    -1,
    2**70,
    1e308,
    True,
    [],
    {},
    [{}],
    "x" * 5000,
    "<!channel>",
    "²",
    "\x00",
    "\u202e",
    "💥",
    "1" * 5000,
    {"id": {}},
    [None],
    "T1",
    "U1",
    "C1",
]
WORDS = [
    "help",
    "status",
    "chart",
    "subscribe",
    "unsubscribe",
    "alert",
    "add",
    "list",
    "remove",
    "refresh",
    "timezone",
    "disconnect",
    "connect",
    "metrics",
    "doctor",
    "sessions",
    "daily",
    "weekly",
    "#general",
    "a@b.c",
    "9999",
    "-1",
    "nan",
    "inf",
    "'",
    '"',
    "<@U1>",
    "*b*",
    "above",
    "2%",
    "over",
    "99999999999d",
    "for",
    "/x",
    "Europe/Paris",
    "Mars/Base",
]
TYPES = [
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
    "interactive_message",
    "dialog_submission",
    "nope",
]
EVENTS = [
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
    "message",
    "app_mention",
    "team_join",
    "nope",
]
ACTIONS = ["chart_7", "chart_30", "chart_device", "chart_daily", "unsubscribe", "chart_x", ""]


def odd(rng: random.Random) -> Any:
    """A value of any JSON type, often a wrong one."""
    return rng.choice(ODD) if rng.random() < 0.7 else rng.choice(WORDS)


def maybe(rng: random.Random, good: Any) -> Any:
    return good if rng.random() < 0.6 else odd(rng)


def command(rng: random.Random, url: str) -> dict[str, Any]:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6)))
    fields = {
        "command": maybe(rng, "/clarity"),
        "text": maybe(rng, text),
        "team_id": maybe(rng, "T1"),
        "user_id": maybe(rng, "U1"),
        "channel_id": maybe(rng, "C1"),
        "trigger_id": maybe(rng, "trig"),
        "response_url": url,
    }
    return {k: v for k, v in fields.items() if rng.random() < 0.9}


def interaction(rng: random.Random, url: str) -> dict[str, Any]:
    action = {"action_id": maybe(rng, rng.choice(ACTIONS)), "value": maybe(rng, '{"s":1}')}
    view = {
        "callback_id": maybe(rng, rng.choice(["clarity_connect", "clarity_subscribe"])),
        "state": maybe(rng, {"values": maybe(rng, {"token": {"value": {"value": odd(rng)}}})}),
        "private_metadata": odd(rng),
    }
    payload = {
        "type": maybe(rng, rng.choice(TYPES)),
        "team": maybe(rng, {"id": "T1"}),
        "user": maybe(rng, {"id": "U1"}),
        "actions": maybe(rng, [action]),
        "view": maybe(rng, view),
        "callback_id": odd(rng),
        "trigger_id": odd(rng),
        "container": maybe(rng, {"channel_id": "C1", "message_ts": "1.2"}),
        "response_url": url,
    }
    return {k: v for k, v in payload.items() if rng.random() < 0.85}


def event(rng: random.Random) -> dict[str, Any]:
    inner = {
        "type": maybe(rng, rng.choice(EVENTS)),
        "user": maybe(rng, "U1"),
        "tab": maybe(rng, "home"),
        "tokens": maybe(rng, {"bot": ["U1"], "oauth": odd(rng)}),
    }
    outer = {
        "type": maybe(rng, rng.choice(["event_callback", "url_verification", "app_rate_limited"])),
        "team_id": maybe(rng, "T1"),
        "api_app_id": maybe(rng, "A1"),
        "event": maybe(rng, inner),
        "event_id": odd(rng),
        "challenge": odd(rng),
        "authorizations": odd(rng),
    }
    return {k: v for k, v in outer.items() if rng.random() < 0.9}


def body(rng: random.Random, url: str) -> tuple[bytes, str]:
    """A body and its content type, in one of the shapes Slack uses, or none of them."""
    shape = rng.randrange(6)
    if shape == 0:
        form = {
            k: json.dumps(v) if not isinstance(v, str) else v for k, v in command(rng, url).items()
        }
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    if shape == 1:
        raw = json.dumps(interaction(rng, url)) if rng.random() < 0.9 else "{not json"
        return urlencode({"payload": raw}).encode(), "application/x-www-form-urlencoded"
    if shape == 2:
        return json.dumps(event(rng)).encode(), "application/json"
    if shape == 3:
        return json.dumps(odd(rng)).encode(), rng.choice(["application/json", "text/plain"])
    if shape == 4:
        return urlencode(
            {"ssl_check": "1", "token": "x"}
        ).encode(), "application/x-www-form-urlencoded"
    return rng.randbytes(rng.randint(0, 300)), rng.choice(
        ["application/json", "application/x-www-form-urlencoded", "", "multipart/form-data"]
    )


def unsubscribe_path(rng: random.Random) -> str:
    ids = ["1", "²", "1" * 5000, "-1", "", "0x1", " 1", "1.0", "٣", "99999999999999999999"]
    sigs = ["", "é", "a" * 32, "\x00", "💥" * 40, "0" * 5000]
    query = f"s={quote(rng.choice(ids))}&t={quote(rng.choice(sigs))}"
    return f"/unsubscribe?{query}" if rng.random() < 0.9 else f"/unsubscribe?{rng.choice(ids)}&&="


class Tracebacks(logging.Handler):
    """Collects every record that carries a traceback, or says it failed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info or "Traceback" in text or record.levelno >= logging.ERROR:
            self.bad.append(f"{record.name}: {text[:300]}")


@pytest.fixture
def served(slack) -> Iterator[str]:
    links = Links("https://bot.example.com", slack.services.cipher)
    unsubscribe = Unsubscribe(engine=slack.services.engine, links=links, clock=lambda: NOW)
    server = make_server(slack.app, host="127.0.0.1", port=0, unsubscribe=unsubscribe)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    shutdown(server)
    thread.join(timeout=5)


def test_random_signed_bodies_get_no_5xx_and_log_no_traceback(served, slack):
    rng, caught = random.Random(SEED), Tracebacks()
    logging.getLogger().addHandler(caught)
    statuses: dict[int, int] = {}
    try:
        with httpx.Client(base_url=served, timeout=30) as http:
            for n in range(ROUNDS):
                data, kind = body(rng, slack.fake.response_url)
                headers = {k: v[0] for k, v in signed_headers(data.decode("latin-1")).items()}
                headers["content-type"] = kind
                if n % 10 == 9:  # unsigned, or stamped with something that is not a number
                    stamp = rng.choice(["abc", "", "1e99", "²", "-1"])
                    headers["x-slack-request-timestamp"] = stamp.encode()  # type: ignore[assignment]
                got = http.post("/slack/events", content=data, headers=headers).status_code
                statuses[got] = statuses.get(got, 0) + 1
                method = http.post if rng.random() < 0.5 else http.get
                got = method(unsubscribe_path(rng)).status_code
                statuses[got] = statuses.get(got, 0) + 1
        slack.app.listener_runner.listener_executor.shutdown(wait=True)  # the lazy listeners
    finally:
        logging.getLogger().removeHandler(caught)
    print(f"\n{2 * ROUNDS} requests, statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) == 2 * ROUNDS
    assert {s for s in statuses if s >= 500} == set()
    assert caught.bad == [], "\n".join(sorted({b[:200] for b in caught.bad})[:20])


@pytest.mark.parametrize(
    ("path", "headers", "content"),
    [
        (
            "/slack/events",
            {"x-slack-request-timestamp": "abc", "x-slack-signature": "v0=1"},
            b"a=1",
        ),
        ("/slack/events", {"x-slack-request-timestamp": "1"}, b"\xff\xfe"),
        ("/unsubscribe?s=%C2%B2&t=x", {}, b""),
        ("/unsubscribe?s=" + "1" * 5000 + "&t=x", {}, b""),
        ("/unsubscribe?s=1&t=%C3%A9", {}, b""),
    ],
)
def test_odd_requests_are_refused_with_a_4xx(served, path, headers, content):
    with httpx.Client(base_url=served, timeout=10) as http:
        got = http.post(path, headers=headers, content=content)
    assert 400 <= got.status_code < 500
