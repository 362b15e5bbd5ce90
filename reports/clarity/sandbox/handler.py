"""HTTP plumbing of the sandbox: the threaded server, the handler, the /__sandbox__ controls."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from reports.clarity.sandbox.server import ClaritySandbox

API_PATH = "/export-data/api/v1/project-live-insights"
CONTROL_PREFIX = "/__sandbox__/"
_MAX_CONTROL_BODY = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, body and its content type (None for an empty body)."""

    status: int
    body: bytes = b""
    content_type: str | None = None


class SandboxHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer (daemon handler threads) that knows its sandbox."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: ClaritySandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hung up (e.g. it timed out first); report anything else."""
        if isinstance(sys.exception(), ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no handler thread lingers on an idle keep-alive
    # and stop() never waits for a client to hang up.
    protocol_version = "HTTP/1.0"
    server_version = "ClaritySandbox/1.0"
    sys_version = ""
    timeout = 10  # a client that connects and says nothing cannot pin a thread forever

    def do_GET(self) -> None:
        """Serve the API or a control endpoint."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Serve a control endpoint."""
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: the test output is not the place for access logs."""

    def _dispatch(self, method: str) -> None:
        sandbox = cast(SandboxHTTPServer, self.server).sandbox
        parts = urlsplit(self.path)
        if parts.path == API_PATH and method == "GET":
            reply = sandbox.answer(parts.query, self.headers.get("Authorization"))
        elif parts.path.startswith(CONTROL_PREFIX):
            body = self._read_body() if method == "POST" else b""
            reply = control(sandbox, method, parts.path[len(CONTROL_PREFIX) :], parts.query, body)
        else:
            reply = _reply(404)
        self._send(reply)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(max(length, 0), _MAX_CONTROL_BODY))

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


def _reply(status: int, payload: object = None) -> Reply:
    if payload is None:
        return Reply(status)
    return Reply(status, json.dumps(payload).encode(), "application/json; charset=utf-8")


def control(sandbox: ClaritySandbox, method: str, name: str, query: str, body: bytes) -> Reply:
    """Serve one /__sandbox__/<name> control request."""
    if method == "GET" and name == "health":
        return _reply(200, {"ok": True})
    if method == "GET" and name == "calls":
        return _reply(200, [call.to_json() for call in list(sandbox.calls)])
    if method == "GET" and name == "token":
        project = parse_qs(query).get("project", ["demo"])[0]
        return _reply(200, {"token": sandbox.issue_token(project)})
    if method != "POST" or name not in ("fail", "clock", "revoke", "forbid"):
        return _reply(404, {"error": f"no control {method} {name!r}"})
    try:
        payload = json.loads(body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("send a JSON object")
        return _post(sandbox, name, payload)
    except (ValueError, TypeError, KeyError) as error:
        return _reply(400, {"error": str(error)})


def _post(sandbox: ClaritySandbox, name: str, payload: dict[str, Any]) -> Reply:
    if name == "fail":
        kind = payload["kind"]
        if isinstance(kind, str) and kind.isdigit():
            kind = int(kind)
        sandbox.fail_next(kind, times=int(payload.get("times", 1)))
        return _reply(200, {"ok": True})
    if name == "clock":
        sandbox.set_now(datetime.fromisoformat(str(payload["now"])))
        return _reply(200, {"ok": True, "now": sandbox.now().isoformat()})
    project = str(payload["project"])
    if name == "revoke":
        sandbox.revoke(project)
    else:
        sandbox.forbid(project)
    return _reply(200, {"ok": True})


def dimension_params(params: dict[str, list[str]]) -> tuple[tuple[str, ...], bool]:
    """Return the dimensionN values in order, and whether there are too many (or dimension4+)."""
    found: list[tuple[int, str]] = []
    for name, values in params.items():
        suffix = name.removeprefix("dimension")
        if suffix != name and suffix.isdigit():
            found.extend((int(suffix), value) for value in values)
    too_many = len(found) > 3 or any(not 1 <= n <= 3 for n, _ in found)
    return tuple(value for _, value in sorted(found)), too_many
