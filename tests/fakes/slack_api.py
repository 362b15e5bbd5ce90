"""A loopback Slack Web API that records every call (bolt-python's own tests do the same)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import Loopback


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class FakeSlack(Loopback):
    """Answers like Slack; `fail()` makes a method return an error (optionally per channel)."""

    team_id: str = "T1"
    bot_user_id: str = "UBOT"
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    errors: dict[tuple[str, str | None], list[str]] = field(default_factory=dict)
    public_channels: set[str] = field(default_factory=lambda: {"CPUBLIC", "C1"})
    members: set[str] = field(default_factory=lambda: {"C1"})
    channel_names: dict[str, str] = field(
        default_factory=lambda: {"general": "C1", "ux": "C0UX123"}
    )
    scopes: str = "commands,chat:write,files:write,channels:join,channels:read,groups:read,im:write"
    limits: dict[str, int] = field(default_factory=dict)
    retry_after: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeSlack:
        self.serve(_handler(self))
        return self

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    @property
    def response_url(self) -> str:
        return f"{self.base}/respond/1"

    def fail(self, method: str, error: str, *, channel: str | None = None, times: int = 1) -> None:
        self.errors.setdefault((method, channel), []).extend([error] * times)

    def reset(self) -> None:
        """Forget the calls so far (Bolt's start-up `auth.test`, say)."""
        with self._lock:
            self.calls.clear()

    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 60.0) -> list[Call]:
        """Wait until `method` was called `count` times (lazy listeners run on threads)."""
        # The timeout only bounds a hang: a busy machine may take seconds to draw a chart.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.called(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"{method} called {len(self.called(method))} times, wanted {count}")

    def answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method, params, token))
            channel = params.get("channel") or params.get("channel_id")
            for key in ((method, channel), (method, None)):
                queue = self.errors.get(key)
                if queue:
                    return {"ok": False, "error": queue.pop(0)}
        return self._ok(method, params, channel)

    def _ok(self, method: str, params: dict[str, Any], channel: str | None) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user_id,
                    "bot_id": "BBOT", "url": "https://example.slack.com/"}  # fmt: skip
        if method == "oauth.v2.access":  # an install of the app in workspace `team_id`
            return {"ok": True, "app_id": "A1", "token_type": "bot", "scope": "commands,chat:write",
                    "access_token": f"xoxb-{self.team_id}-{params.get('code')}",
                    "bot_user_id": self.bot_user_id, "authed_user": {"id": "UINSTALLER"},
                    "team": {"id": self.team_id, "name": f"Team {self.team_id}"},
                    "enterprise": None, "is_enterprise_install": False}  # fmt: skip
        if method == "conversations.info":
            cid = params.get("channel", "")
            return {"ok": True, "channel": {"id": cid, "is_member": cid in self.members,
                                            "is_private": cid not in self.public_channels,
                                            "is_archived": False}}  # fmt: skip
        if method == "conversations.list":
            found = [{"id": cid, "name": name} for name, cid in self.channel_names.items()]
            return {"ok": True, "channels": found, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.join":
            self.members.add(channel or "")
            return {"ok": True, "channel": {"id": channel}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + 1}"
            self.uploads[file_id] = b""
            return {
                "ok": True,
                "upload_url": f"{self.base}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files", "[]"))
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method in ("chat.postMessage", "chat.update") and not self._files_exist(params):
            problem = "invalid slack file [json-pointer:/blocks/1/slack_file]"
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return {"ok": True, "channel": channel, "ts": f"{time.time():.6f}",
                    "message_ts": f"{time.time():.6f}"}  # fmt: skip
        return {"ok": True}

    def _files_exist(self, params: dict[str, Any]) -> bool:
        """Like Slack: an image block may only show a file that was uploaded."""
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        ids = [
            b["slack_file"]["id"] for b in blocks if b.get("type") == "image" and "slack_file" in b
        ]
        return all(self.uploads.get(i) for i in ids)

    def rate_limit(self, method: str, retry_after: int = 1) -> None:
        """Answer the next call of `method` with HTTP 429 and a Retry-After header."""
        self.limits[method] = self.limits.get(method, 0) + 1
        self.retry_after = retry_after


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = urlsplit(self.path).path
            if path.startswith("/respond/"):  # response_url posts (respond() in listeners)
                fake.answer("respond", json.loads(raw or b"{}"), None)
                self._send(200, b"ok", "text/plain")
                return
            if path.startswith("/upload/"):
                fake.uploads[path.rsplit("/", 1)[1]] = raw
                self._send(200, f"OK - {len(raw)}".encode(), "text/plain")
                return
            method = path.removeprefix("/api/")
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or None
            if "json" in (self.headers.get("Content-Type") or ""):
                params = json.loads(raw or b"{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            token = token or params.get("token")
            if fake.limits.get(method):
                fake.limits[method] -= 1
                fake.answer("ratelimited", {"method": method}, token)
                self.send_response(429)
                self.send_header("Retry-After", str(fake.retry_after))
                self.send_header("Content-Type", "application/json")
                body = b'{"ok": false, "error": "ratelimited"}'
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body = json.dumps(fake.answer(method, params, token)).encode()
            self._send(200, body, "application/json", {"x-oauth-scopes": fake.scopes})

        def _send(
            self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
