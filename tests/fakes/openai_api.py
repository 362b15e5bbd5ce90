"""A loopback OpenAI chat-completions API: answers what a test tells it to, records requests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import Loopback


@dataclass
class FakeOpenAI(Loopback):
    """Set `answer`, `status` or `refusal`, or `hold` every answer; read `requests`."""

    answer: str = "Sessions held steady."
    status: int = 200
    refusal: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0  # answers written (or given up on by the client)
    held: threading.Event | None = None

    def hold(self) -> None:
        """Keep every answer back until `release()`: a model that takes forever to reply."""
        self.held = threading.Event()

    def release(self) -> None:
        """Let held answers go."""
        if self.held is not None:
            self.held.set()

    def start(self) -> FakeOpenAI:
        self.serve(_handler(self))
        return self

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def reply(self) -> dict[str, Any]:
        message = {"role": "assistant", "content": None if self.refusal else self.answer,
                   "refusal": self.refusal}  # fmt: skip
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "fake",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": usage}  # fmt: skip


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.requests.append({"path": self.path, "json": json.loads(raw or b"{}"),
                                  "auth": self.headers.get("Authorization")})  # fmt: skip
            if fake.held is not None:
                fake.held.wait(timeout=300)  # bounds a test that forgot to release
            error = {"error": {"message": "boom", "type": "server_error"}}
            body = json.dumps(fake.reply() if fake.status == 200 else error).encode()
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)
            fake.answered += 1

    return Handler
