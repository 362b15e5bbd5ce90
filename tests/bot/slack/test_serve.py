from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.serve import ReplayGuard, make_server, shutdown
from bot.slack.unsubscribe import Unsubscribe
from reports.delivery.email import Links
from reports.delivery.subscriptions import NewSubscription, list_subscriptions, subscribe
from reports.ingest.sources import add_source
from store.errors import ConfigError
from tests.bot.slack.conftest import NOW, signed_headers, slack_settings


@pytest.fixture
def links(slack):
    return Links("https://bot.example.com", slack.services.cipher)


@pytest.fixture
def served(slack, links):
    unsubscribe = Unsubscribe(engine=slack.services.engine, links=links, clock=lambda: NOW)
    server = make_server(slack.app, host="127.0.0.1", port=0, unsubscribe=unsubscribe)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    shutdown(server)
    thread.join(timeout=60)
    assert not thread.is_alive()


def flat(headers):
    return {k: v[0] for k, v in headers.items()}


def test_http_mode_serves_health_and_signed_commands(served):
    with httpx.Client(base_url=served, timeout=60) as http:
        assert http.get("/healthz").text == "ok"
        body = urlencode({"team_id": "T1", "user_id": "U1", "command": "/clarity", "text": "help",
                          "channel_id": "C1", "response_url": "http://127.0.0.1:9/x"})  # fmt: skip
        ok = http.post("/slack/events", content=body, headers=flat(signed_headers(body)))
        assert ok.status_code == 200 and "/clarity connect" in ok.text
        forged = http.post("/slack/events", content=body,
                           headers=flat(signed_headers(body, secret="nope")))  # fmt: skip
        assert forged.status_code == 401
        assert http.get("/anything-else").status_code == 404


def test_settings_say_what_is_missing():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        slack_settings({})
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        slack_settings({"SLACK_BOT_TOKEN": "xoxb-1"})
    socket = slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.socket_mode and socket.port == 3000 and socket.host == "127.0.0.1"
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "8080",
           "SLACK_API_URL": "http://127.0.0.1:1/api"}  # fmt: skip
    http = slack_settings(env)
    assert not http.socket_mode and http.port == 8080 and http.api_url.endswith("/api/")


def test_one_click_unsubscribe_works_once_and_is_idempotent(served, slack, links):
    services = slack.services
    source = add_source(services.engine, cipher=services.cipher, label="Shop",
                        raw_token=slack.sandbox.issue_token("shop"), now=NOW,
                        workspace_id=services.workspace_id("T1"))  # fmt: skip
    request = NewSubscription(source_id=source, metrics=["digest"], kind="email",
                              destination="a@example.com")  # fmt: skip
    sub = subscribe(services.engine, request, workspace_id=None, now=NOW)
    path = links.unsubscribe_url(sub.id).removeprefix("https://bot.example.com")
    with httpx.Client(base_url=served, timeout=60) as http:
        page = http.get(path)  # a mail scanner following the link changes nothing
        assert page.status_code == 200 and 'method="post"' in page.text
        assert [s.id for s in list_subscriptions(services.engine)] == [sub.id]
        forged = http.post(path.replace("t=", "t=0"), content="List-Unsubscribe=One-Click")
        assert forged.status_code == 403
        assert [s.id for s in list_subscriptions(services.engine)] == [sub.id]
        for _ in range(2):  # RFC 8058 one-click, then again: same answer
            done = http.post(path, content="List-Unsubscribe=One-Click")
            assert done.status_code == 200 and "Unsubscribed" in done.text
    assert list_subscriptions(services.engine) == []


def _help_body(trigger: str) -> str:
    return urlencode({"team_id": "T1", "user_id": "U1", "command": "/clarity", "text": "help",
                      "channel_id": "C1", "response_url": "http://127.0.0.1:9/x",
                      "trigger_id": trigger})  # fmt: skip


def test_a_replayed_signed_request_is_processed_once(served):
    body = _help_body("replay-1")
    headers = flat(signed_headers(body))
    with httpx.Client(base_url=served, timeout=5) as http:
        first = http.post("/slack/events", content=body, headers=headers)
        again = http.post("/slack/events", content=body, headers=headers)
        other = _help_body("replay-2")
        fresh = http.post("/slack/events", content=other, headers=flat(signed_headers(other)))
    assert first.status_code == 200 and "/clarity connect" in first.text
    assert again.status_code == 200 and again.text == ""
    assert fresh.status_code == 200 and "/clarity connect" in fresh.text


def test_a_forged_signature_takes_no_room_in_the_replay_memory():
    guard = ReplayGuard(window_s=300, limit=3, clock=lambda: 0.0)
    assert guard.first_time("a") and not guard.first_time("a")
    guard.forget("a")
    assert guard.first_time("a")
    for name in "bcd":
        assert guard.first_time(name)
    assert guard.first_time("a")  # the oldest was evicted at the limit: memory stays bounded


def test_the_replay_memory_forgets_after_the_window():
    now = [0.0]
    guard = ReplayGuard(window_s=300, clock=lambda: now[0])
    assert guard.first_time("s")
    now[0] = 299.0
    assert not guard.first_time("s")
    now[0] = 301.0
    assert guard.first_time("s")  # Bolt refuses such an old timestamp anyway


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _help_acks(base: str) -> float:
    body = _help_body(f"after-{time.monotonic_ns()}")
    with httpx.Client(base_url=base, timeout=10) as http:
        started = time.monotonic()
        response = http.post("/slack/events", content=body, headers=flat(signed_headers(body)))
        elapsed = time.monotonic() - started
    assert response.status_code == 200 and "/clarity connect" in response.text
    return elapsed


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_huge_bodies_and_idle_sockets_cannot_exhaust_serve(served):
    host, port = served.removeprefix("http://").split(":")
    before = _rss_kb()
    with socket.create_connection((host, int(port)), timeout=10) as big:
        big.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"X-Slack-Signature: v0=bad\r\nX-Slack-Request-Timestamp: 1\r\n"
            b"Content-Length: 52428800\r\n\r\n" + b"x" * 65536
        )
        assert b" 413 " in big.recv(4096).split(b"\r\n")[0] + b" "
    assert _chunked_50mb_is_refused(host, int(port))
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(200)]
    try:
        for sock in idle[::2]:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        # an ack, not a race: the bound is generous; the failure it guards against took 10 s
        acked = _help_acks(served)
        print(f"\nhelp acked in {acked * 1000:.0f} ms with 200 idle sockets open")
        assert acked < 5.0
    finally:
        for sock in idle:
            sock.close()
    grown = _rss_kb() - before
    print(f"RSS grew {grown / 1024:.1f} MB after a 50 MB body and 200 idle sockets")
    assert grown < 50 * 1024


def _chunked_50mb_is_refused(host: str, port: int) -> bool:
    """Stream 50 MB chunked (no Content-Length to refuse up front): waitress stops at 1 MB."""
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((host, port), timeout=10) as big:
        big.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(50 * 16):  # 800 chunks of 64 kB
                big.sendall(frame)
        except OSError:
            pass  # the server answered and closed: exactly what should happen
        return b" 413 " in big.recv(4096).split(b"\r\n")[0] + b" "
